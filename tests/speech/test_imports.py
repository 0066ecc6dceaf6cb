"""What loading the flow model costs: it must not load numpy, soxr or soundfile (a tenth
of a second, and memory, for ``voicebot flows lint`` and every tool that reads a flow)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numpy", "soxr", "soundfile")


@pytest.mark.parametrize(
    "module",
    [
        "bot.language.flow",
        "bot.language.templates",
        "bot.language.recordings",
        "bot.speech.recordings",
        "bot.speech.wav",
        "bot.tools.wavinfo",
    ],
    ids=lambda module: module,
)
def test_importing_does_not_load_numpy(module: str) -> None:
    code = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"importing {module} loads {result.stdout.strip()}"
