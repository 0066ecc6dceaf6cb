"""The PBX's side of a call in its transcript: each action's requests and answers as a turn."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.dialog.state import CallState
from bot.errors import PBXError
from bot.pbx.base import CallRef, Exchange
from bot.store.sessions import SessionStore
from bot.store.transcripts import Turn, iso

if TYPE_CHECKING:
    from bot.store.pg_transcripts import AnyTranscriptStore

logger = logging.getLogger(__name__)

StateChange = Callable[[CallState], Awaitable[None]]


def call_ref(state: CallState) -> CallRef:
    """The call as the PBX's requests name it."""
    return CallRef(state.call_id, state.telnum, state.test, state.direction)


def exchanges_json(exchanges: list[Exchange]) -> list[dict[str, object]] | None:
    """A turn's ``pbx`` field: the exchanges as JSON, or None when there were none."""
    return [e.as_json() for e in exchanges] or None


class PBXRecorder:
    """Writes what the PBX was asked and answered into the call's transcript."""

    def __init__(self, sessions: SessionStore, transcripts: AnyTranscriptStore) -> None:
        self._sessions = sessions
        self._transcripts = transcripts

    async def current(self, call_id: str) -> CallState | None:
        """The call's state: live, or as its transcript ended it; None when unknown."""
        return await self._sessions.get(call_id) or await self._transcripts.ended_call(call_id)

    async def record(
        self,
        call: CallRef,
        action: str,
        argument: str | None,
        exchanges: list[Exchange],
        error: PBXError | None,
        *,
        change: StateChange | None = None,
        llm: list[dict[str, Any]] | None = None,
    ) -> CallState | None:
        """Record one action as a ``pbx`` turn; ``change`` may change the call's state in
        the same step, under the call's lock (a failed transfer revises how the call
        ended); ``llm``: the language model's exchanges that went into it (the agent's
        summary). Returns the call's state after it, or None for a call no longer known."""
        metrics.count_pbx(action, "ok" if error is None else "error", test=call.test)
        turn = Turn(at=iso(time.time()), event="pbx", text=f"{action} {argument or ''}".strip())
        turn.pbx = exchanges_json(exchanges)
        turn.llm = llm or None
        if error is not None:
            turn.error = f"{type(error).__name__}: {error}"
        async with self._sessions.lock(call.call_id):
            stored = await self._sessions.get(call.call_id)
            state = stored.copy() if stored else await self._transcripts.ended_call(call.call_id)
            if state is None:
                logger.warning("call %s: %s done for a call no longer known", call.call_id, action)
                return None
            if change is not None:
                await change(state)
            turn.step = state.step
            self._transcripts.record(state, turn)
            if stored is not None:
                await self._sessions.put(state)
            await self._transcripts.flush()
        return state
