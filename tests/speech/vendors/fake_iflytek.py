"""iFlytek's streaming TTS WebAPI on loopback: a real WebSocket server (``websockets``).

Written from the vendor's pages (语音合成（流式版）WebAPI 文档,
https://www.xfyun.cn/doc/tts/online_tts/API.html, and the WebAPI authentication section
that every streaming page shares), not from the client's code:

- The handshake must carry ``host``, ``date`` and ``authorization`` in its query. The
  authorization is decoded and its ``api_key``, ``algorithm``, ``headers`` and
  ``signature`` read; the signature is recomputed here from the fake's own copy of the
  APISecret over ``host: <Host header>\\ndate: <date>\\n<request line>``. A date more than
  300 s from the fake's clock is refused (HTTP 403), a wrong signature too (HTTP 401),
  with the documented ``{"message": …}`` bodies.
- The one request frame is checked (``common.app_id``, ``business``, ``data.status`` 2),
  its text decoded and recorded, and answered with PCM of a sine tone at the asked rate,
  in several frames, the last with ``data.status`` 2.
- A text of 8000 UTF-8 bytes or more is refused with code 10109.

Tests can make it answer one error code (:meth:`FakeIflytek.fail_next`), a rate limit,
nothing at all (:attr:`FakeIflytek.stall`), or as slowly as the vendor does
(:attr:`FakeIflytek.latency`, ``tests/speech/vendors/latency.py``).
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import hmac
import json
import logging
import math
import re
import sys
import time
from array import array
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from tests.speech.vendors.latency import Latency

MAX_TEXT_BYTES = 8000
CLOCK_SKEW_SECONDS = 300
SECONDS_PER_CHARACTER = 0.05
FRAME_BYTES = 1600

_SILENT = logging.getLogger("tests.fake_iflytek.websocket")
_SILENT.disabled = True  # its DEBUG lines quote the signed request line
_SILENT.propagate = False
_PAIR = re.compile(r'\s*([a-z_]+)="([^"]*)"\s*(?:,|$)')
_RATES = ("audio/L16;rate=8000", "audio/L16;rate=16000")
_LEVELS = ("speed", "volume", "pitch")
_SKEWED = (
    "HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication"
)


@dataclass
class Handshake:
    """What the fake saw of one accepted handshake."""

    date: str
    api_key: str


@dataclass
class FakeIflytek:
    """The vendor's side, with its own copy of the credentials.

    Attributes:
        texts: Every text it was asked to say, decoded, in order.
        requests: Every request frame, parsed (its ``data.text`` still base64).
        handshakes: Every accepted handshake.
        refusals: ``(HTTP status, message)`` of every refused handshake.
        stall: Answer nothing to requests while true.
        latency: How slowly it answers (None: at once, with a short tone).
        url: Where it listens, while it does.
    """

    app_id: str
    api_key: str
    api_secret: str
    clock: Callable[[], float] = time.time
    texts: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    handshakes: list[Handshake] = field(default_factory=list)
    refusals: list[tuple[int, str]] = field(default_factory=list)
    stall: bool = False
    latency: Latency | None = None
    url: str = ""
    _failures: list[tuple[int, str]] = field(default_factory=list)
    _raw: list[dict[str, Any]] = field(default_factory=list)
    _refuse: list[tuple[int, str]] = field(default_factory=list)

    def fail_next(self, code: int, message: str) -> None:
        """Answer the next request with the vendor's error ``code`` and ``message``."""
        self._failures.append((code, message))

    def refuse_next(self, status: int, message: str) -> None:
        """Refuse the next handshake with HTTP ``status`` and ``{"message": message}``."""
        self._refuse.append((status, message))

    def answer_next(self, frame: dict[str, Any]) -> None:
        """Answer the next request with ``frame`` alone, as it is (a broken answer)."""
        self._raw.append(frame)

    def rate_limit_next(self) -> None:
        """Answer the next request with the per-second limit's code (11202)."""
        self.fail_next(11202, "licc limit")

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Listen on 127.0.0.1 until the block ends; yields ``ws://127.0.0.1:<port>/v2/tts``."""
        async with serve(
            self._session, "127.0.0.1", 0, process_request=self._handshake, logger=_SILENT
        ) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            self.url = f"ws://127.0.0.1:{port}/v2/tts"
            yield self.url

    # --- the handshake ---

    def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        refusal = self._refuse.pop(0) if self._refuse else self._refusal(request)
        if refusal is None:
            return None
        status, message = refusal
        self.refusals.append(refusal)
        return connection.respond(status, json.dumps({"message": message}))

    def _refusal(self, request: Request) -> tuple[int, str] | None:
        query = {name: values[0] for name, values in parse_qs(urlsplit(request.path).query).items()}
        if not {"host", "date", "authorization"} <= query.keys():
            return 401, "Unauthorized"
        try:
            sent = dict(_PAIR.findall(base64.b64decode(query["authorization"], validate=True).decode()))
            signed_at = email.utils.parsedate_to_datetime(query["date"]).timestamp()
        except (ValueError, TypeError):
            return 401, "HMAC signature cannot be verified"
        well_formed = (
            sent.get("api_key") == self.api_key
            and sent.get("algorithm") == "hmac-sha256"
            and sent.get("headers") == "host date request-line"
            and query["host"] == request.headers.get("Host")
        )
        if not well_formed:
            return 401, "HMAC signature cannot be verified"
        if abs(self.clock() - signed_at) > CLOCK_SKEW_SECONDS:
            return 403, _SKEWED
        if not hmac.compare_digest(sent.get("signature", ""), self._signature(request, query)):
            return 401, "HMAC signature does not match"
        self.handshakes.append(Handshake(query["date"], sent["api_key"]))
        return None

    def _signature(self, request: Request, query: dict[str, str]) -> str:
        request_line = f"GET {urlsplit(request.path).path} HTTP/1.1"
        lines = [f"host: {request.headers['Host']}", f"date: {query['date']}", request_line]
        mac = hmac.new(self.api_secret.encode(), "\n".join(lines).encode(), hashlib.sha256)
        return base64.b64encode(mac.digest()).decode()

    # --- one synthesis ---

    async def _session(self, connection: ServerConnection) -> None:
        frame = json.loads(await connection.recv())
        self.requests.append(frame)
        if self.stall:
            await connection.wait_closed()
            return
        if self._raw:
            await connection.send(json.dumps(self._raw.pop(0)))
            return
        problem = self._problem(frame)
        if problem is not None:
            await connection.send(json.dumps({"code": problem[0], "message": problem[1], "sid": _sid()}))
            return
        text = base64.b64decode(frame["data"]["text"]).decode("utf-8")
        self.texts.append(text)
        rate = int(frame["business"]["auf"].rpartition("=")[2])
        if self.latency is not None:
            await self._answer_slowly(connection, self.latency, rate, text)
            return
        await self._answer(connection, sine_pcm(rate, SECONDS_PER_CHARACTER * len(text)))

    def _problem(self, frame: dict[str, Any]) -> tuple[int, str] | None:
        if self._failures:
            return self._failures.pop(0)
        common, business, data = frame.get("common", {}), frame.get("business", {}), frame.get("data", {})
        text = data.get("text")
        checks = [
            (common.get("app_id") != self.app_id, (10313, "invalid appid")),
            (
                business.get("aue") != "raw" or business.get("tte") != "UTF8",
                (10163, "param validate error: aue/tte"),
            ),
            (not business.get("vcn"), (10163, "param validate error: vcn")),
            (business.get("auf") not in _RATES, (10163, "param validate error: auf")),
            (
                not all(0 <= business.get(n, 50) <= 100 for n in _LEVELS),
                (10163, "param validate error: 0-100"),
            ),
            (data.get("status") != 2 or not isinstance(text, str), (10163, "param validate error: data")),
        ]
        problem = next((answer for failed, answer in checks if failed), None)
        if problem is None and len(base64.b64decode(text)) >= MAX_TEXT_BYTES:
            return 10109, "illegal text length"
        return problem

    async def _answer(self, connection: ServerConnection, pcm: bytes, pause_seconds: float = 0.0) -> None:
        chunks = [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)] or [b""]
        sid = _sid()
        for number, chunk in enumerate(chunks, start=1):
            status = 2 if number == len(chunks) else 1
            data = {"audio": base64.b64encode(chunk).decode(), "status": status, "ced": str(number)}
            await connection.send(json.dumps({"code": 0, "message": "success", "sid": sid, "data": data}))
            await asyncio.sleep(pause_seconds)

    async def _answer_slowly(
        self, connection: ServerConnection, latency: Latency, rate: int, text: str
    ) -> None:
        """The first frame after the latency's first byte, the last when its whole answer is due."""
        pcm = latency.pcm(rate, text)
        frames = max(-(-len(pcm) // FRAME_BYTES), 1)
        await asyncio.sleep(latency.first_byte_ms / 1000)
        await self._answer(connection, pcm, latency.frame_pause_seconds(text, frames))


def sine_pcm(rate: int, seconds: float, hz: float = 440.0) -> bytes:
    """16-bit mono little-endian PCM of a sine tone, at least 0.1 s long."""
    count = max(int(rate * seconds), rate // 10)
    samples = array("h", (int(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(count)))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def _sid() -> str:
    return f"tts{time.monotonic_ns():x}"
