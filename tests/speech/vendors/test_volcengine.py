"""The volcengine backend against a loopback /api/v1/tts: requests, reqids, errors, limits, the chain."""

from __future__ import annotations

import io
import json
import logging
import uuid
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Settings, load_settings
from bot.errors import ConfigError, TTSError, VendorAuthError, VendorError, VendorRateLimitedError
from bot.language.outgoing import HostAllowlist
from bot.speech.audio import to_telephone_wav
from bot.speech.backends import build_backends, close_backends
from bot.speech.cache import AudioCache
from bot.speech.normalize import normalize_for_speech
from bot.speech.synthesizer import SpeechSynthesizer
from bot.speech.vendors import volcengine
from bot.speech.vendors.common import utf8_bytes
from bot.speech.vendors.volcengine import VolcengineTTS
from bot.speech.wav import read_pcm, wav_duration_seconds

from .fake_volcengine import MAX_TEXT_BYTES, FakeVolcengine

APPID = "7700112233"
TOKEN = "volc-token-0123456789abcdef"
TEXT = "您好，这里是医保服务热线。"
CALLER_NUMBER = "13812345678"


@pytest.fixture
async def fake() -> AsyncIterator[FakeVolcengine]:
    vendor = FakeVolcengine(appid=APPID, token=TOKEN)
    async with vendor.serve():
        yield vendor


Make = Callable[..., VolcengineTTS]


@pytest.fixture
async def make(fake: FakeVolcengine) -> AsyncIterator[Make]:
    """Makes backends pointed at ``fake`` and closes them afterwards."""
    made: list[VolcengineTTS] = []

    def make_backend(**options: Any) -> VolcengineTTS:
        values: dict[str, Any] = {
            "appid": APPID,
            "token": SecretStr(TOKEN),
            "url": f"{fake.base_url}/api/v1/tts",
            "timeout_ms": 5000,
            **options,
        }
        made.append(VolcengineTTS(**values))
        return made[-1]

    yield make_backend
    for backend in made:
        await backend.aclose()


def wav_format(wav: bytes) -> tuple[int, int, int]:
    with wave.open(io.BytesIO(wav)) as reader:
        return reader.getframerate(), reader.getnchannels(), reader.getsampwidth()


async def test_a_text_becomes_8_khz_telephone_audio(make: Make, fake: FakeVolcengine) -> None:
    wav = await make().synthesize(TEXT)

    assert read_pcm(wav).rate == 8000
    assert wav_format(to_telephone_wav(wav)) == (8000, 1, 2)
    [spoken] = fake.spoken
    assert spoken.text == TEXT
    assert spoken.audio == {
        "voice_type": "BV001_streaming",
        "encoding": "wav",
        "rate": 8000,
        "speed_ratio": 1.0,
        "volume_ratio": 1.0,
        "pitch_ratio": 1.0,
    }


async def test_voice_speed_volume_pitch_and_rate_reach_the_request(make: Make, fake: FakeVolcengine) -> None:
    backend = make(voice="BV700_streaming", speed=1.2, volume=0.8, pitch=1.1, sample_rate=16000)

    wav = await backend.synthesize(TEXT)

    assert read_pcm(wav).rate == 16000
    assert wav_format(to_telephone_wav(wav)) == (8000, 1, 2)
    audio = fake.spoken[0].audio
    assert (audio["voice_type"], audio["rate"]) == ("BV700_streaming", 16000)
    assert (audio["speed_ratio"], audio["volume_ratio"], audio["pitch_ratio"]) == (1.2, 0.8, 1.1)
    assert make().identity() != backend.identity()


async def test_every_request_has_a_new_reqid(make: Make, fake: FakeVolcengine) -> None:
    backend = make()

    for text in (TEXT, TEXT, "再见。"):
        await backend.synthesize(text)

    reqids = [s.reqid for s in fake.spoken]
    assert len(set(reqids)) == 3
    assert all(uuid.UUID(r).version == 4 for r in reqids)


async def test_the_fake_refuses_a_reqid_used_before(fake: FakeVolcengine, make: Make) -> None:
    # What the test above relies on: a client reusing its reqid would have failed (3006).
    await make().synthesize(TEXT)
    body = json.loads(fake.requests[0].body)
    backend = make()

    response = await backend._client.post(
        f"{fake.base_url}/api/v1/tts", json=body, headers={"Authorization": f"Bearer;{TOKEN}"}
    )

    assert response.json()["code"] == 3006


async def test_a_refused_token_is_an_auth_error_without_a_retry(make: Make, fake: FakeVolcengine) -> None:
    backend = make()
    await backend.synthesize(TEXT)
    fake.revoked = True  # the console's token was reset

    with pytest.raises(VendorAuthError, match="volcengine error 3001") as caught:
        await backend.synthesize("再见。")

    assert caught.value.vendor_message == "authenticate request: load grant: requested grant not found"
    assert len(fake.requests) == 2  # a static token: nothing to fetch anew, so no second try


async def test_a_wrong_token_is_an_auth_error(make: Make, fake: FakeVolcengine) -> None:
    with pytest.raises(VendorAuthError, match="requested grant not found"):
        await make(token=SecretStr("not-the-token")).synthesize(TEXT)


async def test_the_concurrency_limit_is_a_rate_limit(make: Make, fake: FakeVolcengine) -> None:
    fake.rate_limited = True

    with pytest.raises(VendorRateLimitedError) as caught:
        await make().synthesize(TEXT)

    assert caught.value.code == "3003"
    assert caught.value.vendor_message == "quota exceeded for types: concurrency"
    assert "concurrency limit exceeded" in str(caught.value)


async def test_a_used_up_quota_is_a_rate_limit(make: Make, fake: FakeVolcengine) -> None:
    fake.answer_error(3001, "quota exceeded for types: text_words_lifetime")

    with pytest.raises(VendorRateLimitedError, match="quota exceeded"):
        await make().synthesize(TEXT)


@pytest.mark.parametrize(
    ("code", "message", "meaning"),
    [
        (3001, "invalid operation", "invalid request"),
        (3005, "server busy", "backend busy"),
        (3010, "文本长度超限", "text too long"),
        (3011, "illegal input text!", "invalid text"),
        (3030, "timeout", "processing timed out"),
        (3031, "internal error", "processing error"),
        (3032, "wait audio timeout", "waiting for the audio"),
        (3040, "backend link error", "backend connection error"),
        (3050, "Fail to feed text, reason Init Engine Instance failed", "no such voice_type"),
        (3999, "something new", ""),
    ],
    ids=lambda value: str(value) if isinstance(value, int) else None,
)
async def test_an_error_code_keeps_the_vendors_words(
    make: Make, fake: FakeVolcengine, code: int, message: str, meaning: str
) -> None:
    fake.answer_error(code, message)

    with pytest.raises(VendorError) as caught:
        await make().synthesize(TEXT)

    error = caught.value
    assert type(error) is VendorError
    assert (error.code, error.vendor_message) == (str(code), message)
    assert meaning in str(error)


def test_every_documented_code_has_a_meaning() -> None:
    assert set(volcengine.ERRORS) == {3001, 3003, 3005, 3006, 3010, 3011, 3030, 3031, 3032, 3040, 3050}


async def test_an_answer_without_audio_is_an_error(make: Make, fake: FakeVolcengine) -> None:
    fake.answer_error(3000, "Success")  # code 3000, but no data

    with pytest.raises(TTSError, match="without audio"):
        await make().synthesize(TEXT)


async def test_no_answer_within_the_timeout_is_an_error(make: Make, fake: FakeVolcengine) -> None:
    fake.stalled = True

    with pytest.raises(TTSError, match="volcengine: no answer within 300 ms"):
        await make(timeout_ms=300).synthesize(TEXT)


async def test_a_text_past_1024_bytes_is_said_in_pieces_cut_at_sentence_ends(
    make: Make, fake: FakeVolcengine
) -> None:
    sentence = "您好，这里是医保服务热线，异地就医需要先备案。"  # 23 characters, 69 bytes
    text = sentence * 20  # 1380 bytes
    assert utf8_bytes(text) > volcengine.MAX_TEXT_BYTES

    wav = await make().synthesize(text)

    assert len(fake.said) == 2
    assert all(len(piece.encode("utf-8")) <= MAX_TEXT_BYTES for piece in fake.said)
    assert all(piece.endswith("。") for piece in fake.said)
    assert "".join(fake.said) == text
    assert wav_duration_seconds(wav) == pytest.approx(0.1 + 0.01 * len(text), abs=0.01)


async def test_the_fake_refuses_a_text_past_1024_bytes(make: Make, fake: FakeVolcengine) -> None:
    # What the test above relies on: an unsplit text would have failed (3010).
    backend = make()
    with pytest.raises(VendorError, match="3010"):
        await backend._speak("好" * 342)  # 1026 bytes, one request


# The vendor's own Python sample, from "HTTP接口(一次性合成-非流式)"
# (https://www.volcengine.com/docs/6561/79820): its header and its request_json, as
# the page writes them (the timestamp options left out; this backend asks none).
DOCS_ACCESS_TOKEN = "xxxx"
DOCS_HEADER = {"Authorization": f"Bearer;{DOCS_ACCESS_TOKEN}"}
DOCS_REQUEST_JSON: dict[str, Any] = {
    "app": {"appid": "xxxx", "token": "access_token", "cluster": "xxxx"},
    "user": {"uid": "388808087185088"},
    "audio": {
        "voice_type": "xxxx",
        "encoding": "mp3",
        "speed_ratio": 1.0,
        "volume_ratio": 1.0,
        "pitch_ratio": 1.0,
    },
    "request": {"reqid": "uuid", "text": "字节跳动语音合成", "text_type": "plain", "operation": "query"},
}


def shape(value: Any) -> Any:
    """The keys of a JSON object, nested, and the JSON type of every leaf."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    return "number" if isinstance(value, int | float) else type(value).__name__


async def test_the_request_reads_like_the_vendors_sample(make: Make, fake: FakeVolcengine) -> None:
    await make().synthesize(TEXT)
    [received] = fake.requests
    ours = json.loads(received.body)

    sent_header = received.headers["authorization"]
    assert sent_header == DOCS_HEADER["Authorization"].replace(DOCS_ACCESS_TOKEN, TOKEN)
    theirs = shape(DOCS_REQUEST_JSON)
    theirs["audio"]["rate"] = "number"  # documented in 参数基本说明; the sample keeps the default
    assert shape(ours) == theirs
    assert ours["request"]["operation"] == DOCS_REQUEST_JSON["request"]["operation"]
    assert ours["request"]["text_type"] == DOCS_REQUEST_JSON["request"]["text_type"]
    assert received.headers["content-type"].startswith("application/json")


async def test_check_says_hello_and_describes_the_backend_without_the_token(
    make: Make, fake: FakeVolcengine
) -> None:
    description = await make().check()

    assert fake.said == ["您好"]
    assert "BV001_streaming" in description
    assert TOKEN not in description


def settings(tmp_path: Path, **values: object) -> Settings:
    return load_settings(data_dir=tmp_path, **values)


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({"tts_volcengine_token": TOKEN}, "VOICEBOT_TTS_VOLCENGINE_APPID is not set"),
        ({"tts_volcengine_appid": APPID}, "VOICEBOT_TTS_VOLCENGINE_TOKEN is not set"),
        ({}, "VOICEBOT_TTS_VOLCENGINE_APPID, VOICEBOT_TTS_VOLCENGINE_TOKEN are not set"),
    ],
    ids=["appid", "token", "both"],
)
def test_build_names_each_missing_setting(tmp_path: Path, values: dict[str, object], missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        build_backends(settings(tmp_path, tts="volcengine", **values))


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"tts_volcengine_sample_rate": 22050}, "VOICEBOT_TTS_VOLCENGINE_SAMPLE_RATE"),
        ({"tts_volcengine_speed": 0.1}, "VOICEBOT_TTS_VOLCENGINE_SPEED"),
        ({"tts_volcengine_volume": 3.5}, "VOICEBOT_TTS_VOLCENGINE_VOLUME"),
        ({"tts_volcengine_pitch": 0}, "VOICEBOT_TTS_VOLCENGINE_PITCH"),
        ({"tts_volcengine_url": "openspeech.bytedance.com"}, "VOICEBOT_TTS_VOLCENGINE_URL"),
        ({"tts_volcengine_voice": "BV001 streaming"}, "VOICEBOT_TTS_VOLCENGINE_VOICE"),
    ],
    ids=["sample-rate", "speed", "volume", "pitch", "url", "voice"],
)
def test_invalid_settings_name_themselves(tmp_path: Path, values: dict[str, object], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        settings(tmp_path, **values)


# docs/speech.md's example, setting for setting.
DOCS_EXAMPLE = {
    "tts": "volcengine,espeak",
    "tts_volcengine_appid": APPID,
    "tts_volcengine_token": TOKEN,
    "tts_volcengine_voice": "BV001_streaming",
}


async def test_the_documented_example_builds_the_public_endpoint(tmp_path: Path) -> None:
    chain = build_backends(settings(tmp_path, **DOCS_EXAMPLE))
    try:
        backend = chain[0]
        assert isinstance(backend, VolcengineTTS)
        assert [b.name for b in chain] == ["volcengine", "espeak-ng"]
        assert backend.url == "https://openspeech.bytedance.com/api/v1/tts"
        assert (backend.voice, backend.cluster, backend.sample_rate) == (
            "BV001_streaming",
            "volcano_tts",
            8000,
        )
        assert backend.timeout_ms == 2500
    finally:
        await close_backends(chain)


def test_the_endpoint_is_on_the_outgoing_host_allowlist(tmp_path: Path) -> None:
    allowlist = HostAllowlist.of(settings(tmp_path, outgoing_hosts="crm.example.com", **DOCS_EXAMPLE))

    assert allowlist.allows("https://openspeech.bytedance.com/api/v1/tts")
    assert not allowlist.allows("https://openspeech.example.com/api/v1/tts")


async def test_secrets_and_texts_stay_out_of_reprs_errors_and_logs(
    make: Make, fake: FakeVolcengine, caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[Exception] = []
    with caplog.at_level(logging.DEBUG):
        backend = make()
        await backend.synthesize(f"您的号码是{CALLER_NUMBER}。")
        for revoked in (False, True):
            fake.answer_error(3011, "illegal input text!")
            fake.revoked = revoked
            try:
                await backend.synthesize(f"您的号码是{CALLER_NUMBER}。")
            except TTSError as exc:
                errors.append(exc)

    shown = [caplog.text, repr(backend), str(backend.identity()), *map(str, errors), *map(repr, errors)]
    assert len(errors) == 2
    assert all(TOKEN not in text and CALLER_NUMBER not in text for text in shown)


async def test_the_chain_speaks_through_volcengine_and_falls_back_to_espeak(
    tmp_path: Path, fake: FakeVolcengine
) -> None:
    chain = build_backends(
        settings(tmp_path, **DOCS_EXAMPLE, tts_volcengine_url=f"{fake.base_url}/api/v1/tts")
    )
    synth = SpeechSynthesizer(chain, AudioCache(tmp_path / "audio"), cooldown_seconds=3600)
    try:
        clip = await synth.render(TEXT)
        assert clip.backend == "volcengine"
        assert fake.said == [normalize_for_speech(TEXT)]
        assert wav_format(clip.path.read_bytes()) == (8000, 1, 2)

        fake.answer_error(3031, "internal error")
        fallback = await synth.render("请问还有什么可以帮您？")
        assert fallback.backend == "espeak-ng"
        assert len(fake.requests) == 2
    finally:
        await synth.aclose()
        await close_backends(chain)
