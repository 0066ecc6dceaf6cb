"""Grounded answers against the fake model server: an answer worded from the knowledge
base's related entries is said only when every fact it names is in the entries it cites."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.dialog.knowledge import RelatedEntry
from bot.llm.answers import GroundedAnswers
from bot.llm.openai_chat import OpenAIChat
from bot.pbx.log import LogPBX
from knowledge.service import KnowledgeService
from tests.conftest import CTI, ROOT
from tests.llm.fake_openai import KEY, MODEL, FakeOpenAI

# Not found in yibao's knowledge base, with three related entries (异地安置, 异地就医直接结算,
# 异地急诊): yibao's greeting takes it for no intent and asks the knowledge base.
QUESTION = "我想问一下那个异地的事"
TODAY = dt.date(2026, 12, 6)
GROUNDED = (
    "依据：yidi-anzhi\n退休后长期在外地住的，可以办理异地安置备案。备案后在居住地的定点医院看病可以直接结算。"
)


def model(answer: str) -> Any:
    """The fake's answers: none to the intent fallback, ``answer`` to the grounded answer."""
    return lambda body: '{"intent": "none"}' if "response_format" in body else answer


async def ask(cti: CTI, call_id: str) -> dict[str, Any]:
    await cti.say(call_id, "ready2speak")
    await cti.say(call_id, QUESTION)
    return (await cti.call(call_id))["turns"][-1]  # type: ignore[no-any-return]


def answer_exchange(turn: dict[str, Any]) -> dict[str, Any]:
    found: list[dict[str, Any]] = [e for e in turn["llm"] if e["use"] == "answer"]
    (exchange,) = found
    return exchange


async def test_a_grounded_answer_is_said_then_the_flow_goes_on(
    cti: CTI, client: QuartClient, fake: FakeOpenAI
) -> None:
    fake.answer = model(GROUNDED)
    turn = await ask(cti, "grounded")
    assert turn["reply"].startswith("退休后长期在外地住的，可以办理异地安置备案。备案后")
    assert turn["step"] == "menu"  # the knowledge step's then:
    assert answer_exchange(turn)["result"] == "ok"
    body = fake.requests[-1]
    material = body["messages"][-1]["content"]
    for entry in ("【yidi-anzhi】", "【yidi-jiesuan】", "【yidi-jizhen】"):
        assert entry in material
    assert QUESTION in material
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    metrics = await (await client.get("/metrics")).get_data(as_text=True)
    assert 'voicebot_knowledge_answers_total{kind="cti",result="grounded"} 1.0' in metrics


async def test_a_streamed_answer_is_read_whole_with_its_usage(cti: CTI, fake: FakeOpenAI) -> None:
    fake.answer, fake.piece_chars = model(GROUNDED), 3
    exchange = answer_exchange(await ask(cti, "streamed"))
    assert exchange["answer"] == GROUNDED
    assert exchange["completion_tokens"] == len(GROUNDED)  # the fake's usage chunk


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("依据：yidi-anzhi\n办理异地安置备案后，报销比例是百分之九十。", "90"),
        ("依据：yidi-anzhi\n备案请拨打一二三九三。", "12393"),
        ("依据：yidi-anzhi\n办好备案以后三个工作日生效。", "3"),
        ("依据：yidi-anzhi\n在外地看急诊的，也要先备案。", "急诊"),
        ("退休后长期在外地住的，可以办理异地安置备案。", "cites nothing"),
        ("依据：menzhen-manbing\n可以办理备案。", "not offered"),
        ("依据：yidi-anzhi\n1. 办理备案\n2. 直接结算", "speakable"),
        ("依据：yidi-anzhi\n**备案**以后就可以直接结算了。", "speakable"),
        ("依据：yidi-anzhi\n您的号码是{{telnum}}。", "speakable"),
        ("依据：yidi-anzhi", "says nothing"),
    ],
    ids=[
        "a-rate",
        "a-phone",
        "a-count",
        "another-entrys-term",
        "no-cite",
        "unknown-entry",
        "a-list",
        "markdown",
        "a-template",
        "empty",
    ],
)
async def test_an_answer_that_strays_from_its_entries_is_dropped(
    cti: CTI, fake: FakeOpenAI, answer: str, why: str
) -> None:
    fake.answer = model(answer)
    turn = await ask(cti, "strays")
    # As without a model: "not found", then yibao offers an agent.
    assert turn["step"] == "offer_transfer"
    assert "异地" not in turn["reply"]
    exchange = answer_exchange(turn)
    assert exchange["result"] == "rejected"
    assert why in exchange["reason"]


async def test_no_answer_in_the_entries_is_todays_not_found(cti: CTI, fake: FakeOpenAI) -> None:
    fake.answer = model("依据：无")
    turn = await ask(cti, "nothing")
    assert turn["step"] == "offer_transfer"
    assert answer_exchange(turn)["result"] == "ok"


async def test_a_found_answer_never_asks_the_model(cti: CTI, fake: FakeOpenAI) -> None:
    await cti.say("found", "ready2speak")
    await cti.say("found", "孩子医保在哪交")
    assert [b for b in fake.requests if "response_format" not in b] == []


async def test_a_slow_answer_is_covered_by_the_filler_and_pushed(
    cti: CTI, fake: FakeOpenAI, pbx: LogPBX
) -> None:
    fake.answer, fake.delay_seconds = model(GROUNDED), 1.0
    await cti.say("late", "ready2speak")
    await cti.say("late", QUESTION)  # answered with the wait words at VOICEBOT_KB_FILLER_MS
    for _ in range(200):
        turns = (await cti.call("late"))["turns"]
        if len(turns) == 2:
            break
        await asyncio.sleep(0.05)
    turn = turns[-1]
    assert turn["filler"] is not None
    assert turn["delivered"] == "play"
    assert turn["reply"].startswith("退休后长期在外地住的")
    assert [r.action for r in pbx.requests] == ["play"]


def test_a_not_found_lists_its_related_entries_in_the_webhooks_document(tmp_path: Path) -> None:
    service = KnowledgeService(ROOT / "knowledge" / "data", poll_seconds=0)
    service.load()
    document = service.preview(QUESTION).document()
    assert document["found"] is False
    assert [e["id"] for e in document["related"]] == ["yidi-anzhi", "yidi-jiesuan", "yidi-jizhen"]
    assert document["related"][0]["keywords"][0] == "异地安置"
    assert "related" not in service.preview("孩子医保在哪交").document()
    assert "related" not in service.preview("养老金什么时候发").document()  # an outside topic


async def test_streamed_sentences_are_handed_on_as_they_are_grounded(llm_url: str, fake: FakeOpenAI) -> None:
    service = KnowledgeService(ROOT / "knowledge" / "data", poll_seconds=0)
    service.load()
    related = [RelatedEntry.read(e) for e in service.preview(QUESTION).document()["related"]]
    sources = [r for r in related if r is not None]
    chat = OpenAIChat(url=llm_url, model=MODEL, key=KEY)
    answers = GroundedAnswers(chat, timeout_seconds=5)
    try:
        fake.answer, fake.piece_chars = (lambda body: GROUNDED), 2
        heard: list[str] = []
        grounded = await answers.answer(QUESTION, sources, today=TODAY, on_sentence=heard.append)
        assert grounded is not None
        assert heard == list(grounded.sentences)
        assert grounded.cited == ("yidi-anzhi",)

        # The second sentence names a fact no cited entry holds: nothing after it is handed
        # on, and the whole answer is dropped.
        fake.answer = lambda body: (
            "依据：yidi-anzhi\n可以办理异地安置备案。备案要交五十元。备案后可以直接结算。"
        )
        heard.clear()
        assert await answers.answer(QUESTION, sources, today=TODAY, on_sentence=heard.append) is None
        assert heard == ["可以办理异地安置备案。"]
    finally:
        await chat.aclose()
