"""Where call states live between callbacks, behind the ``SessionStore`` interface.

The CTI may send several callbacks of one call at once (a barge-in racing a
``ready2speak``); ``lock(call_id)`` serializes them so their state changes never
interleave, while different calls proceed in parallel.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from bot.dialog.state import CallState


class SessionStore(Protocol):
    """Storage of live calls' states."""

    def lock(self, call_id: str) -> AbstractAsyncContextManager[None]:
        """Hold while reading, changing and writing back one call's state."""
        ...

    async def get(self, call_id: str) -> CallState | None: ...

    async def put(self, state: CallState) -> None: ...

    async def pop_idle(self, idle_seconds: float) -> list[CallState]:
        """Remove and return the calls with no callback for ``idle_seconds``."""
        ...

    async def count(self) -> int: ...


class MemorySessionStore:
    """Sessions in this process's memory: fast, lost on restart, one worker only."""

    def __init__(self) -> None:
        self._states: dict[str, CallState] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiters: dict[str, int] = {}

    @asynccontextmanager
    async def lock(self, call_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(call_id, asyncio.Lock())
        self._waiters[call_id] = self._waiters.get(call_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            # Drop the lock with its last user so the dict does not grow with every call ever seen.
            self._waiters[call_id] -= 1
            if not self._waiters[call_id]:
                del self._waiters[call_id], self._locks[call_id]

    async def get(self, call_id: str) -> CallState | None:
        return self._states.get(call_id)

    async def put(self, state: CallState) -> None:
        state.updated_at = time.time()
        self._states[state.call_id] = state

    async def pop_idle(self, idle_seconds: float) -> list[CallState]:
        cutoff = time.time() - idle_seconds
        idle = [s for s in self._states.values() if s.updated_at < cutoff and s.call_id not in self._locks]
        for state in idle:
            del self._states[state.call_id]
        return idle

    async def count(self) -> int:
        return len(self._states)
