"""Inputs a fuzzer found answered 500 (issue 13): each is now a 4xx with a reason, or
served, never an internal error."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.pbx.log import LogPBX
from bot.text.segmenter import Segmenter
from tests.conftest import CTI, FLOWS_DIR, ROOT

KB_DATA = ROOT / "knowledge" / "data"

NESTED = b"[" * 8000


@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/model/parse"])
async def test_json_nested_too_deeply_is_a_400(client: QuartClient, path: str) -> None:
    response = await client.post(path, data=NESTED, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/kb/search?q=%E5%87%A0%E7%82%B9&limit=%C2%B2",
        "/kb/search?q=a&limit=" + "9" * 5000,
        "/calls?limit=" + "9" * 5000,
    ],
    ids=["superscript-two", "search-5000-digits", "calls-5000-digits"],
)
async def test_a_limit_that_is_no_number_is_a_400(client: QuartClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 400
    assert "limit" in (await response.get_data(as_text=True))


async def test_a_suffix_range_on_audio_is_served(cti: CTI, client: QuartClient) -> None:
    path = urlsplit(await cti.say("range-1", "ready2speak")).path
    whole = await (await client.get(path)).get_data()
    response = await client.get(path, headers={"Range": "bytes=-1"})
    assert response.status_code in (200, 206)
    assert (await response.get_data()) in (whole, whole[-1:])


@pytest.mark.parametrize("call_id", ["a\r\nb", "a\nINFO forged", "a\x00b"], ids=["crlf", "lf", "nul"])
async def test_a_call_id_with_control_characters_is_a_400(cti: CTI, call_id: str) -> None:
    status, body = await cti.send(call_id, "ready2speak")
    assert (status, body) == (400, "callid has control characters")


@pytest.mark.parametrize("host", [".", ".:8080", "a" * 64, "a..b"])
async def test_a_host_the_framework_cannot_encode_is_a_400(client: QuartClient, host: str) -> None:
    response = await client.get("/healthz", headers={"Host": host})
    assert response.status_code == 400
    assert (await response.get_data(as_text=True)).startswith("bad Host header")


async def test_an_import_nested_too_deeply_is_a_400(tmp_path: Path, segmenter: Segmenter) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        flows_dir=FLOWS_DIR,
        kb_dir=tmp_path / "kb",
        kb_seed_dir=KB_DATA,
        admin_token="t",
    )
    headers = {"Authorization": "Bearer t", "Content-Type": "application/yaml"}
    async with create_app(settings, pbx=LogPBX(), segmenter=segmenter).test_app() as app:
        response = await app.test_client().post("/kb/import", data=b"{" * 100_000, headers=headers)
    assert response.status_code == 400
    assert "nested too deeply" in (await response.get_json())["error"]["message"]
