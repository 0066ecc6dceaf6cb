"""The CTI's form of the core's answers: a bare audio URL, ``continue``, or nothing.

The URL is ``<audio base>/audio/<clip key>.wav?canbeinterrupted=true|false``
(GX CTI §52.3): the CTI downloads the WAV and lets the caller's speech cut it or not.
"""

from __future__ import annotations

from bot.dialog.state import Answer, Playback

CONTINUE = "continue"


class CtiAudioLinks:
    """Audio URLs on one base (the configured public URL, or where the CTI called us)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def url(self, playback: Playback) -> str:
        interruptible = "true" if playback.interruptible else "false"
        return f"{self.base_url}/audio/{playback.key}.wav?canbeinterrupted={interruptible}"

    def body(self, answer: Answer) -> str:
        """The response body that carries ``answer``."""
        if answer.playback is not None:
            return self.url(answer.playback)
        return CONTINUE if answer.keep_playing else ""
