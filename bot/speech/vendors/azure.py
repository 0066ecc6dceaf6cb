"""Azure AI Speech through its text to speech REST API: SSML in, a RIFF PCM WAV back.

What the vendor documents, and this module follows ("Text to speech REST API",
https://learn.microsoft.com/azure/ai-services/speech-service/rest-text-to-speech):

- ``POST https://<region>.tts.speech.microsoft.com/cognitiveservices/v1`` with
  ``Content-Type: application/ssml+xml``, ``X-Microsoft-OutputFormat`` (here one of the
  ``riff-<rate>-16bit-mono-pcm`` formats), a ``User-Agent`` and either
  ``Authorization: Bearer <token>`` or ``Ocp-Apim-Subscription-Key: <key>``. The body
  is SSML: ``<speak>`` → ``<voice name=…>`` → ``<prosody rate=… volume=…>`` → the text.
- A token comes from ``POST https://<region>.api.cognitive.microsoft.com/sts/v1.0/issueToken``
  with the key in ``Ocp-Apim-Subscription-Key`` and an empty body; it is valid 10
  minutes, and the vendor recommends using one for nine. A 401 after that (a token
  revoked or expired early) fetches a new one and asks once more.
- Azure operated by 21Vianet has the same API under ``azure.cn`` ("Speech services in
  sovereign clouds"); ``bot.config`` picks the domain from the region.
- Limits ("Speech service quotas and limits"): the audio of one request stops at 10
  minutes. No text length is documented for the REST API, so a text is sent in pieces
  of at most :data:`MAX_TEXT_CHARS` characters, cut at sentence ends: at the slowest
  rate (half speed) that is about four minutes of Mandarin, well inside the limit.
- Errors are HTTP statuses (:data:`HTTP_ERRORS`); the vendor's body, when it sends
  one, is kept as its words. 429 is the rate limit.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from xml.sax.saxutils import quoteattr

import httpx
from pydantic import SecretStr

from bot.config import Settings
from bot.errors import ConfigError, TTSError, VendorAuthError, VendorError, VendorRateLimitedError
from bot.speech.ssml import ssml_body
from bot.speech.tts import IdentityValue
from bot.speech.vendors.common import (
    TokenCache,
    Voice,
    check_speaks,
    http_client,
    post,
    require_settings,
    speak_in_pieces,
)
from bot.speech.wav import is_wav, read_pcm

logger = logging.getLogger(__name__)

VENDOR = "azure"
MAX_TEXT_CHARS = 1000
"""Characters per request; see the module's docstring for why this many."""

TOKEN_LIFETIME_SECONDS = 600.0
TOKEN_REFRESH_MARGIN_SECONDS = 60.0
"""A token is used for nine of its ten minutes, as the vendor recommends."""

USER_AGENT = "voicebot"
OUTPUT_FORMATS: dict[int, str] = {
    8000: "riff-8khz-16bit-mono-pcm",
    16000: "riff-16khz-16bit-mono-pcm",
    22050: "riff-22050hz-16bit-mono-pcm",
    24000: "riff-24khz-16bit-mono-pcm",
    44100: "riff-44100hz-16bit-mono-pcm",
    48000: "riff-48khz-16bit-mono-pcm",
}
"""``X-Microsoft-OutputFormat`` per sample rate: 16-bit mono PCM in a RIFF (WAV) file."""

HTTP_ERRORS: dict[int, str] = {
    400: "bad request: a header or the SSML is invalid",
    401: "unauthorized: the key or token is not valid for this region",
    415: "unsupported media type: the Content-Type is not application/ssml+xml",
    429: "too many requests: the resource's quota or rate was exceeded",
    502: "bad gateway: a network or server-side problem",
    503: "service unavailable: a server-side problem",
}
"""What each status the vendor documents means (its "HTTP status codes" table)."""

VOICES: tuple[Voice, ...] = (
    Voice("zh-CN-XiaoxiaoNeural", "晓晓 Xiaoxiao, Female"),
    Voice("zh-CN-YunxiNeural", "云希 Yunxi, Male"),
    Voice("zh-CN-YunjianNeural", "云健 Yunjian, Male"),
    Voice("zh-CN-XiaoyiNeural", "晓伊 Xiaoyi, Female"),
    Voice("zh-CN-YunyangNeural", "云扬 Yunyang, Male"),
    Voice("zh-CN-XiaochenNeural", "晓辰 Xiaochen, Female"),
    Voice("zh-CN-XiaohanNeural", "晓涵 Xiaohan, Female"),
    Voice("zh-CN-XiaomengNeural", "晓梦 Xiaomeng, Female"),
    Voice("zh-CN-XiaomoNeural", "晓墨 Xiaomo, Female"),
    Voice("zh-CN-XiaoqiuNeural", "晓秋 Xiaoqiu, Female"),
    Voice("zh-CN-XiaoruiNeural", "晓睿 Xiaorui, Female"),
    Voice("zh-CN-YunzeNeural", "云泽 Yunze, Male"),
)
"""Prebuilt Mandarin (zh-CN) neural voices: ShortName, LocalName, DisplayName and Gender
as the voices list API (``/cognitiveservices/voices/list``) gives them."""

_LOCALE = re.compile(r"^([a-z]{2,3}-[A-Z]{2})-")
_WORDS_MAX_CHARS = 200
# At 8 kHz the vendor's telephone effect ("eq_telecomhp8k", in "Customize voice and
# sound with SSML") is made for this very case: narrowband speech on a phone line.
_TELEPHONE_EFFECT = "eq_telecomhp8k"


class AzureTTS:
    """Speech from Azure AI Speech.

    One connection pool per backend; :meth:`aclose` closes it.

    Args:
        key: The Speech resource key.
        url: The text to speech endpoint (``…/cognitiveservices/v1``).
        token_url: The ``issueToken`` endpoint; None sends the key with every request
            instead of a token.
        voice: The voice's name, e.g. ``zh-CN-XiaoxiaoNeural``.
        rate: Speaking rate, 0.5 to 2 times normal.
        volume: 0 (silent) to 100 (loudest, the vendor's default).
        sample_rate: One of :data:`OUTPUT_FORMATS`.
        timeout_ms: Longest wait for a whole answer (a token's fetch included).
        clock: Unix time now, for the token's expiry (tests pass their own).

    Raises:
        ValueError: A value the vendor does not accept.
    """

    name = VENDOR
    remote = True  # its time is mostly waiting: a long text's sentences are asked at once

    def __init__(
        self,
        *,
        key: SecretStr,
        url: str,
        token_url: str | None,
        voice: str = "zh-CN-XiaoxiaoNeural",
        rate: float = 1.0,
        volume: int = 100,
        sample_rate: int = 8000,
        timeout_ms: int = 2500,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if sample_rate not in OUTPUT_FORMATS:
            raise ValueError(f"Azure offers {', '.join(map(str, OUTPUT_FORMATS))} Hz, not {sample_rate}")
        if not 0.5 <= rate <= 2 or not 0 <= volume <= 100 or timeout_ms <= 0:
            raise ValueError(f"rate {rate} (0.5-2), volume {volume} (0-100), timeout {timeout_ms} ms (> 0)")
        self._key, self.url, self.token_url = key, url, token_url
        self.voice, self.rate, self.volume, self.sample_rate = voice, rate, volume, sample_rate
        self.timeout_ms, self._clock = timeout_ms, clock
        self._client = http_client(timeout_ms / 1000)
        self._tokens = (
            TokenCache(self._fetch_token, refresh_margin_seconds=TOKEN_REFRESH_MARGIN_SECONDS, clock=clock)
            if token_url is not None
            else None
        )

    def __repr__(self) -> str:
        return f"AzureTTS({self.url}, voice={self.voice!r}, {self.sample_rate} Hz)"

    @property
    def token_fetches(self) -> int:
        """How many tokens were fetched so far (0 when the key is sent instead)."""
        return self._tokens.fetches if self._tokens is not None else 0

    def identity(self) -> dict[str, IdentityValue]:
        """Voice, rate, volume, sample rate, the telephone effect and the endpoint; never the key.

        Returns:
            A flat mapping that changes whenever the audio would.
        """
        return {
            "voice": self.voice,
            "rate": self.rate,
            "volume": self.volume,
            "sample_rate": self.sample_rate,
            "effect": self._effect or "",
            "url": self.url,
        }

    async def synthesize(self, text: str) -> bytes:
        """Say ``text``, in pieces of at most :data:`MAX_TEXT_CHARS` characters.

        Args:
            text: Normalised text.

        Returns:
            A 16-bit mono PCM WAV at :attr:`sample_rate`.

        Raises:
            VendorAuthError: The key, or a token fetched anew, was refused.
            VendorRateLimitedError: Azure answered 429.
            VendorError: Another error status.
            TTSError: No answer within the timeout, or an answer that is not a WAV.
        """
        return await speak_in_pieces(text, MAX_TEXT_CHARS, self._speak)

    async def check(self) -> str:
        """Say 您好 at start-up and check the answer is playable audio."""
        return await check_speaks(self)

    async def aclose(self) -> None:
        """Close the connection pool (at shutdown)."""
        await self._client.aclose()

    @property
    def _effect(self) -> str | None:
        return _TELEPHONE_EFFECT if self.sample_rate == 8000 else None

    async def _speak(self, piece: str) -> bytes:
        body = self._ssml(piece).encode("utf-8")
        token, response = await self._post_speech(body)
        if response.status_code == 401 and token is not None and self._tokens is not None:
            # Refused although fresh by our clock (revoked, or the vendor's clock is ahead):
            # one new token, one more try.
            self._tokens.invalidate(token)
            token, response = await self._post_speech(body)
        if not response.is_success:
            raise _status_error(response)
        return self._audio(response)

    async def _post_speech(self, body: bytes) -> tuple[str | None, httpx.Response]:
        token = await self._tokens.get() if self._tokens is not None else None
        credential = (
            {"Authorization": f"Bearer {token}"}
            if token is not None
            else {"Ocp-Apim-Subscription-Key": self._key.get_secret_value()}
        )
        headers = {
            **credential,
            "Content-Type": "application/ssml+xml",
            "X-Microsoft-OutputFormat": OUTPUT_FORMATS[self.sample_rate],
            "User-Agent": USER_AGENT,
        }
        return token, await self._post(self.url, content=body, headers=headers)

    async def _fetch_token(self) -> tuple[str, float]:
        assert self.token_url is not None
        issued_at = self._clock()
        response = await self._post(
            self.token_url,
            content=b"",
            headers={
                "Ocp-Apim-Subscription-Key": self._key.get_secret_value(),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        if not response.is_success:
            raise _status_error(response, doing="fetching an access token")
        token = response.text.strip()
        if not token or any(c.isspace() for c in token):
            raise self._error("issueToken answered no token")
        logger.debug("azure: fetched an access token, valid %g s", TOKEN_LIFETIME_SECONDS)
        return token, issued_at + TOKEN_LIFETIME_SECONDS

    async def _post(self, url: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
        return await post(self._client, VENDOR, url, content=content, headers=headers)

    def _ssml(self, piece: str) -> str:
        locale = match[1] if (match := _LOCALE.match(self.voice)) else "zh-CN"
        effect = f" effect={quoteattr(self._effect)}" if self._effect else ""
        rate = f"{(self.rate - 1) * 100:+.0f}%"
        return (
            f'<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang={quoteattr(locale)}>'
            f"<voice name={quoteattr(self.voice)}{effect}>"
            f'<prosody rate="{rate}" volume="{self.volume}">{ssml_body(piece)}</prosody>'
            "</voice></speak>"
        )

    def _audio(self, response: httpx.Response) -> bytes:
        audio = response.content
        if not is_wav(audio):
            kind = response.headers.get("content-type", "no content type")
            raise self._error(f"answered {len(audio)} bytes of {kind}, not a WAV file")
        rate = read_pcm(audio).rate
        if rate != self.sample_rate:
            raise self._error(f"answered {rate} Hz audio where {self.sample_rate} Hz was asked")
        return audio

    def _error(self, reason: str) -> TTSError:
        return TTSError(f"azure: {reason}", backend=VENDOR)


def _status_error(response: httpx.Response, *, doing: str = "") -> VendorError:
    """The error tree's exception for an error status, with the vendor's words."""
    status = response.status_code
    words = " ".join(response.text.split())[:_WORDS_MAX_CHARS]
    words = words or response.reason_phrase or httpx.codes.get_reason_phrase(status)
    what = HTTP_ERRORS.get(status, "")
    if doing:
        what = f"{what}, {doing}" if what else doing
    if status == 429:
        retry_after = response.headers.get("retry-after")
        what += f"; retry after {retry_after} s" if retry_after else ""
        return VendorRateLimitedError(VENDOR, status, words, what=what)
    if status in (401, 403):
        return VendorAuthError(VENDOR, status, words, what=what)
    return VendorError(VENDOR, status, words, what=what)


def build(settings: Settings) -> AzureTTS:
    """The azure backend of ``VOICEBOT_TTS``, from ``VOICEBOT_TTS_AZURE_*``.

    Raises:
        ConfigError: The key, or the region (or the endpoints it gives), is not set.
    """
    token_auth = settings.tts_azure_auth == "token"
    endpoints = settings.tts_azure_url and (settings.tts_azure_token_url or not token_auth)
    require_settings(
        "azure", {"VOICEBOT_TTS_AZURE_KEY": settings.tts_azure_key, "VOICEBOT_TTS_AZURE_REGION": endpoints}
    )
    assert settings.tts_azure_key is not None
    assert settings.tts_azure_url is not None
    try:
        return AzureTTS(
            key=settings.tts_azure_key,
            url=settings.tts_azure_url,
            token_url=settings.tts_azure_token_url if token_auth else None,
            voice=settings.tts_azure_voice,
            rate=settings.tts_azure_rate,
            volume=settings.tts_azure_volume,
            sample_rate=settings.tts_azure_sample_rate,
            timeout_ms=settings.tts_timeout_ms,
        )
    except ValueError as exc:
        raise ConfigError(f"VOICEBOT_TTS_AZURE_*: {exc}") from exc
