"""A ``transfer:`` step with ``busy:``: the flow model, and the walk asking the agents'
status before the transfer (bot.dialog.agents)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.dialog.agents import FixedAgents
from bot.dialog.business import BusinessAPI
from bot.dialog.engine import Dialog
from bot.dialog.state import CallState
from bot.language.flow import Flow, Step
from tests.dialog.flows import TODAY, StaticFlows
from tests.language.test_loader import problems_of

FLOW = Flow.model_validate(
    {
        "intents": {"agent": {"examples": ["人工"]}, "yes": {"examples": ["是"]}},
        "defaults": {"silence": {"prompts": [], "then": "bye"}, "no_match": {"prompts": [], "then": "bye"}},
        "steps": {
            "menu": {"say": "请问有什么可以帮您？", "ask": {"agent": "agent"}},
            "agent": {
                "say": {"text": "正在转接。", "interruptible": False},
                "transfer": "queue:200",
                "busy": "busy",
            },
            "busy": {"say": "坐席都在忙，需要回电吗？", "ask": {"yes": "bye"}},
            "bye": {"say": "再见。", "hangup": True},
        },
    }
)


@pytest.fixture
async def business():
    business = BusinessAPI()
    yield business
    await business.aclose()


def state() -> CallState:
    return CallState(call_id="c", telnum="1", flow="t", flow_version="v")


async def test_nobody_free_takes_busy_before_the_notice(business: BusinessAPI) -> None:
    agents = FixedAgents(free=False)
    dialog = Dialog(StaticFlows({"t": FLOW}), business=business, today=lambda: TODAY, agents=agents)
    call = state()
    await dialog.greet(call)
    reply = await dialog.answer(call, "人工", "agent")
    assert reply.action is None
    assert reply.text == "坐席都在忙，需要回电吗？"  # not "正在转接"
    assert (call.step, call.outcome) == ("busy", "in_progress")
    assert agents.asked == ["queue:200"]


async def test_an_agent_free_transfers(business: BusinessAPI) -> None:
    agents = FixedAgents(free=True)
    dialog = Dialog(StaticFlows({"t": FLOW}), business=business, today=lambda: TODAY, agents=agents)
    call = state()
    await dialog.greet(call)
    reply = await dialog.answer(call, "人工", "agent")
    assert (reply.action, reply.target, reply.text) == ("transfer", "queue:200", "正在转接。")
    assert call.outcome == "transferred"
    assert agents.asked == ["queue:200"]


async def test_without_busy_nobody_is_asked(business: BusinessAPI) -> None:
    agents = FixedAgents(free=False)
    plain = FLOW.model_copy(
        update={"steps": {**FLOW.steps, "agent": FLOW.steps["agent"].model_copy(update={"busy": None})}}
    )
    dialog = Dialog(StaticFlows({"t": plain}), business=business, today=lambda: TODAY, agents=agents)
    call = state()
    await dialog.greet(call)
    reply = await dialog.answer(call, "人工", "agent")
    assert reply.action == "transfer"
    assert agents.asked == []


def test_busy_needs_a_transfer() -> None:
    with pytest.raises(ValidationError) as caught:
        Step.model_validate({"say": "好的。", "hangup": True, "busy": "x"})
    message = str(caught.value)
    assert "only a step with `transfer:` has one" in message
    assert "move it to the transfer step or remove it" in message


def test_busy_is_never_taken_for_an_ivr_menu() -> None:
    with pytest.raises(ValidationError) as caught:
        Step.model_validate({"transfer": "ivr:3", "busy": "x"})
    assert "an IVR menu always answers" in str(caught.value)
    assert Step.model_validate({"transfer": "8001", "busy": "x"}).busy == "x"


def test_busy_to_an_unknown_step_is_located(tmp_path: Path) -> None:
    text = (
        "defaults:\n  silence: {prompts: [], then: a}\n  no_match: {prompts: [], then: a}\n"
        "steps:\n  a:\n    transfer: '8001'\n    busy: nowhere\n"
    )
    problems = problems_of(tmp_path, text)
    assert any(":7:" in p and "unknown step 'nowhere'" in p for p in problems), problems


def test_the_graph_draws_the_busy_edge() -> None:
    from bot.authoring.graph import to_dot  # noqa: PLC0415 (authoring tools, not the runtime)

    dot = to_dot(FLOW)
    assert '"agent" -> "busy" [label="busy"];' in dot
