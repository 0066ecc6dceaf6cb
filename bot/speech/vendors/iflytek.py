"""iFlytek's online speech synthesis (讯飞开放平台, 在线语音合成 流式版 WebAPI).

The vendor's page is 语音合成（流式版）WebAPI 文档,
https://www.xfyun.cn/doc/tts/online_tts/API.html. Each text is one WebSocket connection:

1. The handshake URL carries ``host``, ``date`` (RFC 1123, GMT) and ``authorization``:
   base64 of ``api_key="…", algorithm="hmac-sha256", headers="host date request-line",
   signature="…"``, the signature being base64(HMAC-SHA256(APISecret, "host: …\\ndate:
   …\\nGET /v2/tts HTTP/1.1")). The server refuses a date more than 300 s off its clock,
   so every connection is signed anew (there is no token to keep).
2. One JSON frame goes out: ``common.app_id``, ``business`` (raw PCM at 8 or 16 kHz, the
   voice, speed, volume, pitch, UTF-8 text) and ``data`` (status 2, the text in base64).
3. JSON frames come back with ``code`` (0: fine), ``message``, ``sid`` and ``data.audio``
   (base64 PCM) until ``data.status`` is 2.

A text longer than the vendor takes (less than 8000 UTF-8 bytes before base64) is said in
pieces cut at sentence ends and joined. The URL carries a signature, so the WebSocket
library's own logging (which prints request lines at DEBUG) is silenced here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from bot.config import Settings
from bot.errors import ConfigError, TTSError, VendorAuthError, VendorError, VendorRateLimitedError
from bot.speech.tts import IdentityValue
from bot.speech.vendors.common import (
    Voice,
    check_speaks,
    pcm_wav,
    require_settings,
    speak_in_pieces,
    utf8_bytes,
)

logger = logging.getLogger(__name__)

# The WebSocket library logs each request line (our signed URL) at DEBUG: not to be seen.
_SILENT = logging.getLogger(f"{__name__}.websocket")
_SILENT.disabled = True
_SILENT.propagate = False

VENDOR = "iflytek"
DEFAULT_URL = "wss://tts-api.xfyun.cn/v2/tts"
MAX_TEXT_UTF8_BYTES = 7999  # "base64编码前最大长度需小于8000字节"
SAMPLE_RATES = (8000, 16000)
_LAST_FRAME = 2

VOICES: tuple[Voice, ...] = (
    Voice("xiaoyan", "讯飞小燕，普通话女声"),
    Voice("aisjiuxu", "讯飞许久，普通话男声"),
    Voice("aisxping", "讯飞小萍，普通话女声"),
    Voice("aisjinger", "讯飞小婧，普通话女声"),
    Voice("aisbabyxu", "讯飞许小宝，普通话童声"),
)
"""The basic Mandarin voices of the WebAPI (more are bought in the console; any ``vcn``
it shows works)."""

_Error = tuple[str, type[VendorError]]
ERRORS: dict[int, _Error] = {
    10005: ("the APPID is not licensed for this service", VendorAuthError),
    10006: ("a parameter could not be read", VendorError),
    10007: ("a parameter value is invalid", VendorError),
    10010: ("the engine licence is insufficient", VendorAuthError),
    10019: ("the session timed out", VendorError),
    10101: ("the engine session had ended", VendorError),
    10109: ("the text length is invalid", VendorError),
    10160: ("the request is not valid JSON", VendorError),
    10161: ("the text is not valid base64", VendorError),
    10163: ("a parameter is missing or invalid", VendorError),
    10200: ("reading the request timed out", VendorError),
    10222: ("network error, or the request is over the interface's limit", VendorError),
    10313: ("the APPID is missing or does not match the APIKey", VendorAuthError),
    10317: ("invalid version", VendorError),
    10700: ("engine error", VendorError),
    11200: ("not licensed: the service or voice is not enabled, or the quota is used up", VendorAuthError),
    11201: ("the APPID's daily limit is reached", VendorRateLimitedError),
    11202: ("the per-second limit is reached", VendorRateLimitedError),
    11203: ("the licence has expired", VendorAuthError),
}
"""The vendor's error codes (its WebAPI pages' 错误码 tables): meaning and error class."""

_TOO_MANY_REQUESTS = 429
_HANDSHAKE_ERRORS: dict[int, str] = {
    401: "the signature was refused: check the APIKey and APISecret",
    403: "refused: the clock is more than 300 s off, or this IP is not on the console's allowlist",
}


def http_date(unix_seconds: float) -> str:
    """The RFC 1123 date the vendor signs (``Wed, 10 Jul 2019 07:35:43 GMT``)."""
    return email.utils.formatdate(unix_seconds, usegmt=True)


def signed_url(url: str, api_key: str, api_secret: str, date: str) -> str:
    """``url`` with the vendor's authentication query (host, date, authorization).

    Args:
        url: The WebSocket endpoint, without a query.
        api_key: The console's APIKey.
        api_secret: The console's APISecret.
        date: :func:`http_date` of now.

    Returns:
        The URL to open; it is a credential for 300 s and must not be logged.
    """
    split = urlsplit(url)
    host = split.netloc
    signed = f"host: {host}\ndate: {date}\nGET {split.path} HTTP/1.1"
    digest = hmac.new(api_secret.encode("utf-8"), signed.encode("utf-8"), hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode("ascii")
    authorization = base64.b64encode(
        f'api_key="{api_key}", algorithm="hmac-sha256", headers="host date request-line", '
        f'signature="{signature}"'.encode()
    ).decode("ascii")
    query = urlencode({"authorization": authorization, "date": date, "host": host}, quote_via=quote)
    return f"{url}?{query}"


class IflytekTTS:
    """Speech from iFlytek's streaming WebAPI, one signed connection per text.

    Args:
        app_id: The console's APPID.
        api_key: The console's APIKey.
        api_secret: The console's APISecret (signs each connection).
        voice: The voice (``vcn``), e.g. ``xiaoyan``.
        speed: 0–100 (50: normal).
        volume: 0–100 (50: normal).
        pitch: 0–100 (50: normal).
        sample_rate: 8000 or 16000 Hz of PCM asked for.
        url: The WebSocket endpoint (``ws://`` or ``wss://``, no query).
        timeout_seconds: Longest one request may take, connecting included.
        clock: Unix time now, for the signed date (tests pass their own).

    Raises:
        ValueError: An argument cannot describe a working request.
    """

    name = VENDOR
    remote = True  # its time is mostly waiting: a long text's sentences are asked at once

    def __init__(
        self,
        *,
        app_id: str,
        api_key: SecretStr,
        api_secret: SecretStr,
        voice: str = "xiaoyan",
        speed: int = 50,
        volume: int = 50,
        pitch: int = 50,
        sample_rate: int = 8000,
        url: str = DEFAULT_URL,
        timeout_seconds: float = 2.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _check(url, sample_rate, timeout_seconds, {"speed": speed, "volume": volume, "pitch": pitch})
        self.app_id, self.voice, self.url = app_id, voice, url
        self.speed, self.volume, self.pitch, self.sample_rate = speed, volume, pitch, sample_rate
        self.timeout_seconds = timeout_seconds
        self._api_key, self._api_secret, self._clock = api_key, api_secret, clock

    def __repr__(self) -> str:
        return f"IflytekTTS({self.url}, voice={self.voice!r}, {self.sample_rate} Hz)"

    def identity(self) -> dict[str, IdentityValue]:
        """What changes the audio: endpoint, voice, speed, volume, pitch, sample rate.

        Returns:
            A flat mapping without credentials.
        """
        return {
            "url": self.url,
            "voice": self.voice,
            "speed": self.speed,
            "volume": self.volume,
            "pitch": self.pitch,
            "sample_rate": self.sample_rate,
        }

    async def synthesize(self, text: str) -> bytes:
        """Speak ``text``, in pieces of the vendor's length if it is longer.

        Args:
            text: Normalised text.

        Returns:
            A WAV of 16-bit mono PCM at :attr:`sample_rate`.

        Raises:
            VendorError: The vendor answered an error code (its words kept).
            TTSError: No answer in time, the connection failed, or the answer held no
                audio. Messages never contain the text or the credentials.
        """
        return await speak_in_pieces(text, MAX_TEXT_UTF8_BYTES, self._speak, measure=utf8_bytes)

    async def check(self) -> str:
        """Say 您好 at start-up and check the answer is playable audio."""
        return await check_speaks(self)

    async def aclose(self) -> None:
        """Nothing to release: each text has its own connection, closed when it ends."""

    async def _speak(self, text: str) -> bytes:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                pcm = await self._exchange(text)
        except TimeoutError as exc:
            raise self._error(f"no answer within {self.timeout_seconds * 1000:.0f} ms") from exc
        return pcm_wav(pcm, self.sample_rate)

    async def _exchange(self, text: str) -> bytes:
        url = signed_url(
            self.url,
            self._api_key.get_secret_value(),
            self._api_secret.get_secret_value(),
            http_date(self._clock()),
        )
        try:
            async with connect(url, open_timeout=None, close_timeout=1, logger=_SILENT) as connection:
                await connection.send(json.dumps(self._request(text)))
                return await self._receive(connection)
        except InvalidStatus as exc:
            raise self._refused(exc.response.status_code, exc.response.body) from exc
        except ConnectionClosed as exc:
            raise self._error(f"the connection closed before the last audio frame ({exc})") from exc
        except OSError as exc:  # the OS's words (refused, unknown host), not the URL
            raise self._error(f"connection failed: {type(exc).__name__}: {exc}") from exc
        except WebSocketException as exc:  # its words may quote the signed URL
            raise self._error(f"WebSocket handshake failed ({type(exc).__name__})") from exc

    def _request(self, text: str) -> dict[str, Any]:
        return {
            "common": {"app_id": self.app_id},
            "business": {
                "aue": "raw",
                "auf": f"audio/L16;rate={self.sample_rate}",
                "vcn": self.voice,
                "speed": self.speed,
                "volume": self.volume,
                "pitch": self.pitch,
                "tte": "UTF8",
            },
            "data": {"status": 2, "text": base64.b64encode(text.encode("utf-8")).decode("ascii")},
        }

    async def _receive(self, connection: ClientConnection) -> bytes:
        audio: list[bytes] = []
        async for message in connection:
            data = self._data(message)
            audio.append(_audio(data.get("audio"), self._error))
            if data.get("status") == _LAST_FRAME:
                pcm = b"".join(audio)
                if not pcm:
                    raise self._error("answered no audio")
                return pcm
        raise self._error("closed the connection before the last audio frame")

    def _data(self, message: str | bytes) -> dict[str, Any]:
        """The ``data`` of one answer frame, or the vendor's error."""
        if isinstance(message, bytes):
            raise self._error(f"answered a binary frame of {len(message)} bytes, not JSON")
        try:
            answer = json.loads(message)
        except ValueError as exc:
            raise self._error("answered a frame that is not JSON") from exc
        if not isinstance(answer, dict):
            raise self._error("answered a frame that is not a JSON object")
        code = answer.get("code")
        if code != 0:
            raise vendor_error(code, str(answer.get("message", "")))
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    def _refused(self, status: int, body: bytes) -> VendorError:
        try:
            words = str(json.loads(body)["message"])
        except (ValueError, TypeError, KeyError):
            words = body[:200].decode("utf-8", "replace").strip() or f"HTTP {status}"
        if status == _TOO_MANY_REQUESTS:
            return VendorRateLimitedError(VENDOR, status, words, what="too many requests")
        what = _HANDSHAKE_ERRORS.get(status, f"the handshake was answered HTTP {status}")
        kind = VendorAuthError if status in _HANDSHAKE_ERRORS else VendorError
        return kind(VENDOR, status, words, what=what)

    def _error(self, reason: str) -> TTSError:
        return TTSError(f"{VENDOR}: {reason}", backend=VENDOR)


def vendor_error(code: object, message: str) -> VendorError:
    """The tree's error for one of the vendor's codes (an unknown code is a plain one)."""
    number = code if isinstance(code, int) else -1
    what, kind = ERRORS.get(number, ("", VendorError))
    return kind(VENDOR, str(code), message, what=what)


def _audio(value: object, error: Callable[[str], TTSError]) -> bytes:
    if value is None or value == "":
        return b""
    if not isinstance(value, str):
        raise error(f"data.audio is {type(value).__name__}, not base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error("data.audio is not valid base64") from exc


def _check(url: str, sample_rate: int, timeout_seconds: float, levels: dict[str, int]) -> None:
    split = urlsplit(url)
    if split.scheme not in ("ws", "wss") or not split.hostname or split.query:
        raise ValueError(f"{url!r} is not a ws:// or wss:// URL without a query")
    if sample_rate not in SAMPLE_RATES:
        raise ValueError(f"the sample rate must be 8000 or 16000 Hz, not {sample_rate}")
    if timeout_seconds <= 0:
        raise ValueError(f"timeout_seconds must be > 0, not {timeout_seconds}")
    for name, level in levels.items():
        if not 0 <= level <= 100:
            raise ValueError(f"{name} must be 0–100, not {level}")


_CREDENTIALS = ("tts_iflytek_app_id", "tts_iflytek_api_key", "tts_iflytek_api_secret")


def build(settings: Settings) -> IflytekTTS:
    """The backend ``VOICEBOT_TTS=iflytek`` asks for, from ``VOICEBOT_TTS_IFLYTEK_*``.

    Raises:
        ConfigError: A credential is not set (each missing variable named), or a
            setting cannot describe a working request.
    """
    require_settings(VENDOR, {f"VOICEBOT_{name.upper()}": getattr(settings, name) for name in _CREDENTIALS})
    assert settings.tts_iflytek_app_id is not None
    assert settings.tts_iflytek_api_key is not None
    assert settings.tts_iflytek_api_secret is not None
    try:
        return IflytekTTS(
            app_id=settings.tts_iflytek_app_id,
            api_key=settings.tts_iflytek_api_key,
            api_secret=settings.tts_iflytek_api_secret,
            voice=settings.tts_iflytek_voice,
            speed=settings.tts_iflytek_speed,
            volume=settings.tts_iflytek_volume,
            pitch=settings.tts_iflytek_pitch,
            sample_rate=settings.tts_iflytek_sample_rate,
            url=settings.tts_iflytek_url,
            timeout_seconds=settings.tts_timeout_ms / 1000,
        )
    except ValueError as exc:
        raise ConfigError(f"VOICEBOT_TTS_IFLYTEK_*: {exc}") from exc
