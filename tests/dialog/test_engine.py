"""The dialog engine walks a flow: state changes, no server."""

from __future__ import annotations

import pytest

from bot.dialog.business import BusinessAPI
from bot.dialog.engine import Dialog
from bot.dialog.state import CallState
from bot.language.flow import DEFAULT_CALLER_FIRST, DEFAULT_TRANSFER_FAILED, DEFAULT_WAIT, Flow
from tests.dialog.flows import TODAY, StaticFlows

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
async def dialog():
    business = BusinessAPI()
    yield Dialog(StaticFlows({"t": FLOW}), business=business, today=lambda: TODAY)
    await business.aclose()


@pytest.fixture
def state() -> CallState:
    return CallState(call_id="c", telnum="1", flow="t", flow_version="v")


async def test_greeting_joins_goto_prompts_and_waits(dialog: Dialog, state: CallState) -> None:
    reply = await dialog.greet(state)
    assert reply.text == "您好。请问有什么可以帮您？"
    assert (reply.action, state.step, state.greeted) == (None, "menu", True)


async def test_silence_ladder_then_its_step(dialog: Dialog, state: CallState) -> None:
    assert (await dialog.silence(state)).text == "您好。请问有什么可以帮您？"  # the first ready2speak greets
    assert (await dialog.silence(state)).text == "还在吗？"
    assert (await dialog.silence(state)).text == "请说话。"
    final = await dialog.silence(state)
    assert (final.text, final.action, state.outcome) == ("再见。", "hangup", "hung_up_by_bot")
    assert state.end_reason is not None
    assert state.end_reason.startswith("silence: 3 times at step 'menu'")


async def test_an_answer_resets_the_silence_count(dialog: Dialog, state: CallState) -> None:
    (await dialog.greet(state))
    (await dialog.silence(state))
    (await dialog.answer(state, "", None))
    assert (await dialog.silence(state)).text == "还在吗？"


async def test_no_match_ladder_then_offer_then_its_own_ladder(dialog: Dialog, state: CallState) -> None:
    (await dialog.greet(state))
    assert (await dialog.answer(state, "", None)).text == "没听清。"
    assert (await dialog.answer(state, "", "unknown-to-this-step")).text == "转人工吗？"
    assert state.step == "offer"
    transfer = await dialog.answer(state, "", None)  # offer's own ladder has no prompts
    assert (transfer.action, transfer.target, transfer.interruptible) == ("transfer", "8001", False)
    assert state.outcome == "transferred"


async def test_intent_branch_and_loop_back_reset_counters(dialog: Dialog, state: CallState) -> None:
    (await dialog.greet(state))
    (await dialog.answer(state, "", None))
    reply = await dialog.answer(state, "", "yes")
    assert (reply.text, state.step, state.no_match_count) == ("请问有什么可以帮您？", "menu", 0)


async def test_text_before_any_greeting_is_answered_after_a_short_hello(
    dialog: Dialog, state: CallState
) -> None:
    reply = await dialog.answer(state, "", "agent")
    assert reply.text == "您好，正在转接。"  # the entry walk's own words are not said
    assert (state.greeted, state.outcome) == (True, "transferred")


async def test_after_the_end_only_replays(dialog: Dialog, state: CallState) -> None:
    (await dialog.greet(state))
    state.last_reply = await dialog.answer(state, "", "bye")
    again = await dialog.answer(state, "", "agent")
    assert (again.text, again.action, again.interruptible) == ("再见。", None, False)
    assert (await dialog.silence(state)).action is None
    dialog.caller_hung_up(state)
    assert state.outcome == "hung_up_by_bot"  # the first end stands


async def test_caller_hang_up_names_the_step(dialog: Dialog, state: CallState) -> None:
    (await dialog.greet(state))
    dialog.caller_hung_up(state)
    assert (state.outcome, state.end_reason) == ("hung_up_by_caller", "caller hung up at step 'menu'")


def test_static_prompts_cover_steps_and_ladders() -> None:
    texts = {p.text for p in FLOW.static_prompts()}
    assert texts == {
        DEFAULT_WAIT,  # the filler said while a slow answer is on its way
        DEFAULT_CALLER_FIRST,  # before the answer to a caller who spoke first
        DEFAULT_TRANSFER_FAILED,  # when the PBX refuses a transfer
        "您好。",
        "请问有什么可以帮您？",
        "转人工吗？",
        "正在转接。",
        "再见。",
        "还在吗？",
        "请说话。",
        "没听清。",
    }
