"""Tencent Cloud text to speech (语音合成): TextToVoice of API 3.0, signed with TC3-HMAC-SHA256.

Tencent Cloud documents the call on "基础语音合成" (TextToVoice,
https://cloud.tencent.com/document/api/1073/37995): a POST of JSON (``Text``,
``SessionId``, ``VoiceType``, ``Volume``, ``Speed``, ``SampleRate``, ``Codec``…) to
``tts.tencentcloudapi.com`` with the headers ``X-TC-Action: TextToVoice``,
``X-TC-Version: 2019-08-23``, ``X-TC-Timestamp``, ``X-TC-Region`` and an
``Authorization`` signed as "签名方法 v3" (Signature v3,
https://cloud.tencent.com/document/api/1073/37990) describes. The answer is JSON:
``Response.Audio`` (base64 of the WAV asked for) or ``Response.Error.Code``/``Message``.

- No token: every request is signed anew. A signature the service calls expired
  (``AuthFailure.SignatureExpire``: more than five minutes old) is made again once
  with a fresh timestamp; a second refusal means this machine's clock is off.
- One request takes at most 150 Chinese characters or 500 letters (full-width
  punctuation counts as a character, half-width as a letter). A mixed text is
  counted in tenths of that allowance: 10 for a Chinese character, 3 for a letter.
- Error codes: the API's common ones and TextToVoice's own, mapped below;
  ``RequestLimitExceeded`` and ``LimitExceeded.AccessLimit`` are rate limits.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from bot.config import Settings
from bot.errors import TTSError, VendorAuthError, VendorError, VendorRateLimitedError
from bot.speech.tts import IdentityValue, TTSBackend
from bot.speech.vendors.common import (
    Voice,
    check_speaks,
    http_client,
    post,
    require_settings,
    speak_in_pieces,
)
from bot.speech.vendors.tencent_signature import CONTENT_TYPE, tc3_authorization
from bot.speech.wav import is_wav

logger = logging.getLogger(__name__)

VENDOR = "tencent"
SERVICE = "tts"
ACTION = "TextToVoice"
API_VERSION = "2019-08-23"
DEFAULT_URL = "https://tts.tencentcloudapi.com/"
MAX_TEXT_UNITS = 1500  # 150 Chinese characters of 10 units, or 500 letters of 3
SIGNATURE_EXPIRED = "AuthFailure.SignatureExpire"

VOICES: tuple[Voice, ...] = (
    # Premium (精品) Mandarin voices of Tencent's voice list (音色列表), in its own words.
    Voice("101001", "智瑜，情感女声"),
    Voice("101002", "智聆，通用女声"),
    Voice("101003", "智美，客服女声"),
    Voice("101004", "智云，通用男声"),
    Voice("101005", "智莉，通用女声"),
    Voice("101006", "智言，助手女声"),
    Voice("101007", "智娜，客服女声"),
    Voice("101008", "智琪，客服女声"),
    Voice("101009", "智芸，知性女声"),
    Voice("101010", "智华，通用男声"),
    Voice("101017", "智蓉，情感女声"),
    Voice("101033", "智蓓，客服女声"),
)

_ERRORS: dict[str, tuple[type[VendorError], str]] = {
    # Common errors of API 3.0 (公共错误码).
    "AuthFailure.SignatureExpire": (VendorAuthError, "signature expired: is this machine's clock off?"),
    "AuthFailure.SignatureFailure": (VendorAuthError, "signature does not match: wrong SecretKey?"),
    "AuthFailure.SecretIdNotFound": (VendorAuthError, "the SecretId does not exist or is disabled"),
    "AuthFailure.InvalidSecretId": (VendorAuthError, "the SecretId is not an API key"),
    "AuthFailure.InvalidAuthorization": (VendorAuthError, "the Authorization header is malformed"),
    "AuthFailure.TokenFailure": (VendorAuthError, "the temporary credentials' token was refused"),
    "AuthFailure.MFAFailure": (VendorAuthError, "multi-factor authentication failed"),
    "AuthFailure.UnauthorizedOperation": (VendorAuthError, "the key may not call TextToVoice (CAM)"),
    "UnauthorizedOperation": (VendorAuthError, "not authorized"),
    "RequestLimitExceeded": (VendorRateLimitedError, "request rate limit"),
    "RequestLimitExceeded.UinLimitExceeded": (VendorRateLimitedError, "the account's rate limit"),
    "RequestLimitExceeded.IPLimitExceeded": (VendorRateLimitedError, "this address's rate limit"),
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded": (VendorRateLimitedError, "global rate limit"),
    "RequestSizeLimitExceeded": (VendorError, "the request is too large"),
    "IpInBlacklist": (VendorAuthError, "this address is blacklisted"),
    "IpNotInWhitelist": (VendorAuthError, "this address is not on the whitelist"),
    "InvalidAction": (VendorError, "no such action"),
    "NoSuchVersion": (VendorError, "no such API version"),
    "UnsupportedRegion": (VendorError, "the region is not supported"),
    "MissingParameter": (VendorError, "a parameter is missing"),
    "UnknownParameter": (VendorError, "an unknown parameter"),
    "InvalidParameter": (VendorError, "a parameter is invalid"),
    "InvalidParameterValue": (VendorError, "a parameter value is invalid"),
    "InternalError": (VendorError, "Tencent Cloud failed internally"),
    "ServiceUnavailable": (VendorError, "the service is unavailable"),
    # TextToVoice's own (tts 2019-08-23 错误码).
    "LimitExceeded.AccessLimit": (VendorRateLimitedError, "request rate limit"),
    "InternalError.ExceedMaxLimit": (VendorRateLimitedError, "load limit"),
    "InternalError.NoResource": (VendorRateLimitedError, "no resource free, try later"),
    "InvalidParameterValue.TextTooLong": (VendorError, "the text is too long"),
    "UnsupportedOperation.TextTooLong": (VendorError, "the text is too long"),
    "InvalidParameterValue.Text": (VendorError, "the text is missing"),
    "InvalidParameterValue.TextEmpty": (VendorError, "the text is empty"),
    "InvalidParameterValue.InvalidText": (VendorError, "the text has no valid character"),
    "InvalidParameter.InvalidText": (VendorError, "the text has invalid characters"),
    "InvalidParameterValue.TextNotUtf8": (VendorError, "the text is not UTF-8"),
    "InvalidParameterValue.TextSsmlParseError": (VendorError, "the text's SSML is malformed"),
    "InvalidParameterValue.VoiceType": (VendorError, "unknown VoiceType"),
    "InvalidParameterValue.SampleRate": (VendorError, "unsupported SampleRate for this voice"),
    "InvalidParameterValue.Speed": (VendorError, "invalid Speed"),
    "InvalidParameterValue.Volume": (VendorError, "invalid Volume"),
    "InvalidParameterValue.Codec": (VendorError, "invalid Codec"),
    "InvalidParameterValue.SessionId": (VendorError, "invalid SessionId"),
    "InvalidParameterValue.PrimaryLanguage": (VendorError, "invalid PrimaryLanguage"),
    "InvalidParameterValue.ModelType": (VendorError, "invalid ModelType"),
    "InvalidParameterValue.MissParameters": (VendorError, "a parameter is missing"),
    "InvalidParameterValue.AppIdNotRegistered": (VendorAuthError, "speech synthesis is not activated"),
    "UnsupportedOperation.ServerNotOpen": (VendorAuthError, "speech synthesis is not activated"),
    "UnsupportedOperation.ServerStopped": (VendorAuthError, "speech synthesis is stopped for the account"),
    "UnsupportedOperation.ServerDestoryed": (VendorAuthError, "speech synthesis was removed for the account"),
    "UnsupportedOperation.ForbiddenUse": (VendorAuthError, "the service is forbidden to the account"),
    "UnsupportedOperation.AuthorizationFailed": (VendorAuthError, "authorization failed"),
    "UnsupportedOperation.AuthorizationExpired": (VendorAuthError, "authorization expired"),
    "UnsupportedOperation.AccountArrears": (VendorError, "the account is in arrears"),
    "UnsupportedOperation.NoBanlance": (VendorError, "no balance left"),
    "UnsupportedOperation.NoFreeAccount": (VendorError, "the free allowance is used up"),
    "UnsupportedOperation": (VendorError, "the operation is not supported"),
    "UnsupportedOperation.ServerAlreadyOpen": (VendorError, "the service is open already"),
    "FailedOperation": (VendorError, "the operation failed"),
    "FailedOperation.NoSuchTask": (VendorError, "no such task"),
    "InternalError.InternalError": (VendorError, "Tencent Cloud failed internally"),
    "InternalError.ErrorGetRoute": (VendorError, "routing failed inside Tencent Cloud"),
    "InternalError.FailAccessDatabase": (VendorError, "Tencent Cloud's database failed"),
    "InternalError.FailAccessRedis": (VendorError, "Tencent Cloud's cache failed"),
    "InvalidParameter.Status": (VendorError, "invalid status"),
    "InvalidParameterValue.AppId": (VendorError, "invalid AppId"),
    "InvalidParameterValue.CallbackUrl": (VendorError, "invalid CallbackUrl"),
    "InvalidParameterValue.Type": (VendorError, "invalid Type"),
    "InvalidParameterValue.ErrorCardinalFormat": (VendorError, "an SSML say-as number is malformed"),
    "InvalidParameterValue.ParticipleError": (VendorError, "the text could not be segmented"),
}


def text_units(text: str) -> int:
    """A text's length against :data:`MAX_TEXT_UNITS`: 10 per Chinese (non-ASCII)
    character, 3 per ASCII letter, digit, space or half-width punctuation mark."""
    return sum(3 if ord(character) < 0x80 else 10 for character in text)


class TencentTTS:
    """Speech from Tencent Cloud's TextToVoice.

    One connection pool per backend; :meth:`aclose` closes it. Credentials are
    neither shown nor part of the identity.

    Args:
        secret_id: The API key's SecretId.
        secret_key: The API key's SecretKey.
        voice_type: The ``VoiceType`` (``101003``; :data:`VOICES`).
        speed: -2 (0.6x) to 6 (2.5x); 0 is normal.
        volume: -10 to 10; 0 is normal.
        sample_rate: 8000, 16000 or 24000 Hz (24000 for some voices only).
        region: ``X-TC-Region``; empty: not sent.
        url: The API endpoint.
        timeout_ms: Longest wait for one answer, connecting included.
        clock: Unix time now, for ``X-TC-Timestamp`` (tests pass their own).
    """

    name = VENDOR
    remote = True  # its time is mostly waiting: a long text's sentences are asked at once

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        voice_type: int = 101003,
        speed: float = 0.0,
        volume: float = 0.0,
        sample_rate: int = 8000,
        region: str = "ap-guangzhou",
        url: str = DEFAULT_URL,
        timeout_ms: int = 2500,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.voice_type, self.speed, self.volume, self.sample_rate = voice_type, speed, volume, sample_rate
        self.region, self.url, self.timeout_ms = region, url, timeout_ms
        self._secret_id, self._secret_key, self._clock = secret_id, secret_key, clock
        self._host = httpx.URL(url).netloc.decode("ascii")
        self._client = http_client(timeout_ms / 1000)

    def __repr__(self) -> str:
        return f"TencentTTS({self.url}, voice_type={self.voice_type}, sample_rate={self.sample_rate})"

    def identity(self) -> dict[str, IdentityValue]:
        """What changes the audio: voice, speed, volume, rate and endpoint (never credentials)."""
        return {
            "voice_type": self.voice_type,
            "speed": self.speed,
            "volume": self.volume,
            "sample_rate": self.sample_rate,
            "url": self.url,
        }

    async def synthesize(self, text: str) -> bytes:
        """Say ``text``, in pieces within the 150-character limit cut at sentence ends.

        Args:
            text: Normalised text.

        Returns:
            The WAV Tencent answered, or the pieces' WAVs joined.

        Raises:
            VendorAuthError: Credentials refused, or the signature expired twice.
            VendorRateLimitedError: A rate or load limit.
            VendorError: Another error code, with the vendor's message.
            TTSError: No answer within the timeout, or an answer without a WAV.
        """
        return await speak_in_pieces(text, MAX_TEXT_UNITS, self._say, measure=text_units)

    async def check(self) -> str:
        """Verify at start-up that the key is accepted and 您好 comes back as audio."""
        return await check_speaks(self)

    async def aclose(self) -> None:
        """Close the connection pool (at shutdown)."""
        await self._client.aclose()

    async def _say(self, text: str) -> bytes:
        try:
            return await self._ask(text)
        except VendorAuthError as exc:
            if exc.code != SIGNATURE_EXPIRED:
                raise
            logger.info("%s called the request's signature expired; signing it anew", VENDOR)
            return await self._ask(text)

    async def _ask(self, text: str) -> bytes:
        session_id = str(uuid.uuid4())
        body = {
            "Text": text,
            "SessionId": session_id,
            "VoiceType": self.voice_type,
            "Volume": self.volume,
            "Speed": self.speed,
            "SampleRate": self.sample_rate,
            "Codec": "wav",
            "PrimaryLanguage": 1,
            "ModelType": 1,
        }
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        response = await post(
            self._client,
            VENDOR,
            self.url,
            redact=lambda words: self._redacted(words, text),
            content=payload,
            headers=self._headers(payload),
        )
        return self._audio(response, session_id, text)

    def _headers(self, payload: bytes) -> dict[str, str]:
        timestamp = int(self._clock())
        headers = {
            "Authorization": tc3_authorization(
                self._secret_id,
                self._secret_key,
                host=self._host,
                payload=payload,
                timestamp=timestamp,
                service=SERVICE,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": self._host,
            "X-TC-Action": ACTION,
            "X-TC-Version": API_VERSION,
            "X-TC-Timestamp": str(timestamp),
        }
        if self.region:
            headers["X-TC-Region"] = self.region
        return headers

    def _audio(self, response: httpx.Response, session_id: str, text: str) -> bytes:
        answer = _response_object(response)
        if answer is None:
            kind = response.headers.get("content-type", "no content type")
            raise TTSError(
                f"{VENDOR}: answered HTTP {response.status_code} with {len(response.content)} bytes of "
                f"{kind}, not the API's JSON",
                backend=VENDOR,
            )
        error = answer.get("Error")
        if isinstance(error, dict):
            raise self._refusal(error, text)
        audio = answer.get("Audio")
        if not isinstance(audio, str) or not audio:
            raise TTSError(f"{VENDOR}: the answer has no Response.Audio", backend=VENDOR)
        if answer.get("SessionId", session_id) != session_id:
            raise TTSError(f"{VENDOR}: answered another request (its SessionId differs)", backend=VENDOR)
        try:
            wav = base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TTSError(f"{VENDOR}: Response.Audio is not valid base64 ({exc})", backend=VENDOR) from exc
        if not is_wav(wav):
            raise TTSError(
                f"{VENDOR}: Response.Audio holds {len(wav)} bytes that are not a WAV", backend=VENDOR
            )
        return wav

    def _refusal(self, error: dict[str, Any], text: str) -> VendorError:
        code = str(error.get("Code") or "UnknownError")
        message = self._redacted(str(error.get("Message") or ""), text)
        kind, what = _ERRORS.get(code, (_by_prefix(code), ""))
        return kind(VENDOR, code, message or code, what=what)

    def _redacted(self, message: str, text: str) -> str:
        """A vendor's or library's words without credentials or the text (it can carry
        callers' numbers)."""
        for secret in (self._secret_key, self._secret_id, text):
            message = message.replace(secret, "***") if secret else message
        return message


def build(settings: Settings) -> TTSBackend:
    """The tencent backend of ``VOICEBOT_TTS``, from its ``VOICEBOT_TTS_TENCENT_*`` settings.

    Raises:
        ConfigError: A credential is not set (each missing one is named).
    """
    credentials = {
        "VOICEBOT_TTS_TENCENT_SECRET_ID": settings.tts_tencent_secret_id,
        "VOICEBOT_TTS_TENCENT_SECRET_KEY": settings.tts_tencent_secret_key,
    }
    require_settings(VENDOR, credentials)
    secret_id, secret_key = (v.get_secret_value() for v in credentials.values() if v is not None)
    return TencentTTS(
        secret_id=secret_id,
        secret_key=secret_key,
        voice_type=settings.tts_tencent_voice_type,
        speed=settings.tts_tencent_speed,
        volume=settings.tts_tencent_volume,
        sample_rate=settings.tts_tencent_sample_rate,
        region=settings.tts_tencent_region,
        url=settings.tts_tencent_url,
        timeout_ms=settings.tts_timeout_ms,
    )


def _response_object(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's ``Response`` object, or None when the answer has none."""
    try:
        body = response.json()
    except ValueError:
        return None
    answer = body.get("Response") if isinstance(body, dict) else None
    return answer if isinstance(answer, dict) else None


def _by_prefix(code: str) -> type[VendorError]:
    """The error kind of a code not in the table, by its family."""
    if code.startswith(("AuthFailure", "UnauthorizedOperation")):
        return VendorAuthError
    if code.startswith(("RequestLimitExceeded", "LimitExceeded")):
        return VendorRateLimitedError
    return VendorError
