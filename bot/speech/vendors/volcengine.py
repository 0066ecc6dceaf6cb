"""Volcengine (火山引擎) speech synthesis through its HTTP, non-streaming API (``/api/v1/tts``).

What the vendor documents, and this module follows (豆包语音 docs: "HTTP接口(一次性合成-非流式)",
https://www.volcengine.com/docs/6561/79820, and "参数基本说明",
https://www.volcengine.com/docs/6561/79823):

- ``POST https://openspeech.bytedance.com/api/v1/tts`` with the header
  ``Authorization: Bearer;<token>`` (a semicolon, not a space) and a JSON body:
  ``app`` (appid, token, cluster), ``user`` (uid), ``audio`` (voice_type, encoding,
  rate, speed_ratio, volume_ratio, pitch_ratio) and ``request`` (reqid, text,
  text_type, operation ``query``, the only one HTTP allows).
- ``reqid`` must be unique for every call: a new UUID per request. The vendor refuses
  a reqid used before (3006).
- The answer is JSON: ``code`` 3000 and ``message`` "Success" with the audio, base64,
  in ``data`` (here a WAV, ``encoding: wav``); any other code is an error
  (:data:`ERRORS`, the vendor's "返回码说明" table).
- The text is at most 1024 bytes of UTF-8 (:data:`MAX_TEXT_BYTES`): a longer text is
  said in pieces cut at sentence ends, and joined.
- The token is the application's access token from the console: it does not expire
  and there is nothing to fetch, so a refused token (the vendor's "authenticate
  request: load grant: requested grant not found") is a :class:`VendorAuthError`
  at once, with no retry.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from typing import Any

import httpx
from pydantic import SecretStr

from bot.config import Settings
from bot.errors import ConfigError, TTSError, VendorAuthError, VendorError, VendorRateLimitedError
from bot.speech.tts import IdentityValue
from bot.speech.vendors.common import (
    Voice,
    check_speaks,
    http_client,
    post,
    require_settings,
    speak_in_pieces,
    utf8_bytes,
)
from bot.speech.wav import is_wav, read_pcm

logger = logging.getLogger(__name__)

VENDOR = "volcengine"
MAX_TEXT_BYTES = 1024
"""The vendor's limit on ``request.text``, in bytes of UTF-8."""

SUCCESS = 3000
SAMPLE_RATES = (8000, 16000, 24000)
ERRORS: dict[int, str] = {
    3001: "invalid request: a parameter's value is not allowed",
    3003: "concurrency limit exceeded",
    3005: "backend busy",
    3006: "service interrupted: a reqid used again after its request ended",
    3010: "text too long for one request",
    3011: "invalid text: empty, only punctuation, or not the voice's language",
    3030: "processing timed out",
    3031: "processing error in the backend",
    3032: "timed out waiting for the audio",
    3040: "backend connection error",
    3050: "no such voice_type",
}
"""Each code of the vendor's "返回码说明" table, in short English."""

RATE_LIMITED = frozenset({3003})
_AUTH_WORDS = "authenticate request"
_QUOTA_WORDS = "quota exceeded"

VOICES: tuple[Voice, ...] = (
    Voice("BV001_streaming", "通用女声"),
    Voice("BV002_streaming", "通用男声"),
    Voice("BV001_V2_streaming", "通用女声 2.0"),
    Voice("BV700_streaming", "灿灿"),
    Voice("BV700_V2_streaming", "灿灿 2.0"),
    Voice("BV705_streaming", "炀炀"),
    Voice("BV701_streaming", "擎苍"),
    Voice("BV406_streaming", "超自然音色-梓梓"),
    Voice("BV407_streaming", "超自然音色-燃燃"),
    Voice("BV104_streaming", "温柔淑女"),
    Voice("BV004_streaming", "开朗青年"),
    Voice("BV102_streaming", "儒雅青年"),
)
"""Voices of the volcano_tts cluster, named as the vendor's 音色列表 names them
(https://www.volcengine.com/docs/6561/97465)."""

_USER_ID = "voicebot"  # user.uid: any non-empty value; the vendor's logs show it


class VolcengineTTS:
    """Speech from Volcengine's HTTP speech synthesis.

    One connection pool per backend; :meth:`aclose` closes it.

    Args:
        appid: The application's APP ID.
        token: The application's access token.
        cluster: The voice's cluster (``volcano_tts`` for the standard voices).
        voice: The ``voice_type`` (``BV001_streaming``).
        speed: ``speed_ratio``, 0.2 to 3.
        volume: ``volume_ratio``, 0.1 to 3.
        pitch: ``pitch_ratio``, 0.1 to 3.
        sample_rate: 8000, 16000 or 24000 Hz.
        url: The endpoint.
        timeout_ms: Longest wait for a whole answer.

    Raises:
        ValueError: A value the vendor does not accept.
    """

    name = VENDOR
    remote = True  # its time is mostly waiting: a long text's sentences are asked at once

    def __init__(
        self,
        *,
        appid: str,
        token: SecretStr,
        cluster: str = "volcano_tts",
        voice: str = "BV001_streaming",
        speed: float = 1.0,
        volume: float = 1.0,
        pitch: float = 1.0,
        sample_rate: int = 8000,
        url: str = "https://openspeech.bytedance.com/api/v1/tts",
        timeout_ms: int = 2500,
    ) -> None:
        if sample_rate not in SAMPLE_RATES:
            raise ValueError(f"Volcengine offers 8000, 16000 or 24000 Hz, not {sample_rate}")
        if not (0.2 <= speed <= 3 and 0.1 <= volume <= 3 and 0.1 <= pitch <= 3) or timeout_ms <= 0:
            raise ValueError(
                f"speed {speed} (0.2-3), volume {volume} (0.1-3), pitch {pitch} (0.1-3), "
                f"timeout {timeout_ms} ms (> 0)"
            )
        self.appid, self._token, self.cluster, self.url = appid, token, cluster, url
        self.voice, self.speed, self.volume, self.pitch = voice, speed, volume, pitch
        self.sample_rate, self.timeout_ms = sample_rate, timeout_ms
        self._client = http_client(timeout_ms / 1000)

    def __repr__(self) -> str:
        return f"VolcengineTTS({self.url}, voice={self.voice!r}, {self.sample_rate} Hz)"

    def identity(self) -> dict[str, IdentityValue]:
        """Voice, cluster, speed, volume, pitch, sample rate and the endpoint; never the token.

        Returns:
            A flat mapping that changes whenever the audio would.
        """
        return {
            "voice": self.voice,
            "cluster": self.cluster,
            "speed": self.speed,
            "volume": self.volume,
            "pitch": self.pitch,
            "sample_rate": self.sample_rate,
            "url": self.url,
        }

    async def synthesize(self, text: str) -> bytes:
        """Say ``text``, in pieces of at most :data:`MAX_TEXT_BYTES` bytes of UTF-8.

        Args:
            text: Normalised text.

        Returns:
            A mono PCM WAV at :attr:`sample_rate`.

        Raises:
            VendorAuthError: The token (or appid) was refused.
            VendorRateLimitedError: The concurrency limit or a quota was hit.
            VendorError: Another code of the vendor's, with its message.
            TTSError: No answer within the timeout, or an answer without a WAV.
        """
        return await speak_in_pieces(text, MAX_TEXT_BYTES, self._speak, measure=utf8_bytes)

    async def check(self) -> str:
        """Say 您好 at start-up and check the answer is playable audio."""
        return await check_speaks(self)

    async def aclose(self) -> None:
        """Close the connection pool (at shutdown)."""
        await self._client.aclose()

    async def _speak(self, piece: str) -> bytes:
        token = self._token.get_secret_value()
        body = json.dumps(self._request(piece, token), ensure_ascii=False).encode("utf-8")
        headers = {"Authorization": f"Bearer;{token}", "Content-Type": "application/json; charset=utf-8"}
        response = await post(self._client, VENDOR, self.url, content=body, headers=headers)
        answer = self._answer(response)
        return self._audio(answer)

    def _request(self, piece: str, token: str) -> dict[str, Any]:
        return {
            # The documentation says app.token "may be any non-empty value"; the real
            # token is sent, so an account that does check it works too.
            "app": {"appid": self.appid, "token": token, "cluster": self.cluster},
            "user": {"uid": _USER_ID},
            "audio": {
                "voice_type": self.voice,
                "encoding": "wav",
                "rate": self.sample_rate,
                "speed_ratio": self.speed,
                "volume_ratio": self.volume,
                "pitch_ratio": self.pitch,
            },
            "request": {
                "reqid": str(uuid.uuid4()),
                "text": piece,
                "text_type": "plain",
                "operation": "query",
            },
        }

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON answer of a success; the error tree's exception for anything else."""
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "code" not in answer:
            kind = response.headers.get("content-type", "no content type")
            if response.status_code in (401, 403):
                raise VendorAuthError(VENDOR, response.status_code, response.reason_phrase)
            raise self._error(
                f"answered HTTP {response.status_code} with {len(response.content)} bytes of {kind}, "
                "not the JSON of /api/v1/tts"
            )
        code, message = answer["code"], str(answer.get("message", ""))
        if code != SUCCESS or not response.is_success:
            raise _code_error(code, message, response.status_code)
        return answer

    def _audio(self, answer: dict[str, Any]) -> bytes:
        data = answer.get("data")
        if not isinstance(data, str) or not data:
            raise self._error("answered code 3000 without audio in data")
        try:
            audio = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise self._error(f"data is not valid base64 ({exc})") from exc
        if not is_wav(audio):
            raise self._error(f"data holds {len(audio)} bytes that are not a WAV file")
        rate = read_pcm(audio).rate
        if rate != self.sample_rate:
            raise self._error(f"answered {rate} Hz audio where {self.sample_rate} Hz was asked")
        return audio

    def _error(self, reason: str) -> TTSError:
        return TTSError(f"volcengine: {reason}", backend=VENDOR)


def _code_error(code: object, message: str, status: int) -> VendorError:
    """The error tree's exception for a code other than 3000, with the vendor's message."""
    number = code if isinstance(code, int) else None
    what = ERRORS.get(number, "") if number is not None else ""
    if status in (401, 403) or message.startswith(_AUTH_WORDS):
        return VendorAuthError(VENDOR, str(code), message, what="the appid or token was refused")
    if number in RATE_LIMITED or _QUOTA_WORDS in message:
        return VendorRateLimitedError(VENDOR, str(code), message, what=what or "a quota is used up")
    if code == SUCCESS:  # code 3000 with an HTTP error status
        return VendorError(VENDOR, status, message, what=f"HTTP {status}")
    return VendorError(VENDOR, str(code), message, what=what)


def build(settings: Settings) -> VolcengineTTS:
    """The volcengine backend of ``VOICEBOT_TTS``, from ``VOICEBOT_TTS_VOLCENGINE_*``.

    Raises:
        ConfigError: The APP ID or the access token is not set.
    """
    require_settings(
        VENDOR,
        {
            "VOICEBOT_TTS_VOLCENGINE_APPID": settings.tts_volcengine_appid,
            "VOICEBOT_TTS_VOLCENGINE_TOKEN": settings.tts_volcengine_token,
        },
    )
    assert settings.tts_volcengine_appid is not None
    assert settings.tts_volcengine_token is not None
    try:
        return VolcengineTTS(
            appid=settings.tts_volcengine_appid,
            token=settings.tts_volcengine_token,
            cluster=settings.tts_volcengine_cluster,
            voice=settings.tts_volcengine_voice,
            speed=settings.tts_volcengine_speed,
            volume=settings.tts_volcengine_volume,
            pitch=settings.tts_volcengine_pitch,
            sample_rate=settings.tts_volcengine_sample_rate,
            url=settings.tts_volcengine_url,
            timeout_ms=settings.tts_timeout_ms,
        )
    except ValueError as exc:
        raise ConfigError(f"VOICEBOT_TTS_VOLCENGINE_*: {exc}") from exc
