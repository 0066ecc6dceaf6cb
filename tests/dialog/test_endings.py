"""How a call ended, revised after the fact, is graded again: a transfer the PBX refused,
a caller who hung up before the transfer was carried out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.dialog.business import BusinessAPI
from bot.dialog.engine import Dialog
from bot.dialog.state import CallState, Grade
from bot.language.flow import DEFAULT_TRANSFER_FAILED, Flow
from tests.dialog.flows import TODAY, SampleFlows, StaticFlows

TRANSFERRED = Grade("A", 90, "转人工，需坐席跟进")
CALL_BACK = Grade("A", 80, "转人工未接通，需回电")
SELF_SERVED = Grade("B", 70, "自助办结")


@pytest.fixture
async def dialog() -> AsyncIterator[Dialog]:
    business = BusinessAPI()
    yield Dialog(SampleFlows(), business=business, today=lambda: TODAY)
    await business.aclose()


async def transferred(dialog: Dialog, *turns: tuple[str, str | None]) -> CallState:
    """A yibao call that answered ``turns`` and then asked for an agent."""
    state = CallState(call_id="c", telnum="13800000000", flow="yibao", flow_version="v")
    await dialog.greet(state)
    for text, intent in turns:
        await dialog.answer(state, text, intent)
    reply = await dialog.answer(state, "我要转人工", "transfer_agent")
    assert (reply.action, state.outcome, state.grade) == ("transfer", "transferred", TRANSFERRED)
    return state


async def test_a_refused_transfer_is_graded_again(dialog: Dialog) -> None:
    state = await transferred(dialog)
    ended_at = state.ended_at
    reason = f"{state.end_reason}; PBX transfer failed: busy"
    reply = dialog.transfer_failed(state, reason)
    assert (reply.text, reply.action, reply.interruptible) == (DEFAULT_TRANSFER_FAILED, "hangup", False)
    assert (state.outcome, state.end_reason, state.grade) == ("transfer_failed", reason, CALL_BACK)
    assert state.ended_at == ended_at  # the call ended when it ended; only how changed


async def test_a_caller_who_hangs_up_before_the_transfer_is_graded_again(dialog: Dialog) -> None:
    claim = [("查报销", "query_progress"), ("11010519491231002X", None), ("对", "affirm")]
    state = await transferred(dialog, *claim)
    dialog.revise_end(state, "hung_up_by_caller", f"caller hung up before the transfer ({state.end_reason})")
    assert (state.outcome, state.grade) == ("hung_up_by_caller", SELF_SERVED)  # the claim was found
    assert state.end_reason is not None
    assert state.end_reason.startswith("caller hung up before the transfer (intent 'transfer_agent'")
    dialog.caller_hung_up(state)  # the hang-up that follows changes nothing more
    assert (state.outcome, state.grade) == ("hung_up_by_caller", SELF_SERVED)


async def test_a_caller_gone_before_the_refusal_keeps_the_hang_up(dialog: Dialog) -> None:
    state = await transferred(dialog)
    dialog.revise_end(state, "hung_up_by_caller", "caller hung up before the transfer")
    dialog.transfer_failed(state, "PBX transfer failed: busy")
    assert (state.outcome, state.end_reason) == ("hung_up_by_caller", "caller hung up before the transfer")


async def test_revising_a_call_in_progress_ends_it(dialog: Dialog) -> None:
    state = CallState(call_id="c", telnum="1", flow="yibao", flow_version="v")
    await dialog.greet(state)
    dialog.revise_end(state, "hung_up_by_caller", "gone")
    assert (state.outcome, state.end_reason, state.stack, state.pending) == (
        "hung_up_by_caller",
        "gone",
        (),
        None,
    )
    assert state.grade == Grade("D", 10, "未表达需求即挂机")
    assert state.ended_at is not None


async def test_the_flow_sets_the_words_of_a_failed_transfer() -> None:
    flow = Flow.model_validate(
        {
            "defaults": {
                "transfer_failed": {"text": "坐席忙，{{name}}，我们稍后回电。", "interruptible": True}
            },
            "grading": [{"grade": "回电", "score": 80, "when": 'outcome == "transfer_failed"'}],
            "steps": {"start": {"set": {"name": '"张先生"'}, "transfer": "8001"}},
        }
    )
    business = BusinessAPI()
    dialog = Dialog(StaticFlows({"t": flow}), business=business, today=lambda: TODAY)
    state = CallState(call_id="c", telnum="1", flow="t", flow_version="v")
    await dialog.greet(state)
    reply = dialog.transfer_failed(state, "refused")
    assert (reply.text, reply.interruptible, reply.action) == (
        "坐席忙，张先生，我们稍后回电。",
        True,
        "hangup",
    )
    assert state.grade == Grade("回电", 80, 'rule 1: outcome == "transfer_failed"')
    await business.aclose()
