"""The fake PBX's live transcript lines (GX manual §54) in-process, against a receiver on
loopback: the manual's GET parameters, txt URL-encoded UTF-8 (or GBK), several lines in
order, the receiver's answers reported, and the control request's checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

import pytest
from quart.typing import TestClientProtocol as Client

from bot.tools.fakepbx import create_fake_pbx_app


@dataclass
class Receiver:
    """Answers each GET "ok" and keeps its request target."""

    targets: list[str] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.targets.append(head.split(b" ")[1].decode("ascii"))
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        )
        await writer.drain()
        writer.close()

    def params(self, index: int) -> dict[str, bytes]:
        query = self.targets[index].partition("?")[2]
        pairs = (pair.partition("=") for pair in query.split("&"))
        return {name: unquote_to_bytes(value.replace("+", " ")) for name, _, value in pairs}


@pytest.fixture
async def pbx() -> AsyncIterator[Client]:
    app = create_fake_pbx_app()
    async with app.test_app() as started:
        yield started.test_client()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/cti/agent-speech?token=t"
    async with server:
        yield found


async def test_a_line_is_a_get_with_the_manuals_parameters(pbx: Client, receiver: Receiver) -> None:
    response = await pbx.post(
        "/control/agent-speech",
        json={
            "url": receiver.url,
            "caller": "13800138000",
            "callee": "801",
            "callid": "leg@1.2.3.4",
            "side": "caller",
            "txt": "异地 就医怎么备案",
        },
    )
    assert response.status_code == 200
    (sent,) = (await response.get_json())["sent"]
    assert (sent["status"], sent["answer"]) == (200, "ok")
    params = receiver.params(0)
    assert list(params) == ["token", "caller", "callee", "callid", "caller-callid", "side", "txt"]
    assert params["txt"].decode("utf-8") == "异地 就医怎么备案"
    assert "+" in receiver.targets[0]
    assert "%E5%BC%82" in receiver.targets[0]
    assert (params["callid"], params["side"]) == (b"leg@1.2.3.4", b"caller")
    assert "%40" in receiver.targets[0]  # "@" encoded, as URLEncoder does


async def test_several_lines_go_in_order_of_one_call_and_gbk_when_asked(
    pbx: Client, receiver: Receiver
) -> None:
    lines = [{"side": "caller", "txt": "喂"}, {"side": "callee", "txt": "您好"}]
    response = await pbx.post(
        "/control/agent-speech", json={"url": receiver.url, "lines": lines, "encoding": "gbk"}
    )
    assert len((await response.get_json())["sent"]) == 2
    first, second = receiver.params(0), receiver.params(1)
    assert (first["txt"].decode("gbk"), second["txt"].decode("gbk")) == ("喂", "您好")
    assert (first["side"], second["side"]) == (b"caller", b"callee")
    assert first["callid"] == second["callid"]
    assert first["caller-callid"] == second["caller-callid"]


async def test_a_receiver_that_is_down_is_reported(pbx: Client) -> None:
    response = await pbx.post("/control/agent-speech", json={"url": "http://127.0.0.1:9/x", "txt": "喂"})
    (sent,) = (await response.get_json())["sent"]
    assert "ConnectError" in sent["error"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "send a JSON object"),
        ({"url": "ftp://x", "txt": "喂"}, "url must be"),
        ({"url": "http://x", "txt": "喂", "side": "agent"}, "side must be caller or callee"),
        ({"url": "http://x"}, 'each line needs "txt"'),
        ({"url": "http://x", "txt": "喂", "encoding": "big5"}, "encoding must be"),
        ({"url": "http://x", "txt": "喂", "colour": "red"}, "unknown fields"),
        ({"url": "http://x", "lines": []}, "lines must be"),
    ],
    ids=["not-object", "bad-url", "bad-side", "no-txt", "bad-encoding", "unknown-field", "no-lines"],
)
async def test_a_bad_control_request_is_400_with_the_reason(pbx: Client, body: object, reason: str) -> None:
    response = await pbx.post("/control/agent-speech", json=body)
    assert response.status_code == 400
    assert reason in (await response.get_json())["error"]
