"""Answers at a ``collect`` step: a value for its slot, a confirmation, a correction,
or a failed attempt.

A value waits for the caller's yes (``CallState.pending``) when the step has
``confirm:``, or when it is a guess (``walk.in_doubt``: 两点, 14:00 or 02:00?) and the
step does not say ``clarify: false``; ``Collect.read_back`` is the question either way.
"""

from __future__ import annotations

from bot import metrics
from bot.dialog.context import FlowContext
from bot.dialog.state import CallState, Reply
from bot.dialog.walk import Walk, Walker, in_doubt
from bot.language.flow import Collect
from bot.language.slots import SlotMatch, YesNoSlot

_YES_NO = YesNoSlot.from_options({})


class Collector:
    """Fills slots from the caller's answers; the walk goes on once one is filled."""

    def __init__(self, context: FlowContext, walker: Walker) -> None:
        self._context = context
        self._walker = walker

    def finds(self, state: CallState, collect: Collect, text: str) -> bool:
        """Whether ``text`` holds a value of the step's slot."""
        return self._extract(state, collect, text) is not None

    async def answer(self, state: CallState, collect: Collect, text: str, intent: str | None) -> Reply:
        """The caller answered the step's question (or its confirmation) with ``text``,
        read as ``intent``; global intents were handled before."""
        assert state.step is not None
        found = self._extract(state, collect, text)
        if state.pending is not None:
            confirmed = await self._confirm(state, collect, text, intent, found)
            if confirmed is not None:
                return confirmed
        elif found is not None:
            return await self._fill(state, collect, found, text)
        state.no_match_count += 1
        metrics.count_no_match(state.position[0])
        if state.no_match_count >= collect.attempts:
            ladder = self._context.here(state).flow.no_match_ladder(state.step)
            fail = collect.fail or (ladder.then if ladder else None)
            assert fail is not None  # the loader demands one
            cause = f"{collect.slot}: {state.no_match_count} answers without a valid value"
            return await self._walker.go(state, fail, None, cause)
        if state.pending is not None:
            return self._context.reply(state, [collect.read_back()], pending=True)
        retry = (
            collect.invalid[min(state.no_match_count, len(collect.invalid)) - 1] if collect.invalid else None
        )
        return self._context.reply(state, [retry or collect.prompt])

    def _extract(self, state: CallState, collect: Collect, text: str) -> SlotMatch | None:
        kind = self._context.here(state).flow.slots[collect.slot].kind
        return kind.extract(text, self._context.slot_context())

    async def _confirm(
        self, state: CallState, collect: Collect, text: str, intent: str | None, found: SlotMatch | None
    ) -> Reply | None:
        """The answer to "对吗？": a new value is a correction ("不对，是…"), taken like
        a first answer (read back when the step confirms or it is unsure, else stored);
        the same value again is a yes, else yes or no; None when it is neither."""
        assert state.pending is not None
        if found is not None and found.value != state.pending[1]:
            state.pending = None
            return await self._fill(state, collect, found, text)
        yes = True if found is not None else self._yes_no(text, intent)
        if yes is True:
            state.variables[collect.slot] = state.pending[1]
            state.pending = None
            return await self._walker.go(state, collect.then, None, f"{collect.slot} confirmed")
        if yes is False:
            state.pending = None
            return self._context.reply(state, [collect.prompt])
        return None

    async def _fill(self, state: CallState, collect: Collect, found: SlotMatch, text: str) -> Reply:
        """An answer gave the slot's value. Other collect steps the walk reaches next
        may take their values from the same answer ("明天下午三点": a date, then a time)."""
        if collect.reads_back(in_doubt(found, answered=True)):
            return self._propose(state, collect, found.value)
        state.variables[collect.slot] = found.value
        walk = Walk(text, consumed={collect.slot}, spans=[(found.start, found.end)])
        return await self._walker.go(state, collect.then, walk, f"{collect.slot} filled")

    def _propose(self, state: CallState, collect: Collect, value: object) -> Reply:
        state.pending = (collect.slot, value)
        return self._context.reply(state, [collect.read_back()], pending=True)

    def _yes_no(self, text: str, intent: str | None) -> bool | None:
        if intent in ("affirm", "deny"):
            return intent == "affirm"
        found = _YES_NO.extract(text, self._context.slot_context())
        return None if found is None else bool(found.value)
