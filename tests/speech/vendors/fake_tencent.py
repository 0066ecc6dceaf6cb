"""Tencent Cloud's TextToVoice (API 3.0) on loopback, as its documentation describes it.

One route, ``POST /``, of a Quart app (serve it with ``serving.serve_asgi``):

- The signature is checked the way "签名方法 v3" (Signature v3,
  https://cloud.tencent.com/document/api/1073/37990) spells it out, from the request
  as received and this fake's own copy of the SecretKey, written apart from the
  client's signer: the headers named in ``SignedHeaders`` (lower-cased, trimmed,
  ``name:value\\n`` each), the SHA-256 of the raw body, the credential scope's date
  checked against the UTC date of ``X-TC-Timestamp``, a timestamp more than five
  minutes off refused as ``AuthFailure.SignatureExpire``.
- The body is TextToVoice's ("基础语音合成", https://cloud.tencent.com/document/api/1073/37995):
  a text of more than 150 Chinese characters or 500 letters is refused with
  ``InvalidParameterValue.TextTooLong``; the answer is ``{"Response": {"Audio": <base64
  WAV of a tone at the asked rate>, "SessionId", "RequestId"}}``, a refusal
  ``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``, both HTTP 200.

Tests steer it: expire the next signatures, revoke the key, queue an error code or a
rate limit, skew its clock, or stall past the client's timeout; ``latency`` makes it answer
as slowly as the vendor does (``tests/speech/vendors/latency.py``).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from quart import Quart, Response, jsonify, request

from tests.loopback import tts_wav
from tests.speech.vendors.latency import Latency

RATE_LIMITED = (
    "RequestLimitExceeded",
    "Your current request times equals to `21` in a second, which exceeds the frequency limit `20` for a "
    "second. Please reduce the frequency of calls.",
)
_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)/tc3_request, "
    r"SignedHeaders=(?P<headers>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)
_VOICE_TYPES = frozenset((101001, 101002, 101003, 101004, 101005, 101006, 101007, 101008, 101009, 101010))


@dataclass
class Received:
    """One request as it arrived: headers (names lower-cased) and the raw body."""

    headers: dict[str, str]
    body: bytes


def signing_key(secret_key: str, date: str, service: str) -> bytes:
    """The derived key: HMAC-SHA256 of the date with ``TC3`` + SecretKey, then of the
    service, then of ``tc3_request``."""
    k_date = hmac.new(("TC3" + secret_key).encode("utf-8"), date.encode("utf-8"), hashlib.sha256).digest()
    k_service = hmac.new(k_date, service.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(k_service, b"tc3_request", hashlib.sha256).digest()


def expected_signature(received: Received, secret_key: str, *, date: str, service: str, names: str) -> str:
    """The hex signature this request should carry, for the headers named in ``names``."""
    canonical_headers = "".join(
        f"{n}:{received.headers.get(n, '').strip().lower()}\n" for n in names.split(";")
    )
    body_hash = hashlib.sha256(received.body).hexdigest()
    canonical = f"POST\n/\n\n{canonical_headers}\n{names}\n{body_hash}"
    timestamp = received.headers.get("x-tc-timestamp", "")
    scope = f"{date}/{service}/tc3_request"
    to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
    )
    key = signing_key(secret_key, date, service)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def too_long(text: str) -> bool:
    """Over the documented limit: 150 Chinese characters, or 500 letters, or a mix
    that takes more than their whole allowance between them."""
    chinese = sum(1 for character in text if not character.isascii())
    letters = len(text) - chinese
    return chinese * 500 + letters * 150 > 150 * 500


@dataclass
class FakeTencent:
    """The fake's state and controls; ``app`` is the ASGI app to serve."""

    secret_id: str = "AKIDFakeSecretId0123456789abcdefEXAMPLE"
    secret_key: str = "FakeSecretKey0123456789EXAMPLE"
    clock_skew_seconds: float = 0.0
    stall_seconds: float = 0.0
    latency: Latency | None = None  # None: answers at once, with a short tone
    revoked: bool = False
    said: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    _expire_next: int = 0
    _failures: deque[tuple[str, str]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.app = Quart(__name__)
        self.app.add_url_rule("/", "api", self._api, methods=["POST"])

    # --- controls ---

    def expire_next_signatures(self, count: int = 1) -> None:
        """The next ``count`` requests are refused as signed too long ago."""
        self._expire_next += count

    def fail_next(self, code: str, message: str) -> None:
        """The next request (once its signature passed) is answered with this error."""
        self._failures.append((code, message))

    def rate_limit_next(self) -> None:
        """The next request is refused for the rate limit."""
        self.fail_next(*RATE_LIMITED)

    # --- the API ---

    async def _api(self) -> Response:
        received = Received(
            {k.lower(): v for k, v in request.headers.items()},
            await request.get_data(cache=True, as_text=False, parse_form_data=False),
        )
        self.received.append(received)
        if self.stall_seconds:
            await asyncio.sleep(self.stall_seconds)
        refusal = self._authenticate(received) or self._check_action(received)
        if refusal is not None:
            return _error(*refusal)
        if self._failures:
            return _error(*self._failures.popleft())
        return await self._text_to_voice(received)

    def _authenticate(self, received: Received) -> tuple[str, str] | None:  # noqa: PLR0911  # one early answer per documented refusal, in the service's order
        match = _AUTHORIZATION.match(received.headers.get("authorization", ""))
        if match is None:
            return "AuthFailure.InvalidAuthorization", "Authorization is invalid."
        if match["id"] != self.secret_id or self.revoked:
            return (
                "AuthFailure.SecretIdNotFound",
                "The SecretId is not found, please ensure that it is correct.",
            )
        try:
            timestamp = int(received.headers.get("x-tc-timestamp", ""))
        except ValueError:
            return "MissingParameter", "The request is missing a valid X-TC-Timestamp."
        now = time.time() + self.clock_skew_seconds
        if self._expire_next or abs(now - timestamp) > 300:
            self._expire_next = max(0, self._expire_next - 1)
            return "AuthFailure.SignatureExpire", f"Signature expired. Timestamp:{timestamp}, now:{int(now)}."
        date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
        if match["date"] != date or match["service"] != "tts" or "host" not in match["headers"].split(";"):
            return "AuthFailure.SignatureFailure", "The credential scope does not match the request."
        expected = expected_signature(
            received, self.secret_key, date=date, service="tts", names=match["headers"]
        )
        if not hmac.compare_digest(expected, match["signature"]):
            return "AuthFailure.SignatureFailure", "The provided credentials could not be validated."
        return None

    def _check_action(self, received: Received) -> tuple[str, str] | None:
        if received.headers.get("x-tc-action") != "TextToVoice":
            return "InvalidAction", "The action does not exist."
        if received.headers.get("x-tc-version") != "2019-08-23":
            return "NoSuchVersion", "The API version does not exist."
        return None

    async def _text_to_voice(self, received: Received) -> Response:  # noqa: PLR0911  # one early answer per documented refusal, in the service's order
        try:
            body: Any = json.loads(received.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error("InvalidParameterValue.TextNotUtf8", "The request body is not UTF-8 JSON.")
        text = body.get("Text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text:
            return _error("InvalidParameterValue.TextEmpty", "Text is empty.")
        if too_long(text):
            return _error("InvalidParameterValue.TextTooLong", "The text is too long.")
        if body.get("SampleRate", 16000) not in (8000, 16000, 24000):
            return _error("InvalidParameterValue.SampleRate", "SampleRate is invalid.")
        if body.get("VoiceType") not in _VOICE_TYPES:
            return _error("InvalidParameterValue.VoiceType", "VoiceType is invalid.")
        if body.get("Codec", "wav") != "wav":
            return _error("InvalidParameterValue.Codec", "This fake answers wav only.")
        self.said.append(text)
        rate = int(body.get("SampleRate", 16000))
        if self.latency is not None:
            await self.latency.wait(text)
            wav = self.latency.wav(rate, text)
        else:
            wav = tts_wav(str(body["VoiceType"]), rate=rate, seconds=0.05 + 0.02 * len(text))
        answer = {
            "Audio": base64.b64encode(wav).decode("ascii"),
            "SessionId": body.get("SessionId", ""),
            "Subtitles": [],
            "RequestId": str(uuid.uuid4()),
        }
        return jsonify({"Response": answer})


def _error(code: str, message: str) -> Response:
    return jsonify(
        {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}}
    )
