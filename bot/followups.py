"""Actions that follow a prompt: a transfer or hang-up waits until the caller has
heard its announcement, and is dropped when the caller hangs up first.

One sleeping task per call, no polling: the task sleeps for the prompt's duration
plus a margin, then acts. ``cancel`` (the caller hung up) stops it before it acts;
``finish`` (shutdown) acts at once on everything still waiting, so a restart never
forgets a transfer the caller was promised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

Action = Callable[[], Awaitable[None]]


@dataclass
class _Waiting:
    name: str  # transfer | hangup | play
    act: Action
    sleeper: asyncio.Task[None]


class FollowUps:
    """At most one waiting action per call."""

    def __init__(self) -> None:
        self._waiting: dict[str, _Waiting] = {}
        self._running: set[asyncio.Task[None]] = set()

    def schedule(self, call_id: str, name: str, delay: float, act: Action) -> None:
        """Run ``act`` after ``delay`` seconds, replacing what the call had waiting."""
        self.cancel(call_id)
        sleeper = asyncio.create_task(self._later(call_id, delay))
        self._waiting[call_id] = _Waiting(name, act, sleeper)

    def waiting(self, call_id: str) -> str | None:
        """The name of the call's waiting action, if any."""
        entry = self._waiting.get(call_id)
        return entry.name if entry else None

    def cancel(self, call_id: str) -> str | None:
        """Drop the call's waiting action; returns its name, or None when none waited."""
        entry = self._waiting.pop(call_id, None)
        if entry is None:
            return None
        entry.sleeper.cancel()
        return entry.name

    async def finish(self) -> None:
        """Act now on everything waiting, and let running actions end (at shutdown)."""
        for call_id in list(self._waiting):
            entry = self._waiting.pop(call_id)
            entry.sleeper.cancel()
            self._start(call_id, entry)
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _later(self, call_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        entry = self._waiting.pop(call_id, None)
        if entry is not None:
            self._start(call_id, entry)

    def _start(self, call_id: str, entry: _Waiting) -> None:
        task = asyncio.create_task(self._act(call_id, entry))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    @staticmethod
    async def _act(call_id: str, entry: _Waiting) -> None:
        try:
            await entry.act()
        except Exception:  # an action reports its own failures; this is the last net
            logger.exception("call %s: %s failed", call_id, entry.name)

    async def aclose(self) -> None:
        """Drop everything waiting without acting (tests, a failed start)."""
        for call_id in list(self._waiting):
            self.cancel(call_id)
        for task in list(self._running):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
