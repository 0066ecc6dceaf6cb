"""Alibaba Cloud's speech service on loopback, as its documentation describes it.

Two routes of one Quart app (serve it with ``serving.serve_asgi``):

- ``GET /?<query>`` or ``POST /`` with a form body: CreateToken of the POP API
  ("通过OpenAPI获取Token", https://help.aliyun.com/document_detail/113251.html). The
  signature is checked the way that page and Alibaba Cloud's POP signing rules say,
  from the raw parameters and this fake's own copy of the AccessKey secret, written
  apart from the client's signer: every parameter but ``Signature``, names and values
  UTF-8 percent-encoded with only ``A-Za-z0-9-_.~`` left bare, sorted, ``&``-joined,
  percent-encoded once more behind ``<method>&%2F&``, HMAC-SHA1 keyed ``<secret>&``,
  base64. Stale timestamps (15 minutes)
  and reused nonces are refused as the POP gateway refuses them.
- ``POST /stream/v1/tts``: short-text synthesis ("语音合成 RESTful API",
  https://help.aliyun.com/document_detail/94737.html): the appkey and token are
  checked, text beyond 300 characters is cut off (as documented: no error), and the
  answer is a tone of the asked rate, as raw PCM or WAV, with ``Content-Type:
  audio/mpeg`` as the service sends; a refusal is JSON ``{task_id, result, status,
  message}`` with the vendor's status codes and words.

Tests steer it: expire the tokens it issued, queue a status code or a rate limit,
refuse the next token request, or stall past the client's timeout; ``latency`` makes it
answer as slowly as the vendor does (``tests/speech/vendors/latency.py``).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import io
import time
import uuid
import wave
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from quart import Quart, Response, jsonify, request

from tests.loopback import tts_wav
from tests.speech.vendors.latency import Latency

MAX_TEXT_CHARS = 300
TOO_MANY_REQUESTS = (40000005, "Gateway:TOO_MANY_REQUESTS:Too many requests!")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_VOICES = frozenset(
    ("xiaoyun", "xiaogang", "ruoxi", "siqi", "sijia", "sicheng", "aiqi", "aicheng", "siyue", "aixia")
)


def rfc3986(text: str) -> str:
    """Percent-encoding byte by byte, as the POP signing rules spell it out."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def expected_signature(pairs: list[tuple[str, str]], secret: str, method: str) -> str:
    """The POP signature of a request with these (decoded) parameters, ``Signature`` excluded."""
    canonical = "&".join(f"{rfc3986(k)}={rfc3986(v)}" for k, v in sorted(pairs, key=lambda p: p[0]))
    string_to_sign = method + "&" + rfc3986("/") + "&" + rfc3986(canonical)
    mac = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


@dataclass
class FakeAliyun:
    """The fake's state and controls; ``app`` is the ASGI app to serve."""

    access_key_id: str = "LTAI5tFakeAccessKeyId"
    access_key_secret: str = "FakeAccessKeySecret0123456789"
    appkey: str = "FakeAppkey123"
    token_lifetime_seconds: float = 36 * 3600
    stall_seconds: float = 0.0
    latency: Latency | None = None  # None: answers at once, with a short tone
    said: list[str] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    token_parameters: list[str] = field(default_factory=list)
    tts_requests: int = 0
    issued: dict[str, float] = field(default_factory=dict)  # token → expiry, Unix seconds
    _nonces: set[str] = field(default_factory=set)
    _tts_failures: deque[tuple[int, str]] = field(default_factory=deque)
    _token_failures: deque[tuple[int, str, str]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.app = Quart(__name__)
        self.app.add_url_rule("/", "create_token", self._create_token, methods=["GET", "POST"])
        self.app.add_url_rule("/stream/v1/tts", "tts", self._tts, methods=["POST"])

    # --- controls ---

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (the client does not know)."""
        for token in self.issued:
            self.issued[token] = 0.0

    def fail_next(self, status: int, message: str) -> None:
        """The next synthesis request is answered with this status code and message."""
        self._tts_failures.append((status, message))

    def rate_limit_next(self) -> None:
        """The next synthesis request is refused as too many requests."""
        self.fail_next(*TOO_MANY_REQUESTS)

    def refuse_next_token(self, http_status: int, code: str, message: str) -> None:
        """The next CreateToken request is answered with this POP error."""
        self._token_failures.append((http_status, code, message))

    # --- CreateToken ---

    async def _create_token(self) -> Response:
        if request.method == "POST":
            if request.content_type != "application/x-www-form-urlencoded":
                return _pop_error(400, "InvalidParameter", "POST parameters must be a form body.")
            raw_query = (await request.get_data(cache=True, as_text=False, parse_form_data=False)).decode(
                "ascii"
            )
        else:
            raw_query = request.query_string.decode("ascii")
        self.token_parameters.append(raw_query)
        pairs = [
            (unquote(k), unquote(v)) for k, _, v in (part.partition("=") for part in raw_query.split("&"))
        ]
        params = dict(pairs)
        refusal = self._refuse_token(pairs, params)
        if refusal is not None:
            return refusal
        token = uuid.uuid4().hex
        self.issued[token] = time.time() + self.token_lifetime_seconds
        answer = {
            "ErrMsg": "",
            "NlsRequestId": uuid.uuid4().hex,
            "RequestId": str(uuid.uuid4()).upper(),
            "Token": {"ExpireTime": int(self.issued[token]), "Id": token, "UserId": "1234567890123456"},
        }
        return jsonify(answer)

    def _refuse_token(self, pairs: list[tuple[str, str]], params: dict[str, str]) -> Response | None:  # noqa: PLR0911  # one early answer per documented refusal, in the service's order
        if self._token_failures:
            return _pop_error(*self._token_failures.popleft())
        required: tuple[str, ...] = ("AccessKeyId", "Action", "Version", "Format", "RegionId", "Timestamp")
        required += ("SignatureMethod", "SignatureVersion", "SignatureNonce", "Signature")
        missing = [name for name in required if not params.get(name)]
        if missing:
            return _pop_error(400, "MissingParameter", f"{missing[0]} is mandatory for this action.")
        if (params["Action"], params["Version"], params["Format"]) != ("CreateToken", "2019-02-28", "JSON"):
            return _pop_error(404, "InvalidAction.NotFound", "Specified api is not found.")
        if (params["SignatureMethod"], params["SignatureVersion"]) != ("HMAC-SHA1", "1.0"):
            return _pop_error(400, "InvalidSignatureMethod", "Specified signature method is not valid.")
        if params["AccessKeyId"] != self.access_key_id:
            return _pop_error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        try:
            sent_at = dt.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            return _pop_error(400, "InvalidTimeStamp.Format", "Specified time stamp is not well formatted.")
        if abs(time.time() - sent_at.timestamp()) > 15 * 60:
            return _pop_error(
                400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
            )
        if params["SignatureNonce"] in self._nonces:
            return _pop_error(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        self._nonces.add(params["SignatureNonce"])
        unsigned = [(k, v) for k, v in pairs if k != "Signature"]
        if params["Signature"] != expected_signature(unsigned, self.access_key_secret, request.method):
            return _pop_error(
                400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
            )
        return None

    # --- synthesis ---

    async def _tts(self) -> Response:
        self.tts_requests += 1
        body: Any = await request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            return _tts_error(40000003, "PARAMETER_INVALID: Failed to decode json body")
        if self.stall_seconds:
            await asyncio.sleep(self.stall_seconds)
        refusal = self._refuse_tts(body)
        if refusal is not None:
            return refusal
        text = str(body["text"])
        if len(text) > MAX_TEXT_CHARS:
            self.truncated.append(text)
            text = text[:MAX_TEXT_CHARS]
        self.said.append(text)
        rate = int(body.get("sample_rate", 16000))
        if self.latency is not None:
            await self.latency.wait(text)
            wav = self.latency.wav(rate, text)
        else:
            wav = tts_wav(str(body.get("voice", "xiaoyun")), rate=rate, seconds=0.05 + 0.02 * len(text))
        audio = wav if body.get("format") == "wav" else _frames(wav)
        return Response(audio, status=200, content_type="audio/mpeg")

    def _refuse_tts(self, body: dict[str, Any]) -> Response | None:  # noqa: PLR0911  # one early answer per documented refusal, in the service's order
        if body.get("appkey") != self.appkey:
            return _tts_error(40020105, "Meta:APPKEY_NOT_EXIST:Appkey not exist!")
        token = body.get("token") or request.headers.get("X-NLS-Token", "")
        if token not in self.issued:
            return _tts_error(40000001, f"Meta:ACCESS_DENIED:The token '{token}' is invalid!")
        if self.issued[token] <= time.time():
            return _tts_error(40000001, f"Meta:ACCESS_DENIED:The token '{token}' has expired!")
        if self._tts_failures:
            return _tts_error(*self._tts_failures.popleft())
        if not body.get("text"):
            return _tts_error(40010003, "Gateway:DIRECTIVE_INVALID:No text specified!")
        if body.get("format", "pcm") not in ("pcm", "wav"):
            return _tts_error(41020001, f"TTS:TtsClientError:unsupported format {body.get('format')}")
        if body.get("sample_rate", 16000) not in (8000, 16000):
            return _tts_error(41010101, "UNSUPPORTED_SAMPLE_RATE")
        if body.get("voice", "xiaoyun") not in _VOICES:
            return _tts_error(41020001, "TTS:TtsClientError:SetVoice RetCode[2] invalid voice name")
        return None


def _pop_error(http_status: int, code: str, message: str) -> Response:
    answer = {
        "RequestId": str(uuid.uuid4()).upper(),
        "HostId": "nls-meta.cn-shanghai.aliyuncs.com",
        "Code": code,
        "Message": message,
        "Recommend": "https://api.aliyun.com/troubleshoot",
    }
    response = jsonify(answer)
    response.status_code = http_status
    return response


def _tts_error(status: int, message: str) -> Response:
    response = jsonify({"task_id": uuid.uuid4().hex, "result": "", "status": status, "message": message})
    response.status_code = 400
    return response


def _frames(wav: bytes) -> bytes:
    with wave.open(io.BytesIO(wav), "rb") as reader:
        return reader.readframes(reader.getnframes())
