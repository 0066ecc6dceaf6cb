"""EspeakTTS against the real espeak-ng program."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import TTSError
from bot.speech.espeak import EspeakTTS
from bot.speech.wav import wav_duration_seconds


async def test_synthesize_returns_wav(espeak: EspeakTTS) -> None:
    wav = await espeak.synthesize("您好，欢迎致电医保服务热线。")
    assert wav[:4] == b"RIFF"
    assert wav_duration_seconds(wav) > 1.0


async def test_text_is_not_taken_for_options(espeak: EspeakTTS) -> None:
    wav = await espeak.synthesize("--version -w /tmp/x.wav")
    assert wav[:4] == b"RIFF"


async def test_check_passes_for_installed_voice(espeak: EspeakTTS) -> None:
    assert "eSpeak" in await espeak.check()


async def test_missing_binary_raises_tts_error() -> None:
    tts = EspeakTTS(binary="/nonexistent/espeak-ng")
    with pytest.raises(TTSError, match="not found") as info:
        await tts.synthesize("您好")
    assert info.value.backend == "espeak-ng"
    with pytest.raises(TTSError, match="not found"):
        await tts.check()


async def test_unknown_voice_raises_tts_error_with_stderr() -> None:
    tts = EspeakTTS(voice="nosuchvoice")
    with pytest.raises(TTSError, match="voice does not exist"):
        await tts.synthesize("您好")


@pytest.mark.parametrize("voice", ["nosuchvoice", "no-such-voice"], ids=["rejected", "fallback"])
async def test_check_rejects_unknown_voice(voice: str) -> None:
    # espeak-ng itself speaks Norwegian for "no-such-voice"; check() must still refuse it.
    with pytest.raises(TTSError, match=f"no voice '{voice}'"):
        await EspeakTTS(voice=voice).check()


@pytest.mark.parametrize("voice", ["cmn", "zh", "sit/cmn", "cmn+f3", "yue"])
async def test_check_accepts_known_voice_names(voice: str) -> None:
    assert await EspeakTTS(voice=voice).check()


async def test_timeout_raises_tts_error() -> None:
    tts = EspeakTTS(timeout_seconds=0.001)
    with pytest.raises(TTSError, match="did not finish"):
        await tts.synthesize("您好" * 500)


async def test_empty_text_raises_tts_error(espeak: EspeakTTS) -> None:
    with pytest.raises(TTSError, match="no audio"):
        await espeak.synthesize("")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"voice": ""}, "voice name"),
        ({"voice": "-x"}, "voice name"),
        ({"voice": "cmn zh"}, "voice name"),
        ({"rate_wpm": 10}, "rate_wpm"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
    ],
    ids=["empty-voice", "option-voice", "space-voice", "slow-rate", "zero-timeout"],
)
def test_invalid_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EspeakTTS(**kwargs)
