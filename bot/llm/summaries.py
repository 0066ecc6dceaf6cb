"""Call summaries: two or three sentences (what the caller wanted, what was done, what
is owed) and the words for the grade, next to the rules' grade and never replacing it.

Asked at the end of a call, for the outcome push (``model_summary``), and at a transfer,
for the agent's screen (``biz_data``'s ``summary``) when it is ready before the
transfer is made; the transfer never waits for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypedDict

from bot.llm.asking import Rejected, ask, journal_requests_into
from bot.llm.json_answer import json_object
from bot.llm.model import ChatRequest, LanguageModel

MAX_SUMMARY_CHARS = 200
MAX_DIALOGUE_CHARS = 4000  # the call's last words, when it was long

SYSTEM = (
    "你是呼叫中心的质检助手。根据机器人和来电人的通话记录，写两三句话的通话小结："
    "来电人想办什么、机器人做了什么、还有什么没办完需要跟进。再用一句话说明给出的评级为什么合适。"
    "只写记录里有的内容，不要编造。"
    '只输出 JSON：{"summary": "…", "grade_reason": "…"}'
)
SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {"summary": {"type": "string"}, "grade_reason": {"type": "string"}},
    "required": ["summary", "grade_reason"],
    "additionalProperties": False,
}


class ModelSummary(TypedDict):
    """The model's summary of a call (the outcome push's ``model_summary``)."""

    summary: str
    grade_reason: str
    model: str


def dialogue(turns: list[Mapping[str, Any]]) -> str:
    """The call's words, one line per side's turn."""
    lines = []
    for turn in turns:
        if turn.get("text") and turn.get("event") == "text":
            lines.append(f"来电人：{turn['text']}")
        if turn.get("reply"):
            lines.append(f"机器人：{turn['reply']}")
    text = "\n".join(lines)
    return text if len(text) <= MAX_DIALOGUE_CHARS else "…" + text[-MAX_DIALOGUE_CHARS:]


def summary_request(call: Mapping[str, Any], *, timeout_seconds: float) -> ChatRequest:
    grade = (
        f"{call['grade']}（{call.get('score')}分；规则：{call.get('grade_reason') or '无'}）"
        if call.get("grade")
        else "无"
    )
    user = (
        f"通话记录：\n{dialogue(call.get('turns') or [])}\n\n"
        f"结束方式：{call.get('outcome')}（{call.get('end_reason') or ''}）\n评级：{grade}"
    )
    return ChatRequest(
        use="summary",
        messages=({"role": "system", "content": SYSTEM}, {"role": "user", "content": user}),
        schema=SCHEMA,
        max_tokens=300,
        timeout_seconds=timeout_seconds,
        about=f"call {call.get('callid', '')}",
    )


class CallSummaries:
    """Asks ``model`` to summarize calls."""

    def __init__(self, model: LanguageModel, *, timeout_seconds: float) -> None:
        self._model = model
        self._timeout_seconds = timeout_seconds
        self._running: set[asyncio.Task[ModelSummary | None]] = set()
        self._stopped = False

    def stop(self) -> None:
        """At shutdown: summaries being written are given up, and none is started, so
        that ending calls are handed over (pushed without one) at once."""
        self._stopped = True
        for task in self._running:
            task.cancel()

    async def summarize(self, call: Mapping[str, Any]) -> ModelSummary | None:
        """The summary of ``call`` (as ``TranscriptStore.get_call`` returns it), or None."""
        if not call.get("turns"):
            return None

        def read(answer: str) -> ModelSummary:
            value = json_object(answer)
            summary, reason = value.get("summary"), value.get("grade_reason")
            if not isinstance(summary, str) or not summary.strip():
                raise Rejected("no summary")
            if not isinstance(reason, str):
                raise Rejected("no grade_reason")
            if len(summary) > MAX_SUMMARY_CHARS:
                raise Rejected(f"a summary of {len(summary)} characters (at most {MAX_SUMMARY_CHARS})")
            return {"summary": summary.strip(), "grade_reason": reason.strip(), "model": self._model.name}

        return await ask(self._model, summary_request(call, timeout_seconds=self._timeout_seconds), read)

    async def of_call(
        self, get_call: Callable[[str], Awaitable[Mapping[str, Any] | None]], call_id: str
    ) -> tuple[ModelSummary | None, list[dict[str, Any]]]:
        """The summary of the call ``get_call`` finds (its transcript as stored now),
        and the request and answer for the transcript."""
        asked: list[dict[str, Any]] = []
        if self._stopped:
            return None, asked
        with journal_requests_into(asked):
            call = await get_call(call_id)
            if call is None or self._stopped:  # stopped while the transcript was read
                return None, asked
            task = asyncio.create_task(self.summarize(call))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        try:
            return await task, asked
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # this caller is cancelled, not only the summary
            return None, asked  # given up at shutdown
