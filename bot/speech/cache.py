"""Content-addressed on-disk store of the served WAVs.

A clip's key is the SHA-256 of everything that determines its audio: the text,
the backend's name and identity (voice, options) and the served format
(``VOICEBOT_AUDIO_FORMAT``: 16-bit PCM, μ-law or A-law). Changing any of them gives a
new key, so a cache is never stale, never serves audio of an old format, and never
needs invalidating; files are ``<key>.wav`` in one directory, written atomically so
that a reader (the web server handing files to the CTI, another worker process)
never sees half a file.

The directory may be bounded (:class:`CacheUsage`): the clips rendered here are then
deleted least recently used first when their total exceeds the bound, except those
pinned (the flows' static prompts, recordings) and those used within a grace period
(their URL may still be fetched). The usage is kept in memory; deleting is left to
:class:`bot.speech.clips.ClipStore`, which does it in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.errors import TTSError
from bot.speech.tts import TTSBackend
from bot.speech.wav import AudioFormat, format_id

logger = logging.getLogger(__name__)

_KEY = re.compile(r"[0-9a-f]{64}")
_FILE_MODE = 0o644  # mkstemp makes 0600; a separate static file server may serve the files
EVICTION_GRACE_SECONDS = 600.0
"""A clip served or made this recently is never evicted: the PBX may still fetch its URL."""

Clock = Callable[[], float]
"""Seconds since the epoch (``time.time``): comparable with files' modification times."""


def is_valid_key(key: str) -> bool:
    """Whether ``key`` has the form of a cache key (64 lowercase hex characters).

    Args:
        key: Untrusted text, e.g. from a URL.

    Returns:
        True when ``key`` can safely name a file in the cache directory.
    """
    return _KEY.fullmatch(key) is not None


class AudioCache:
    """Served WAVs on disk, addressed by :meth:`key_for`.

    Args:
        directory: Where the files live; created (with parents) if absent.
        audio_format: The served format (``VOICEBOT_AUDIO_FORMAT``), part of every key;
            :class:`bot.speech.clips.ClipStore` encodes the files in it.
        limit_bytes: Most bytes of evictable clips kept (see :class:`CacheUsage`);
            0: no limit (nothing is tracked or deleted).
        grace_seconds: A clip used this recently is never evicted.
        clock: The time, for tests.

    Raises:
        ValueError: A negative limit or grace, or an unknown format.
    """

    def __init__(
        self,
        directory: Path,
        *,
        audio_format: AudioFormat = "pcm16",
        limit_bytes: int = 0,
        grace_seconds: float = EVICTION_GRACE_SECONDS,
        clock: Clock = time.time,
    ) -> None:
        self.directory = directory
        self.audio_format = audio_format
        self.format_id = format_id(audio_format)  # also refuses an unknown format
        self.usage = CacheUsage(limit_bytes, grace_seconds=grace_seconds, clock=clock)
        # Once, at construction (start-up), so the hot path never has to.
        self.directory.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"AudioCache({str(self.directory)!r}, audio_format={self.audio_format!r})"

    def key_for(self, text: str, backend: TTSBackend) -> str:
        """The key of ``text`` as spoken by ``backend``.

        Args:
            text: The exact text synthesized (after normalisation).
            backend: The backend; its ``name`` and ``identity()`` enter the key.

        Returns:
            64 lowercase hex characters.
        """
        canonical = json.dumps(
            {
                "text": text,
                "backend": backend.name,
                "identity": backend.identity(),
                "format": self.format_id,
            },
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        """The file of ``key`` (which may not exist yet).

        Args:
            key: A cache key.

        Returns:
            ``<directory>/<key>.wav``.

        Raises:
            ValueError: ``key`` is not 64 lowercase hex characters; this also keeps
                untrusted keys such as ``../etc/passwd`` out of the file system.
        """
        if not is_valid_key(key):
            raise ValueError(f"malformed audio cache key {key[:80]!r}")
        return self.directory / f"{key}.wav"

    def exists(self, key: str) -> bool:
        """Whether the clip of ``key`` is stored (a ``stat``; async callers use a thread).

        Args:
            key: A cache key.

        Returns:
            True when the file exists.

        Raises:
            ValueError: ``key`` is malformed.
        """
        return self.path(key).is_file()

    async def put(self, key: str, wav: bytes) -> Path:
        """Store ``wav`` under ``key``, atomically; the file I/O runs in a thread.

        Args:
            key: A cache key.
            wav: The file as served (in :attr:`audio_format`).

        Returns:
            The file's path.

        Raises:
            ValueError: ``key`` is malformed.
            TTSError: The file cannot be written (disk full, permissions).
        """
        path = self.path(key)
        try:
            await asyncio.to_thread(_write_atomically, path, wav)
        except OSError as exc:
            raise TTSError(f"cannot store audio in {self.directory}: {exc}") from exc
        return path

    def scan(self) -> list[tuple[str, int, float]]:
        """Every clip in the directory, blocking (use a thread): key, size and modification time.

        Returns:
            ``(key, size_bytes, mtime)`` of each ``<key>.wav``; other files are ignored.
        """
        found: list[tuple[str, int, float]] = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                key = entry.name.removesuffix(".wav")
                if key == entry.name or not is_valid_key(key):
                    continue
                try:
                    stat = entry.stat()
                except OSError:  # deleted meanwhile
                    continue
                found.append((key, stat.st_size, stat.st_mtime))
        return found

    def delete(self, keys: Iterable[str]) -> tuple[int, int]:
        """Delete the files of ``keys``, blocking (use a thread); missing files are skipped.

        Returns:
            How many files were deleted and how many bytes they held.
        """
        deleted = freed_bytes = 0
        for key in keys:
            path = self.path(key)
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                logger.warning("cannot evict %s from the audio cache: %s", path.name, exc)
                continue
            deleted += 1
            freed_bytes += size
        return deleted, freed_bytes


@dataclass
class _Use:
    size_bytes: int
    used_at: float


class CacheUsage:
    """Sizes and last uses of the clips of a bounded cache, in memory; event loop only.

    Clips are evictable unless pinned. The evictable clips are kept least recently
    used first; :meth:`victims` takes, from that end, the clips not used within the
    grace period until the rest fits the limit. A clip not tracked (never seen, or
    evicted) is reported by :meth:`touch`, so that memories of it are not trusted.

    Args:
        limit_bytes: Most bytes of evictable clips; 0: no limit, nothing tracked.
        grace_seconds: A clip used this recently is never a victim.
        clock: The time (``time.time``).

    Raises:
        ValueError: A negative limit or grace.
    """

    def __init__(self, limit_bytes: int, *, grace_seconds: float, clock: Clock) -> None:
        if limit_bytes < 0:
            raise ValueError(f"limit_bytes must be >= 0, not {limit_bytes}")
        if grace_seconds < 0:
            raise ValueError(f"grace_seconds must be >= 0, not {grace_seconds}")
        self.limit_bytes = limit_bytes
        self.grace_seconds = grace_seconds
        self._clock = clock
        self._evictable: OrderedDict[str, _Use] = OrderedDict()  # least recently used first
        self._pinned: set[str] = set()
        self.total_bytes = 0  # of the evictable clips

    @property
    def enabled(self) -> bool:
        """Whether there is a limit (else every method is a no-op)."""
        return self.limit_bytes > 0

    @property
    def over_limit(self) -> bool:
        """Whether the evictable clips hold more than the limit."""
        return self.enabled and self.total_bytes > self.limit_bytes

    def __len__(self) -> int:
        return len(self._evictable) + len(self._pinned)

    def add(self, key: str, size_bytes: int) -> None:
        """A clip was made or found on disk now (a use)."""
        if not self.enabled or key in self._pinned:
            return
        use = self._evictable.get(key)
        if use is not None:
            self.total_bytes -= use.size_bytes
        self._evictable[key] = _Use(size_bytes, self._clock())
        self._evictable.move_to_end(key)
        self.total_bytes += size_bytes

    def touch(self, key: str) -> bool:
        """A clip is used now; False when it is not tracked (evicted, or never seen).

        The hot path: two dictionary lookups.
        """
        if self.limit_bytes <= 0 or key in self._pinned:
            return True
        use = self._evictable.get(key)
        if use is None:
            return False
        use.used_at = self._clock()
        self._evictable.move_to_end(key)
        return True

    def pin(self, key: str) -> None:
        """Never evict ``key`` (a static prompt, a recording); it no longer counts."""
        if not self.enabled:
            return
        use = self._evictable.pop(key, None)
        if use is not None:
            self.total_bytes -= use.size_bytes
        self._pinned.add(key)

    def discard(self, key: str) -> None:
        """Forget ``key`` (its file is gone)."""
        use = self._evictable.pop(key, None)
        if use is not None:
            self.total_bytes -= use.size_bytes
        self._pinned.discard(key)

    def scanned(self, found: Iterable[tuple[str, int, float]]) -> int:
        """Track the clips found on disk at start (:meth:`AudioCache.scan`) not yet tracked.

        Their last use is taken to be their modification time: they go before every
        clip used since the start, oldest first.

        Returns:
            How many were added.
        """
        if not self.enabled:
            return 0
        added = 0
        for key, size_bytes, mtime in sorted(found, key=lambda entry: entry[2], reverse=True):
            if key in self._pinned or key in self._evictable:
                continue
            self._evictable[key] = _Use(size_bytes, mtime)
            self._evictable.move_to_end(key, last=False)
            self.total_bytes += size_bytes
            added += 1
        return added

    def victims(self) -> list[str]:
        """Stop tracking, and return, the clips to evict so that the rest fits the limit.

        Least recently used first, and none used within the grace period: the cache may
        stay over the limit until those age.
        """
        chosen: list[str] = []
        if not self.over_limit:
            return chosen
        unused_since = self._clock() - self.grace_seconds
        while self.total_bytes > self.limit_bytes and self._evictable:
            key, use = next(iter(self._evictable.items()))
            if use.used_at > unused_since:
                break
            del self._evictable[key]
            self.total_bytes -= use.size_bytes
            chosen.append(key)
        return chosen


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``.

    ``os.replace`` within one directory is atomic, so readers see either no file
    or the whole file. The fsync before it makes sure a crash cannot leave a
    complete-looking but empty file that would then be served forever.
    """
    path.parent.mkdir(parents=True, exist_ok=True)  # survives someone removing the directory
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:16]}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
            os.fchmod(temp.fileno(), _FILE_MODE)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
