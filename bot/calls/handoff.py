"""What the agent's screen shows when the bot hands a call over (GX ``biz_data``).

The CTI forwards it untouched to the agent's web page (GX §10); ``bot.pbx.gx`` fits
it into the manual's 1,500 characters. Its ``summary`` is the language model's when
that is ready by the time the transfer is made (``HandoffSummaries``), else the rules'
one line; the transfer never waits for the model.
"""

from __future__ import annotations

import asyncio
import contextlib
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


def biz_data(state: CallState, model_summary: str | None = None) -> dict[str, Any]:
    """The call as an agent needs it: who, which flow, the grade, the slots, a summary:
    the model's (``summary_by: model``) when given, else the rules' one line."""
    grade = state.grade
    data: dict[str, Any] = {
        "callid": state.call_id,
        "telnum": state.telnum,
        "flow": state.flow,
        "grade": grade.grade if grade else None,
        "score": grade.score if grade else None,
        "summary": model_summary or summary(state),
        "slots": {
            name: to_text(value) for name, value in state.variables.items() if not name.startswith("_")
        },
    }
    if model_summary:
        data["summary_by"] = "model"
    return data


class HandoffSummaries:
    """The language model's summaries for agents' screens: started when a transfer is
    announced, taken when it is made, if ready by then.

    Args:
        summaries: The model's summaries.
        flows: The flows, whose ``llm: summary:`` may turn them off.
        get_call: A call's transcript as stored (``TranscriptStore.get_call``).
    """

    def __init__(self, summaries: CallSummaries, flows: FlowLookup, get_call: GetCall) -> None:
        self._summaries = summaries
        self._flows = flows
        self._get_call = get_call
        self._tasks: dict[str, asyncio.Task[tuple[ModelSummary | None, list[dict[str, Any]]]]] = {}

    def start(self, state: CallState) -> None:
        """Start summarizing the call whose transfer was just announced."""
        try:
            if not self._flows.get(state.flow, state.flow_version).flow.llm.summary:
                return
        except FlowError:
            return
        call_id = state.call_id
        self._drop(call_id)
        task = asyncio.create_task(self._summaries.of_call(self._get_call, call_id))
        self._tasks[call_id] = task
        asyncio.get_running_loop().call_later(KEEP_SUMMARY_SECONDS, self._forget, call_id, task)

    def take(self, call_id: str) -> tuple[str | None, list[dict[str, Any]]]:
        """The summary for the transfer being made now, if ready, with its exchanges for
        the transcript; one still being written is cancelled."""
        task = self._tasks.pop(call_id, None)
        if task is None:
            return None, []
        if not task.done():
            task.cancel()
            logger.info("call %s: the model's summary was not ready for the transfer", call_id)
            return None, []
        if task.cancelled() or task.exception() is not None:
            return None, []
        summary, asked = task.result()
        return (summary["summary"] if summary else None), asked

    async def aclose(self) -> None:
        for call_id in list(self._tasks):
            self._drop(call_id)

    def _forget(self, call_id: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(call_id) is task:
            self._drop(call_id)

    def _drop(self, call_id: str) -> None:
        task = self._tasks.pop(call_id, None)
        if task is not None and not task.done():
            task.cancel()
        elif task is not None:
            with contextlib.suppress(BaseException):
                task.result()  # retrieved: no "never retrieved" warning


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
