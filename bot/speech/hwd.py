"""The HWD PBX's speech synthesis (``/api/v1/tts/synthesize``, HWD manual §3.1.1):
base64 WAV in the response envelope, converted to the served format by the
synthesizer like any backend's audio."""

from __future__ import annotations

import base64
import binascii

from bot.errors import PBXError, TTSError
from bot.pbx.hwd_api import HWDApi
from bot.speech.tts import IdentityValue
from bot.speech.wav import is_wav

TTS_PATH = "/api/v1/tts/synthesize"


class HWDTTS:
    """Speech from the HWD PBX (its jTTS engine), through the shared API client."""

    name = "hwd"
    remote = True  # its time is mostly waiting: a long text's sentences are asked at once

    def __init__(self, api: HWDApi) -> None:
        self._api = api

    def identity(self) -> dict[str, IdentityValue]:
        # The PBX chooses the voice; a different PBX may speak differently.
        return {"pbx": self._api.base_url}

    async def synthesize(self, text: str) -> bytes:
        try:
            data = await self._api.post("tts", TTS_PATH, {"text": text}, idempotent=True, journal=None)
        except PBXError as exc:
            raise TTSError(f"HWD TTS failed: {exc}", backend=self.name) from exc
        if not isinstance(data, dict) or not isinstance(data.get("audio"), str):
            raise TTSError("HWD TTS answered without data.audio", backend=self.name)
        if str(data.get("format", "wav")).lower() != "wav":
            raise TTSError(
                f"HWD TTS answered {data.get('format')!r} audio; only wav is supported", backend=self.name
            )
        try:
            audio = base64.b64decode(data["audio"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TTSError(f"HWD TTS audio is not base64: {exc}", backend=self.name) from exc
        if not is_wav(audio):
            raise TTSError("HWD TTS audio is not a WAV file", backend=self.name)
        return audio
