"""The PBX interface: what the bot asks of the telephone system.

One implementation per vendor (GX CTI, HWD PBX) lives beside this module; ``LogPBX``
only records. Implementations raise ``PBXError`` when the PBX refuses or fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CallRef:
    """Which call an action is for, as the CTI named it."""

    call_id: str
    telnum: str


class PBX(Protocol):
    """Call control the bot needs."""

    async def transfer(self, call: CallRef, target: str) -> None:
        """Hand the call to an agent, extension, queue or group named ``target``."""
        ...

    async def hangup(self, call: CallRef) -> None:
        """End the call."""
        ...

    async def play(self, call: CallRef, voice: str) -> None:
        """Push audio (a URL) or text (spoken by the PBX's own TTS) into the call."""
        ...
