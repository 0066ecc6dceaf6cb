"""``/openapi.json`` and ``/api/docs``: every JSON API documented from the models, served
with no outside asset, and the app's answers unchanged by the documentation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from quart import Quart
from quart.json.provider import DefaultJSONProvider
from quart.typing import TestClientProtocol as QuartClient

from bot.config import Settings
from bot.cti import params as cti_params
from bot.text.segmenter import Segmenter
from bot.web import calls as calls_api
from bot.web import schemas
from knowledge import web as knowledge_web
from knowledge.app import create_kb_app
from tests.web.test_properties import OPERATIONS


async def test_the_document_lists_every_operation(client: QuartClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = await response.get_json()
    assert document["openapi"].startswith("3.1")
    operations = {(m.upper(), path): op for path, item in document["paths"].items() for m, op in item.items()}
    assert set(operations) == set(OPERATIONS)
    for (method, path), operation in operations.items():
        assert operation["summary"], (method, path)
        assert operation["responses"], (method, path)
        if path.startswith(("/calls", "/kb/entries", "/kb/import", "/kb/export", "/kb/customers")):
            assert operation["security"] == [{"adminToken": []}, {"consoleSession": []}]
            assert "401" in operation["responses"]
        if path.startswith("/cti/"):
            assert operation["security"] == [{"ctiToken": []}]
    assert set(document["components"]["securitySchemes"]) == {"adminToken", "consoleSession", "ctiToken"}


async def test_the_cti_parameters_are_documented_not_validated(client: QuartClient) -> None:
    document = await (await client.get("/openapi.json")).get_json()
    callback = document["paths"]["/cti/ai"]["get"]
    names = {p["name"]: p for p in callback["parameters"]}
    assert {"callid", "txt", "telnum", "playing", "flow"} <= set(names)
    assert names["callid"]["required"] is True
    assert callback["responses"]["200"]["content"]["text/plain; charset=utf-8"]["example"].startswith("http")
    form = document["paths"]["/cti/ai"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in form
    # What a validating framework would refuse is still read: raw GBK in a form body.
    gbk = b"txt=" + "你好".encode("gbk") + b"&callid=doc-gbk"
    response = await client.post(
        "/cti/ai", data=gbk, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200


async def test_the_docs_page_is_self_contained(client: QuartClient) -> None:
    response = await client.get("/api/docs")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    page = await response.get_data(as_text=True)
    for method, path in OPERATIONS:
        assert f"{method} {path}" in page.replace("&#x27;", "'")
    # Parameters, body schemas, responses and examples are on the page.
    for expected in (
        "callid",
        "canbeinterrupted",
        "recipient_id",
        "ready2speak",
        "异地就医",
        "ErrorBody",
        "Bearer",
    ):
        assert expected in page, expected
    # Nothing is loaded from elsewhere: no script at all, links within the page or the app.
    assert "<script" not in page
    assert "<link" not in page
    for target in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert target.startswith(("#", "/")), target


@pytest.mark.parametrize("path", ["/docs", "/redocs", "/scalar"])
async def test_the_cdn_based_pages_are_off(client: QuartClient, path: str) -> None:
    assert (await client.get(path)).status_code == 404


def test_answers_are_serialised_as_without_the_documentation(quart_app: Quart) -> None:
    assert type(quart_app.json) is DefaultJSONProvider
    assert quart_app.make_response.__func__ is Quart.make_response  # type: ignore[attr-defined]


async def test_errors_keep_their_shape(client: QuartClient) -> None:
    response = await client.post("/model/parse", json={"text": 7})
    assert response.status_code == 400
    body = await response.get_json()
    assert body["error"]["code"] == "bad_request"
    assert '"text"' in body["error"]["message"]


def test_the_documented_limits_are_the_handlers() -> None:
    assert schemas.MAX_CALLS_LIMIT == calls_api.MAX_LIMIT
    assert schemas.MAX_SEARCH_LIMIT == knowledge_web.MAX_SEARCH_LIMIT
    assert schemas.MAX_SENDER_CHARS == knowledge_web.MAX_SENDER_CHARS
    assert schemas.MAX_CALL_ID_CHARS == cti_params.MAX_CALL_ID_CHARS


async def test_kb_serve_documents_its_own_api(tmp_path: Path, segmenter: Segmenter) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        kb_dir=tmp_path / "kb",
        kb_seed_dir=Path(__file__).parents[2] / "knowledge" / "data",
    )
    app = create_kb_app(settings, segmenter=segmenter)
    async with app.test_app() as started:
        client = started.test_client()
        document = await (await client.get("/openapi.json")).get_json()
        assert document["info"]["title"] == "voicebot knowledge"
        assert "/webhooks/rest/webhook" in document["paths"]
        assert "/kb/entries" in document["paths"]
        assert not any(path.startswith(("/cti/", "/calls")) for path in document["paths"])
        assert (await client.get("/api/docs")).status_code == 200
