"""A call's state as JSON and back, for the stores that keep it outside the process.

Everything needed to continue a call at its step survives the round trip: the flow
version it is pinned to, the call stack, variables, a value waiting for confirmation,
the last reply (its prompts, to repeat them or to act after an owed answer), a late
answer owed, the last callback with its answer (a PBX retry is recognised on any
instance) and the transfer or hang-up still due.

Variables hold what slots and ``http:`` steps produce: JSON values, and also dates,
times, decimals and tuples. Those are written as tagged objects ``{"~": kind, "v": …}``
so they come back as the same types; a dict that itself has a ``"~"`` key is wrapped
the same way, so no caller's data can pass for a tag.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

from bot.dialog.state import Answer, Answered, CallState, Due, Frame, Grade, Playback, Reply
from bot.language.flow import Prompt
from bot.language.templates import Template

TAG = "~"
VERSION = 1  # of the encoding; a state written by a newer encoding is refused


class StateDecodeError(ValueError):
    """Stored bytes are not a call state this version can read."""


def dumps(state: CallState) -> str:
    """``state`` as one JSON text (orjson: a tenth of the standard library's time, on
    every turn; the same text for the values ``_state`` produces)."""
    data = _state(state)
    try:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # an integer beyond 64 bits (a long number said, an API's value)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> CallState:
    """The state ``dumps`` wrote.

    Raises:
        StateDecodeError: not JSON, not a state, or written by a newer version.
    """
    try:
        data = json.loads(text)
        if data.get("v", 0) > VERSION:
            raise StateDecodeError(f"call state of encoding {data['v']}, newer than this version's {VERSION}")
        return _call_state(data)
    except StateDecodeError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StateDecodeError(f"not a stored call state: {exc}") from exc


# --- encoding ---


def _state(s: CallState) -> dict[str, Any]:
    data: dict[str, Any] = {
        "v": VERSION,
        "call_id": s.call_id,
        "telnum": s.telnum,
        "flow": s.flow,
        "flow_version": s.flow_version,
        "started_at": s.started_at,
        "updated_at": s.updated_at,
        "outcome": s.outcome,
        "turns": s.turns,
        "greeted": s.greeted,
        "silence_count": s.silence_count,
        "no_match_count": s.no_match_count,
    }
    optional = {
        "step": s.step,
        "active_flow": s.active_flow,
        "active_version": s.active_version,
        "last_intent": s.last_intent,
        "last_text": s.last_text,
        "end_reason": s.end_reason,
        "ended_at": s.ended_at,
        "llm": s.llm_requests or None,
    }
    data.update((k, v) for k, v in optional.items() if v is not None)
    if s.stack:
        data["stack"] = [[f.flow, f.version, f.step, f.resume] for f in s.stack]
    if s.variables:
        data["variables"] = _value(s.variables)
    if s.pending is not None:
        data["pending"] = [s.pending[0], _value(s.pending[1])]
    if s.intents:
        data["intents"] = list(s.intents)
    if s.last_reply is not None:
        data["last_reply"] = _reply(s.last_reply)
    if s.grade is not None:
        data["grade"] = [s.grade.grade, s.grade.score, s.grade.reason]
    if s.undelivered is not None:
        data["undelivered"] = _playback(s.undelivered)
    if s.answered is not None:
        a = s.answered
        data["answered"] = {
            "event": a.event,
            "text": a.text,
            "playing": a.playing,
            "at": a.at,
            "playback": _playback(a.answer.playback) if a.answer.playback else None,
            "keep_playing": a.answer.keep_playing,
        }
    if s.due is not None:
        data["due"] = {"action": s.due.action, "target": s.due.target, "at": s.due.at}
    if s.test:
        data["test"] = True
    if s.direction != "inbound":
        data["direction"] = s.direction
    if s.campaign is not None:
        data["campaign"] = s.campaign
    return data


def _reply(reply: Reply) -> dict[str, Any]:
    prompts = [[p.text, p.interruptible, p.audio] for p in reply.prompts]
    return {"prompts": prompts, "action": reply.action, "target": reply.target}


def _playback(playback: Playback) -> list[Any]:
    return [playback.key, playback.interruptible]


# Values JSON has no type for, as tagged strings: checked in this order (a datetime is a date).
_TAGGED: tuple[tuple[type, str, Callable[[Any], str]], ...] = (
    (dt.datetime, "datetime", dt.datetime.isoformat),
    (dt.date, "date", dt.date.isoformat),
    (dt.time, "time", dt.time.isoformat),
    (Decimal, "decimal", str),
)
_UNTAGGED: dict[str, Callable[[str], object]] = {
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "decimal": Decimal,
}


def _value(value: object) -> Any:
    """A variable's value as JSON, tagging what JSON has no type for."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        encoded = {str(k): _value(v) for k, v in value.items()}
        return {TAG: "dict", "v": encoded} if TAG in encoded else encoded
    if isinstance(value, tuple):
        return {TAG: "tuple", "v": [_value(v) for v in value]}
    for kind, tag, write in _TAGGED:
        if isinstance(value, kind):
            return {TAG: tag, "v": write(value)}
    return str(value)  # anything else is kept as it would be said


# --- decoding ---


def _call_state(d: dict[str, Any]) -> CallState:
    state = CallState(
        call_id=d["call_id"],
        telnum=d["telnum"],
        flow=d["flow"],
        flow_version=d["flow_version"],
        started_at=d["started_at"],
        updated_at=d["updated_at"],
        step=d.get("step"),
        active_flow=d.get("active_flow"),
        active_version=d.get("active_version"),
        stack=tuple(Frame(*f) for f in d.get("stack", ())),
        variables=_decode(d.get("variables", {})),
        last_intent=d.get("last_intent"),
        last_text=d.get("last_text"),
        intents=tuple(d.get("intents", ())),
        greeted=d["greeted"],
        silence_count=d["silence_count"],
        no_match_count=d["no_match_count"],
        outcome=d["outcome"],
        end_reason=d.get("end_reason"),
        ended_at=d.get("ended_at"),
        turns=d["turns"],
        test=d.get("test", False),
        direction=d.get("direction", "inbound"),
        campaign=d.get("campaign"),
        llm_requests=d.get("llm", 0),
    )
    if (pending := d.get("pending")) is not None:
        state.pending = (pending[0], _decode(pending[1]))
    if (reply := d.get("last_reply")) is not None:
        state.last_reply = _decode_reply(reply)
    if (grade := d.get("grade")) is not None:
        state.grade = Grade(*grade)
    if (undelivered := d.get("undelivered")) is not None:
        state.undelivered = Playback(*undelivered)
    if (a := d.get("answered")) is not None:
        playback = Playback(*a["playback"]) if a["playback"] else None
        answer = Answer(playback, a["keep_playing"])
        state.answered = Answered(a["event"], a["text"], a["playing"], a["at"], answer)
    if (due := d.get("due")) is not None:
        state.due = Due(due["action"], due["target"], due["at"])
    return state


def _decode_reply(data: dict[str, Any]) -> Reply:
    return Reply(tuple(_said(*p) for p in data["prompts"]), data["action"], data["target"])


def _said(text: str, interruptible: bool, audio: str | None) -> Prompt:
    """A prompt as it was said: its text is rendered already (variables filled in), so
    it is rebuilt as it is, not validated again as a template."""
    prompt = Prompt.model_construct(text=text, interruptible=interruptible, audio=audio)
    prompt._template = Template(text, (text,) if text else ())  # said as it is: no placeholder
    return prompt


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(TAG)
    if tag is None:
        return {k: _decode(v) for k, v in value.items()}
    inner = value["v"]
    if tag == "dict":
        return {k: _decode(v) for k, v in inner.items()}
    if tag == "tuple":
        return tuple(_decode(v) for v in inner)
    if tag in _UNTAGGED:
        return _UNTAGGED[tag](inner)
    raise StateDecodeError(f"unknown tag {tag!r} in a stored value")
