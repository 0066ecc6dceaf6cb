"""The latency model the vendors' fakes can be given (tests/speech/vendors/latency.py), for
bench/uncached.py: its arithmetic, and fakes answering audio as long as the text spoken.
No wall-clock time is asserted: the model's times are zero here."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.speech.vendors.iflytek import IflytekTTS
from bot.speech.vendors.volcengine import VolcengineTTS
from bot.speech.wav import wav_duration_seconds

from .fake_aliyun import FakeAliyun
from .fake_azure import FakeAzure
from .fake_baidu import FakeBaidu
from .fake_iflytek import FakeIflytek
from .fake_tencent import FakeTencent
from .fake_volcengine import FakeVolcengine
from .latency import MANDARIN_SECONDS_PER_CHAR, Latency, tone_pcm

TEXT = "您好，这里是医保服务热线，请问有什么可以帮您？"
INSTANT = Latency(first_byte_ms=0, per_char_ms=0)


def test_the_answer_takes_the_first_byte_and_the_text() -> None:
    latency = Latency(first_byte_ms=200, per_char_ms=8)

    assert latency.seconds("x" * 30) == pytest.approx(0.44)
    assert latency.seconds("") == pytest.approx(0.2)
    # Streamed frames: the pauses after the first byte add up to the rest of the time.
    assert latency.frame_pause_seconds("x" * 30, 12) * 12 == pytest.approx(0.24)


def test_the_audio_is_as_long_as_the_text_spoken() -> None:
    latency = Latency(audio_seconds_per_char=0.25)
    wav = latency.wav(16000, "x" * 8)

    with wave.open(io.BytesIO(wav)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (16000, 1, 2)
        assert reader.getnframes() == 32000
    assert latency.audio_seconds("") == pytest.approx(0.1)  # never empty
    assert len(tone_pcm(8000, 1.5)) == 24000
    assert max(tone_pcm(8000, 0.1)) > 0  # a tone, not silence


@pytest.mark.parametrize(
    "wrong", [{"first_byte_ms": -1}, {"per_char_ms": -0.5}, {"audio_seconds_per_char": 0}]
)
def test_a_latency_cannot_be_negative(wrong: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="latency"):
        Latency(**wrong)


def test_every_fake_takes_a_latency() -> None:
    latencies = [
        FakeAliyun(latency=INSTANT).latency,
        FakeTencent(latency=INSTANT).latency,
        FakeIflytek("app", "key", "secret", latency=INSTANT).latency,
        FakeBaidu("key", "secret", latency=INSTANT).latency,
        FakeAzure(latency=INSTANT).latency,
        FakeVolcengine(latency=INSTANT).latency,
    ]
    assert all(latency is INSTANT for latency in latencies)


@pytest.fixture
async def volcengine() -> AsyncIterator[FakeVolcengine]:
    fake = FakeVolcengine(latency=INSTANT)
    async with fake.serve():
        yield fake


async def test_a_fake_with_a_latency_answers_speech_long_audio(volcengine: FakeVolcengine) -> None:
    backend = VolcengineTTS(
        appid=volcengine.appid,
        token=SecretStr(volcengine.token),
        url=f"{volcengine.base_url}/api/v1/tts",
        timeout_ms=5000,
    )
    try:
        wav = await backend.synthesize(TEXT)
    finally:
        await backend.aclose()

    assert wav_duration_seconds(wav) == pytest.approx(MANDARIN_SECONDS_PER_CHAR * len(TEXT), abs=0.01)
    assert volcengine.said == [TEXT]


async def test_a_streaming_fake_with_a_latency_sends_all_its_frames() -> None:
    fake = FakeIflytek("5f0c1a2b", "api-key", "api-secret", latency=INSTANT)
    async with fake.serve():
        backend = IflytekTTS(
            app_id="5f0c1a2b",
            api_key=SecretStr("api-key"),
            api_secret=SecretStr("api-secret"),
            url=fake.url,
            timeout_seconds=5.0,
        )
        wav = await backend.synthesize(TEXT)

    assert wav_duration_seconds(wav) == pytest.approx(MANDARIN_SECONDS_PER_CHAR * len(TEXT), abs=0.01)
    assert fake.texts == [TEXT]
