"""A collect step asks back an unsure value (两点: 14:00 or 02:00?) instead of storing a guess."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.dialog.business import BusinessAPI
from bot.dialog.engine import Dialog
from bot.dialog.state import CallState
from bot.dialog.walk import in_doubt
from bot.language.flow import Collect, Flow
from bot.language.slots import SlotMatch
from tests.dialog.flows import TODAY, StaticFlows


def _flow(hour: dict[str, Any] | None = None, amount: dict[str, Any] | None = None) -> Flow:
    return Flow.model_validate(
        {
            "intents": {"book": {"examples": ["我要预约"]}},
            "slots": {"day": {"type": "date"}, "hour": {"type": "time"}, "sum": {"type": "amount"}},
            "defaults": {
                "silence": {"prompts": ["还在吗？"], "then": "bye"},
                "no_match": {"prompts": ["没听清。"], "then": "bye"},
            },
            "steps": {
                "menu": {"say": "您好。", "ask": {"book": "ask_day"}},
                "ask_day": {"collect": {"slot": "day", "prompt": "哪天？", "then": "ask_hour"}},
                "ask_hour": {
                    "collect": {"slot": "hour", "prompt": "几点？", "then": "ask_sum", **(hour or {})}
                },
                "ask_sum": {
                    "collect": {"slot": "sum", "prompt": "多少钱？", "then": "done", **(amount or {})}
                },
                "done": {"say": "好的。", "hangup": True},
                "bye": {"say": "再见。", "hangup": True},
            },
        }
    )


@pytest.fixture
async def business():
    api = BusinessAPI()
    yield api
    await api.aclose()


async def _at_hour(business: BusinessAPI, flow: Flow) -> tuple[Dialog, CallState]:
    dialog = Dialog(StaticFlows({"t": flow}), business=business, today=lambda: TODAY)
    state = CallState(call_id="c", telnum="1", flow="t", flow_version="v")
    await dialog.greet(state)
    await dialog.answer(state, "我要预约", "book")
    await dialog.answer(state, "明天", None)
    assert state.step == "ask_hour"
    return dialog, state


async def test_an_unsure_time_is_asked_back_with_the_built_in_question(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow())
    reply = await dialog.answer(state, "两点吧", None)
    assert reply.text == "您说的是下午两点吗？"
    assert "hour" not in state.variables
    assert state.pending == ("hour", "14:00")
    reply = await dialog.answer(state, "对", None)
    assert (reply.text, state.variables["hour"]) == ("多少钱？", "14:00")
    assert state.pending is None


async def test_a_sure_time_is_stored_without_a_question(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow())
    reply = await dialog.answer(state, "下午两点", None)
    assert (reply.text, state.variables["hour"]) == ("多少钱？", "14:00")


async def test_a_sure_correction_is_stored_at_once(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow())
    await dialog.answer(state, "两点", None)
    reply = await dialog.answer(state, "不是，凌晨两点", None)
    assert (reply.text, state.variables["hour"]) == ("多少钱？", "02:00")


async def test_an_unsure_correction_is_asked_back_again(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow())
    await dialog.answer(state, "两点", None)
    reply = await dialog.answer(state, "不对，三点", None)
    assert (reply.text, state.pending) == ("您说的是下午三点吗？", ("hour", "15:00"))


async def test_the_same_value_again_is_a_yes(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow())
    await dialog.answer(state, "两点", None)
    await dialog.answer(state, "两点", None)
    assert state.variables["hour"] == "14:00"


async def test_no_asks_the_question_again_and_is_no_failed_attempt(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow())
    await dialog.answer(state, "两点", None)
    reply = await dialog.answer(state, "不是", None)
    assert (reply.text, state.pending, state.no_match_count) == ("几点？", None, 0)


async def test_neither_yes_nor_no_repeats_the_asking_back(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow())
    await dialog.answer(state, "两点", None)
    reply = await dialog.answer(state, "我想想", None)
    assert (reply.text, state.no_match_count) == ("您说的是下午两点吗？", 1)
    assert (await dialog.silence(state)).text == "您说的是下午两点吗？"


async def test_the_steps_own_clarify_question(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow(hour={"clarify": "是{{hour}}吗？"}))
    assert (await dialog.answer(state, "两点", None)).text == "是下午两点吗？"


async def test_clarify_false_stores_the_guess(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow(hour={"clarify": False}))
    reply = await dialog.answer(state, "两点", None)
    assert (reply.text, state.variables["hour"]) == ("多少钱？", "14:00")


async def test_confirm_reads_back_unsure_values_too(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow(hour={"confirm": "{{hour}}，可以吗？"}))
    assert (await dialog.answer(state, "两点", None)).text == "下午两点，可以吗？"


async def test_an_amount_answering_its_own_question_needs_no_unit(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow())
    await dialog.answer(state, "下午两点", None)
    reply = await dialog.answer(state, "三千五", None)
    assert (reply.text, state.variables["sum"]) == ("好的。", 3500)


async def test_a_slot_first_amount_without_a_unit_is_asked_back(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow())
    reply = await dialog.answer(state, "下午两点，交三千五", None)
    assert state.variables["hour"] == "14:00"
    assert (reply.text, state.pending) == ("您说的是三千五百元吗？", ("sum", 3500))


async def test_words_one_slot_took_give_no_value_to_the_next(business: BusinessAPI) -> None:
    dialog, state = await _at_hour(business, _flow())
    reply = await dialog.answer(state, "下午两点", None)  # no amount of 2 from 两点
    assert (reply.text, state.pending, "sum" in state.variables) == ("多少钱？", None, False)


async def test_an_unsure_date_from_the_words_that_led_to_the_step(business: BusinessAPI) -> None:
    dialog = Dialog(StaticFlows({"t": _flow()}), business=business, today=lambda: TODAY)
    state = CallState(call_id="c", telnum="1", flow="t", flow_version="v")
    await dialog.greet(state)
    reply = await dialog.answer(state, "我要预约周六", "book")  # TODAY is a Saturday
    assert (reply.text, state.pending) == ("您说的是11月21日吗？", ("day", "2026-11-21"))
    reply = await dialog.answer(state, "不是，下周六", None)
    assert (reply.text, state.variables["day"]) == ("几点？", "2026-11-28")


def test_in_doubt_weighs_where_the_value_came_from() -> None:
    two = SlotMatch("14:00", 0, 2, "两点", unsure=True, alternatives=("02:00",))
    bare = SlotMatch(3500, 0, 3, "三千五", unsure=True)
    sure = SlotMatch("14:00", 0, 4, "下午两点")
    assert in_doubt(two, answered=True)
    assert in_doubt(two, answered=False)
    assert not in_doubt(bare, answered=True)
    assert in_doubt(bare, answered=False)
    assert not in_doubt(sure, answered=False)


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ({"clarify": True}, "`clarify: true` is the default"),
        ({"confirm": "对吗？", "clarify": "是吗？"}, "`confirm` already reads every value back"),
    ],
)
def test_clarify_mistakes_say_what_to_write(keys: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Collect.model_validate({"slot": "hour", "prompt": "几点？", "then": "x", **keys})


def test_a_slot_name_that_is_no_placeholder_still_gets_a_question() -> None:
    collect = Collect.model_validate({"slot": "回电时间", "prompt": "几点？", "then": "x"})
    assert collect.read_back().text == "您是说这个吗？"
    assert Collect.model_validate({"slot": "hour", "prompt": "p", "then": "x"}).read_back().text == (
        "您说的是{{hour}}吗？"
    )
