"""Baidu's short-text TTS and its OAuth token service on loopback (a Quart app for
:func:`tests.speech.vendors.serving.serve_asgi`).

Written from the vendor's pages (短文本在线合成API, https://ai.baidu.com/ai-doc/SPEECH/mlbxh7xie;
错误码汇总及反馈, https://ai.baidu.com/ai-doc/SPEECH/Albxhaijw; 鉴权认证机制,
https://ai.baidu.com/ai-doc/REFERENCE/Lkru0zoz4), not from the client's code:

- ``/oauth/2.0/token`` takes ``grant_type=client_credentials``, ``client_id`` and
  ``client_secret`` in its query (POST, as the page recommends, or GET, as the official
  SDK sends it); a wrong key or secret is the documented ``invalid_client`` answer.
- ``/text2audio`` takes the form fields of the page. ``tex`` is decoded twice, as the
  server must to honour "tex参数兼容一次urlencode, 推荐两次urlencode" (encoded once, a
  ``+`` is read as a space), counted in GBK bytes (1024 or more: refused, 501) and
  recorded; a character outside GBK is the documented 503. A token the fake did not
  issue, revoked or expired is answered 502. Success is 16-bit mono PCM of a sine tone at
  the rate ``aue`` names (5: 8 kHz, 4: 16 kHz), ``Content-Type: audio/…``.

Tests can revoke every token, make the next synthesis answer an error code or a rate
limit, or stall it past the client's timeout.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from quart import Quart, Response, jsonify, request

from tests.speech.vendors.fake_iflytek import sine_pcm
from tests.speech.vendors.latency import Latency

MAX_TEXT_GBK_BYTES = 1024  # must be less than this
RATE_BY_AUE = {"5": 8000, "4": 16000}
SECONDS_PER_CHARACTER = 0.05
TOKEN_LIFETIME_SECONDS = 2_592_000  # 30 days, as the page's example answers
STALL_SECONDS = 30.0


@dataclass
class TokenRequest:
    """One request to the token service, as it arrived."""

    method: str
    query: str
    params: dict[str, str]


@dataclass
class FakeBaidu:
    """The vendor's side, with its own copy of the credentials.

    Attributes:
        texts: Every text it was asked to say, decoded, in order.
        forms: Every synthesis form, with ``tex`` decoded.
        token_requests: Every token request.
        stall: Answer syntheses only after :data:`STALL_SECONDS` while true.
        latency: How slowly it answers (None: at once, with a short tone).
    """

    api_key: str
    secret_key: str
    clock: Callable[[], float] = time.time
    token_lifetime_seconds: int = TOKEN_LIFETIME_SECONDS
    texts: list[str] = field(default_factory=list)
    forms: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[TokenRequest] = field(default_factory=list)
    stall: bool = False
    latency: Latency | None = None
    _tokens: dict[str, float] = field(default_factory=dict)
    _failures: list[tuple[int, str]] = field(default_factory=list)
    _raw: list[tuple[int, str, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = Quart(__name__)
        self.app.add_url_rule("/oauth/2.0/token", view_func=self._token, methods=["GET", "POST"])
        self.app.add_url_rule("/text2audio", view_func=self._text2audio, methods=["POST"])

    def revoke_tokens(self) -> None:
        """Every token issued so far is refused from now on."""
        self._tokens.clear()

    def fail_next(self, err_no: int, err_msg: str) -> None:
        """Answer the next synthesis with the vendor's error ``err_no``."""
        self._failures.append((err_no, err_msg))

    def answer_next(self, status: int, content_type: str, body: bytes) -> None:
        """Answer the next synthesis with this, as it is (a gateway's page, MP3…)."""
        self._raw.append((status, content_type, body))

    def rate_limit_next(self) -> None:
        """Answer the next synthesis with the QPS limit's code (13)."""
        self.fail_next(13, "Open api qps request limit reached")

    # --- the token service ---

    async def _token(self) -> Response:
        query = request.query_string.decode("ascii")
        params = {name: values[0] for name, values in parse_qs(query).items()}
        self.token_requests.append(TokenRequest(request.method, query, params))
        if params.get("grant_type") != "client_credentials":
            return _json(
                {"error": "unsupported_grant_type", "error_description": "unsupported grant type"}, 400
            )
        if params.get("client_id") != self.api_key:
            return _json({"error": "invalid_client", "error_description": "unknown client id"}, 401)
        if params.get("client_secret") != self.secret_key:
            return _json(
                {"error": "invalid_client", "error_description": "Client authentication failed"}, 401
            )
        token = f"24.{secrets.token_hex(16)}.{self.token_lifetime_seconds}.{int(self.clock())}.282335-8574074"
        self._tokens[token] = self.clock() + self.token_lifetime_seconds
        return _json(
            {"access_token": token, "expires_in": self.token_lifetime_seconds, "scope": "audio_tts_post"}
        )

    # --- synthesis ---

    async def _text2audio(self) -> Response:
        form = dict((await request.form).items())
        if "tex" in form:
            form["tex"] = unquote_plus(form["tex"])  # the second decoding
        self.forms.append(form)
        if self.stall:
            await asyncio.sleep(STALL_SECONDS)
        if self._raw:
            status, content_type, body = self._raw.pop(0)
            return Response(body, status=status, content_type=content_type)
        problem = self._problem(form)
        if problem is not None:
            return _json({"err_no": problem[0], "err_msg": problem[1], "sn": secrets.token_hex(8), "idx": 1})
        self.texts.append(form["tex"])
        rate = RATE_BY_AUE[form["aue"]]
        if self.latency is not None:
            await self.latency.wait(form["tex"])
            pcm = self.latency.pcm(rate, form["tex"])
        else:
            pcm = sine_pcm(rate, SECONDS_PER_CHARACTER * len(form["tex"]))
        return Response(pcm, content_type=f"audio/basic;codec=pcm;rate={rate};channel=1")

    def _problem(self, form: dict[str, str]) -> tuple[int, str] | None:
        if self._failures:
            return self._failures.pop(0)
        expires_at = self._tokens.get(form.get("tok", ""))
        if expires_at is None or self.clock() >= expires_at:
            return 502, "authentication failed."
        if not _required(form) or not _levels(form) or form.get("aue", "5") not in RATE_BY_AUE:
            return 501, "parameter error."
        try:
            size = len(form["tex"].encode("gbk"))
        except UnicodeEncodeError:
            return 503, "backend error."
        if size >= MAX_TEXT_GBK_BYTES:
            return 501, "parameter error."
        return None


def _required(form: dict[str, str]) -> bool:
    return (
        bool(form.get("tex"))
        and form.get("ctp") == "1"
        and form.get("lan") == "zh"
        and bool(form.get("cuid"))
    )


def _levels(form: dict[str, str]) -> bool:
    for name in ("spd", "pit", "vol"):
        value = form.get(name, "5")
        if not value.isdigit() or int(value) > 15:
            return False
    return form.get("per", "0").isdigit()


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
