"""The fast endpoints of ``/cti/ai`` and ``/cti/hangup`` (bot/cti/fast.py) answer as the
framework's endpoints do.

Two apps of the same settings play the same requests, one with the edge's fast endpoints
and one with them taken out (so Quart's routes in bot/cti/callback.py and
bot/cti/hangup.py serve the paths);
every answer's status, content type and body must be the same, access refusals, bad
parameters, bodies too large and the turns' audio URLs included.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from quart import Quart

from bot.app import create_app
from bot.config import Settings
from bot.pbx.log import LogPBX
from bot.text.segmenter import Segmenter
from tests.conftest import FLOWS_DIR, ROOT

Request = tuple[str, str, bytes, list[tuple[bytes, bytes]], str]  # method, query, body, headers, client


def _app(tmp_path: Path, segmenter: Segmenter, *, fast: bool, **settings: Any) -> Quart:
    kb_dir = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge" / "data", kb_dir, ignore=shutil.ignore_patterns(".*"))
    configured = Settings(
        data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, kb_dir=kb_dir, retry_window_ms=0, **settings
    )
    app = create_app(configured, pbx=LogPBX(), segmenter=segmenter)
    edge: Any = app.asgi_app
    assert set(edge.fast) == {"/cti/ai", "/cti/hangup"}
    if not fast:
        edge.fast = {}
    return app


async def _request(app: Quart, request: Request, path: str = "/cti/ai") -> tuple[int, str, bytes]:
    method, query, body, headers, client = request
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode("latin-1"),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8080"), *headers],
        "client": (client, 40000),
        "server": ("127.0.0.1", 8080),
        "extensions": {},
    }
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)] or [b""]
    sent: list[dict[str, Any]] = []
    answered = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        await answered.wait()  # the client stays until it has its answer
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(dict(message))
        if message["type"] == "http.response.body" and not message.get("more_body"):
            answered.set()

    await app(scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers_out = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers_out.get("content-type", ""), body_out


def _q(**params: str) -> str:
    return "&".join(f"{name}={quote(value)}" for name, value in params.items())


FORM = [(b"content-type", b"application/x-www-form-urlencoded")]
OPEN_REQUESTS: list[Request] = [
    ("GET", _q(telnum="13800138000", callid="c1", txt="ready2speak"), b"", [], "10.0.0.5"),
    ("GET", _q(telnum="13800138000", callid="c1", txt="我要查报销进度"), b"", [], "10.0.0.5"),
    (
        "POST",
        "",
        _q(telnum="13800138000", callid="c1", txt="身份证号11010519491231002X").encode(),
        FORM,
        "10.0.0.5",
    ),
    ("GET", "telnum=1&callid=c1&txt=" + quote("对", encoding="gbk"), b"", [], "10.0.0.5"),  # GBK
    ("GET", "telnum=1&callid=c2&txt=%80%80%80", b"", [], "10.0.0.5"),  # neither UTF-8 nor GBK
    ("GET", _q(telnum="1", txt="你好"), b"", [], "10.0.0.5"),  # no callid
    ("GET", _q(telnum="1", callid="c3"), b"", [], "10.0.0.5"),  # no txt
    ("GET", _q(telnum="1", callid="c\r\n4", txt="你好"), b"", [], "10.0.0.5"),
    ("GET", _q(telnum="1", callid="c5", txt="好" * 3000), b"", [], "10.0.0.5"),  # too long a text
    ("POST", "", b"txt=" + b"a" * 70_000, FORM, "10.0.0.5"),  # a body over the limit
    ("POST", "", b"callid=c6&txt=" + b"b" * 70_000, [], "10.0.0.5"),  # over it, without a length
    ("POST", _q(callid="c7"), _q(txt="ready2speak", callid="other").encode(), FORM, "10.0.0.5"),
    ("GET", _q(telnum="1", callid="c1", txt="hungup"), b"", [], "10.0.0.5"),
    ("HEAD", "", b"", [], "10.0.0.5"),  # the framework's, as before
]


def _with_length(requests: Sequence[Request]) -> list[Request]:
    """Each request with the Content-Length header a client sends (but one that omits it)."""
    out = []
    for method, query, body, headers, client in requests:
        length = [(b"content-length", str(len(body)).encode())] if method == "POST" and headers else []
        out.append((method, query, body, [*headers, *length], client))
    return out


async def _both(
    tmp_path: Path,
    segmenter: Segmenter,
    requests: list[Request],
    *,
    pushes: Sequence[Request] = (),
    **settings: Any,
) -> None:
    """``requests`` to /cti/ai, then ``pushes`` to /cti/hangup, in each app."""
    fast = _app(tmp_path / "fast", segmenter, fast=True, **settings)
    framework = _app(tmp_path / "framework", segmenter, fast=False, **settings)
    async with fast.test_app(), framework.test_app():
        for path, batch in (("/cti/ai", requests), ("/cti/hangup", pushes)):
            for request in _with_length(batch):
                fast_answer = await _request(fast, request, path)
                assert fast_answer == await _request(framework, request, path), (path, request)


async def test_open_cti_answers_as_the_framework_does(tmp_path: Path, segmenter: Segmenter) -> None:
    await _both(tmp_path, segmenter, OPEN_REQUESTS)


PUSHES: list[Request] = [
    ("GET", _q(business="robot", callid="c1", caller="13800138000"), b"", [], "10.0.0.5"),
    ("GET", _q(business="robot", callid="c1", caller="13800138000"), b"", [], "10.0.0.5"),  # again
    ("POST", "", _q(business="voicemail", callid="c1", path="/rec/c1.wav").encode(), FORM, "10.0.0.5"),
    ("GET", "business=queue&callid=c2&wait=" + quote("三十秒", encoding="gbk"), b"", [], "10.0.0.5"),
    ("GET", "business=robot&callid=c9&caller=%80%80", b"", [], "10.0.0.5"),  # a call never seen
    ("GET", _q(business="robot"), b"", [], "10.0.0.5"),  # no callid
    ("GET", _q(business="robot", callid="  "), b"", [], "10.0.0.5"),
    ("POST", "", b"callid=c1&business=" + b"x" * 20_000, FORM, "10.0.0.5"),  # over its 16 KB
    ("POST", _q(callid="c1"), _q(business="other", callid="c2").encode(), FORM, "10.0.0.5"),
    ("HEAD", _q(business="robot", callid="c1"), b"", [], "10.0.0.5"),  # the framework's, as before
]


async def test_hangup_pushes_are_answered_as_the_framework_does(tmp_path: Path, segmenter: Segmenter) -> None:
    await _both(tmp_path, segmenter, OPEN_REQUESTS[:3], pushes=PUSHES)


@pytest.mark.parametrize(
    "token",
    ["s3cret", "wrong", "", "%80%FF"],
)
async def test_a_cti_token_is_checked_as_the_framework_does(
    tmp_path: Path, segmenter: Segmenter, token: str
) -> None:
    requests: list[Request] = [
        ("GET", f"token={token}&" + _q(telnum="1", callid="t1", txt="ready2speak"), b"", [], "10.0.0.5"),
        ("GET", f"token={token}&telnum=1&callid=t2&txt=%80%80", b"", [], "10.0.0.5"),
        ("POST", f"token={token}", _q(callid="t3", txt="ready2speak").encode(), FORM, "10.0.0.5"),
        ("POST", "", f"token={token}&callid=t4&txt=ready2speak".encode(), FORM, "10.0.0.5"),  # not in a body
    ]
    pushes: list[Request] = [
        ("GET", f"token={token}&business=robot&callid=t1", b"", [], "10.0.0.5"),
        ("POST", f"token={token}", b"business=robot&callid=t3", FORM, "10.0.0.5"),
    ]
    await _both(tmp_path, segmenter, requests, pushes=pushes, cti_token="s3cret")


async def test_cti_networks_and_proxies_are_checked_as_the_framework_does(
    tmp_path: Path, segmenter: Segmenter
) -> None:
    turn = _q(telnum="1", callid="n1", txt="ready2speak")
    forwarded = b"x-forwarded-for"
    requests: list[Request] = [
        ("GET", turn, b"", [], "10.1.2.3"),  # allowed
        ("GET", turn, b"", [], "192.168.9.9"),  # not allowed
        ("GET", turn, b"", [(forwarded, b"10.1.2.3")], "127.0.0.1"),  # through the trusted proxy
        ("GET", turn, b"", [(forwarded, b"192.168.1.1")], "127.0.0.1"),
        ("GET", turn, b"", [(forwarded, b"10.1.2.3, not-an-address")], "127.0.0.1"),
        ("GET", turn, b"", [(forwarded, b"192.168.1.1")], "10.1.2.3"),  # an untrusted peer's header
    ]
    await _both(
        tmp_path,
        segmenter,
        requests,
        pushes=[(m, _q(business="robot", callid="n1"), b, h, c) for m, _, b, h, c in requests],
        cti_allow="10.0.0.0/8",
        trusted_proxies="127.0.0.1/32",
    )


async def test_a_client_gone_before_its_body_is_whole_gets_no_turn(
    tmp_path: Path, segmenter: Segmenter
) -> None:
    app = _app(tmp_path, segmenter, fast=True)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"telnum=1&callid=gone-1&txt=ready2speak", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/cti/ai",
        "raw_path": b"/cti/ai",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8080"), *FORM],
        "client": ("10.0.0.5", 40000),
        "server": ("127.0.0.1", 8080),
    }
    async with app.test_app() as started:
        await app(scope, receive, send)  # type: ignore[arg-type]
        assert sent == []  # as the framework: nothing answered to nobody
        assert (await started.test_client().get("/calls/gone-1")).status_code == 404  # and no turn ran
