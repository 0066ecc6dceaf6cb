"""``voicebot chat --audio DIR``: each reply saved as the telephone WAV the service
would play (``DIR/001.wav``, ``002.wav``…), rendered by espeak-ng through the
service's synthesizer, with its cache in ``DIR/.cache``."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from bot.config import Settings
from bot.dialog.state import Reply
from bot.speech.cache import AudioCache
from bot.speech.espeak import EspeakTTS
from bot.speech.synthesizer import SpeechSynthesizer


class ReplyAudio:
    """Saves replies as numbered WAV files of one directory."""

    def __init__(self, speech: SpeechSynthesizer, directory: Path) -> None:
        self._speech = speech
        self._directory = directory
        self._saved = 0

    @classmethod
    async def open(cls, settings: Settings, directory: Path, flows_dir: Path) -> ReplyAudio:
        """The synthesizer for ``directory``, checked once.

        Raises:
            OSError: the directory cannot be used.
            TTSError: espeak-ng does not work.
        """
        backend = EspeakTTS(voice=settings.tts_voice, rate_wpm=settings.tts_rate_wpm)
        cache = AudioCache(directory / ".cache", audio_format=settings.audio_format)
        await backend.check()
        speech = SpeechSynthesizer(backend, cache, concurrency=settings.tts_slots, recordings_dir=flows_dir)
        return cls(speech, directory)

    async def save(self, reply: Reply) -> Path:
        """The reply as the CTI would play it (the prompts joined, or a pause), saved
        as the next file; its path.

        Raises:
            TTSError: the reply cannot be said.
            OSError: the file cannot be written.
        """
        self._saved += 1
        target = self._directory / f"{self._saved:03d}.wav"
        if reply.prompts:
            clip = await self._speech.join([await self._speech.render_prompt(p) for p in reply.prompts])
        else:
            clip = await self._speech.silence()
        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, clip.path, target)
        return target
