"""``voicebot tts say``: a text said by a backend, as the service would serve it.

The text goes through the service's own :class:`~bot.speech.synthesizer.SpeechSynthesizer`
(with a cache of its own, thrown away afterwards): the normaliser and the conversion to
the served format (``VOICEBOT_AUDIO_FORMAT``) are the service's, not a copy of them.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.errors import ConfigError, TTSError
from bot.pbx.factory import hwd_api
from bot.speech.backends import build_backends, close_backends
from bot.speech.cache import AudioCache
from bot.speech.hwd import HWDTTS
from bot.speech.synthesizer import SpeechSynthesizer
from bot.speech.tts import TTSBackend
from bot.speech.voices import ChosenVoice, VoiceChains, VoiceChoice, voice_builder, voice_value


@dataclass(frozen=True)
class Said:
    """A text said and written.

    Attributes:
        path: The WAV written, in the served format.
        backend: What said it (a backend's name: ``espeak-ng``, ``aliyun``…).
        duration_seconds: How long it plays.
    """

    path: Path
    backend: str
    duration_seconds: float


async def say(
    settings: Settings, text: str, output: Path, *, backend: str | None = None, voice: str | None = None
) -> Said:
    """Say ``text`` and write it to ``output``.

    Args:
        settings: The service's settings (its backends', the format served).
        text: What to say, as a flow would write it (normalised here).
        output: The WAV file to write.
        backend: A ``VOICEBOT_TTS`` name: that backend alone says it (listed in
            ``VOICEBOT_TTS`` or not), after its own check; None: the chain of
            ``VOICEBOT_TTS``, falling back as the service does.
        voice: One of the backend's voices instead of the one its settings name (with
            no ``backend``: of ``VOICEBOT_TTS``'s first).

    Returns:
        What was written, and by which backend.

    Raises:
        ConfigError: A backend's settings are missing or invalid.
        TTSError: The backend (every backend of the chain) could not say it, or the
            text is empty once normalised.
        OSError: ``output`` cannot be written.
    """
    async with _speech(settings, backend, voice) as (voices, chosen):
        with tempfile.TemporaryDirectory(prefix="voicebot-say-") as scratch:
            speech = SpeechSynthesizer(
                voices,
                AudioCache(Path(scratch), audio_format=settings.audio_format),
                attempt_timeout_seconds=settings.tts_timeout_ms / 1000,
                cooldown_seconds=settings.tts_cooldown_seconds,
            )
            try:
                clip = await speech.render(text, voice=chosen)
                await asyncio.to_thread(shutil.copyfile, clip.path, output)
            finally:
                await speech.aclose()
    return Said(output, clip.backend, clip.duration_seconds)


@asynccontextmanager
async def _speech(
    settings: Settings, backend: str | None, voice: str | None
) -> AsyncIterator[tuple[VoiceChains, VoiceChoice | None]]:
    """The chain to say a text with, and the voice to ask it for; closed afterwards."""
    api = hwd_api(settings)
    hwd = HWDTTS(api) if api is not None else None
    backends: list[TTSBackend] = []
    try:
        if backend is None:
            backends = build_backends(settings, hwd=hwd)
            build = voice_builder(settings, hwd=hwd)
            chosen = ChosenVoice(settings.tts[0], voice) if voice is not None else None
            if voice is not None:  # one the backend cannot take is the command's error, not a fallback
                _check_voice(settings.tts[0], voice)
            yield VoiceChains(backends, names=settings.tts, build=build), chosen
            return
        backends = [await asyncio.to_thread(voice_builder(settings, hwd=hwd), ChosenVoice(backend, voice))]
        await _check(backends[0])
        yield VoiceChains(backends, names=[backend]), None
    finally:
        await close_backends(backends)
        if api is not None:
            await api.aclose()


def _check_voice(backend: str, voice: str) -> None:
    try:
        voice_value(backend, voice)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


async def _check(backend: TTSBackend) -> None:
    """A backend asked by name must work: its check's error is the command's answer (espeak-ng
    would otherwise say an unknown voice in another language)."""
    check = getattr(backend, "check", None)
    if check is not None:
        try:
            await check()
        except TTSError as exc:
            raise TTSError(f"{backend.name} does not work: {exc}", backend=backend.name) from exc
