"""The fake PBX's call-record push (GX manual §31) in-process, against a receiver on
loopback that answers as it is told: the manual's JSON, "400" pushed again (bounded),
GBK, a body pushed as it is, and the control request's checks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from quart.typing import TestClientProtocol as Client

from bot.tools.fakepbx import create_fake_pbx_app
from bot.tools.fakepbx_calllog import FIRST_ID, MANUAL_RECORD
from tests.loopback import unused_port


@dataclass
class Receiver:
    """An HTTP server on loopback that answers each POST with the next of ``answers``
    (the last one again when they run out), and keeps the bodies and headers."""

    answers: list[str]
    bodies: list[bytes] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        headers = dict(
            line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line
        )
        lowered = {name.lower(): value for name, value in headers.items()}
        self.bodies.append(await reader.readexactly(int(lowered.get("content-length", "0"))))
        self.content_types.append(lowered.get("content-type", ""))
        answer = self.answers[min(len(self.bodies), len(self.answers)) - 1].encode()
        status = b"200 OK" if answer == b"200" else b"400 Bad Request"
        writer.write(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(answer) + answer
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def pbx() -> AsyncIterator[Client]:
    app = create_fake_pbx_app()
    async with app.test_app() as started:
        yield started.test_client()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver(answers=["200"])
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/cti/calllog"
    async with server:
        yield found


async def push(pbx: Client, **spec: object) -> tuple[int, dict[str, object]]:
    response = await pbx.post("/control/push-call-records", json=spec)
    return response.status_code, await response.get_json()


async def test_a_push_has_the_manuals_shape_and_every_field(pbx: Client, receiver: Receiver) -> None:
    status, answer = await push(
        pbx, url=receiver.url, records=[{"callee": "13800138000", "business": "AI_ROBOT"}, {}]
    )
    assert status == 200
    assert answer["saved"] is True
    assert answer["attempts"] == [{"status": 200, "answer": "200", "ms": answer["attempts"][0]["ms"]}]  # type: ignore[index]
    pushed = json.loads(receiver.bodies[0])
    assert pushed == answer["pushed"]
    assert list(pushed) == ["client_ip", "datas"]
    first, second = pushed["datas"]
    assert list(first) == list(MANUAL_RECORD)  # §31.3's fields, in its order
    assert (first["callee"], first["business"]) == ("13800138000", "AI_ROBOT")
    assert (first["id"], second["id"]) == (FIRST_ID, FIRST_ID + 1)
    assert first["callid"] != second["callid"]
    assert first["callid"].endswith("@127.0.0.1")
    assert receiver.content_types == ["application/json;charset=UTF-8"]


async def test_a_400_is_pushed_again_until_200(pbx: Client, receiver: Receiver) -> None:
    receiver.answers = ["400", "400", "200"]
    _, answer = await push(pbx, url=receiver.url, attempts=5, retry_ms=0)
    assert [a["answer"] for a in answer["attempts"]] == ["400", "400", "200"]  # type: ignore[attr-defined]
    assert answer["saved"] is True
    assert len(set(receiver.bodies)) == 1  # the same push each time


async def test_the_attempts_are_bounded(pbx: Client, receiver: Receiver) -> None:
    receiver.answers = ["400"]
    _, answer = await push(pbx, url=receiver.url, attempts=2, retry_ms=0)
    assert [(a["status"], a["answer"]) for a in answer["attempts"]] == [(400, "400"), (400, "400")]  # type: ignore[attr-defined]
    assert answer["saved"] is False
    assert len(receiver.bodies) == 2


async def test_a_gbk_push_and_a_body_pushed_as_it_is(pbx: Client, receiver: Receiver) -> None:
    await push(pbx, url=receiver.url, encoding="gbk", records=[{"cname": "张三"}])
    assert json.loads(receiver.bodies[0].decode("gbk"))["datas"][0]["cname"] == "张三"
    assert receiver.content_types[0] == "application/json;charset=GBK"
    _, answer = await push(pbx, url=receiver.url, body="not json", attempts=1)
    assert receiver.bodies[1] == b"not json"
    assert answer["pushed"] == "not json"


async def test_a_receiver_that_is_down_is_an_attempt_that_failed(pbx: Client) -> None:
    url = f"http://127.0.0.1:{unused_port()}/cti/calllog"
    _, answer = await push(pbx, url=url, attempts=2, retry_ms=0)
    assert [("error" in a) for a in answer["attempts"]] == [True, True]  # type: ignore[attr-defined]
    assert answer["saved"] is False


async def test_the_push_is_in_the_recording(pbx: Client, receiver: Receiver) -> None:
    await push(pbx, url=receiver.url)
    (recorded,) = await (await pbx.get("/requests?vendor=control")).get_json()
    assert recorded["call_records"]["saved"] is True
    assert recorded["json"]["url"] == receiver.url


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({}, "url"),
        ({"url": "ftp://x"}, "url"),
        ({"url": "http://x", "records": {}}, "records"),
        ({"url": "http://x", "records": [1]}, "records"),
        ({"url": "http://x", "encoding": "latin-1"}, "encoding"),
        ({"url": "http://x", "attempts": 0}, "attempts"),
        ({"url": "http://x", "attempts": 11}, "attempts"),
        ({"url": "http://x", "retry_ms": -1}, "retry_ms"),
        ({"url": "http://x", "body": {"datas": []}}, "body"),
        ({"url": "http://x", "nope": 1}, "unknown"),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else value,
)
async def test_a_control_request_that_is_not_a_push_is_a_400(
    pbx: Client, spec: dict[str, object], says: str
) -> None:
    status, answer = await push(pbx, **spec)
    assert status == 400
    assert says in str(answer["error"])
