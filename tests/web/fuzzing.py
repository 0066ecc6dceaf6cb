"""What the fuzz tests share: a started app driven through its ASGI interface, request by
request, and a count of what they sent.

Requests go to ``app.asgi_app`` (the Host guard included) exactly as a server would hand
them over: the raw query string (unencoded Chinese, GBK bytes), any header (Host,
Range, Content-Length, Content-Type), and the body in one message or in several (what a
chunked upload arrives as, with no Content-Length). Anything that escapes the app is
counted as a 500.

The app runs on an event loop of its own (``asyncio.Runner``), so that hypothesis's
synchronous tests, schemathesis's among them, can drive one started app for all their
examples.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from hypothesis import HealthCheck, settings
from quart import Quart

from bot.app import create_app
from bot.config import Settings
from bot.pbx.log import LogPBX
from bot.text.segmenter import Segmenter
from knowledge.app import create_kb_app

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "fuzz-admin-token"
CTI_TOKEN = "fuzz-cti-token"
# Reproducible in CI: the same examples every run, nothing remembered between runs.
FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# Requests sent, by suite ("hypothesis", "schemathesis"), and the 500s among them; printed
# at the end of the session (tests/web/conftest.py).
SENT: collections.Counter[str] = collections.Counter()
SERVER_ERRORS: list[str] = []
STATUSES: collections.Counter[int] = collections.Counter()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Served:
    """A started app, and requests to it."""

    def __init__(self, app: Quart, runner: asyncio.Runner, suite: str) -> None:
        self.app = app
        self.runner = runner
        self.suite = suite

    def request(
        self,
        method: str,
        path: str,
        *,
        query: bytes = b"",
        headers: list[tuple[bytes, bytes]] | None = None,
        chunks: list[bytes] | None = None,
    ) -> Answer:
        """Send one request; ``path`` is the decoded path (the ASGI ``path``)."""
        answer = self.runner.run(_call(self.app, method, path, query, headers or [], chunks or [b""]))
        SENT[self.suite] += 1
        STATUSES[answer.status] += 1
        if answer.status >= 500:
            SERVER_ERRORS.append(f"{method} {path}?{query[:200]!r} → {answer.status} {answer.body[:300]!r}")
        return answer

    def audio_path(self) -> str:
        """The path of a prompt's WAV, from a call's greeting."""
        query = b"callid=fuzz-audio&txt=ready2speak&telnum=13800138000"
        if self.app.config.get("FUZZ_CTI_TOKEN"):
            query += b"&token=" + self.app.config["FUZZ_CTI_TOKEN"].encode()
        answer = self.request("GET", "/cti/ai", query=query)
        assert answer.status == 200, answer
        return urlsplit(answer.body.decode()).path


async def _call(  # noqa: PLR0917  (a request's parts, in the order of a request)
    app: Quart, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> Answer:
    if not any(name == b"host" for name, _ in headers):
        headers = [(b"host", b"127.0.0.1:8080"), *headers]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": quote(path, safe="/%").encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
        "extensions": {},
    }
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    status: list[int] = []
    answer_headers: dict[str, str] = {}
    body = bytearray()

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await asyncio.Future()  # the client waits for the answer; cancelled when it is sent
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
            answer_headers.update((k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"])
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    try:
        await app.asgi_app(scope, receive, send)  # type: ignore[arg-type]
    except Exception as exc:  # escaped every handler: what a server answers 500
        logging.getLogger(__name__).exception("escaped the app")
        return Answer(500, {}, repr(exc).encode())
    return Answer(status[0] if status else 500, answer_headers, bytes(body))


def fuzz_settings(data_dir: Path, *, locked: bool) -> Settings:
    """The sample flows; ``locked`` sets the admin and CTI tokens."""
    tokens: dict[str, Any] = {"admin_token": ADMIN_TOKEN, "cti_token": CTI_TOKEN} if locked else {}
    return Settings(
        data_dir=data_dir,
        flows_dir=ROOT / "flows",
        kb_dir=data_dir / "kb",  # the admin API changes it: a copy of the sample data
        kb_seed_dir=ROOT / "knowledge" / "data",
        retry_window_ms=0,
        **tokens,
    )


@contextmanager
def served(
    data_dir: Path, segmenter: Segmenter, *, locked: bool, suite: str, knowledge_only: bool = False
) -> Iterator[Served]:
    """The bot's app (or ``voicebot kb serve``'s), started on a loop of its own, stopped at the end."""
    settings = fuzz_settings(data_dir, locked=locked)
    if knowledge_only:
        app = create_kb_app(settings, segmenter=segmenter)
    else:
        app = create_app(settings, pbx=LogPBX(), segmenter=segmenter)
    if locked:
        app.config["FUZZ_CTI_TOKEN"] = CTI_TOKEN
    runner = asyncio.Runner()
    try:
        runner.run(app.startup())
        try:
            yield Served(app, runner, suite)
        finally:
            runner.run(app.shutdown())
    finally:
        runner.close()
