"""The knowledge webhook as protocols.md §5 pins it, and the search API, over HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.config import Settings
from bot.text.segmenter import Segmenter
from knowledge.app import create_kb_app
from knowledge.web import MAX_WEBHOOK_BYTES

WEBHOOK = "/webhooks/rest/webhook"


@pytest.fixture
async def client(tmp_path: Path, kb_dir: Path, segmenter: Segmenter) -> AsyncIterator[QuartClient]:
    settings = Settings(data_dir=tmp_path / "var", kb_dir=kb_dir)
    app = create_kb_app(settings, segmenter=segmenter)
    async with app.test_app() as started:
        yield started.test_client()


async def ask(client: QuartClient, sender: str, message: str) -> dict[str, Any]:
    """POST one message; check the envelope; return the decoded inner document."""
    response = await client.post(WEBHOOK, json={"sender": sender, "message": message})
    assert response.status_code == 200
    assert response.content_type == "application/json"
    body = await response.get_json()
    assert isinstance(body, list)
    assert len(body) == 1
    assert set(body[0]) == {"recipient_id", "text"}
    assert body[0]["recipient_id"] == sender
    assert isinstance(body[0]["text"], str)  # a JSON document, as a string
    document = json.loads(body[0]["text"])
    assert isinstance(document, dict)
    assert document["type"] in (0, 1, 32)
    assert isinstance(document["clarify"], str)
    assert document["clarify"]
    return document


async def test_clarification_then_choice_per_sender(client: QuartClient) -> None:
    first = await ask(client, "c1userId13800138000", "请问异地就医如何备案")
    assert first["type"] == 1
    assert first["clarify"] == "请问您是想咨询[转诊转院],[异地安置]还是[异地急诊]?"
    assert [c["title"] for c in first["choices"]] == ["转诊转院", "异地安置", "异地急诊"]
    other = await ask(client, "c2userId13900139000", "异地安置")  # another conversation
    chosen = await ask(client, "c1userId13800138000", "异地安置")
    assert (chosen["type"], chosen["title"], chosen["id"]) == (0, "异地安置", "yidi-anzhi")
    assert "异地安置" in chosen["clarify"]
    assert "[" not in chosen["clarify"]
    assert chosen["score"] is None  # picked from the choices, not scored
    assert other["title"] == "异地安置"  # answered on its own words, with a score
    assert 0 < other["score"] <= 1
    settled = await ask(client, "c1userId13800138000", "第二个")  # no choices are pending now
    assert settled.get("title") != "异地安置"


async def test_a_clarification_by_position_and_near_name(client: QuartClient) -> None:
    await ask(client, "p1userId1", "异地就医怎么备案")
    assert (await ask(client, "p1userId1", "最后一个"))["title"] == "异地急诊"
    await ask(client, "p2userId1", "异地就医怎么备案")
    assert (await ask(client, "p2userId1", "安置那个"))["title"] == "异地安置"


async def test_the_question_repeated_is_clarified_again(client: QuartClient) -> None:
    first = await ask(client, "r1userId1", "请问异地就医如何备案")
    again = await ask(client, "r1userId1", "请问异地就医如何备案")
    assert (again["type"], again["clarify"]) == (1, first["clarify"])
    assert "title" not in again
    assert (await ask(client, "r1userId1", "安置那个"))["title"] == "异地安置"


async def test_faq_answers_are_type_32_and_not_found_is_documented(client: QuartClient) -> None:
    faq = await ask(client, "f1userId1", "你们热线几点上班")
    assert faq["type"] == 32
    nothing = await ask(client, "f2userId1", "明天会下雨吗")
    assert (nothing["type"], nothing["found"]) == (1, False)
    assert "id" not in nothing
    assert "choices" not in nothing


async def test_gbk_bodies_from_older_ctis(client: QuartClient) -> None:
    body = json.dumps({"sender": "gbk-1userId1", "message": "医保卡丢了怎么补办"}, ensure_ascii=False)
    response = await client.post(
        WEBHOOK, data=body.encode("gbk"), headers={"Content-Type": "application/json"}
    )
    document = json.loads((await response.get_json())[0]["text"])
    assert document["title"] == "医保卡挂失补办"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'"text"',
        b"{}",
        b'{"sender": "a"}',
        b'{"message": "hi"}',
        b'{"sender": 7, "message": "hi"}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": "a", "message": null}',
        json.dumps({"sender": "a", "message": "问" * 501}).encode(),
        json.dumps({"sender": "a" * 300, "message": "hi"}).encode(),
        b"\xff\xfe\xfa",
        b"",
    ],
)
async def test_malformed_requests_are_400_json(client: QuartClient, body: bytes) -> None:
    response = await client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert error["status"] == 400
    assert error["message"]


async def test_a_huge_body_is_400(client: QuartClient) -> None:
    body = json.dumps({"sender": "a", "message": "问" * MAX_WEBHOOK_BYTES}).encode()
    response = await client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_hello_like_rasa(client: QuartClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert (await response.get_data(as_text=True)).startswith("Hello from voicebot knowledge: ")


async def test_search_for_agents_desktops(client: QuartClient) -> None:
    response = await client.get("/kb/search", query_string={"q": "社保卡丢了", "limit": "3"})
    results = (await response.get_json())["results"]
    assert 1 <= len(results) <= 3
    assert set(results[0]) == {"id", "title", "score", "answer", "kind"}
    assert results[0]["title"] == "医保卡挂失补办"
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


async def test_search_leaves_out_outside_topics(client: QuartClient) -> None:
    response = await client.get("/kb/search", query_string={"q": "养老金每个月发多少钱", "limit": "50"})
    results = (await response.get_json())["results"]
    assert results  # other entries share its words
    assert {r["kind"] for r in results} <= {"knowledge", "faq"}
    assert len(results) == len({r["id"] for r in results})


@pytest.mark.parametrize("query", [{}, {"q": " "}, {"q": "医保", "limit": "0"}, {"q": "医保", "limit": "x"}])
async def test_search_rejects_bad_queries(client: QuartClient, query: dict[str, str]) -> None:
    response = await client.get("/kb/search", query_string=query)
    assert response.status_code == 400
