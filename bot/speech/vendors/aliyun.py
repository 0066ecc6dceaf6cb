"""Alibaba Cloud Intelligent Speech Interaction (智能语音交互): short-text synthesis over REST.

Alibaba Cloud documents the API on "语音合成 RESTful API" (RESTful API,
https://help.aliyun.com/document_detail/94737.html): a POST of JSON (``appkey``,
``token``, ``text``, ``format``, ``sample_rate``, ``voice``, ``volume``,
``speech_rate``, ``pitch_rate``) to ``/stream/v1/tts``. Success is the audio itself
with an ``audio/*`` content type; a failure is JSON with the service ``status`` code
and its ``message``. We ask for ``pcm`` (16-bit mono at the asked rate) and wrap it
in a WAV header ourselves, so no streamed WAV header with unknown sizes is parsed.

- The access token comes from CreateToken (:mod:`bot.speech.vendors.aliyun_token`)
  and is kept until five minutes before its ``ExpireTime``; a token the service
  refuses (status 40000001, expired or invalid) is fetched anew and the text asked
  once more.
- One request takes at most 300 characters; the service cuts off the rest without an
  error, so longer texts are said in pieces cut at sentence ends and joined.
- Status codes are the vendor's ("错误码查询", https://help.aliyun.com/document_detail/459864.html),
  mapped below; 40000005 (too many requests) is a rate limit.
"""

from __future__ import annotations

import json
import logging

import httpx

from bot.config import Settings
from bot.errors import TTSError, VendorAuthError, VendorError, VendorRateLimitedError
from bot.speech.tts import IdentityValue, TTSBackend
from bot.speech.vendors.aliyun_token import VENDOR, CreateToken, json_or_none
from bot.speech.vendors.common import (
    TokenCache,
    Voice,
    check_speaks,
    http_client,
    pcm_wav,
    post,
    require_settings,
    speak_in_pieces,
)
from bot.speech.wav import is_wav

logger = logging.getLogger(__name__)

DEFAULT_URL = "https://nls-gateway-cn-shanghai.aliyuncs.com/stream/v1/tts"
DEFAULT_TOKEN_URL = "https://nls-meta.cn-shanghai.aliyuncs.com/"
MAX_TEXT_CHARS = 300  # a Chinese character, a letter, a punctuation mark or a space each count one

VOICES: tuple[Voice, ...] = (
    # Mandarin voices of Aliyun's voice list (语音合成接口说明, 音色列表), in its own words.
    Voice("xiaoyun", "小云，标准女声（通用场景）"),
    Voice("xiaogang", "小刚，标准男声（通用场景）"),
    Voice("ruoxi", "若兮，温柔女声（通用场景）"),
    Voice("siqi", "思琪，温柔女声（通用场景）"),
    Voice("sijia", "思佳，标准女声（通用场景）"),
    Voice("sicheng", "思诚，标准男声（通用场景）"),
    Voice("aiqi", "艾琪，温柔女声（通用场景）"),
    Voice("aicheng", "艾诚，标准男声（通用场景）"),
    Voice("siyue", "思悦，温柔女声（客服场景）"),
    Voice("aixia", "艾夏，亲和女声（客服场景）"),
    Voice("aimei", "艾美，甜美女声（客服场景）"),
    Voice("aiyu", "艾雨，自然女声（客服场景）"),
)

TOKEN_REFUSED = 40000001
"""The status of an expired or invalid token (also of a voice the account may not use)."""

_STATUS: dict[int, tuple[type[VendorError], str]] = {
    40000000: (VendorError, "client error"),
    TOKEN_REFUSED: (VendorAuthError, "access token expired or invalid"),
    40000002: (VendorError, "invalid message"),
    40000003: (VendorError, "invalid parameter"),
    40000004: (VendorError, "idle timeout"),
    40000005: (VendorRateLimitedError, "too many requests (concurrency or rate limit)"),
    40000010: (VendorError, "free trial over, or the account is in arrears"),
    40010001: (VendorError, "unsupported API path or parameter"),
    40010003: (VendorError, "invalid directive (no text?)"),
    40010004: (VendorError, "the client disconnected before the task finished"),
    40010005: (VendorError, "a directive the task's state does not allow"),
    40020105: (VendorAuthError, "the appkey does not exist"),
    40020106: (VendorAuthError, "the appkey and the token belong to different accounts"),
    41000003: (VendorError, "no route for this appkey"),
    41010100: (VendorError, "unsupported format"),
    41010101: (VendorError, "unsupported sample rate"),
    41020001: (VendorError, "synthesis refused: voice, SSML or request malformed"),
    50000000: (VendorError, "server error"),
    50000001: (VendorError, "internal call failed"),
    51020001: (VendorError, "synthesis server error"),
    52010001: (VendorError, "server error"),
}


class AliyunTTS:
    """Speech from Aliyun's short-text synthesis.

    One connection pool per backend, shared by the token and the synthesis requests;
    :meth:`aclose` closes it. Credentials are neither shown nor part of the identity.

    Args:
        access_key_id: AccessKey ID, for CreateToken.
        access_key_secret: AccessKey secret, for CreateToken.
        appkey: The speech project's appkey.
        voice: The voice (``xiaoyun``; :data:`VOICES`).
        volume: 0 to 100.
        speech_rate: -500 to 500.
        pitch_rate: -500 to 500.
        sample_rate: 8000 or 16000 Hz.
        url: The synthesis endpoint.
        token_url: The CreateToken endpoint.
        region: The ``RegionId`` of CreateToken.
        timeout_ms: Longest wait for one answer, connecting included.
    """

    name = VENDOR
    remote = True  # its time is mostly waiting: a long text's sentences are asked at once

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        appkey: str,
        voice: str = "xiaoyun",
        volume: int = 50,
        speech_rate: int = 0,
        pitch_rate: int = 0,
        sample_rate: int = 8000,
        url: str = DEFAULT_URL,
        token_url: str = DEFAULT_TOKEN_URL,
        region: str = "cn-shanghai",
        timeout_ms: int = 2500,
    ) -> None:
        self.voice, self.volume, self.speech_rate, self.pitch_rate = voice, volume, speech_rate, pitch_rate
        self.sample_rate, self.url, self.timeout_ms = sample_rate, url, timeout_ms
        self._appkey = appkey
        self._client = http_client(timeout_ms / 1000)
        self._create_token = CreateToken(self._client, token_url, access_key_id, access_key_secret, region)
        self._tokens = TokenCache(self._create_token)

    def __repr__(self) -> str:
        return f"AliyunTTS({self.url}, voice={self.voice!r}, sample_rate={self.sample_rate})"

    def identity(self) -> dict[str, IdentityValue]:
        """What changes the audio: voice, volume, rates and endpoint (never credentials)."""
        return {
            "voice": self.voice,
            "volume": self.volume,
            "speech_rate": self.speech_rate,
            "pitch_rate": self.pitch_rate,
            "sample_rate": self.sample_rate,
            "url": self.url,
        }

    async def synthesize(self, text: str) -> bytes:
        """Say ``text``, in pieces of at most 300 characters cut at sentence ends.

        Args:
            text: Normalised text.

        Returns:
            A 16-bit mono PCM WAV at :attr:`sample_rate`.

        Raises:
            VendorAuthError: Credentials or a fresh token refused.
            VendorRateLimitedError: Too many requests.
            VendorError: Another status code, with the vendor's message.
            TTSError: No answer within the timeout, or an answer that is not audio.
        """
        return await speak_in_pieces(text, MAX_TEXT_CHARS, self._say)

    async def check(self) -> str:
        """Verify at start-up that a token is granted and 您好 comes back as audio."""
        return await check_speaks(self)

    async def aclose(self) -> None:
        """Close the connection pool (at shutdown)."""
        await self._client.aclose()

    async def _say(self, text: str) -> bytes:
        token = await self._tokens.get()
        try:
            return await self._ask(text, token)
        except VendorAuthError as exc:
            if exc.code != str(TOKEN_REFUSED) or "token" not in exc.vendor_message.lower():
                raise
            logger.info("%s refused its access token (%s); fetching a new one", VENDOR, exc.code)
            self._tokens.invalidate(token)
            return await self._ask(text, await self._tokens.get())

    async def _ask(self, text: str, token: str) -> bytes:
        body = {
            "appkey": self._appkey,
            "token": token,
            "text": text,
            "format": "pcm",
            "sample_rate": self.sample_rate,
            "voice": self.voice,
            "volume": self.volume,
            "speech_rate": self.speech_rate,
            "pitch_rate": self.pitch_rate,
        }
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        response = await post(
            self._client,
            VENDOR,
            self.url,
            redact=lambda words: self._redacted(words, token, text),
            content=content,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        kind = response.headers.get("content-type", "")
        if response.is_success and kind.startswith("audio/"):
            return self._audio(response.content, kind)
        raise self._refusal(response, token, text)

    def _audio(self, audio: bytes, kind: str) -> bytes:
        """The PCM asked for, as a WAV; refused when it is empty or plainly another format."""
        if not audio:
            raise TTSError(f"{VENDOR}: answered {kind} without audio", backend=VENDOR)
        if is_wav(audio):
            return audio
        if audio[:3] == b"ID3" or audio[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
            raise TTSError(f"{VENDOR}: answered MP3 audio, not the PCM asked for", backend=VENDOR)
        return pcm_wav(audio, self.sample_rate)

    def _refusal(self, response: httpx.Response, token: str, text: str) -> TTSError:
        body = json_or_none(response)
        status = body.get("status") if isinstance(body, dict) else None
        if not isinstance(status, int) or isinstance(status, bool):
            if response.status_code == 403:  # documented: a missing or expired token, without JSON
                return VendorAuthError(VENDOR, TOKEN_REFUSED, "Forbidden (token refused)", what="HTTP 403")
            kind = response.headers.get("content-type", "no content type")
            return TTSError(
                f"{VENDOR}: answered HTTP {response.status_code} with {len(response.content)} bytes "
                f"of {kind}, not audio",
                backend=VENDOR,
            )
        message = self._redacted(str(body.get("message") or ""), token, text)
        error, what = _STATUS.get(status, (VendorError, ""))
        if status == TOKEN_REFUSED and "token" not in message.lower():
            error, what = VendorError, "not allowed (a voice this account may not use?)"
        return error(VENDOR, status, message or response.reason_phrase, what=what)

    def _redacted(self, message: str, token: str, text: str) -> str:
        """A vendor's words without the token (its 'token has expired' quotes it), the
        appkey, credentials or the text (it can carry callers' numbers)."""
        for secret in (token, self._appkey, text):
            message = message.replace(secret, "***") if secret else message
        return self._create_token.redacted(message)


def build(settings: Settings) -> TTSBackend:
    """The aliyun backend of ``VOICEBOT_TTS``, from its ``VOICEBOT_TTS_ALIYUN_*`` settings.

    Raises:
        ConfigError: A credential is not set (each missing one is named).
    """
    credentials = {
        "VOICEBOT_TTS_ALIYUN_ACCESS_KEY_ID": settings.tts_aliyun_access_key_id,
        "VOICEBOT_TTS_ALIYUN_ACCESS_KEY_SECRET": settings.tts_aliyun_access_key_secret,
        "VOICEBOT_TTS_ALIYUN_APPKEY": settings.tts_aliyun_appkey,
    }
    require_settings(VENDOR, credentials)
    key_id, key_secret, appkey = (v.get_secret_value() for v in credentials.values() if v is not None)
    return AliyunTTS(
        access_key_id=key_id,
        access_key_secret=key_secret,
        appkey=appkey,
        voice=settings.tts_aliyun_voice,
        volume=settings.tts_aliyun_volume,
        speech_rate=settings.tts_aliyun_speech_rate,
        pitch_rate=settings.tts_aliyun_pitch_rate,
        sample_rate=settings.tts_aliyun_sample_rate,
        url=settings.tts_aliyun_url,
        token_url=settings.tts_aliyun_token_url,
        region=settings.tts_aliyun_region,
        timeout_ms=settings.tts_timeout_ms,
    )
