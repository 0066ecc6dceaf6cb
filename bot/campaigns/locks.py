"""Who schedules: one instance at a time, whatever the number of instances and workers.

With Redis (``VOICEBOT_REDIS_URL``) the lock is a Redis key with an expiry, so an
instance that dies mid-tick lets another take over; without it, every worker of one
machine shares the campaign file, and an exclusive ``flock`` on a file beside it
decides.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

LOCK_KEY = "voicebot:campaigns:scheduler"


class SchedulerLock(Protocol):
    def held(self) -> contextlib.AbstractAsyncContextManager[bool]:
        """Enter: whether this instance may schedule now (never waits)."""
        ...


class RedisLock:
    def __init__(self, redis: Redis, *, expiry_seconds: float) -> None:
        self._redis = redis
        self._expiry_seconds = expiry_seconds

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[bool]:
        lock = self._redis.lock(LOCK_KEY, timeout=self._expiry_seconds, blocking=False)
        acquired = bool(await lock.acquire())
        try:
            yield acquired
        finally:
            if acquired:
                with contextlib.suppress(Exception):  # expired meanwhile: someone else's now
                    await lock.release()


class FileLock:
    def __init__(self, path: Path) -> None:
        self._path = path

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[bool]:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)
