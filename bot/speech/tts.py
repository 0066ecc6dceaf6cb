"""The interface every speech synthesis backend implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

IdentityValue = str | int | float


@runtime_checkable
class TTSBackend(Protocol):
    """A text-to-speech engine.

    A backend may also have ``async def check() -> str`` (verify at start-up that it
    works, raising :class:`TTSError` with what is wrong) and ``async def aclose()``
    (release connections at shutdown); ``bot.speech.backends`` calls them when present.
    A backend that asks a service over the network says ``remote = True``: the
    synthesizer then asks for a long text's sentences at the same time
    (:mod:`bot.speech.sentences`), which only a wait for the network gains from.

    Attributes:
        name: Short, stable backend name (``"espeak-ng"``); part of the cache key.
    """

    name: str

    def identity(self) -> dict[str, IdentityValue]:
        """Everything besides the text that changes the audio: voice, rate, options.

        The audio cache keys on it, so two backends with equal ``name`` and
        ``identity()`` must produce interchangeable audio for the same text, and a
        change of voice or options must change the identity.

        Returns:
            A JSON-serialisable flat mapping.
        """
        ...

    async def synthesize(self, text: str) -> bytes:
        """Speak ``text``.

        Args:
            text: Normalised text (see :func:`bot.speech.normalize.normalize_for_speech`).

        Returns:
            Audio in any format the decoder reads (:func:`bot.speech.audio.to_telephone_wav`):
            a WAV of integer PCM of any width, float, μ-law or A-law, an MP3…, in any rate
            and channel count; told apart by its bytes. The synthesizer converts it to
            the served format.

        Raises:
            TTSError: The engine failed or produced no audio.
        """
        ...
