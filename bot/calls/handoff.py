"""What the agent's screen shows when the bot hands a call over (GX ``biz_data``).

The CTI forwards it untouched to the agent's web page (GX §10); ``bot.pbx.gx`` fits
it into the manual's 1,500 characters. Its ``summary`` is the language model's when
that is ready by the time the transfer is made (``HandoffSummaries``), else the rules'
one line; the transfer never waits for the model.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.dialog.context import FlowLookup
from bot.dialog.state import CallState
from bot.errors import FlowError
from bot.language.expressions import to_text
from bot.llm.summaries import CallSummaries, ModelSummary

logger = logging.getLogger(__name__)

SUMMARY_TEXT_CHARS = 60


KEEP_SUMMARY_SECONDS = 120.0
"""A summary no transfer took (the caller hung up first) is forgotten after this."""

GetCall = Callable[[str], Awaitable[Mapping[str, Any] | None]]


def biz_data(state: CallState, summary_text: str | None = None) -> dict[str, Any]:
    """The call as an agent needs it: who, which flow, the grade, the slots, a summary:
    the model's ``summary_text`` (``summary_by: model``) when given, else the rules' line."""
    grade = state.grade
    data: dict[str, Any] = {
        "callid": state.call_id,
        "telnum": state.telnum,
        "flow": state.flow,
        "grade": grade.grade if grade else None,
        "score": grade.score if grade else None,
        "summary": summary_text or summary(state),
        "slots": {
            name: to_text(value) for name, value in state.variables.items() if not name.startswith("_")
        },
    }
    if summary_text:
        data["summary_by"] = "model"
    return data


Summarized = tuple[ModelSummary | None, list[dict[str, Any]]]
"""A summary (None: no usable answer) and its request and answer for the transcript."""


class HandoffSummaries:
    """The language model's summaries for agents' screens: started when a transfer is
    announced, taken when it is made if ready by then, and kept for the call's end,
    whose outcome push needs the same summary (``for_call_end``).

    Args:
        summaries: The model's summaries.
        flows: The flows, whose ``llm: summary:`` may turn them off.
        get_call: A call's transcript as stored (``TranscriptStore.get_call``).
    """

    def __init__(self, summaries: CallSummaries, flows: FlowLookup, get_call: GetCall) -> None:
        self._summaries = summaries
        self._flows = flows
        self._get_call = get_call
        self._tasks: dict[str, asyncio.Task[Summarized]] = {}
        self._taken: dict[str, ModelSummary] = {}  # used on an agent's screen: the call end's too
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def start(self, state: CallState) -> None:
        """Start summarizing the call whose transfer was just announced."""
        try:
            if not self._flows.get(state.flow, state.flow_version).flow.llm.summary:
                return
        except FlowError:
            return
        call_id = state.call_id
        self._forget(call_id)
        self._tasks[call_id] = asyncio.create_task(self._summaries.of_call(self._get_call, call_id))
        self._timers[call_id] = asyncio.get_running_loop().call_later(
            KEEP_SUMMARY_SECONDS, self._forget, call_id
        )

    def take(self, call_id: str) -> Summarized:
        """The summary for the transfer being made now, if ready, with its exchanges for
        the transcript; one still being written goes on, for the call's end."""
        task = self._tasks.get(call_id)
        if task is None or not task.done():
            if task is not None:
                logger.info("call %s: the model's summary was not ready for the transfer", call_id)
            return None, []
        del self._tasks[call_id]
        summary, asked = _result(task)
        if summary is not None:
            self._taken[call_id] = summary
        return summary, asked

    async def for_call_end(self, call_id: str) -> Summarized | None:
        """The call's summary for its end, when one was asked for at its transfer: the one
        its agent saw, or the one still being written, awaited; None when none was."""
        self._cancel_timer(call_id)
        if call_id in self._taken:
            return self._taken.pop(call_id), []  # its exchange is in the transfer's turn
        task = self._tasks.pop(call_id, None)
        if task is None:
            return None
        await asyncio.wait({task})
        return _result(task)

    async def aclose(self) -> None:
        """At shutdown: summaries still being written are given up."""
        tasks = list(self._tasks.values())
        for call_id in list(self._timers):
            self._forget(call_id)
        await asyncio.gather(*tasks, return_exceptions=True)

    def _forget(self, call_id: str) -> None:
        self._cancel_timer(call_id)
        self._taken.pop(call_id, None)
        task = self._tasks.pop(call_id, None)
        if task is not None:
            task.cancel()

    def _cancel_timer(self, call_id: str) -> None:
        timer = self._timers.pop(call_id, None)
        if timer is not None:
            timer.cancel()


def _result(task: asyncio.Task[Summarized]) -> Summarized:
    """A finished summary task's result; a cancelled or failed one is no summary."""
    if task.cancelled() or task.exception() is not None:
        return None, []
    return task.result()


def summary(state: CallState) -> str:
    """One line for the agent: what the caller wanted and what the bot got."""
    parts = [f"来电{state.telnum}"]
    if state.intents:
        recent = list(dict.fromkeys(reversed(state.intents)))[:3]
        parts.append("意图：" + "、".join(recent))
    if state.last_text:
        said = state.last_text
        if len(said) > SUMMARY_TEXT_CHARS:
            said = said[:SUMMARY_TEXT_CHARS] + "…"
        parts.append(f"最后说：{said}")
    if state.grade:
        parts.append(f"评级{state.grade.grade}（{state.grade.reason}）")
    return "；".join(parts)
