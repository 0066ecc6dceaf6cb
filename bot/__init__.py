"""voicebot: the conversational voice bot that GX CTI / HWD PBX call centers call."""

from __future__ import annotations

__version__ = "0.1.0"
