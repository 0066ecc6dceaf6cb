"""The agent page of a handed-over call, through the app: the link in ``biz_data``, the
page and its refusals, what it shows, the suggestions of the last lines, and the live
stream (a first event, one per line, ended at shutdown)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, quote_plus, unquote, urlsplit

import pytest
from pydantic import AnyHttpUrl
from quart import Quart
from quart.testing.connections import TestHTTPConnection as Connection
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.pbx.gx import fit_biz_data
from bot.pbx.log import LogPBX
from bot.services import EXTENSION_KEY, Services
from bot.text.segmenter import Segmenter
from tests.conftest import CTI

TELNUM = "13800138000"
BOUND_SECONDS = 30  # a bound for slow machines, never a timing assertion


@pytest.fixture
def quart_app(settings: Settings, pbx: LogPBX, segmenter: Segmenter) -> Quart:
    public = settings.model_copy(update={"public_url": AnyHttpUrl("http://10.0.0.5:8080")})
    return create_app(public, pbx=pbx, segmenter=segmenter)


@pytest.fixture
async def handed_over(cti: CTI, pbx: LogPBX) -> str:
    """The agent page's path (with its key) of a yibao call the PBX took to an agent."""
    await cti.say("ag-1", "ready2speak")
    await cti.say("ag-1", "我要转人工")
    (transfer,) = await pbx.wait_for(1)
    assert transfer.biz_data is not None
    assert list(transfer.biz_data)[:2] == ["callid", "agent_url"]  # before what gets shortened
    url = urlsplit(transfer.biz_data["agent_url"])
    assert f"{url.scheme}://{url.netloc}" == "http://10.0.0.5:8080"
    return f"{url.path}?{url.query}"


async def speak(client: QuartClient, txt: str, side: str = "caller") -> None:
    query = f"caller={TELNUM}&callee=801&callid=leg-1&side={side}&txt={quote_plus(txt)}"
    response = await client.get(f"/cti/agent-speech?{query}")
    assert await response.get_data(as_text=True) == "ok"


async def state(client: QuartClient, page: str) -> dict[str, Any]:
    path, _, key = page.partition("?")
    response = await client.get(f"{path}/state?{key}")
    assert response.status_code == 200
    return await response.get_json()  # type: ignore[no-any-return]


def test_the_link_survives_the_shortening_of_biz_data() -> None:
    data = {
        "callid": "c",
        "agent_url": "http://10.0.0.5:8080/agent/c?k=sdf.x",
        "summary": "话" * 900,
        "slots": {f"s{i}": "值" * 40 for i in range(40)},
    }
    fitted = fit_biz_data(data)
    assert len(fitted) <= 1500
    assert "agent_url" in json.loads(unquote(fitted))


async def test_the_embeddable_page_opens_with_its_link_only(client: QuartClient, handed_over: str) -> None:
    response = await client.get(handed_over)
    assert response.status_code == 200
    html = await response.get_data(as_text=True)
    assert 'id="agent-suggestions"' in html
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "connect-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "X-Frame-Options" not in response.headers
    path, _, key = handed_over.partition("?")
    for refused, reason in [
        (f"{path}?{key[:-2]}xx", "does not match this call"),
        (f"/agent/ag-2?{key}", "does not match this call"),
        (path, "no key"),
    ]:
        response = await client.get(refused)
        assert response.status_code == 403
        assert reason in await response.get_data(as_text=True)
    response = await client.get(f"/agent/ag-2/state?{key}")
    assert response.status_code == 403
    assert (await response.get_json())["error"]["code"] == "link_refused"


async def test_the_page_shows_the_conversation_slots_and_suggestions_of_the_last_lines(
    client: QuartClient, handed_over: str
) -> None:
    before = await state(client, handed_over)
    assert [line["who"] for line in before["conversation"]][:2] == ["bot", "caller"]
    assert before["call"]["telnum"] == "138****8000"
    assert before["live"] == []
    await speak(client, "你好 我去外地看病要先备案吗")
    after = await state(client, handed_over)
    assert after["suggestions"][0]["id"] == "yidi-beian"
    assert all(0 < hit["score"] <= 1 for hit in after["suggestions"])
    assert after["live"][0]["speaker"] == "customer"
    assert after["conversation"][-1] == {**after["conversation"][-1], "who": "customer"}
    # The agent repeats a new question: the agent's side counts, the newest lines lead.
    for said in ("好的", "嗯", "您是说医保卡丢了要挂失补办是吧"):
        await speak(client, said, side="callee")
    assert (await state(client, handed_over))["suggestions"][0]["id"] == "yibaoka-guashi"


async def test_the_console_shows_it_to_logged_in_users_only(quart_app: Quart, handed_over: str) -> None:
    from quart.testing import QuartClient as Plain  # noqa: PLC0415

    anonymous = Plain(quart_app)
    response = await anonymous.get("/console/agent/ag-1")
    assert response.status_code == 302
    assert (await anonymous.get("/console/api/agent/ag-1")).status_code == 401


async def next_event(connection: Connection, needle: str) -> str:
    """The stream's data up to an event holding ``needle``."""
    seen = ""
    async with asyncio.timeout(BOUND_SECONDS):
        while needle not in seen:
            chunk = await connection.receive()
            assert chunk, f"the stream ended before {needle!r}: {seen[-300:]}"
            seen += chunk.decode()
    return seen


@pytest.fixture
async def stream(client: QuartClient, handed_over: str) -> AsyncIterator[Connection]:
    path, _, key = handed_over.partition("?")
    async with client.request(f"{path}/events?{key}") as connection:
        assert isinstance(connection, Connection)  # the test client's, with its headers
        await connection.send_complete()
        yield connection


async def test_the_stream_sends_the_call_then_each_line_and_ends_at_shutdown(
    client: QuartClient, stream: Connection, services: Services
) -> None:
    first = await next_event(stream, "\n\n")
    assert first.startswith("event: call\ndata: ")
    assert stream.headers is not None
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    await speak(client, "异地就医怎么备案")
    assert "yidi-beian" in await next_event(stream, "异地就医怎么备案")
    assert services.agent_screen is not None
    services.agent_screen.end_streams()  # what the signal handler does
    async with asyncio.timeout(BOUND_SECONDS):
        while await stream.receive():
            pass


async def test_an_unknown_call_is_404_before_any_stream(quart_app: Quart, client: QuartClient) -> None:
    svc: Services = quart_app.extensions[EXTENSION_KEY]
    assert svc.agent_screen is not None
    key = svc.agent_screen.links.key("nobody")
    assert (await client.get(f"/agent/nobody/events?k={quote(key)}")).status_code == 404
