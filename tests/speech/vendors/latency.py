"""How long a speech vendor takes to answer: a latency model a vendor's fake can be given.

The fakes answer at once by default, with a short tone. Given a :class:`Latency`, a fake
answers a text the way a vendor's non-streaming API does: after the request's round trip
and the service's first audio (``first_byte_ms``), plus the synthesis of the rest of the
text (``per_char_ms`` for each character), with audio as long as a voice would speak the
text (``audio_seconds_per_char``: Mandarin read at about 4.5 characters a second). The
audio is a tone made by repeating one period, so a long answer costs the fake no CPU
(``bench/uncached.py`` measures the bot, not the fake).

A streaming vendor (iFlytek's WebSocket) sends its first frame after ``first_byte_ms`` and
the rest spread over the remaining time (:meth:`Latency.frame_pause_seconds`).
"""

from __future__ import annotations

import asyncio
import io
import math
import sys
import wave
from array import array
from dataclasses import dataclass

MANDARIN_SECONDS_PER_CHAR = 0.22
"""How long a voice takes to say one character, read at about 4.5 characters a second."""


@dataclass(frozen=True)
class Latency:
    """A vendor's answer time and audio length, as functions of the text.

    Attributes:
        first_byte_ms: From the request to the first audio: the round trip, the queue,
            the start of the synthesis.
        per_char_ms: Synthesis time of each further character (a non-streaming API
            answers once the whole text is synthesized).
        audio_seconds_per_char: How long the answered audio plays per character.
    """

    first_byte_ms: float = 0.0
    per_char_ms: float = 0.0
    audio_seconds_per_char: float = MANDARIN_SECONDS_PER_CHAR

    def __post_init__(self) -> None:
        if min(self.first_byte_ms, self.per_char_ms) < 0 or self.audio_seconds_per_char <= 0:
            raise ValueError(f"a latency needs times >= 0 and audio > 0: {self}")

    def seconds(self, text: str) -> float:
        """How long the whole answer to ``text`` takes."""
        return (self.first_byte_ms + self.per_char_ms * len(text)) / 1000

    async def wait(self, text: str) -> None:
        """Sleep as long as the vendor takes to answer ``text`` whole."""
        await asyncio.sleep(self.seconds(text))

    def frame_pause_seconds(self, text: str, frames: int) -> float:
        """The pause before each of ``frames`` streamed frames after the first byte, so that
        the last frame arrives when :meth:`seconds` says."""
        return self.per_char_ms * len(text) / 1000 / max(frames, 1)

    def audio_seconds(self, text: str) -> float:
        """How long the audio of ``text`` plays (at least 0.1 s)."""
        return max(self.audio_seconds_per_char * len(text), 0.1)

    def pcm(self, rate: int, text: str) -> bytes:
        """16-bit mono little-endian PCM of a tone as long as ``text`` spoken."""
        return tone_pcm(rate, self.audio_seconds(text))

    def wav(self, rate: int, text: str) -> bytes:
        """The same tone as a WAV file."""
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(rate)
            writer.writeframes(self.pcm(rate, text))
        return buffer.getvalue()


def tone_pcm(rate: int, seconds: float, hz: int = 400) -> bytes:
    """16-bit mono little-endian PCM of a ``hz`` tone, one period computed and repeated."""
    period = max(rate // hz, 2)
    one = array("h", (int(8000 * math.sin(2 * math.pi * n / period)) for n in range(period)))
    if sys.byteorder == "big":
        one.byteswap()
    count = int(rate * seconds)
    repeated = one.tobytes() * (count // period + 1)
    return repeated[: count * 2]
