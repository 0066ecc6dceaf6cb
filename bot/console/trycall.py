"""Test calls from the browser: the console plays the CTI, through the same turn path.

A callback is built as ``bot.cti.params.read_callback`` builds the CTI's, marked
``test``, and handed to the same ``CallHandler.handle``: the same retries, fillers,
intents, steps, audio and transcripts. What is different follows from the mark,
stored with the call's state and its transcript row:

- its transfers, hang-ups and plays are recorded only (``bot.pbx.split.SplitPBX``),
  also when taken over from the stored state after a restart;
- it is never pushed as an outcome (``bot.outcome.publisher``);
- its metrics carry the label ``kind="test"`` (``bot.metrics.CALL_KIND``);
- the dashboard leaves it out, the calls page marks it.

Audio links are paths on this service, which the browser plays from its own origin.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from bot.calls.events import Callback, Event
from bot.console.calls import audio_path
from bot.dialog.state import CallState, Playback
from bot.errors import RequestError
from bot.metrics import CALL_KIND
from bot.services import Services

TEST_CALL_PREFIX = "test-"
DEFAULT_TELNUM = "13800000000"
EVENTS = ("say", "barge", "silence", "hangup")


class ConsoleAudioLinks:
    """Audio as paths on this service, with the CTI's interruptible flag."""

    def url(self, playback: Playback) -> str:
        interruptible = "true" if playback.interruptible else "false"
        return f"/audio/{playback.key}.wav?canbeinterrupted={interruptible}"


LINKS = ConsoleAudioLinks()


@dataclass(frozen=True)
class TestEvent:
    """What the person at the console did: said something, said it over the prompt
    (barge-in), stayed silent, or hung up."""

    __test__ = False  # not a pytest test class

    kind: str
    text: str = ""

    def callback(self, call_id: str, telnum: str, flow: str | None, *, max_text_chars: int) -> Callback:
        if self.kind not in EVENTS:
            raise RequestError(f'"event" must be one of {", ".join(EVENTS)}')
        text = self.text.strip()
        if self.kind in ("say", "barge"):
            if not text:
                raise RequestError('"text" is required: what the caller says')
            if len(text) > max_text_chars:
                raise RequestError(f'"text" longer than {max_text_chars} characters', status=413)
            event = Event.TEXT
        else:
            event = Event.HUNGUP if self.kind == "hangup" else Event.READY
        return Callback(
            call_id=call_id,
            telnum=telnum,
            event=event,
            text=text if event is Event.TEXT else None,
            playing=self.kind == "barge",
            flow=flow,
            encoding="utf-8",
            test=True,
        )


async def place(svc: Services, flow: str, telnum: str) -> dict[str, Any]:
    """Start a test call on ``flow``: its first callback (ready2speak), the greeting."""
    if svc.flows is None or svc.calls is None:
        raise RequestError("the service is starting; try again in a moment", status=503)
    if flow not in svc.flows.names():
        raise RequestError(f"no flow {flow!r}; the flows: {', '.join(svc.flows.names())}", status=404)
    telnum = telnum.strip() or DEFAULT_TELNUM
    if not (telnum.isascii() and telnum.isdigit() and len(telnum) <= 20):
        raise RequestError('"telnum" must be up to 20 digits')
    call_id = f"{TEST_CALL_PREFIX}{secrets.token_hex(8)}"
    return await _run(svc, TestEvent("silence"), call_id, telnum, flow)


async def act(svc: Services, call_id: str, event: TestEvent) -> dict[str, Any]:
    """One more event of a test call placed from the console."""
    state = await svc.sessions.get(call_id) or await svc.transcripts.ended_call(call_id)
    if state is None or not state.test:
        raise RequestError(f"no test call {call_id!r}: place one first", status=404)
    return await _run(svc, event, call_id, state.telnum, None)


async def _run(
    svc: Services, event: TestEvent, call_id: str, telnum: str, flow: str | None
) -> dict[str, Any]:
    if svc.calls is None:
        raise RequestError("the service is starting; try again in a moment", status=503)
    callback = event.callback(call_id, telnum, flow, max_text_chars=svc.settings.max_text_chars)
    before = await _said_turns(svc, call_id)
    kind = CALL_KIND.set("test")
    try:
        answer = await svc.calls.handle(callback, LINKS)
    finally:
        CALL_KIND.reset(kind)
    state = await svc.sessions.get(call_id) or await svc.transcripts.ended_call(call_id)
    turns = await _said_turns(svc, call_id)
    # A turn slower than VOICEBOT_KB_FILLER_MS was answered with the wait words; its own
    # answer is pushed (recorded only) when ready: the page asks for it (turns_before).
    late = len(turns) == len(before) and callback.event is not Event.HUNGUP
    return {
        "callid": call_id,
        "audio_url": LINKS.url(answer.playback) if answer.playback else None,
        "keep_playing": answer.keep_playing,
        "late": late,
        "turns_before": len(before),
        "turn": _turn_view(turns[-1]) if turns and not late else None,
        **(_state_view(state) if state is not None else {}),
    }


async def _said_turns(svc: Services, call_id: str) -> list[dict[str, Any]]:
    """The call's turns so far, the PBX's left out."""
    call = await svc.transcripts.get_call(call_id) or {}
    return [t for t in call.get("turns", []) if t.get("event") != "pbx"]


def _turn_view(turn: dict[str, Any]) -> dict[str, Any]:
    return {**turn, "audio_url": audio_path(turn.get("audio_url")), "filler": audio_path(turn.get("filler"))}


def _state_view(state: CallState) -> dict[str, Any]:
    reply = state.last_reply
    return {
        "flow": state.flow,
        "step": state.step,
        "active_flow": state.active_flow,
        "variables": state.variables,
        "ended": state.ended,
        "outcome": state.outcome,
        "end_reason": state.end_reason,
        "grade": {"grade": state.grade.grade, "score": state.grade.score, "reason": state.grade.reason}
        if state.grade
        else None,
        "action": {"action": reply.action, "target": reply.target} if reply and reply.action else None,
        "due": {"action": state.due.action, "target": state.due.target} if state.due else None,
    }
