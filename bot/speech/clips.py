"""Clips by key: :class:`AudioClip`, and the store that finds or makes each one once.

A clip is looked up in memory, else on disk (only its 44-byte WAV header is read,
in a worker thread), else made; however many callers ask for one key at the same
time, it is made once. Files are assumed to stay in the cache directory while the
service runs (nothing here deletes them).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bot.speech.cache import AudioCache
from bot.speech.memo import Lru

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioClip:
    """A telephone WAV in the audio cache.

    Attributes:
        key: Cache key; also the clip's public name in audio URLs.
        path: The WAV file (8000 Hz mono 16-bit).
        duration_seconds: Play time.
        backend: What made it, for transcripts: a backend's ``name``, ``recording``,
            ``silence``, the parts' names joined by ``+`` for a joined clip, or empty
            for a clip only looked up by key. Not part of the clip's identity.
    """

    key: str
    path: Path
    duration_seconds: float
    backend: str = dataclasses.field(default="", compare=False)

    def labelled(self, backend: str) -> AudioClip:
        """This clip saying it was made by ``backend`` (a clip first met by key has no label)."""
        return self if self.backend == backend else dataclasses.replace(self, backend=backend)


Make = Callable[[], Awaitable[AudioClip]]
"""Makes a missing clip and stores its file (a synthesis, a conversion, a join)."""


class ClipStore:
    """The clips of one :class:`AudioCache`, remembered by key.

    Use one instance per event loop: its in-flight table belongs to the loop that
    first uses it.

    Args:
        cache: Where the files are.
        memo_size: Most clips remembered in memory (least recently used go first;
            their files stay on disk and are found again).
    """

    def __init__(self, cache: AudioCache, memo_size: int) -> None:
        self.cache = cache
        self._clips: Lru[str, AudioClip] = Lru(memo_size)  # key → clip, incl. duration
        self._in_flight: dict[str, asyncio.Task[AudioClip]] = {}

    def remembered(self, key: str) -> AudioClip | None:
        """The clip of ``key`` if it is in memory: a dictionary lookup, no I/O."""
        return self._clips.get(key)

    async def find(self, key: str) -> AudioClip | None:
        """The clip of ``key`` from memory, else from its file's header (in a thread).

        Args:
            key: A well-formed cache key.

        Returns:
            The clip (with no ``backend`` label when read from disk), or None when
            it is not stored.
        """
        clip = self._clips.get(key)
        if clip is None:
            clip = await asyncio.to_thread(self._load, key)
            if clip is not None:
                self._clips.put(key, clip)
        return clip

    async def find_or_make(self, key: str, make: Make) -> AudioClip:
        """The clip of ``key``, made by ``make`` when it is stored nowhere.

        Concurrent calls for one key share one lookup and one ``make``.

        Raises:
            Whatever ``make`` raises (TTSError), to every caller waiting for it.
        """
        clip = self._clips.get(key)
        if clip is not None:
            return clip
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._produce(key, make))
            self._in_flight[key] = task
            task.add_done_callback(partial(self._forget, key))
        # shield: one caller giving up (a hung-up call) must not cancel the work
        # that the other callers wait for; it still finishes and fills the cache.
        return await asyncio.shield(task)

    async def store(self, key: str, wav: bytes, duration_seconds: float, backend: str = "") -> AudioClip:
        """Write ``wav`` under ``key`` and describe it (for a ``make``).

        Raises:
            TTSError: The file cannot be written.
        """
        path = await self.cache.put(key, wav)
        return AudioClip(key, path, duration_seconds, backend)

    def _forget(self, key: str, task: asyncio.Task[AudioClip]) -> None:
        if self._in_flight.get(key) is task:
            del self._in_flight[key]
        if not task.cancelled():
            task.exception()  # mark retrieved: the waiters got it, or nobody waits any more

    async def _produce(self, key: str, make: Make) -> AudioClip:
        """Take the clip from disk when another run or worker stored it, else make it."""
        clip = await asyncio.to_thread(self._load, key)
        if clip is None:
            clip = await make()
        self._clips.put(key, clip)
        return clip

    def _load(self, key: str) -> AudioClip | None:
        """The stored clip of ``key`` with its duration from the WAV header, or None."""
        path = self.cache.path(key)
        try:
            with wave.open(str(path), "rb") as reader:
                duration_seconds = reader.getnframes() / reader.getframerate()
        except FileNotFoundError:
            return None
        except (wave.Error, EOFError, OSError, ZeroDivisionError) as exc:
            # Treated as absent: a render synthesizes it again and replaces the file.
            logger.warning("ignoring unreadable cached clip %s: %s", path, exc)
            return None
        return AudioClip(key, path, duration_seconds)
