"""A flow prompt's recording as a served clip: converted once, found again by a ``stat``.

A recording may be any audio the decoder reads (a WAV of PCM, float, μ-law or A-law,
an MP3…); it is converted to telephone PCM and stored in the served format.

A recording is remembered by file, modification time and size, so an unchanged
file costs a ``stat``; a changed one is read again and cached under the hash of its
new bytes (:func:`bot.speech.recordings.recording_key`).
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from pathlib import Path

from bot.errors import TTSError
from bot.speech.audio import to_telephone_wav_with_duration
from bot.speech.clips import AudioClip, ClipStore
from bot.speech.memo import Lru
from bot.speech.recordings import RECORDING_BACKEND, read_recording, recording_key, recording_path

logger = logging.getLogger(__name__)


class PromptRecordings:
    """The recordings of a flows directory, as served clips.

    Args:
        directory: The flows directory, which prompts' ``audio`` paths are relative
            to; None plays no recordings.
        clips: Where converted recordings are stored.
        slots: Limits how many conversions (and syntheses) run at once.
        memo_size: Most recordings remembered by file.
    """

    def __init__(
        self, directory: Path | None, clips: ClipStore, slots: asyncio.Semaphore, memo_size: int
    ) -> None:
        self._directory = directory
        self._clips = clips
        self._slots = slots
        self._by_file: Lru[tuple[str, int, int], AudioClip] = Lru(memo_size)  # file, mtime, size

    async def clip(self, name: str) -> AudioClip | None:
        """The clip of the recording ``name``, or None (logged at WARNING) when it is unusable.

        Args:
            name: A prompt's ``audio``, relative to the flows directory.

        Returns:
            The clip, labelled ``recording``; None when no directory is configured or
            the file is missing, outside the directory or not audio the decoder reads.
        """
        try:
            if self._directory is None:
                raise ValueError("no recordings directory is configured")
            path = recording_path(self._directory, name)
            stat = await asyncio.to_thread(path.stat)
            stamp = (str(path), stat.st_mtime_ns, stat.st_size)
            clip = self._by_file.get(stamp)
            if clip is None:
                data, _ = await asyncio.to_thread(read_recording, path)
                key = recording_key(data, self._clips.cache.audio_format)
                clip = await self._clips.find_or_make(key, partial(self._convert, key, data))
                self._by_file.put(stamp, clip)
        except (OSError, ValueError, TTSError) as exc:
            logger.warning("recording %s cannot be played (%s); its text is spoken instead", name, exc)
            return None
        return clip.labelled(RECORDING_BACKEND)

    async def _convert(self, key: str, data: bytes) -> AudioClip:
        async with self._slots:
            wav, duration_seconds = await asyncio.to_thread(to_telephone_wav_with_duration, data)
        clip = await self._clips.store(key, wav, duration_seconds, RECORDING_BACKEND)
        logger.info("converted recording %s: %.2f s of audio", key[:12], duration_seconds)
        return clip
