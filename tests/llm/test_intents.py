"""The intent fallback against the fake model server: what the server receives, and
that the bot acts on an answer only when it is one of the intents offered."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from quart.typing import TestClientProtocol as QuartClient

from tests.conftest import CTI
from tests.llm.fake_openai import MODEL, FakeOpenAI, offered_intents, schema_of
from tests.loopback import unused_port

# No intent of yibao reaches the threshold on these words at its greeting.
VAGUE = "我家那口子让我打个电话问问"
# yibao's greeting asks these, then its global intents (docs/flows.md).
GREETING_OFFERS = [
    "transfer_agent",
    "goodbye",
    "query_progress",
    "card_loss",
    "affirm",
    "deny",
    "service_hours",
    "none",
]


def exchanges(turn: dict[str, Any], use: str = "intent") -> list[dict[str, Any]]:
    """The turn's requests of ``use`` (a no-match at yibao's greeting may also ask for a
    grounded answer, at its knowledge step)."""
    return [e for e in turn["llm"] or () if e["use"] == use]


async def vague_turn(cti: CTI, call_id: str) -> dict[str, Any]:
    """Greet the call, say the vague words; the turn they made."""
    await cti.say(call_id, "ready2speak")
    await cti.say(call_id, VAGUE)
    return (await cti.call(call_id))["turns"][-1]  # type: ignore[no-any-return]


async def test_the_server_receives_the_steps_intents_and_none_with_the_schema(
    cti: CTI, fake: FakeOpenAI
) -> None:
    await vague_turn(cti, "offer-1")
    (body,) = [b for b in fake.requests if "response_format" in b]  # then a grounded answer's
    assert body["model"] == MODEL
    assert offered_intents(body) == GREETING_OFFERS
    assert schema_of(body)["required"] == ["intent"]
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["messages"][0]["role"] == "system"
    user = body["messages"][-1]["content"]
    assert VAGUE in user
    assert "欢迎致电医保服务热线" in user
    assert "query_progress：" in user  # each intent with what it means


async def test_an_offered_intent_is_acted_on_and_marked_as_the_models(cti: CTI, fake: FakeOpenAI) -> None:
    fake.answer = lambda body: '{"intent": "card_loss"}'
    turn = await vague_turn(cti, "offer-2")
    assert turn["intent"] == "card_loss"
    assert turn["step"] == "card_loss"
    (exchange,) = exchanges(turn)
    assert exchange["result"] == "ok"
    assert exchange["answer"] == '{"intent": "card_loss"}'
    assert exchange["prompt_tokens"] == 100
    assert exchange["ms"] > 0


@pytest.mark.parametrize(
    "answer",
    [
        '{"intent": "register_loss"}',  # a step of the flow, not an intent offered
        '{"intent": "none"}',
        "我觉得是挂失",  # not JSON
        '{"intent": ["card_loss"]}',
        '```json\n{"intent": "nonsense"}\n```',
        "",
    ],
    ids=["not-offered", "none", "words", "a-list", "fenced-nonsense", "empty"],
)
async def test_any_other_answer_is_none(cti: CTI, fake: FakeOpenAI, answer: str) -> None:
    fake.answer = lambda body: answer
    turn = await vague_turn(cti, "odd")
    assert turn["intent"] is None
    # As without a model: yibao's no-match asks the knowledge base, which has no answer.
    assert turn["step"] == "offer_transfer"
    (exchange,) = exchanges(turn)
    assert exchange["result"] == ("ok" if answer == '{"intent": "none"}' else "rejected")


async def test_a_code_fence_around_an_offered_intent_is_read(cti: CTI, fake: FakeOpenAI) -> None:
    fake.answer = lambda body: '```json\n{"intent": "goodbye"}\n```'
    turn = await vague_turn(cti, "fenced")
    assert turn["intent"] == "goodbye"


async def test_a_confident_intent_never_asks_the_model(cti: CTI, fake: FakeOpenAI) -> None:
    await cti.say("sure", "ready2speak")
    await cti.say("sure", "我要转人工")
    assert fake.requests == []


async def test_a_callers_first_hello_is_greeted_without_asking_the_model(cti: CTI, fake: FakeOpenAI) -> None:
    await cti.say("hello", "喂，你好")  # the call's first event: the greeting, whatever the model says
    assert fake.requests == []


async def test_a_collect_steps_value_is_never_second_guessed(cti: CTI, fake: FakeOpenAI) -> None:
    await cti.say("id", "ready2speak")
    await cti.say("id", "查询报销进度")
    await cti.say("id", "320102199001011232")  # the slot's value: the step takes it
    assert fake.requests == []
    turn = (await cti.call("id"))["turns"][-1]
    assert turn["step"] == "query_progress"  # asked to confirm


async def test_a_value_waiting_for_a_yes_offers_affirm_and_deny_and_the_global_intents(
    cti: CTI, fake: FakeOpenAI
) -> None:
    fake.answer = lambda body: '{"intent": "affirm"}' if "response_format" in body else "依据：无"
    await cti.say("yes", "ready2speak")
    await cti.say("yes", "查询报销进度")
    await cti.say("yes", "320102199001011232")  # read back: 对吗？
    await cti.say("yes", VAGUE)
    (body,) = [b for b in fake.requests if "response_format" in b]
    assert offered_intents(body) == ["affirm", "deny", "transfer_agent", "goodbye", "service_hours", "none"]
    turn = (await cti.call("yes"))["turns"][-1]
    assert turn["intent"] == "affirm"
    assert turn["step"] != "query_progress"


class TestSlowModel:
    @pytest.fixture
    def llm_overrides(self) -> dict[str, Any]:
        # Both uses give up before the filler would play (VOICEBOT_KB_FILLER_MS, 600 ms).
        return {"llm_intent_timeout_ms": 150, "llm_answer_timeout_ms": 150}

    async def test_a_model_that_never_answers_is_none(self, cti: CTI, fake: FakeOpenAI) -> None:
        fake.hold = asyncio.Event()  # the model never answers while the test runs
        turn = await vague_turn(cti, "slow")
        assert turn["intent"] is None
        assert turn["step"] == "offer_transfer"
        assert [e["result"] for e in turn["llm"]] == ["timeout", "timeout"]  # the intent, the answer
        assert turn["filler"] is None  # answered in the callback itself


async def test_a_failing_server_is_none(cti: CTI, fake: FakeOpenAI) -> None:
    fake.status = 503
    turn = await vague_turn(cti, "failing")
    assert turn["intent"] is None
    assert turn["step"] == "offer_transfer"
    assert exchanges(turn)[0]["result"] == "error"
    assert "HTTP 503" in exchanges(turn)[0]["reason"]


async def test_the_metrics_count_each_use_and_result(cti: CTI, client: QuartClient, fake: FakeOpenAI) -> None:
    fake.answer = lambda body: '{"intent": "affirm"}'
    await vague_turn(cti, "counted")
    text = await (await client.get("/metrics")).get_data(as_text=True)
    assert 'voicebot_llm_requests_total{result="ok",use="intent"}' in text
    assert 'voicebot_llm_tokens_total{kind="prompt",use="intent"}' in text
    assert "voicebot_llm_seconds_bucket" in text


async def test_numbers_are_masked_in_the_transcript(cti: CTI, fake: FakeOpenAI) -> None:
    fake.answer = lambda body: json.dumps({"intent": "none"})
    await cti.say("masked", "ready2speak")
    await cti.say("masked", "我家那口子13912345678让我打个电话问问")
    turn = (await cti.call("masked"))["turns"][-1]
    assert "13912345678" in fake.requests[0]["messages"][-1]["content"]  # the model hears the words
    assert "13912345678" not in json.dumps(turn["llm"], ensure_ascii=False)
    assert "139****5678" in exchanges(turn)[0]["messages"][-1]["content"]


class TestPerCallBudget:
    @pytest.fixture
    def llm_overrides(self) -> dict[str, Any]:
        return {"llm_max_per_call": 1}

    async def test_a_call_over_its_budget_goes_on_without_the_model(self, cti: CTI, fake: FakeOpenAI) -> None:
        await vague_turn(cti, "budget")
        await cti.say("budget", "不需要")  # offer_transfer: deny → menu
        await cti.say("budget", VAGUE)
        assert len(fake.requests) == 1
        turn = (await cti.call("budget"))["turns"][-1]
        assert turn["llm"] is None
        assert turn["intent"] is None


class TestServerDown:
    @pytest.fixture
    def llm_overrides(self) -> dict[str, Any]:
        return {"llm_url": f"http://127.0.0.1:{unused_port()}/v1", "llm_cooldown_seconds": 600}

    async def test_a_server_that_is_down_is_none_then_cools_down(self, cti: CTI, fake: FakeOpenAI) -> None:
        first = await vague_turn(cti, "down-1")
        second = await vague_turn(cti, "down-2")
        third = await vague_turn(cti, "down-3")
        assert [t["step"] for t in (first, second, third)] == ["offer_transfer"] * 3
        assert [e["result"] for e in first["llm"]] == ["error", "error"]  # the intent, the answer
        # The third failure in a row starts the cooldown: the answer is not asked for,
        # nor is anything in the next call, whose budget stays whole.
        assert [(e["use"], e["result"]) for e in second["llm"]] == [("intent", "error")]
        assert third["llm"] is None
        assert "Connection" in first["llm"][0]["reason"]


class TestShortTimeout:
    @pytest.fixture
    def llm_overrides(self) -> dict[str, Any]:
        return {"llm_intent_timeout_ms": 100, "llm_answer_timeout_ms": 100}

    async def test_a_late_answer_is_none(self, cti: CTI, fake: FakeOpenAI) -> None:
        fake.delay_seconds = 2
        fake.answer = lambda body: '{"intent": "card_loss"}'
        turn = await vague_turn(cti, "late")
        assert turn["intent"] is None
        assert exchanges(turn)[0]["result"] == "timeout"
