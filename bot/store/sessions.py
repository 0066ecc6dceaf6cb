"""Where call states live between callbacks, behind the ``SessionStore`` interface.

The CTI may send several callbacks of one call at once (a barge-in racing a
``ready2speak``); ``lock(call_id)`` serializes them so their state changes never
interleave, while different calls proceed in parallel.

Three stores: ``MemorySessionStore`` (tests and tools: lost on exit),
``SQLiteSessionStore`` (the default: one process, survives restarts;
``bot.store.sqlite_sessions``) and ``RedisSessionStore`` (any number of processes
and machines; ``bot.store.redis_sessions``).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from bot.dialog.state import CallState


class SessionStore(Protocol):
    """Storage of live calls' states.

    ``put`` returns once the state is stored as durably as the store can (a committed
    transaction; a Redis write), or, when storing fails, once the state is kept to be
    stored again (``write_error`` says why).
    """

    shared: bool  # whether other processes see the same calls

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    @property
    def write_error(self) -> str | None:
        """Why states cannot be stored right now, or None."""
        ...

    def lock(self, call_id: str) -> AbstractAsyncContextManager[None]:
        """Hold while reading, changing and writing back one call's state."""
        ...

    async def get(self, call_id: str) -> CallState | None: ...

    async def put(self, state: CallState) -> None: ...

    async def pop_idle(
        self, idle_seconds: float, *, ended_idle_seconds: float | None = None
    ) -> list[CallState]:
        """Remove and return the calls with no callback for ``idle_seconds``, and the
        calls that ended for good (nothing due or owed) with none for ``ended_idle_seconds``.
        A callback of a call forgotten so is still answered as ended (the transcripts
        know it). Shared stores ignore ``ended_idle_seconds``: their keys expire on
        their own, and the states are in the store's memory, not this process's."""
        ...

    async def count(self) -> int:
        """The calls held: in progress, and ended ones kept until they are idle."""
        ...

    async def count_live(self) -> int:
        """The calls in progress (not ended)."""
        ...

    async def orphaned_dues(self) -> list[CallState]:
        """Calls with a transfer or hang-up due (``CallState.due``) that no running
        process will carry out: found at start in a local store, or overdue on an
        instance that stopped in a shared one."""
        ...

    async def claim_due(self, call_id: str) -> bool:
        """Take the call's due action for this process; False when another process (or
        the caller's hang-up) took it first. Claimed once, by one taker."""
        ...


class MemorySessionStore:
    """Sessions in this process's memory: fast, lost on restart, one worker only."""

    shared = False

    def __init__(self) -> None:
        self._states: dict[str, CallState] = {}
        self._live: set[str] = set()  # the ids of the calls in progress
        self._locks: dict[str, _Held] = {}

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    @property
    def write_error(self) -> str | None:
        return None

    def lock(self, call_id: str) -> AbstractAsyncContextManager[None]:
        return _CallLock(self._locks, call_id)

    async def get(self, call_id: str) -> CallState | None:
        return self._states.get(call_id)

    async def put(self, state: CallState) -> None:
        state.updated_at = time.time()
        self._states[state.call_id] = state
        if state.ended:
            self._live.discard(state.call_id)
        else:
            self._live.add(state.call_id)

    async def pop_idle(
        self, idle_seconds: float, *, ended_idle_seconds: float | None = None
    ) -> list[CallState]:
        now = time.time()
        cutoff = now - idle_seconds
        ended_cutoff = cutoff if ended_idle_seconds is None else now - ended_idle_seconds
        idle = [
            s
            for s in self._states.values()
            if (s.updated_at < cutoff or (s.updated_at < ended_cutoff and _finished(s)))
            and s.call_id not in self._locks
        ]
        for state in idle:
            del self._states[state.call_id]
            self._live.discard(state.call_id)
        return idle

    async def count(self) -> int:
        return len(self._states)

    async def count_live(self) -> int:
        return len(self._live)

    async def orphaned_dues(self) -> list[CallState]:
        return []  # nothing outlives this process

    async def claim_due(self, call_id: str) -> bool:
        return True  # one process: its own follow-ups are the only takers


def _finished(state: CallState) -> bool:
    """Ended, with no transfer or hang-up due and no answer owed to a next callback."""
    return state.ended and state.due is None and state.undelivered is None


class _Held:
    """A call's lock and how many callbacks hold or wait for it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class _CallLock:
    """``async with`` one call's lock; the lock is dropped with its last user, so the
    dict does not grow with every call ever seen. A class rather than an
    ``asynccontextmanager``: this runs on every callback."""

    __slots__ = ("_call_id", "_held", "_locks")

    def __init__(self, locks: dict[str, _Held], call_id: str) -> None:
        self._locks, self._call_id = locks, call_id
        self._held = locks.get(call_id) or locks.setdefault(call_id, _Held())

    async def __aenter__(self) -> None:
        self._held.users += 1
        try:
            await self._held.lock.acquire()
        except BaseException:  # cancelled while waiting: no longer a user
            self._release_user()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._held.lock.release()
        self._release_user()

    def _release_user(self) -> None:
        self._held.users -= 1
        if not self._held.users:
            del self._locks[self._call_id]
