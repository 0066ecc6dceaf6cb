"""Volcengine's HTTP speech synthesis (``POST /api/v1/tts``) on loopback.

Written from the vendor's pages, not from ``bot/speech/vendors/volcengine.py``:
"HTTP接口(一次性合成-非流式)" (https://www.volcengine.com/docs/6561/79820) and
"参数基本说明" (https://www.volcengine.com/docs/6561/79823):

- the header ``Authorization: Bearer;<token>``, compared with the fake's own token;
- the body's fields and their ranges (app.appid/token/cluster, user.uid,
  audio.voice_type/encoding/rate/speed_ratio/volume_ratio/pitch_ratio,
  request.reqid/text/text_type/operation ``query``), else 3001;
- a reqid used before is refused with 3006 ("相同reqid再次请求");
- a text over 1024 bytes of UTF-8 is refused with 3010;
- success is ``{"reqid", "code": 3000, "message": "Success", "sequence": -1,
  "data": <base64 audio>, "addition": {"duration": "<ms>"}}``.

The HTTP status of a refused token is not documented; the fake answers 401 with the
documented message ("authenticate request: load grant: requested grant not found").
Other errors come, like successes, with HTTP 200 and the code in the JSON.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from quart import Quart, Response, request

from tests.loopback import tts_wav
from tests.speech.vendors.latency import Latency

from .serving import serve_asgi

MAX_TEXT_BYTES = 1024
RATES = (8000, 16000, 24000)
VOICES = frozenset({"BV001_streaming", "BV002_streaming", "BV700_streaming", "BV406_streaming"})
GRANT_NOT_FOUND = "authenticate request: load grant: requested grant not found"
CONCURRENCY = "quota exceeded for types: concurrency"


@dataclass
class Received:
    """One request as it arrived."""

    headers: dict[str, str]
    body: bytes


@dataclass
class Spoken:
    """What one accepted synthesis asked for."""

    reqid: str
    text: str
    audio: dict[str, Any]


class FakeVolcengine:
    """The endpoint, with switches for the failures a test needs.

    Args:
        appid: The APP ID it accepts.
        token: The access token it accepts (its own copy).
        latency: How slowly it answers (None: at once, with a short tone).
    """

    def __init__(
        self,
        *,
        appid: str = "1234567890",
        token: str = "fake-volcengine-token",
        latency: Latency | None = None,
    ) -> None:
        self.appid, self.token, self.latency = appid, token, latency
        self.revoked = False
        self.requests: list[Received] = []
        self.spoken: list[Spoken] = []
        self.reqids: set[str] = set()
        self.rate_limited = False
        self.failure: tuple[int, str] | None = None
        self.stalled = False
        self._released = asyncio.Event()
        self.base_url = ""  # set while serving
        self.app = Quart(__name__)
        self.app.add_url_rule("/api/v1/tts", view_func=self._speak, methods=["POST"])

    @property
    def said(self) -> list[str]:
        """Each text it spoke, in order."""
        return [s.text for s in self.spoken]

    def answer_error(self, code: int, message: str) -> None:
        """Answer every request with ``code`` and ``message`` from now on."""
        self.failure = (code, message)

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Serve on loopback until the block ends; yields the base URL."""
        async with serve_asgi(self.app) as base_url:
            self.base_url = base_url
            try:
                yield base_url
            finally:
                self._released.set()  # a stalled request ends with the server

    async def _speak(self) -> Response:
        body = await request.get_data(cache=True, as_text=False, parse_form_data=False)
        self.requests.append(Received({k.lower(): v for k, v in request.headers.items()}, body))
        if self.stalled:
            await self._released.wait()
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        reqid = str(_get(payload, "request", "reqid") or "")
        refusal = self._refusal(payload, reqid)
        if refusal is not None:
            return refusal
        self.reqids.add(reqid)
        text = str(_get(payload, "request", "text"))
        if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            return _answer(reqid, 3010, "文本长度超限")
        audio = payload["audio"]
        self.spoken.append(Spoken(reqid, text, audio))
        if self.latency is not None:
            await self.latency.wait(text)
            seconds = self.latency.audio_seconds(text)
            wav = self.latency.wav(audio["rate"], text)
        else:
            seconds = 0.05 + 0.01 * len(text)
            wav = tts_wav(audio["voice_type"], rate=audio["rate"], seconds=seconds)
        return _answer(
            reqid,
            3000,
            "Success",
            data=base64.b64encode(wav).decode("ascii"),
            addition={"duration": str(round(seconds * 1000))},
        )

    def _refusal(self, payload: Any, reqid: str) -> Response | None:
        """The answer to a request that is refused before any text is read, or None."""
        if request.headers.get("Authorization") != f"Bearer;{self.token}" or self.revoked:
            return _answer(reqid, 3001, GRANT_NOT_FOUND, status=401)
        if self.rate_limited:
            return _answer(reqid, 3003, CONCURRENCY)
        if self.failure is not None:
            return _answer(reqid, *self.failure)
        problem = "invalid json" if payload is None else _invalid(payload, self.appid)
        if problem:
            return _answer(reqid, 3001, problem)
        if reqid in self.reqids:
            return _answer(reqid, 3006, "reqid already used")
        return None


def _get(payload: Any, *path: str) -> Any:
    for key in path:
        payload = payload.get(key) if isinstance(payload, dict) else None
    return payload


def _invalid(payload: Any, appid: str) -> str:
    """What is wrong with a request's fields, or ""."""
    checks = [
        (_get(payload, "app", "appid") == appid, "app.appid"),
        (bool(_get(payload, "app", "token")), "app.token"),
        (_get(payload, "app", "cluster") == "volcano_tts", "app.cluster"),
        (bool(_get(payload, "user", "uid")), "user.uid"),
        (_get(payload, "audio", "voice_type") in VOICES, "audio.voice_type"),
        (_get(payload, "audio", "encoding") == "wav", "audio.encoding (the fake answers wav only)"),
        (_get(payload, "audio", "rate") in RATES, "audio.rate"),
        (_within(_get(payload, "audio", "speed_ratio"), 0.2, 3), "audio.speed_ratio"),
        (_within(_get(payload, "audio", "volume_ratio"), 0.1, 3), "audio.volume_ratio"),
        (_within(_get(payload, "audio", "pitch_ratio"), 0.1, 3), "audio.pitch_ratio"),
        (bool(_get(payload, "request", "reqid")), "request.reqid"),
        (bool(str(_get(payload, "request", "text") or "").strip()), "request.text"),
        (_get(payload, "request", "text_type") in (None, "plain"), "request.text_type"),
        (_get(payload, "request", "operation") == "query", "request.operation"),
    ]
    return ", ".join(f"invalid {name}" for ok, name in checks if not ok)


def _within(value: Any, low: float, high: float) -> bool:
    return value is None or (isinstance(value, int | float) and low <= value <= high)


def _answer(reqid: str, code: int, message: str, *, status: int = 200, **extra: Any) -> Response:
    body = {"reqid": reqid, "code": code, "operation": "query", "message": message, **extra}
    if code == 3000:
        body["sequence"] = -1
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
