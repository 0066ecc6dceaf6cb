"""Baidu's short-text speech synthesis (百度智能云 语音合成, 短文本在线合成 REST API).

The vendor's pages: 短文本在线合成API, https://ai.baidu.com/ai-doc/SPEECH/mlbxh7xie;
its error codes, 错误码汇总及反馈, https://ai.baidu.com/ai-doc/SPEECH/Albxhaijw; the
access token, 鉴权认证机制, https://ai.baidu.com/ai-doc/REFERENCE/Lkru0zoz4.

- An access token comes from ``POST https://aip.baidubce.com/oauth/2.0/token?grant_type=
  client_credentials&client_id=<API Key>&client_secret=<Secret Key>`` (``access_token``,
  ``expires_in`` in seconds: 30 days). It is kept and fetched again shortly before it
  expires; a ``502`` (token verification failed) or ``110``/``111`` answer drops it, and
  the text is asked once more with a new one.
- Each text is ``POST https://tsn.baidu.com/text2audio`` with a form body: ``tex`` (the
  text, URL-encoded twice as the page recommends: once here, once by the form; encoded
  once, a ``+`` is not said), ``tok``, ``cuid``, ``ctp=1``, ``lan=zh``, ``spd``, ``pit``,
  ``vol``, ``per`` and ``aue`` (5: raw 8 kHz PCM, 4: raw 16 kHz PCM).
- Success is a body of ``Content-Type: audio/…``; a failure is JSON ``err_no``/``err_msg``.

``tex`` must be less than 1024 GBK bytes: a longer text is said in pieces cut at sentence
ends and joined. The token URL carries both keys in its query, as the page says; httpx
prints whole request URLs at INFO: the service keeps httpx at WARNING, and ``bot.logs``
masks ``client_id=`` and ``client_secret=`` in any line that still shows one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import SecretStr

from bot.config import Settings
from bot.errors import ConfigError, TTSError, VendorAuthError, VendorError, VendorRateLimitedError
from bot.speech.tts import IdentityValue
from bot.speech.vendors.common import (
    TokenCache,
    Voice,
    check_speaks,
    gbk_bytes,
    http_client,
    pcm_wav,
    post,
    require_settings,
    speak_in_pieces,
)
from bot.speech.wav import is_wav

logger = logging.getLogger(__name__)

VENDOR = "baidu"
DEFAULT_URL = "https://tsn.baidu.com/text2audio"
DEFAULT_TOKEN_URL = "https://aip.baidubce.com/oauth/2.0/token"
MAX_TEXT_GBK_BYTES = 1023  # "文本长度必须小于1024GBK字节"
AUE_BY_RATE = {8000: 5, 16000: 4}  # pcm-8k, pcm-16k: 16-bit mono PCM without a header
TOKEN_REFUSED = frozenset({"100", "110", "111", "502"})
"""Codes after which the token is dropped and the text asked once more with a new one."""

VOICES: tuple[Voice, ...] = (
    Voice("0", "度小美，基础音库，女声"),
    Voice("1", "度小宇，基础音库，男声"),
    Voice("3", "度逍遥（基础），基础音库，情感男声"),
    Voice("4", "度丫丫，基础音库，情感女声"),
    Voice("5003", "度逍遥（精品），精品音库"),
    Voice("5118", "度小鹿，精品音库"),
    Voice("106", "度博文，精品音库"),
    Voice("110", "度小童，精品音库"),
    Voice("111", "度小萌，精品音库"),
    Voice("103", "度米朵，精品音库"),
    Voice("5", "度小娇，精品音库"),
)
"""The basic and premium (精品) voices of the short-text API's ``per``; the console sells
more (臻品, 大模型), whose numbers work too."""

_Error = tuple[str, type[VendorError]]
ERRORS: dict[int, _Error] = {
    500: ("unsupported input", VendorError),
    501: ("a parameter is wrong", VendorError),
    502: ("token verification failed: expired, or the voice's quota is used up", VendorAuthError),
    503: ("synthesis backend error (a character outside GBK?)", VendorError),
    513: ("the text has symbols it cannot say", VendorError),
    4: ("the cluster's request limit is reached", VendorRateLimitedError),
    6: ("the app has no speech synthesis permission", VendorAuthError),
    13: ("the QPS limit is reached", VendorRateLimitedError),
    15: ("the concurrency limit is reached", VendorRateLimitedError),
    16: ("the characters quota is used up", VendorRateLimitedError),
    17: ("the daily request limit is reached", VendorRateLimitedError),
    18: ("the cluster's concurrency limit is reached", VendorRateLimitedError),
    19: ("the total request limit is reached", VendorRateLimitedError),
    100: ("invalid access_token parameter", VendorAuthError),
    110: ("the access token is invalid", VendorAuthError),
    111: ("the access token has expired", VendorAuthError),
    330: ("invalid user_id or type for limiter", VendorError),
    999: ("nginx forwarding failed", VendorError),
}
"""The vendor's error codes: the short-text page's and the platform's common ones."""


class BaiduTTS:
    """Speech from Baidu's ``text2audio``, with an access token kept fresh.

    Args:
        api_key: The app's API Key.
        secret_key: The app's Secret Key.
        voice: ``per``: 0 度小美, 1 度小宇, 3 度逍遥, 4 度丫丫, 5003, 5118, 106….
        speed: ``spd``, 0–15 (5: normal).
        pitch: ``pit``, 0–15 (5: normal).
        volume: ``vol``, 0–15 (basic voices 0–9).
        sample_rate: 8000 or 16000 Hz of PCM asked for.
        cuid: This installation's id (the vendor counts users by it), at most 60 characters.
        url: The text2audio endpoint.
        token_url: The OAuth token endpoint.
        timeout_seconds: Longest one request may take, connecting included.
        clock: Unix time now, for the token's expiry (tests pass their own).

    Raises:
        ValueError: An argument cannot describe a working request.
    """

    name = VENDOR
    remote = True  # its time is mostly waiting: a long text's sentences are asked at once

    def __init__(
        self,
        *,
        api_key: SecretStr,
        secret_key: SecretStr,
        voice: int = 0,
        speed: int = 5,
        pitch: int = 5,
        volume: int = 5,
        sample_rate: int = 8000,
        cuid: str = "voicebot",
        url: str = DEFAULT_URL,
        token_url: str = DEFAULT_TOKEN_URL,
        timeout_seconds: float = 2.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _check(url, token_url, sample_rate, cuid, timeout_seconds)
        self.voice, self.speed, self.pitch, self.volume = voice, speed, pitch, volume
        self.sample_rate, self.cuid, self.url, self.token_url = sample_rate, cuid, url, token_url
        self.timeout_seconds = timeout_seconds
        self._api_key, self._secret_key, self._clock = api_key, secret_key, clock
        self._client = http_client(timeout_seconds)
        self.tokens = TokenCache(self._fetch_token, clock=clock)

    def __repr__(self) -> str:
        return f"BaiduTTS({self.url}, voice={self.voice}, {self.sample_rate} Hz)"

    def identity(self) -> dict[str, IdentityValue]:
        """What changes the audio: endpoint, voice, speed, pitch, volume, sample rate.

        Returns:
            A flat mapping without credentials.
        """
        return {
            "url": self.url,
            "voice": self.voice,
            "speed": self.speed,
            "pitch": self.pitch,
            "volume": self.volume,
            "sample_rate": self.sample_rate,
        }

    async def synthesize(self, text: str) -> bytes:
        """Speak ``text``, in pieces of less than 1024 GBK bytes if it is longer.

        Args:
            text: Normalised text.

        Returns:
            A WAV of 16-bit mono PCM at :attr:`sample_rate`.

        Raises:
            VendorError: The vendor answered an error code (its words kept).
            TTSError: No answer in time, the request failed, or the answer is not
                audio. Messages never contain the text or the credentials.
        """
        return await speak_in_pieces(text, MAX_TEXT_GBK_BYTES, self._speak, measure=gbk_bytes)

    async def check(self) -> str:
        """Say 您好 at start-up and check the answer is playable audio."""
        return await check_speaks(self)

    async def aclose(self) -> None:
        """Close the connection pool (at shutdown)."""
        await self._client.aclose()

    async def _speak(self, text: str) -> bytes:
        token = await self.tokens.get()
        try:
            return await self._text2audio(text, token)
        except VendorAuthError as exc:
            if exc.code not in TOKEN_REFUSED:
                raise
            logger.info("baidu refused its access token (error %s); fetching a new one", exc.code)
            self.tokens.invalidate(token)
        return await self._text2audio(text, await self.tokens.get())

    async def _text2audio(self, text: str, token: str) -> bytes:
        form = {
            "tex": quote(text, safe=""),  # the form encodes it a second time
            "tok": token,
            "cuid": self.cuid,
            "ctp": "1",
            "lan": "zh",
            "spd": str(self.speed),
            "pit": str(self.pitch),
            "vol": str(self.volume),
            "per": str(self.voice),
            "aue": str(AUE_BY_RATE[self.sample_rate]),
        }
        response = await self._post(self.url, data=form)
        if response.is_success and response.headers.get("content-type", "").startswith("audio/"):
            return self._audio(response.content)
        raise self._answer_error(response)

    def _audio(self, body: bytes) -> bytes:
        if is_wav(body):
            return body
        if body[:3] == b"ID3" or body[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
            raise self._error("answered MP3 audio, not the PCM asked for (aue)")
        if len(body) < 2:
            raise self._error("answered no audio")
        return pcm_wav(body, self.sample_rate)

    async def _fetch_token(self) -> tuple[str, float]:
        params = {
            "grant_type": "client_credentials",
            "client_id": self._api_key.get_secret_value(),
            "client_secret": self._secret_key.get_secret_value(),
        }
        response = await self._post(self.token_url, params=params)
        answer = _json(response)
        token, expires_in = answer.get("access_token"), answer.get("expires_in")
        if isinstance(token, str) and token and isinstance(expires_in, int) and expires_in > 0:
            return token, self._clock() + expires_in
        if "error" in answer:
            raise VendorAuthError(
                VENDOR,
                str(answer["error"]),
                str(answer.get("error_description", "")),
                what="the token service refused the API Key or Secret Key",
            )
        raise self._error(f"the token service answered HTTP {response.status_code} without an access_token")

    async def _post(self, url: str, **request: Any) -> httpx.Response:
        return await post(self._client, VENDOR, url, what=_shown(url), **request)

    def _answer_error(self, response: httpx.Response) -> TTSError:
        answer = _json(response)
        code = answer.get("err_no", answer.get("error_code"))
        if isinstance(code, str) and code.isdigit():
            code = int(code)
        if isinstance(code, int):
            what, kind = ERRORS.get(code, ("", VendorError))
            words = str(answer.get("err_msg", answer.get("error_msg", "")))
            return kind(VENDOR, code, words, what=what)
        kind_of = response.headers.get("content-type", "no content type")
        return self._error(
            f"answered HTTP {response.status_code} with {len(response.content)} bytes of {kind_of}, not audio"
        )

    def _error(self, reason: str) -> TTSError:
        return TTSError(f"{VENDOR}: {reason}", backend=VENDOR)


def _json(response: httpx.Response) -> dict[str, Any]:
    """The answer as a JSON object, or an empty one when it is not one."""
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _shown(url: str) -> str:
    """The URL without its query (the token request's holds the secret key)."""
    split = urlsplit(url)
    return f"{split.scheme}://{split.netloc}{split.path}"


def _check(url: str, token_url: str, sample_rate: int, cuid: str, timeout_seconds: float) -> None:
    for name, value in (("url", url), ("token_url", token_url)):
        split = urlsplit(value)
        if split.scheme not in ("http", "https") or not split.hostname or split.query:
            raise ValueError(f"{name} {value!r} is not an http:// or https:// URL without a query")
    if sample_rate not in AUE_BY_RATE:
        raise ValueError(f"the sample rate must be 8000 or 16000 Hz, not {sample_rate}")
    if not 0 < len(cuid) <= 60:
        raise ValueError("cuid must be 1 to 60 characters")
    if timeout_seconds <= 0:
        raise ValueError(f"timeout_seconds must be > 0, not {timeout_seconds}")


_CREDENTIALS = ("tts_baidu_api_key", "tts_baidu_secret_key")


def build(settings: Settings) -> BaiduTTS:
    """The backend ``VOICEBOT_TTS=baidu`` asks for, from ``VOICEBOT_TTS_BAIDU_*``.

    Raises:
        ConfigError: A credential is not set (each missing variable named), or a
            setting cannot describe a working request.
    """
    require_settings(VENDOR, {f"VOICEBOT_{name.upper()}": getattr(settings, name) for name in _CREDENTIALS})
    assert settings.tts_baidu_api_key is not None
    assert settings.tts_baidu_secret_key is not None
    try:
        return BaiduTTS(
            api_key=settings.tts_baidu_api_key,
            secret_key=settings.tts_baidu_secret_key,
            voice=settings.tts_baidu_voice,
            speed=settings.tts_baidu_speed,
            pitch=settings.tts_baidu_pitch,
            volume=settings.tts_baidu_volume,
            sample_rate=settings.tts_baidu_sample_rate,
            cuid=settings.tts_baidu_cuid,
            url=settings.tts_baidu_url,
            token_url=settings.tts_baidu_token_url,
            timeout_seconds=settings.tts_timeout_ms / 1000,
        )
    except ValueError as exc:
        raise ConfigError(f"VOICEBOT_TTS_BAIDU_*: {exc}") from exc
