"""The dialog engine walks a flow: pure state changes, no server."""

from __future__ import annotations

import pytest

from bot.dialog.engine import Dialog
from bot.dialog.flow import Flow
from bot.dialog.state import CallState

FLOW = Flow.model_validate(
    {
        "intents": {
            "yes": {"examples": ["是"]},
            "agent": {"examples": ["人工"]},
            "bye": {"examples": ["再见"]},
        },
        "defaults": {
            "silence": {"prompts": ["还在吗？", "请说话。"], "then": "bye"},
            "no_match": {"prompts": ["没听清。"], "then": "offer"},
        },
        "steps": {
            "hello": {"say": "您好。", "goto": "menu"},
            "menu": {"say": "请问有什么可以帮您？", "ask": {"agent": "agent", "bye": "bye", "yes": "menu"}},
            "offer": {
                "say": "转人工吗？",
                "ask": {"yes": "agent", "bye": "bye"},
                "no_match": {"prompts": [], "then": "agent"},
            },
            "agent": {"say": {"text": "正在转接。", "interruptible": False}, "transfer": "8001"},
            "bye": {"say": "再见。", "hangup": True},
        },
    }
)


@pytest.fixture
def dialog() -> Dialog:
    return Dialog(FLOW)


@pytest.fixture
def state() -> CallState:
    return CallState(call_id="c", telnum="1", flow="t", flow_version="v")


def test_greeting_joins_goto_prompts_and_waits(dialog: Dialog, state: CallState) -> None:
    reply = dialog.greet(state)
    assert reply.text == "您好。请问有什么可以帮您？"
    assert (reply.action, state.step, state.greeted) == (None, "menu", True)


def test_silence_ladder_then_its_step(dialog: Dialog, state: CallState) -> None:
    assert dialog.silence(state).text == "您好。请问有什么可以帮您？"  # the first ready2speak greets
    assert dialog.silence(state).text == "还在吗？"
    assert dialog.silence(state).text == "请说话。"
    final = dialog.silence(state)
    assert (final.text, final.action, state.outcome) == ("再见。", "hangup", "hung_up_by_bot")
    assert state.end_reason is not None
    assert state.end_reason.startswith("silence: 3 times at step 'menu'")


def test_an_answer_resets_the_silence_count(dialog: Dialog, state: CallState) -> None:
    dialog.greet(state)
    dialog.silence(state)
    dialog.answer(state, None)
    assert dialog.silence(state).text == "还在吗？"


def test_no_match_ladder_then_offer_then_its_own_ladder(dialog: Dialog, state: CallState) -> None:
    dialog.greet(state)
    assert dialog.answer(state, None).text == "没听清。"
    assert dialog.answer(state, "unknown-to-this-step").text == "转人工吗？"
    assert state.step == "offer"
    transfer = dialog.answer(state, None)  # offer's own ladder has no prompts
    assert (transfer.action, transfer.target, transfer.interruptible) == ("transfer", "8001", False)
    assert state.outcome == "transferred"


def test_intent_branch_and_loop_back_reset_counters(dialog: Dialog, state: CallState) -> None:
    dialog.greet(state)
    dialog.answer(state, None)
    reply = dialog.answer(state, "yes")
    assert (reply.text, state.step, state.no_match_count) == ("请问有什么可以帮您？", "menu", 0)


def test_text_before_any_greeting_starts_silently(dialog: Dialog, state: CallState) -> None:
    reply = dialog.answer(state, "agent")
    assert reply.text == "正在转接。"
    assert state.outcome == "transferred"


def test_after_the_end_only_replays(dialog: Dialog, state: CallState) -> None:
    dialog.greet(state)
    state.last_reply = dialog.answer(state, "bye")
    again = dialog.answer(state, "agent")
    assert (again.text, again.action, again.interruptible) == ("再见。", None, False)
    assert dialog.silence(state).action is None
    dialog.caller_hung_up(state)
    assert state.outcome == "hung_up_by_bot"  # the first end stands


def test_caller_hang_up_names_the_step(dialog: Dialog, state: CallState) -> None:
    dialog.greet(state)
    dialog.caller_hung_up(state)
    assert (state.outcome, state.end_reason) == ("hung_up_by_caller", "caller hung up at step 'menu'")


def test_static_prompts_cover_steps_and_ladders() -> None:
    texts = {p.text for p in FLOW.static_prompts()}
    assert texts == {
        "您好。",
        "请问有什么可以帮您？",
        "转人工吗？",
        "正在转接。",
        "再见。",
        "还在吗？",
        "请说话。",
        "没听清。",
    }
