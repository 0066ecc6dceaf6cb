"""Several clips glued into one prompt, and clips of silence; both cached like any clip.

Joining works in 16-bit PCM: parts served as G.711 are decoded to the 16-bit values
their codes stand for, which encode back to the same sound, and the result is encoded
again when it is stored.

A reply joins the same prompts again and again, so a join is remembered by its
parts' keys and gap: after the first, it costs a few dictionary lookups (the join may
have been evicted by a bounded cache, or its file deleted by another process: it is
then made again).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from bot.errors import TTSError
from bot.speech.audio import to_telephone_wav
from bot.speech.clips import AudioClip, ClipStore
from bot.speech.memo import Lru
from bot.speech.wav import AudioFormat, concat_wavs, format_id, silence_wav, wav_duration_seconds

logger = logging.getLogger(__name__)

DEFAULT_GAP_MS = 150
DEFAULT_SILENCE_MS = 300
SILENCE_BACKEND = "silence"
"""What :attr:`AudioClip.backend` says for a clip of silence."""


class MissingPartError(TTSError):
    """A part of a join has no file any more (deleted by another process sharing the cache)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"cannot read the clip {key[:12]} to join: {reason}")
        self.key = key


class ClipJoiner:
    """Joins clips of one store, and makes its silences.

    Args:
        clips: Where the parts are and the results go.
        memo_size: Most joins remembered by their parts.
    """

    def __init__(self, clips: ClipStore, memo_size: int) -> None:
        self._clips = clips
        self._joins: Lru[tuple[int, tuple[str, ...]], AudioClip] = Lru(memo_size)

    async def join(self, clips: Sequence[AudioClip], *, gap_ms: int = DEFAULT_GAP_MS) -> AudioClip:
        """One clip that plays ``clips`` in order with ``gap_ms`` of silence between them.

        Args:
            clips: Clips of this store.
            gap_ms: Silence between consecutive clips, in milliseconds.

        Returns:
            The single clip itself when there is one, else the joined clip, labelled
            with the parts' backends.

        Raises:
            ValueError: ``clips`` is empty or ``gap_ms`` negative.
            TTSError: A part cannot be read or the result cannot be stored.
        """
        if not clips:
            raise ValueError("join needs at least one clip")
        if gap_ms < 0:
            raise ValueError(f"gap_ms must be >= 0, not {gap_ms}")
        if len(clips) == 1:
            return clips[0]
        parts = (gap_ms, tuple(c.key for c in clips))
        joined = self._joins.get(parts)
        if joined is None or self._clips.remembered(joined.key) is None:  # evicted, or forgotten
            key = join_key(parts[1], gap_ms, self._clips.cache.audio_format)
            paths = tuple((c.key, c.path) for c in clips)
            joined = await self._clips.find_or_make(key, partial(self._join_files, key, paths, gap_ms))
            joined = joined.labelled("+".join(dict.fromkeys(c.backend for c in clips if c.backend)))
            self._joins.put(parts, joined)
        return joined

    async def silence(self, duration_ms: int = DEFAULT_SILENCE_MS) -> AudioClip:
        """A clip of ``duration_ms`` milliseconds of silence, labelled ``silence``."""
        key = silence_key(duration_ms, self._clips.cache.audio_format)
        clip = await self._clips.find_or_make(key, partial(self._store_silence, key, duration_ms))
        return clip.labelled(SILENCE_BACKEND)

    async def _store_silence(self, key: str, duration_ms: int) -> AudioClip:
        return await self._clips.store(key, silence_wav(duration_ms), duration_ms / 1000, SILENCE_BACKEND)

    async def _join_files(self, key: str, paths: tuple[tuple[str, Path], ...], gap_ms: int) -> AudioClip:
        """Concatenate stored clips into a new stored clip."""
        wav, duration_seconds = await asyncio.to_thread(_concat_files, paths, gap_ms)
        clip = await self._clips.store(key, wav, duration_seconds)
        logger.debug("joined %d clips into %s (%.2f s)", len(paths), key[:12], duration_seconds)
        return clip


def join_key(keys: Sequence[str], gap_ms: int, audio_format: AudioFormat) -> str:
    """Key of a joined clip: the parts' keys in order, the gap and the served format."""
    material = f"join:{format_id(audio_format)}:gap={gap_ms}:" + ",".join(keys)
    return hashlib.sha256(material.encode("ascii")).hexdigest()


def silence_key(duration_ms: int, audio_format: AudioFormat) -> str:
    """Key of a clip of ``duration_ms`` milliseconds of silence in the served format."""
    material = f"silence:{format_id(audio_format)}:{duration_ms}"
    return hashlib.sha256(material.encode("ascii")).hexdigest()


def _concat_files(paths: Sequence[tuple[str, Path]], gap_ms: int) -> tuple[bytes, float]:
    """Read stored clips, decode them to telephone PCM and join them, in a worker thread."""
    parts: list[bytes] = []
    for key, path in paths:
        try:
            parts.append(to_telephone_wav(path.read_bytes()))
        except FileNotFoundError as exc:
            raise MissingPartError(key, exc.strerror or "no such file") from exc
        except OSError as exc:
            raise TTSError(f"cannot read a clip to join: {exc}") from exc
    wav = concat_wavs(parts, gap_ms=gap_ms)
    return wav, wav_duration_seconds(wav)
