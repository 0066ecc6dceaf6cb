"""Clips by key: :class:`AudioClip`, and the store that finds or makes each one once.

A clip is looked up in memory, else on disk (only its WAV header is read, in a worker
thread), else made; however many callers ask for one key at the same time, it is made
once. A clip is made as a telephone WAV (8000 Hz mono 16-bit PCM) and written in the
served format (``VOICEBOT_AUDIO_FORMAT``): :meth:`ClipStore.store` encodes it.

When the cache is bounded (:class:`bot.speech.cache.CacheUsage`), every clip made,
found or used is reported to its usage, and the least recently used are deleted in a
worker thread once the total exceeds the bound. A clip remembered in memory whose
file was evicted is not trusted (:meth:`ClipStore.touch` says so): it is made again.
While files are being deleted, a lookup of one of them waits for the deletion, so
that it never finds a file that is about to disappear.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bot.errors import TTSError
from bot.speech.audio import to_served_wav
from bot.speech.cache import AudioCache
from bot.speech.memo import Lru
from bot.speech.wav import read_wav_header

logger = logging.getLogger(__name__)

# Enough for the headers this service writes: 44 bytes for PCM, 58 for G.711 (fact chunk).
_HEADER_BYTES = 256


@dataclass(frozen=True)
class AudioClip:
    """A served WAV in the audio cache.

    Attributes:
        key: Cache key; also the clip's public name in audio URLs.
        path: The WAV file: 8000 Hz mono, 16-bit PCM or G.711 (the cache's ``audio_format``).
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
        # key → clip, incl. duration; None: forgotten (its file vanished; Lru has no delete)
        self._clips: Lru[str, AudioClip | None] = Lru(memo_size)
        self._in_flight: dict[str, asyncio.Task[AudioClip]] = {}
        self._eviction: asyncio.Task[None] | None = None
        self._doomed: frozenset[str] = frozenset()  # the keys the running eviction deletes

    def remembered(self, key: str) -> AudioClip | None:
        """The clip of ``key`` if it is in memory (and not evicted): dictionary lookups, no I/O."""
        clip = self._clips.get(key)
        return clip if clip is not None and self.touch(key) else None

    def touch(self, key: str) -> bool:
        """Note a use of ``key``; False when its file was evicted (or is unknown to a bounded cache).

        Callers remembering clips by something else (a text, parts) ask this before
        trusting a memory: when False, they make the clip again.
        """
        return self.cache.usage.touch(key)

    def pin(self, key: str) -> None:
        """Never evict ``key`` (a static prompt, a recording)."""
        self.cache.usage.pin(key)

    def forget(self, key: str) -> None:
        """The file of ``key`` vanished (another process deleted it): look for it, or make it, again."""
        self._clips.put(key, None)
        self.cache.usage.discard(key)

    async def scan(self) -> int:
        """Learn the sizes of the clips already on disk (in a thread), for the bound.

        Call once at start-up, best after the static prompts were rendered and pinned.
        A no-op without a bound.

        Returns:
            How many clips found on disk count towards the bound.
        """
        usage = self.cache.usage
        if not usage.enabled:
            return 0
        found = await asyncio.to_thread(self.cache.scan)
        added = usage.scanned(found)
        logger.info(
            "audio cache: %d clips, %.1f of %.1f MB evictable",
            len(usage),
            usage.total_bytes / 2**20,
            usage.limit_bytes / 2**20,
        )
        self._evict_if_over()
        return added

    async def aclose(self) -> None:
        """Wait for a running eviction to finish."""
        if self._eviction is not None:
            await asyncio.shield(self._eviction)

    async def find(self, key: str) -> AudioClip | None:
        """The clip of ``key`` from memory, else from its file's header (in a thread).

        Args:
            key: A well-formed cache key.

        Returns:
            The clip (with no ``backend`` label when read from disk), or None when
            it is not stored.
        """
        clip = self.remembered(key)
        if clip is None:
            clip = await self._read(key)
            if clip is not None:
                self._clips.put(key, clip)
        return clip

    async def find_or_make(self, key: str, make: Make) -> AudioClip:
        """The clip of ``key``, made by ``make`` when it is stored nowhere.

        Concurrent calls for one key share one lookup and one ``make``.

        Raises:
            Whatever ``make`` raises (TTSError), to every caller waiting for it.
        """
        clip = self.remembered(key)
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
        """Write the telephone WAV ``wav`` under ``key`` in the served format, and describe
        it (for a ``make``).

        The one place a clip's file is written, so the one place it is encoded (G.711
        in a worker thread); everything before works in 16-bit PCM.

        Raises:
            TTSError: ``wav`` is not a telephone WAV, or the file cannot be written.
        """
        served = wav
        if self.cache.audio_format != "pcm16":
            served = await asyncio.to_thread(to_served_wav, wav, self.cache.audio_format)
        path = await self.cache.put(key, served)
        self.cache.usage.add(key, len(served))
        self._evict_if_over()
        return AudioClip(key, path, duration_seconds, backend)

    def _forget(self, key: str, task: asyncio.Task[AudioClip]) -> None:
        if self._in_flight.get(key) is task:
            del self._in_flight[key]
        if not task.cancelled():
            task.exception()  # mark retrieved: the waiters got it, or nobody waits any more

    async def _produce(self, key: str, make: Make) -> AudioClip:
        """Take the clip from disk when another run or worker stored it, else make it."""
        clip = await self._read(key)
        if clip is None:
            clip = await make()
        self._clips.put(key, clip)
        return clip

    async def _read(self, key: str) -> AudioClip | None:
        """The stored clip of ``key`` (after any deletion of it finished), noted as used."""
        if key in self._doomed and self._eviction is not None:
            await asyncio.shield(self._eviction)
        loaded = await asyncio.to_thread(self._load, key)
        if loaded is None:
            return None
        clip, size_bytes = loaded
        self.cache.usage.add(key, size_bytes)
        self._evict_if_over()
        return clip

    def _evict_if_over(self) -> None:
        """Start deleting the least recently used clips when the bound is exceeded."""
        if self._eviction is not None or not self.cache.usage.over_limit:
            return
        victims = self.cache.usage.victims()
        if victims:
            self._doomed = frozenset(victims)
            self._eviction = asyncio.get_running_loop().create_task(self._evict(victims))

    async def _evict(self, victims: list[str]) -> None:
        try:
            deleted, freed_bytes = await asyncio.to_thread(self.cache.delete, victims)
        finally:
            self._doomed = frozenset()
            self._eviction = None
        usage = self.cache.usage
        logger.info(
            "audio cache: evicted %d clips (%.1f MB); %.1f of %.1f MB evictable",
            deleted,
            freed_bytes / 2**20,
            usage.total_bytes / 2**20,
            usage.limit_bytes / 2**20,
        )
        self._evict_if_over()  # what was added meanwhile

    def _load(self, key: str) -> tuple[AudioClip, int] | None:
        """The stored clip of ``key`` with its duration from the WAV header, and its size; or None."""
        path = self.cache.path(key)
        try:
            with path.open("rb") as file:
                header = file.read(_HEADER_BYTES)
                size_bytes = os.fstat(file.fileno()).st_size
            duration_seconds = read_wav_header(header, trust_sizes=True).duration_seconds
        except FileNotFoundError:
            return None
        except (TTSError, OSError) as exc:
            # Treated as absent: a render synthesizes it again and replaces the file.
            logger.warning("ignoring unreadable cached clip %s: %s", path, exc)
            return None
        return AudioClip(key, path, duration_seconds), size_bytes
