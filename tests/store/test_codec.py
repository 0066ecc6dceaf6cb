"""A call's state survives its JSON round trip: every field, every kind of variable."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from bot.dialog.state import Answer, Answered, CallState, Due, Frame, Grade, Playback, Reply
from bot.language.flow import Prompt
from bot.store import codec
from bot.store.transcripts import CallRow


def full_state() -> CallState:
    state = CallState(call_id="c1", telnum="13812345678", flow="yibao", flow_version="abc123")
    state.step, state.active_flow, state.active_version = "confirm_id", "id_check", "def456"
    state.stack = (Frame("yibao", "abc123", "menu"), Frame("yibao", "abc123", "ask", resume=True))
    state.variables = {
        "id": "11010519491231002X",
        "amount": Decimal("1234.50"),
        "day": dt.date(2026, 3, 5),
        "at": dt.datetime(2026, 3, 5, 15, 30, tzinfo=dt.UTC),
        "clock": dt.time(15, 30),
        "pair": (1, "二"),
        "order": {"items": [1, 2.5, None, True], "~": "a caller's own tilde key"},
    }
    state.pending = ("day", dt.date(2026, 3, 6))
    state.intents, state.last_intent, state.last_text = ("ask", "confirm"), "confirm", "对的"
    state.greeted, state.silence_count, state.no_match_count, state.turns = True, 1, 2, 7
    prompts = (Prompt(text="您好", interruptible=False), Prompt(text="请说{{x}}"))
    state.last_reply = Reply(prompts, action="transfer", target="8001")
    state.end("transferred", "caller asked for an agent")
    state.grade = Grade("A", 90, "interested")
    state.undelivered = Playback("k1", False)
    state.answered = Answered("text", "转人工", True, 1.5, Answer(Playback("k2", True), keep_playing=False))
    state.due = Due("transfer", "8001", 1234.5)
    state.direction = "outbound"
    return state


def test_every_field_comes_back() -> None:
    state = full_state()
    back = codec.loads(codec.dumps(state))
    assert back == state
    assert type(back.variables["pair"]) is tuple
    assert back.variables["order"] == {"items": [1, 2.5, None, True], "~": "a caller's own tilde key"}


def test_a_said_prompt_is_kept_as_said() -> None:
    """A rendered prompt's text may look like a template ("{{x}}" said literally): it is
    not checked or rendered again."""
    back = codec.loads(codec.dumps(full_state()))
    assert back.last_reply is not None
    said = back.last_reply.prompts[1]
    assert (said.text, said.template.is_static) == ("请说{{x}}", True)


def test_a_new_call_round_trips() -> None:
    state = CallState(call_id="c2", telnum="1", flow="f", flow_version="v")
    assert codec.loads(codec.dumps(state)) == state


@pytest.mark.parametrize("text", ["", "[]", '{"v": 1}', '{"v": 99, "call_id": "x"}', "不是JSON"])
def test_what_is_not_a_state_is_refused(text: str) -> None:
    with pytest.raises(codec.StateDecodeError):
        codec.loads(text)


def test_integers_beyond_64_bits_are_kept() -> None:
    """A long number said, or an API's big value: orjson refuses those, json writes them."""
    state = CallState(call_id="c", telnum="1", flow="f", flow_version="v")
    state.variables = {"number": 10**30, "small": 5, "negative": -(2**70)}
    assert codec.loads(codec.dumps(state)).variables == state.variables
    row = CallRow.of(state)
    assert row.variables is not None
    assert json.loads(row.variables)["number"] == 10**30
