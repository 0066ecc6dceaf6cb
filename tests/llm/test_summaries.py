"""Call summaries against the fake model server: on the agent's screen at a transfer only
when ready in time (the transfer never waits), and in the outcome push at the end."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.pbx.log import LogPBX
from tests.conftest import CTI
from tests.llm.fake_openai import MODEL, FakeOpenAI
from tests.outcome.receiver import OutcomeReceiver, eventually

SUMMARY = {
    "summary": "来电人要求转人工，机器人已转接坐席。无待办事项。",
    "grade_reason": "来电人主动要求人工服务。",
}


def summaries(answer: str) -> Any:
    """The fake's answers: ``answer`` to a summary request, none to anything else."""

    def respond(body: dict[str, Any]) -> str:
        form = body.get("response_format") or {}
        return answer if form.get("json_schema", {}).get("name") == "summary" else '{"intent": "none"}'

    return respond


@pytest.fixture
def llm_overrides(receiver: OutcomeReceiver) -> dict[str, Any]:
    return {"outcome_url": receiver.url}


async def test_a_ready_summary_goes_to_the_agents_screen_and_the_push(
    cti: CTI, fake: FakeOpenAI, pbx: LogPBX, receiver: OutcomeReceiver
) -> None:
    fake.answer = summaries(json.dumps(SUMMARY, ensure_ascii=False))
    await cti.say("sum-1", "ready2speak")
    await cti.say("sum-1", "我要转人工")
    (transfer,) = await pbx.wait_for(1)
    assert transfer.biz_data is not None
    assert transfer.biz_data["summary"] == SUMMARY["summary"]
    assert transfer.biz_data["summary_by"] == "model"
    assert transfer.biz_data["grade"] is not None  # the rules' grade, always

    await eventually(lambda: receiver.accepted["sum-1"] == 1)
    pushed = receiver.payload(0)
    assert pushed["model_summary"] == {**SUMMARY, "model": MODEL}
    assert pushed["grade"]["grade"] == transfer.biz_data["grade"]
    turns = (await cti.call("sum-1"))["turns"]
    # The agent's summary, asked once, with the transfer's turn: the push has the same.
    assert [t["event"] for t in turns] == ["ready2speak", "text", "pbx"]
    (exchange,) = turns[2]["llm"]
    assert (exchange["use"], exchange["result"]) == ("summary", "ok")
    prompt = exchange["messages"][-1]["content"]
    assert "来电人：我要转人工" in prompt
    assert "评级：" in prompt
    assert len(fake.requests) == 1


async def test_a_summary_not_ready_leaves_the_rules_one_line_and_never_delays_the_transfer(
    cti: CTI, fake: FakeOpenAI, pbx: LogPBX, receiver: OutcomeReceiver
) -> None:
    fake.answer = summaries(json.dumps(SUMMARY, ensure_ascii=False))
    fake.hold = asyncio.Event()  # the model answers nothing until the transfer is made
    await cti.say("sum-2", "ready2speak")
    await cti.say("sum-2", "我要转人工")
    (transfer,) = await pbx.wait_for(1)
    assert transfer.biz_data is not None
    assert transfer.biz_data["summary"].startswith("来电")  # bot.calls.handoff.summary
    assert "summary_by" not in transfer.biz_data
    fake.hold.set()  # the summary comes after the transfer: the push has it, asked once
    await eventually(lambda: receiver.accepted["sum-2"] == 1)
    assert receiver.payload(0)["model_summary"] is not None
    assert len(fake.requests) == 1
    turns = (await cti.call("sum-2"))["turns"]
    assert [t["event"] for t in turns] == ["ready2speak", "text", "pbx", "summary"]
    assert turns[3]["llm"][0]["result"] == "ok"


class TestShortSummaryTimeout:
    @pytest.fixture
    def llm_overrides(self, receiver: OutcomeReceiver) -> dict[str, Any]:
        return {"outcome_url": receiver.url, "llm_summary_timeout_ms": 200}

    async def test_a_late_summary_pushes_the_outcome_without_it(
        self, cti: CTI, fake: FakeOpenAI, pbx: LogPBX, receiver: OutcomeReceiver
    ) -> None:
        fake.hold = asyncio.Event()
        await cti.say("sum-3", "ready2speak")
        await cti.say("sum-3", "我要转人工")
        await eventually(lambda: receiver.accepted["sum-3"] == 1)
        assert receiver.payload(0)["model_summary"] is None


@pytest.mark.parametrize(
    "answer",
    ['{"summary": ""}', "来电人要求转人工。", json.dumps({"summary": "长" * 300, "grade_reason": ""})],
    ids=["empty", "not-json", "too-long"],
)
async def test_an_unusable_summary_is_none(
    cti: CTI, fake: FakeOpenAI, pbx: LogPBX, receiver: OutcomeReceiver, answer: str
) -> None:
    fake.answer = summaries(answer)
    await cti.say("sum-4", "ready2speak")
    await cti.say("sum-4", "我要转人工")
    (transfer,) = await pbx.wait_for(1)
    assert transfer.biz_data is not None
    assert "summary_by" not in transfer.biz_data
    await eventually(lambda: receiver.accepted["sum-4"] == 1)
    assert receiver.payload(0)["model_summary"] is None
