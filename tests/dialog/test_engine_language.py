"""The flow language in the engine: slots, conditions, sub-flows, digressions, lookups, grading."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dialog.business import BusinessAPI
from bot.dialog.engine import Dialog
from bot.dialog.state import CallState
from bot.language.flow import RESERVED_NAMES, Flow
from bot.language.tables import read_table
from tests.dialog.flows import TODAY, StaticFlows

LADDERS = {
    "silence": {"prompts": ["还在吗？"], "then": "bye"},
    "no_match": {"prompts": ["没听清。"], "then": "agent"},
}
ENDINGS = {
    "agent": {"say": {"text": "正在转接。", "interruptible": False}, "transfer": "8001"},
    "bye": {"say": "再见。", "hangup": True},
}
INTENTS = {
    "phone_change": {"examples": ["改手机号"]},
    "agent": {"examples": ["转人工"]},
    "hours": {"examples": ["几点下班"]},
    "affirm": {"examples": ["是的"]},
    "deny": {"examples": ["不是"]},
}


def flow(steps: dict[str, object], **extra: object) -> Flow:
    return Flow.model_validate(
        {"intents": INTENTS, "defaults": LADDERS, **extra, "steps": {**steps, **ENDINGS}}
    )


PHONE = flow(
    {
        "menu": {"say": "请问办理什么业务？", "ask": {"phone_change": "get_phone", "agent": "agent"}},
        "get_phone": {
            "collect": {
                "slot": "phone",
                "prompt": "请说新的手机号。",
                "invalid": ["号码不对，请说十一位手机号。"],
                "attempts": 2,
                "confirm": "您的手机号是{{phone}}，对吗？",
                "then": "done",
                "fail": "agent",
            }
        },
        "done": {"say": "已登记{{phone}}。", "hangup": True},
    },
    slots={"phone": {"type": "phone"}},
    **{"global": {"agent": "agent", "hours": "hours"}},
)


@pytest.fixture
async def business():
    api = BusinessAPI()
    yield api
    await api.aclose()


def dialog_for(business: BusinessAPI, flows: dict[str, Flow], **tables: Path) -> Dialog:
    loaded = {name: read_table(path, path.read_bytes()) for name, path in tables.items()}
    return Dialog(StaticFlows(flows, loaded), business=business, today=lambda: TODAY)


def new_state() -> CallState:
    return CallState(call_id="c", telnum="13900000000", flow="main", flow_version="v")


async def test_slot_first_fills_from_the_utterance_that_led_to_the_step(business: BusinessAPI) -> None:
    dialog, state = dialog_for(business, {"main": PHONE}), new_state()
    await dialog.greet(state)
    reply = await dialog.answer(state, "我要改手机号，新号码是幺三八 幺二三四 五六七八", "phone_change")
    assert reply.text == "您的手机号是幺三八，幺二三四，五六七八，对吗？"
    assert state.pending == ("phone", "13812345678")
    assert "phone" not in state.variables  # not before the caller confirms
    done = await dialog.answer(state, "对的", None)
    assert (done.text, done.action) == ("已登记幺三八，幺二三四，五六七八。", "hangup")
    assert state.variables["phone"] == "13812345678"


async def test_asks_then_corrects_in_the_same_breath(business: BusinessAPI) -> None:
    dialog, state = dialog_for(business, {"main": PHONE}), new_state()
    await dialog.greet(state)
    assert (await dialog.answer(state, "改手机号", "phone_change")).text == "请说新的手机号。"
    await dialog.answer(state, "13812345678", None)
    corrected = await dialog.answer(state, "不对，是13987654321", "deny")
    assert corrected.text == "您的手机号是幺三九，八七六五，四三二幺，对吗？"
    await dialog.answer(state, "是的", "affirm")
    assert state.variables["phone"] == "13987654321"


async def test_deny_without_a_value_asks_again(business: BusinessAPI) -> None:
    dialog, state = dialog_for(business, {"main": PHONE}), new_state()
    await dialog.greet(state)
    await dialog.answer(state, "改手机号 13812345678", "phone_change")
    assert (await dialog.answer(state, "不是", None)).text == "请说新的手机号。"
    assert state.pending is None


async def test_invalid_answers_reprompt_then_fail(business: BusinessAPI) -> None:
    dialog, state = dialog_for(business, {"main": PHONE}), new_state()
    await dialog.greet(state)
    await dialog.answer(state, "改手机号", "phone_change")
    assert (await dialog.answer(state, "一二三", None)).text == "号码不对，请说十一位手机号。"
    final = await dialog.answer(state, "不知道", None)
    assert (final.action, final.target) == ("transfer", "8001")
    assert state.end_reason is not None
    assert state.end_reason.startswith("phone: 2 answers without a valid value")


async def test_silence_while_collecting_repeats_the_question(business: BusinessAPI) -> None:
    dialog, state = dialog_for(business, {"main": PHONE}), new_state()
    await dialog.greet(state)
    await dialog.answer(state, "改手机号", "phone_change")
    assert (await dialog.silence(state)).text == "请说新的手机号。"
    assert (await dialog.silence(state)).action == "hangup"  # the default ladder has one prompt


async def test_global_intent_digresses_and_resumes_the_step(business: BusinessAPI) -> None:
    steps = {**PHONE.model_dump(by_alias=True)["steps"]}
    steps["hours"] = {"say": "我们每天九点到十八点服务。", "return": True}
    main = Flow.model_validate({**PHONE.model_dump(by_alias=True), "steps": steps})
    dialog, state = dialog_for(business, {"main": main}), new_state()
    await dialog.greet(state)
    await dialog.answer(state, "改手机号", "phone_change")
    reply = await dialog.answer(state, "你们几点下班", "hours")
    assert reply.text == "我们每天九点到十八点服务。请说新的手机号。"
    assert (state.step, state.stack) == ("get_phone", ())
    transfer = await dialog.answer(state, "转人工", "agent")  # a global intent that ends the call
    assert transfer.action == "transfer"


async def test_set_if_and_templates(business: BusinessAPI) -> None:
    main = flow(
        {
            "start": {"set": {"tries": "tries + 1", "vip": "startswith(telnum, '139')"}, "goto": "route"},
            "route": {
                "if": [{"when": "vip and tries < 2", "goto": "vip"}],
                "say": "普通客户。",
                "hangup": True,
            },
            "vip": {"say": "尊敬的客户，第{{tries}}次。", "goto": "start"},
        }
    )
    dialog, state = dialog_for(business, {"main": main}), new_state()
    reply = await dialog.greet(state)
    assert reply.text == "尊敬的客户，第1次。普通客户。"
    assert state.variables == {"tries": 2, "vip": True}


async def test_call_runs_a_sub_flow_and_returns(business: BusinessAPI) -> None:
    main = flow(
        {
            "hello": {"say": "您好。", "call": {"flow": "verify", "then": "after"}},
            "after": {"say": "验证完毕。", "hangup": True},
        }
    )
    verify = flow(
        {
            "ask_id": {"collect": {"slot": "code", "prompt": "请说验证码。", "then": "ok"}},
            "ok": {"say": "收到{{code}}。", "return": True},
        },
        slots={"code": {"type": "digits", "min_length": 4, "max_length": 4}},
    )
    dialog, state = dialog_for(business, {"main": main, "verify": verify}), new_state()
    assert (await dialog.greet(state)).text == "您好。请说验证码。"
    assert state.position == ("verify", "v")
    reply = await dialog.answer(state, "一二三四", None)
    assert reply.text == "收到幺二三四。验证完毕。"
    assert (state.position, state.outcome) == (("main", "v"), "hung_up_by_bot")


async def test_link_hands_off_and_return_without_a_caller_ends(business: BusinessAPI) -> None:
    main = flow({"hello": {"say": "您好。", "link": "other"}})
    other = flow({"there": {"say": "这里是另一个流程。", "return": True}})
    dialog, state = dialog_for(business, {"main": main, "other": other}), new_state()
    reply = await dialog.greet(state)
    assert (reply.text, reply.action) == ("您好。这里是另一个流程。", "hangup")
    assert state.end_reason is not None
    assert "return from the call's own flow" in state.end_reason


async def test_lookup_found_and_not_found(business: BusinessAPI, tmp_path: Path) -> None:
    table = tmp_path / "claims.csv"
    table.write_text("id_card,status,amount\n11010519491231002X,已到账,3500.5\n", encoding="utf-8")
    main = flow(
        {
            "get": {"collect": {"slot": "id_card", "prompt": "请说身份证号。", "then": "find"}},
            "find": {
                "lookup": {
                    "table": "claims",
                    "match": {"id_card": "id_card"},
                    "as": "claim",
                    "not_found": "none",
                },
                "say": "您的报销{{claim.status}}，金额{{claim.amount}}。",
                "hangup": True,
            },
            "none": {"say": "没有找到。", "hangup": True},
        },
        slots={"id_card": {"type": "id_card"}},
        say_as={"claim.amount": "amount"},
    )
    dialog = dialog_for(business, {"main": main}, claims=table)
    state = new_state()
    await dialog.greet(state)
    reply = await dialog.answer(state, "幺幺零幺零五幺九四九幺二三幺零零二叉", None)
    assert reply.text == "您的报销已到账，金额三千五百元五角。"
    other = new_state()
    await dialog.greet(other)
    assert (await dialog.answer(other, "110105194912310028", None)).text in ("没有找到。", "请说身份证号。")


async def test_grading_first_rule_that_holds(business: BusinessAPI) -> None:
    main = flow(
        {"menu": {"say": "请问？", "ask": {"agent": "agent", "deny": "bye"}}},
        grading=[
            {"grade": "A", "score": 90, "when": "outcome == 'transferred'", "reason": "转人工"},
            {"grade": "C", "score": 40, "when": "'deny' in intents"},
            {"grade": "D", "score": 0},
        ],
    )
    dialog = dialog_for(business, {"main": main})
    transferred, refused, gone = new_state(), new_state(), new_state()
    for state, (text, intent) in ((transferred, ("转人工", "agent")), (refused, ("不是", "deny"))):
        await dialog.greet(state)
        await dialog.answer(state, text, intent)
    await dialog.greet(gone)
    dialog.caller_hung_up(gone)
    assert transferred.grade is not None
    assert (transferred.grade.grade, transferred.grade.score, transferred.grade.reason) == ("A", 90, "转人工")
    assert refused.grade is not None
    assert (refused.grade.grade, refused.grade.reason) == ("C", "rule 2: 'deny' in intents")
    assert gone.grade is not None
    assert gone.grade.grade == "D"


async def test_back_from_a_digression_the_step_is_asked_without_redoing_its_work(
    business: BusinessAPI,
) -> None:
    main = flow(
        {
            "menu": {
                "set": {"visits": "visits + 1"},
                "say": "第{{visits}}次：请问？",
                "ask": {"agent": "agent"},
            },
            "hours": {"say": "九点到五点。", "return": True},
        },
        **{"global": {"hours": "hours"}},
    )
    dialog, state = dialog_for(business, {"main": main}), new_state()
    assert (await dialog.greet(state)).text == "第1次：请问？"
    assert (await dialog.answer(state, "几点下班", "hours")).text == "九点到五点。第1次：请问？"
    assert state.variables["visits"] == 1


async def test_a_global_intent_wins_over_a_value_at_a_collect_step(business: BusinessAPI) -> None:
    main = flow(
        {"ask": {"collect": {"slot": "ok", "prompt": "可以吗？", "then": "bye"}}},
        slots={"ok": {"type": "yes_no"}},
        **{"global": {"agent": "agent"}},
    )
    dialog, state = dialog_for(business, {"main": main}), new_state()
    await dialog.greet(state)
    assert (await dialog.answer(state, "我要转人工", "agent")).action == "transfer"


async def test_one_answer_fills_the_collect_steps_that_follow(business: BusinessAPI) -> None:
    main = flow(
        {
            "day": {"collect": {"slot": "day", "prompt": "哪天？", "then": "hour"}},
            "hour": {"collect": {"slot": "hour", "prompt": "几点？", "then": "done"}},
            "done": {"say": "好的。", "hangup": True},
        },
        slots={"day": {"type": "date"}, "hour": {"type": "time"}},
    )
    dialog, state = dialog_for(business, {"main": main}), new_state()
    await dialog.greet(state)
    assert (await dialog.answer(state, "明天下午三点", None)).text == "好的。"
    assert state.variables == {"day": "2026-11-22", "hour": "15:00"}


async def test_a_cleared_slot_is_not_refilled_from_the_same_words(
    business: BusinessAPI, tmp_path: Path
) -> None:
    table = tmp_path / "claims.csv"
    table.write_text("id_card,status\n11010519491231002X,已到账\n", encoding="utf-8")
    main = flow(
        {
            "menu": {"say": "请问？", "ask": {"phone_change": "get"}},
            "get": {"collect": {"slot": "id_card", "prompt": "请说身份证号。", "then": "find"}},
            "find": {
                "lookup": {
                    "table": "claims",
                    "match": {"id_card": "id_card"},
                    "as": "claim",
                    "not_found": "none",
                },
                "say": "{{claim.status}}",
                "hangup": True,
            },
            "none": {"say": "没有找到。", "set": {"id_card": "null"}, "goto": "get"},
        },
        slots={"id_card": {"type": "id_card"}},
    )
    dialog, state = dialog_for(business, {"main": main}, claims=table), new_state()
    await dialog.greet(state)
    reply = await dialog.answer(state, "改手机号 110101199003077774", "phone_change")
    assert reply.text == "没有找到。请说身份证号。"
    assert (state.step, state.variables["claim"], state.outcome) == ("get", None, "in_progress")


async def test_a_lookup_with_an_unset_value_finds_nothing(business: BusinessAPI, tmp_path: Path) -> None:
    table = tmp_path / "codes.csv"
    table.write_text("code,name\n,空白行\n1,一号\n", encoding="utf-8")
    main = flow(
        {
            "find": {
                "lookup": {"table": "codes", "match": {"code": "missing"}, "as": "row", "not_found": "none"},
                "say": "{{row.name}}",
                "hangup": True,
            },
            "none": {"say": "没有。", "hangup": True},
        }
    )
    dialog, state = dialog_for(business, {"main": main}, codes=table), new_state()
    assert (await dialog.greet(state)).text == "没有。"


def test_the_reserved_names_are_exactly_the_variables_the_engine_provides(business: BusinessAPI) -> None:
    dialog = dialog_for(business, {"main": PHONE})
    assert set(dialog.variables(new_state())) == RESERVED_NAMES
