"""How a call ends: the caller's hang-up (callback or push), the idle sweep, and the one
answer to "has this call ended for good?" that decides when it is handed over."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.calls.followups import FollowUps
from bot.dialog.conversation import Conversation
from bot.dialog.state import CallState
from bot.logs import call_context, calling
from bot.store.sessions import SessionStore
from bot.store.transcripts import Turn, iso

if TYPE_CHECKING:
    from bot.store.pg_transcripts import AnyTranscriptStore

logger = logging.getLogger(__name__)
# A call that ended for good is kept this long after its last callback (the CTI's
# retries, its hang-up push), then forgotten: memory would otherwise grow with every
# call of the last VOICEBOT_SESSION_TTL_SECONDS. A later callback of it finds it ended
# in the transcripts.
ENDED_KEEP_SECONDS = 60.0

OnCallEnd = Callable[[CallState], Coroutine[Any, Any, None]]  # given a copy of the ended call


def owes_action(state: CallState) -> bool:
    """Whether the call still owes the caller an answer that announces an action."""
    return (
        state.undelivered is not None and state.last_reply is not None and state.last_reply.action is not None
    )


@dataclass(kw_only=True, eq=False)
class Endings:
    """Ends calls and hands each one that has ended for good to ``on_call_end``."""

    conversation: Conversation
    sessions: SessionStore
    transcripts: AnyTranscriptStore
    followups: FollowUps
    on_call_end: OnCallEnd | None
    _background: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def settled(self, state: CallState) -> bool:
        """Whether the call has ended for good: ended, owing the caller no answer, and
        with no transfer or hang-up to come (besides the one asking; on any instance)."""
        return (
            state.ended
            and state.due is None
            and not owes_action(state)
            and not self.followups.busy(state.call_id)
        )

    def report_if_settled(self, state: CallState) -> None:
        """Hand the call over if it has ended for good; else what is left reports it."""
        if self.settled(state):
            self._report(state)

    def caller_hung_up(self, state: CallState) -> None:
        """The caller is gone: drop what was to follow, and end the call in the dialog."""
        dropped = self.followups.cancel(state.call_id)
        if dropped is None and state.due is not None:  # announced on another instance
            dropped = state.due.action
        if dropped is None and owes_action(state):  # a late answer still to be said
            assert state.last_reply is not None
            dropped = state.last_reply.action
        state.undelivered = None  # nobody is left to hear it
        state.due = None  # stored so: no instance carries it out any more
        if dropped in ("transfer", "hangup"):
            metrics.count_pbx(dropped, "dropped")
            logger.info("call %s: caller hung up before the %s", state.call_id, dropped)
        if dropped == "transfer" and state.outcome == "transferred":
            # The transfer never happened: the call ended with the caller's hang-up.
            self.conversation.dialog.revise_end(
                state, "hung_up_by_caller", f"caller hung up before the transfer ({state.end_reason})"
            )
        self.conversation.hung_up(state)

    async def hangup_pushed(self, call_id: str, telnum: str | None) -> bool:
        """The CTI's hang-up push (GX §41, ``business=robot``): close the call as its
        ``hungup`` callback would, if that was missed. Idempotent; returns whether this
        push closed the call."""
        async with self.sessions.lock(call_id):
            stored = await self.sessions.get(call_id)
            if stored is None or self.settled(stored):
                return False  # unknown here, or closed already (its hungup, an earlier push, us)
            state = stored.copy()
            turn = Turn(at=iso(time.time()), event="hangup_push", text=telnum)
            self.caller_hung_up(state)
            turn.step = state.step
            self.transcripts.record(state, turn)
            await self.sessions.put(state)
        self.report_if_settled(state)
        return True

    async def close_idle(self, idle_seconds: float) -> int:
        """Close calls with no callback for ``idle_seconds`` (their ``hungup`` was lost),
        and forget calls ended for good ``ENDED_KEEP_SECONDS`` ago. Returns how many
        calls were closed (not those only forgotten)."""
        closed = await self.sessions.pop_idle(idle_seconds, ended_idle_seconds=ENDED_KEEP_SECONDS)
        abandoned = [state for state in closed if not state.ended]
        for state in abandoned:
            with calling(state.call_id):
                self.conversation.dialog.abandon(state, f"no callback for {idle_seconds:.0f} s")
            self.transcripts.record(state)
            self._report(state)
        return len(abandoned)

    async def finish(self) -> None:
        """Let the hand-overs under way complete (at shutdown)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def _report(self, state: CallState) -> None:
        if self.on_call_end is None:
            return
        task = asyncio.create_task(self.on_call_end(state.copy()), context=call_context(state.call_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
