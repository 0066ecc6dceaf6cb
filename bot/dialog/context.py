"""What every part of the engine sees of a call: the flow it is in, its variables, and
its prompts as they are said."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Protocol

from bot.dialog.state import CallState, Reply
from bot.language.flow import Flow, Prompt
from bot.language.slots import SlotContext
from bot.language.tables import Table


class RunnableFlow(Protocol):
    """A loaded flow as the engine needs it (``bot.dialog.registry.LoadedFlow``)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def flow(self) -> Flow: ...
    @property
    def tables(self) -> Mapping[str, Table]: ...


class FlowLookup(Protocol):
    def get(self, name: str, version: str | None = None) -> RunnableFlow: ...


class FlowContext:
    """The flows and the clock, and what a call's state means in them.

    Args:
        flows: Where a call's flow (and the flows it calls or links to) are found.
        today: The date of a call, in the call center's time zone.
    """

    def __init__(self, flows: FlowLookup, today: Callable[[], dt.date]) -> None:
        self.flows = flows
        self._today = today

    def here(self, state: CallState) -> RunnableFlow:
        """The flow the call is in now (after ``call:`` or ``link:``, not its first)."""
        return self.flows.get(*state.position)

    def first(self, state: CallState) -> RunnableFlow:
        """The flow the call started in: its grading rules count."""
        return self.flows.get(state.flow, state.flow_version)

    def slot_context(self) -> SlotContext:
        return SlotContext(self._today())

    def variables(self, state: CallState) -> dict[str, object]:
        """What expressions and templates see: the call's variables and the bot's own."""
        flow, _ = state.position
        return {
            **state.variables,
            "intent": state.last_intent,
            "text": state.last_text,
            "intents": list(state.intents),
            "step": state.step,
            "flow": flow,
            "telnum": state.telnum,
            "call_id": state.call_id,
            "turns": state.turns,
            "outcome": state.outcome,
            "today": self._today().isoformat(),
        }

    def reply(self, state: CallState, prompts: list[Prompt | None], *, pending: bool = False) -> Reply:
        """A reply saying ``prompts`` (None: nothing), rendered."""
        return Reply(tuple(self.render(state, p, pending=pending) for p in prompts if p is not None))

    def render(self, state: CallState, prompt: Prompt, *, pending: bool = False) -> Prompt:
        """Fill in a prompt's template as the flow the call is in says its values; with
        ``pending``, the value being confirmed is visible to it."""
        if prompt.template.is_static:
            return prompt
        variables = self.variables(state)
        if pending and state.pending is not None:
            variables[state.pending[0]] = state.pending[1]
        kinds = self.here(state).flow.speech_kinds()
        return prompt.model_copy(update={"text": prompt.template.render(variables, kinds)})


def wait_at(state: CallState, step: str) -> None:
    """The call waits for the caller at ``step``: its counts start afresh, nothing is
    waiting for confirmation."""
    state.step, state.silence_count, state.no_match_count, state.pending = step, 0, 0, None
