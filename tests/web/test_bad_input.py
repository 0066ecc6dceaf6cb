"""Inputs a fuzzer found answered 500 (issue 13): each is now a 4xx with a reason, or
served, never an internal error."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from quart.typing import TestClientProtocol as QuartClient

from tests.conftest import CTI

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
