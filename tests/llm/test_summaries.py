"""Call summaries against the fake model server: on the agent's screen at a transfer only
when ready in time (the transfer never waits), and in the outcome push at the end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from quart.typing import TestClientProtocol as QuartClient

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
async def receiver() -> AsyncIterator[OutcomeReceiver]:
    server = OutcomeReceiver()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def llm_overrides(receiver: OutcomeReceiver) -> dict[str, Any]:
    return {"outcome_url": receiver.url}


async def call_record(client: QuartClient, call_id: str) -> dict[str, Any]:
    return await (await client.get(f"/calls/{quote(call_id)}")).get_json()  # type: ignore[no-any-return]


async def test_a_ready_summary_goes_to_the_agents_screen_and_the_push(
    cti: CTI, client: QuartClient, fake: FakeOpenAI, pbx: LogPBX, receiver: OutcomeReceiver
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
    events = [t["event"] for t in (await call_record(client, "sum-1"))["turns"]]
    assert events == ["ready2speak", "text", "pbx", "summary"]
    turns = (await call_record(client, "sum-1"))["turns"]
    assert turns[2]["llm"][0]["use"] == "summary"  # the agent's, with the transfer
    assert turns[3]["llm"][0]["result"] == "ok"
    prompt = turns[3]["llm"][0]["messages"][-1]["content"]
    assert "来电人：我要转人工" in prompt
    assert "评级：" in prompt


async def test_a_summary_not_ready_leaves_the_rules_one_line_and_never_delays_the_transfer(
    cti: CTI, client: QuartClient, fake: FakeOpenAI, pbx: LogPBX, receiver: OutcomeReceiver
) -> None:
    fake.hold = asyncio.Event()  # the model answers nothing while the test runs
    await cti.say("sum-2", "ready2speak")
    await cti.say("sum-2", "我要转人工")
    (transfer,) = await pbx.wait_for(1)
    assert transfer.biz_data is not None
    assert transfer.biz_data["summary"].startswith("来电")  # bot.calls.handoff.summary
    assert "summary_by" not in transfer.biz_data


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
