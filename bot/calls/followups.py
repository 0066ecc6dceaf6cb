"""Actions that follow a prompt: a transfer or hang-up waits until the caller has
heard its announcement, and is dropped when the caller hangs up first.

One sleeping task per call, no polling: the task sleeps for the prompt's duration
plus a margin, then acts. ``cancel`` (the caller hung up) stops it before it acts and
marks the call gone, so nothing is scheduled for it afterwards. At shutdown,
``finish`` acts at once on everything still waiting, including what those actions
schedule in turn (one process: a restart may be long), and ``hand_over`` leaves it to
the other instances (a shared store keeps each call's due action; see
``bot.calls.actions``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.logs import call_context

logger = logging.getLogger(__name__)

Action = Callable[[], Awaitable[None]]
GONE_REMEMBERED = 10_000  # calls whose caller hung up, remembered to refuse late schedules
FINISH_ROUNDS = 5  # at shutdown: an action may schedule another (a push, then the transfer)


@dataclass
class _Waiting:
    name: str  # transfer | hangup | play
    announces: str  # the action the caller was promised: a push of text may precede a transfer
    act: Action
    sleeper: asyncio.Task[None]


class FollowUps:
    """At most one waiting action per call."""

    def __init__(self) -> None:
        self._waiting: dict[str, _Waiting] = {}
        self._running: dict[asyncio.Task[None], str] = {}
        self._gone: OrderedDict[str, None] = OrderedDict()

    def schedule(
        self, call_id: str, name: str, delay_seconds: float, act: Action, *, announces: str | None = None
    ) -> None:
        """Run ``act`` after ``delay_seconds``, replacing what the call had waiting;
        nothing is scheduled for a call whose caller has hung up."""
        if call_id in self._gone:
            logger.info("call %s: caller gone, %s not scheduled", call_id, name)
            return
        self._drop(call_id)
        sleeper = asyncio.create_task(self._later(call_id, delay_seconds), context=call_context(call_id))
        self._waiting[call_id] = _Waiting(name, announces or name, act, sleeper)

    def waiting(self, call_id: str) -> str | None:
        """The action the caller was promised and that is still to come, if any."""
        entry = self._waiting.get(call_id)
        return entry.announces if entry else None

    def busy(self, call_id: str) -> bool:
        """Whether an action of the call waits or runs; asked from inside an action,
        whether another one does."""
        if call_id in self._waiting:
            return True
        current = asyncio.current_task()
        return any(task is not current and name == call_id for task, name in self._running.items())

    def gone(self, call_id: str) -> bool:
        """Whether the caller hung up (actions must not touch the call any more)."""
        return call_id in self._gone

    def cancel(self, call_id: str) -> str | None:
        """The caller hung up: drop the call's waiting action and refuse later ones.
        Returns the action the caller had been promised, or None."""
        self._gone[call_id] = None
        while len(self._gone) > GONE_REMEMBERED:
            self._gone.popitem(last=False)
        return self._drop(call_id)

    def _drop(self, call_id: str) -> str | None:
        entry = self._waiting.pop(call_id, None)
        if entry is None:
            return None
        entry.sleeper.cancel()
        return entry.announces

    async def finish(self) -> None:
        """Act now on everything waiting, and let running actions end (at shutdown)."""
        for _ in range(FINISH_ROUNDS):
            for call_id in list(self._waiting):
                entry = self._waiting.pop(call_id)
                entry.sleeper.cancel()
                self._start(call_id, entry)
            if not self._running:
                break
            await asyncio.gather(*self._running, return_exceptions=True)

    async def hand_over(self) -> None:
        """At shutdown, when the calls' store is shared: drop what waits without acting
        (each call's due action is stored with it, and another instance takes it over
        at its time), and let running actions end."""
        for call_id in list(self._waiting):
            self._drop(call_id)
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _later(self, call_id: str, delay_seconds: float) -> None:
        await asyncio.sleep(delay_seconds)
        entry = self._waiting.pop(call_id, None)
        if entry is not None:
            self._start(call_id, entry)

    def _start(self, call_id: str, entry: _Waiting) -> None:
        task = asyncio.create_task(self._act(call_id, entry), context=call_context(call_id))
        self._running[task] = call_id
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)

    @staticmethod
    async def _act(call_id: str, entry: _Waiting) -> None:
        try:
            await entry.act()
        except Exception:  # an action reports its own failures; this is the last net
            logger.exception("call %s: %s failed", call_id, entry.name)

    async def aclose(self) -> None:
        """Drop everything waiting without acting (tests, a failed start)."""
        for call_id in list(self._waiting):
            self._drop(call_id)
        for task in list(self._running):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
