"""The azure backend against a loopback Azure AI Speech: SSML, tokens, errors, limits, the chain."""

from __future__ import annotations

import io
import logging
import re
import wave
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
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
from bot.speech.vendors import azure
from bot.speech.vendors.azure import AzureTTS
from bot.speech.wav import read_pcm, wav_duration_seconds

from .fake_azure import FakeAzure

KEY = "azure-key-0123456789abcdef"
TEXT = "您好，这里是医保服务热线。"
CALLER_NUMBER = "13812345678"


class Clock:
    """Unix time that a test moves forward by hand."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeAzure]:
    vendor = FakeAzure(key=KEY, clock=clock)
    async with vendor.serve():
        yield vendor


Make = Callable[..., AzureTTS]


@pytest.fixture
async def make(fake: FakeAzure, clock: Clock) -> AsyncIterator[Make]:
    """Makes backends pointed at ``fake`` and closes them afterwards."""
    made: list[AzureTTS] = []

    def make_backend(**options: Any) -> AzureTTS:
        values: dict[str, Any] = {
            "key": SecretStr(KEY),
            "url": f"{fake.base_url}/cognitiveservices/v1",
            "token_url": f"{fake.base_url}/sts/v1.0/issueToken",
            "clock": clock,
            "timeout_ms": 5000,
            **options,
        }
        made.append(AzureTTS(**values))
        return made[-1]

    yield make_backend
    for backend in made:
        await backend.aclose()


def wav_format(wav: bytes) -> tuple[int, int, int]:
    with wave.open(io.BytesIO(wav)) as reader:
        return reader.getframerate(), reader.getnchannels(), reader.getsampwidth()


async def test_a_text_becomes_8_khz_telephone_audio(make: Make, fake: FakeAzure) -> None:
    wav = await make().synthesize(TEXT)

    assert read_pcm(wav).rate == 8000
    assert wav_format(to_telephone_wav(wav)) == (8000, 1, 2)
    [spoken] = fake.spoken
    assert (spoken.text, spoken.voice, spoken.lang) == (TEXT, "zh-CN-XiaoxiaoNeural", "zh-CN")
    assert spoken.output_format == "riff-8khz-16bit-mono-pcm"
    assert spoken.prosody == {"rate": "+0%", "volume": "100"}
    assert spoken.effect == "eq_telecomhp8k"


async def test_voice_rate_volume_and_sample_rate_reach_the_ssml(make: Make, fake: FakeAzure) -> None:
    backend = make(voice="zh-CN-YunxiNeural", rate=1.5, volume=80, sample_rate=16000)

    wav = await backend.synthesize(TEXT)

    assert read_pcm(wav).rate == 16000
    assert wav_format(to_telephone_wav(wav)) == (8000, 1, 2)
    [spoken] = fake.spoken
    assert (spoken.voice, spoken.output_format) == ("zh-CN-YunxiNeural", "riff-16khz-16bit-mono-pcm")
    assert spoken.prosody == {"rate": "+50%", "volume": "80"}
    assert spoken.effect is None  # the telephone effect is for 8 kHz only
    assert backend.identity()["voice"] == "zh-CN-YunxiNeural"
    assert make().identity() != backend.identity()


async def test_markup_in_the_text_is_said_not_obeyed(make: Make, fake: FakeAzure) -> None:
    await make().synthesize('A&B <voice name="x"> 好的……再见')

    assert fake.said == ['A&B <voice name="x"> 好的再见']  # the long pause is a <break/>
    assert '<break time="500ms"/>' in fake.speech_requests[0].body.decode()


async def test_a_token_serves_nine_minutes_then_a_new_one_is_fetched(
    make: Make, fake: FakeAzure, clock: Clock
) -> None:
    backend = make()

    await backend.synthesize(TEXT)
    clock.now += 8 * 60
    await backend.synthesize("请问还有什么可以帮您？")
    assert fake.issued == 1
    clock.now += 90  # 9.5 minutes: the fake would still take it, but it is renewed before it expires
    await backend.synthesize("再见。")

    assert fake.issued == backend.token_fetches == 2
    tokens = [r.headers["authorization"] for r in fake.speech_requests]
    assert tokens[0] == tokens[1] != tokens[2]


async def test_a_revoked_token_is_fetched_anew_and_the_text_asked_once_more(
    make: Make, fake: FakeAzure
) -> None:
    backend = make()
    await backend.synthesize(TEXT)
    fake.revoke_tokens()

    await backend.synthesize("请问还有什么可以帮您？")

    assert fake.issued == 2
    assert [r.path for r in fake.speech_requests] == ["/cognitiveservices/v1"] * 3
    assert fake.said == [TEXT, "请问还有什么可以帮您？"]


async def test_a_wrong_key_is_an_auth_error_and_nothing_is_asked(make: Make, fake: FakeAzure) -> None:
    with pytest.raises(VendorAuthError, match="azure error 401") as caught:
        await make(key=SecretStr("not-the-key")).synthesize(TEXT)

    assert "Access denied" in caught.value.vendor_message
    assert "fetching an access token" in str(caught.value)
    assert (len(fake.token_requests), fake.speech_requests) == (1, [])


async def test_the_key_itself_can_authorize_every_request(make: Make, fake: FakeAzure) -> None:
    await make(token_url=None).synthesize(TEXT)

    assert fake.token_requests == []
    assert fake.speech_requests[0].headers["ocp-apim-subscription-key"] == KEY
    assert "authorization" not in fake.speech_requests[0].headers


async def test_too_many_requests_is_a_rate_limit(make: Make, fake: FakeAzure) -> None:
    fake.rate_limited = True

    with pytest.raises(VendorRateLimitedError) as caught:
        await make().synthesize(TEXT)

    assert caught.value.code == "429"
    assert "too many requests" in str(caught.value)
    assert "retry after 2 s" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "meaning"),
    [
        (400, "", "bad request"),
        (415, "Unsupported Media Type", "unsupported media type"),
        (502, "", "bad gateway"),
        (503, "upstream overloaded", "service unavailable"),
        (500, "", ""),
    ],
    ids=["400", "415", "502", "503", "undocumented"],
)
async def test_an_error_status_keeps_the_vendors_words(
    make: Make, fake: FakeAzure, status: int, body: str, meaning: str
) -> None:
    fake.answer_error(status, body)

    with pytest.raises(VendorError) as caught:
        await make().synthesize(TEXT)

    error = caught.value
    assert type(error) is VendorError
    assert error.code == str(status)
    assert error.vendor_message == (body or httpx.codes.get_reason_phrase(status))
    assert meaning in str(error)


async def test_an_answer_that_is_not_audio_is_an_error(make: Make, fake: FakeAzure) -> None:
    fake.answer_error(200, "<html>maintenance</html>")

    with pytest.raises(TTSError, match="not a WAV file"):
        await make().synthesize(TEXT)


async def test_no_answer_within_the_timeout_is_an_error(make: Make, fake: FakeAzure) -> None:
    fake.stalled = True

    with pytest.raises(TTSError, match="azure: no answer within 300 ms"):
        await make(timeout_ms=300).synthesize(TEXT)


async def test_a_text_past_the_limit_is_said_in_pieces_cut_at_sentence_ends(
    make: Make, fake: FakeAzure
) -> None:
    sentence = "您好，这里是医保服务热线，异地就医需要先备案，请问还有什么可以帮您？"
    text = sentence * 40  # 1360 characters
    assert len(text) > azure.MAX_TEXT_CHARS

    wav = await make().synthesize(text)

    assert len(fake.said) == 2
    assert all(len(piece) <= fake.max_text_chars for piece in fake.said)
    assert all(piece.endswith("？") for piece in fake.said)
    assert "".join(fake.said) == text
    assert read_pcm(wav).rate == 8000
    assert wav_duration_seconds(wav) == pytest.approx(0.1 + 0.01 * len(text), abs=0.01)


async def test_the_fake_refuses_a_text_past_its_limit(fake: FakeAzure) -> None:
    # What the test above relies on: an unsplit text would have failed.
    ssml = (
        '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="zh-CN">'
        f'<voice name="zh-CN-XiaoxiaoNeural">{"好" * 1001}</voice></speak>'
    )
    headers = {
        "Ocp-Apim-Subscription-Key": KEY,
        "Content-Type": "application/ssml+xml",
        "X-Microsoft-OutputFormat": "riff-8khz-16bit-mono-pcm",
        "User-Agent": "test",
    }
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{fake.base_url}/cognitiveservices/v1", content=ssml, headers=headers)

    assert response.status_code == 400


# The vendor's own HTTP samples, verbatim, from "Text to speech REST API"
# (https://learn.microsoft.com/azure/ai-services/speech-service/rest-text-to-speech),
# sections "How to get an access token" → "HTTP sample" and "Convert text to speech"
# → "Sample request". The requests the backend sends must read the same.
DOCS_TOKEN_SAMPLE = """\
POST /sts/v1.0/issueToken HTTP/1.1
Ocp-Apim-Subscription-Key: YourSpeechResourceKey
Host: YourResourceName.cognitiveservices.azure.com
Content-type: application/x-www-form-urlencoded
Content-Length: 0
"""
DOCS_SPEECH_SAMPLE = """\
POST /cognitiveservices/v1 HTTP/1.1

X-Microsoft-OutputFormat: riff-24khz-16bit-mono-pcm
Content-Type: application/ssml+xml
Host: westus.tts.speech.microsoft.com
Content-Length: <Length>
Authorization: Bearer [Base64 access_token]
User-Agent: <Your application name>

<speak version='1.0' xml:lang='en-US'><voice xml:lang='en-US' xml:gender='Male'
    name='en-US-ChristopherNeural'>
        I'm excited to try text to speech!
</voice></speak>
"""


def docs_sample(sample: str) -> tuple[str, str, dict[str, str], str]:
    """Method, path, headers (lower-case names) and body of an HTTP sample."""
    head, _, body = sample.partition("\n\n<")
    request_line, *lines = [line for line in head.splitlines() if line.strip()]
    method, path, _ = request_line.split()
    headers = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in lines)}
    return method, path, headers, f"<{body}" if body else ""


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


async def test_the_requests_read_like_the_vendors_samples(make: Make, fake: FakeAzure) -> None:
    await make(sample_rate=24000).synthesize(TEXT)
    [token_request], [speech_request] = fake.token_requests, fake.speech_requests

    method, path, headers, _ = docs_sample(DOCS_TOKEN_SAMPLE)
    assert (method, path) == ("POST", token_request.path)
    assert headers["ocp-apim-subscription-key"] == "YourSpeechResourceKey"
    assert token_request.headers["ocp-apim-subscription-key"] == KEY
    for name in ("content-type", "content-length"):
        assert token_request.headers[name] == headers[name]

    method, path, headers, body = docs_sample(DOCS_SPEECH_SAMPLE)
    assert (method, path) == ("POST", speech_request.path)
    for name in ("x-microsoft-outputformat", "content-type"):
        assert speech_request.headers[name] == headers[name]
    assert re.fullmatch(r"Bearer \S+", headers["authorization"].replace("[Base64 access_token]", "t"))
    assert re.fullmatch(r"Bearer fake\.\S+", speech_request.headers["authorization"])
    assert 0 < len(speech_request.headers["user-agent"]) < 255
    assert int(speech_request.headers["content-length"]) == len(speech_request.body)
    theirs, ours = ET.fromstring(body), ET.fromstring(speech_request.body)
    assert (
        (local(ours.tag), ours.get("version"))
        == (local(theirs.tag), theirs.get("version"))
        == ("speak", "1.0")
    )
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    assert theirs.get(lang) == "en-US"
    assert ours.get(lang) == "zh-CN"
    assert [local(child.tag) for child in ours] == [local(child.tag) for child in theirs] == ["voice"]
    assert ours[0].get("name") == "zh-CN-XiaoxiaoNeural"


async def test_check_says_hello_and_describes_the_backend_without_the_key(
    make: Make, fake: FakeAzure
) -> None:
    description = await make().check()

    assert fake.said == ["您好"]
    assert "zh-CN-XiaoxiaoNeural" in description
    assert KEY not in description


def settings(tmp_path: Path, **values: object) -> Settings:
    return load_settings(data_dir=tmp_path, **values)


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({"tts_azure_region": "eastasia"}, "VOICEBOT_TTS_AZURE_KEY is not set"),
        ({"tts_azure_key": KEY}, "VOICEBOT_TTS_AZURE_REGION is not set"),
        ({}, "VOICEBOT_TTS_AZURE_KEY, VOICEBOT_TTS_AZURE_REGION are not set"),
        (
            {"tts_azure_key": KEY, "tts_azure_url": "https://tts.example.invalid/v1"},
            "VOICEBOT_TTS_AZURE_REGION",
        ),
    ],
    ids=["key", "region", "both", "token-url"],
)
def test_build_names_each_missing_setting(tmp_path: Path, values: dict[str, object], missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        build_backends(settings(tmp_path, tts="azure", **values))


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"tts_azure_sample_rate": 11025}, "VOICEBOT_TTS_AZURE_SAMPLE_RATE"),
        ({"tts_azure_rate": 3}, "VOICEBOT_TTS_AZURE_RATE"),
        ({"tts_azure_volume": 101}, "VOICEBOT_TTS_AZURE_VOLUME"),
        ({"tts_azure_region": "East Asia"}, "VOICEBOT_TTS_AZURE_REGION"),
        ({"tts_azure_url": "tts.example.invalid"}, "VOICEBOT_TTS_AZURE_URL"),
        ({"tts_azure_voice": 'x"y'}, "VOICEBOT_TTS_AZURE_VOICE"),
        ({"tts_azure_auth": "password"}, "VOICEBOT_TTS_AZURE_AUTH"),
    ],
    ids=["sample-rate", "rate", "volume", "region", "url", "voice", "auth"],
)
def test_invalid_settings_name_themselves(tmp_path: Path, values: dict[str, object], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        settings(tmp_path, **values)


# docs/speech.md's example, setting for setting.
DOCS_EXAMPLE = {
    "tts": "azure,espeak",
    "tts_azure_key": KEY,
    "tts_azure_region": "chinaeast2",
    "tts_azure_voice": "zh-CN-XiaoxiaoNeural",
}


async def test_the_documented_example_builds_the_21vianet_endpoints(tmp_path: Path) -> None:
    chain = build_backends(settings(tmp_path, **DOCS_EXAMPLE))
    try:
        backend = chain[0]
        assert isinstance(backend, AzureTTS)
        assert [b.name for b in chain] == ["azure", "espeak-ng"]
        assert backend.url == "https://chinaeast2.tts.speech.azure.cn/cognitiveservices/v1"
        assert backend.token_url == "https://chinaeast2.api.cognitive.azure.cn/sts/v1.0/issueToken"
        assert (backend.voice, backend.sample_rate, backend.timeout_ms) == (
            "zh-CN-XiaoxiaoNeural",
            8000,
            2500,
        )
        assert backend.identity()["url"] == backend.url
    finally:
        await close_backends(chain)


def test_the_regions_endpoints_are_on_the_outgoing_host_allowlist(tmp_path: Path) -> None:
    allowlist = HostAllowlist.of(settings(tmp_path, outgoing_hosts="crm.example.com", **DOCS_EXAMPLE))

    assert allowlist.allows("https://chinaeast2.tts.speech.azure.cn/cognitiveservices/v1")
    assert allowlist.allows("https://chinaeast2.api.cognitive.azure.cn/sts/v1.0/issueToken")
    assert not allowlist.allows("https://eastasia.tts.speech.microsoft.com/cognitiveservices/v1")


async def test_secrets_and_texts_stay_out_of_reprs_errors_and_logs(
    make: Make, fake: FakeAzure, caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[Exception] = []
    with caplog.at_level(logging.DEBUG):
        backend = make()
        await backend.synthesize(f"您的号码是{CALLER_NUMBER}。")
        fake.revoke_tokens()
        await backend.synthesize(f"您的号码是{CALLER_NUMBER}。")
        for rate_limited in (False, True):
            fake.answer_error(400, "")
            fake.rate_limited = rate_limited
            try:
                await backend.synthesize(f"您的号码是{CALLER_NUMBER}。")
            except TTSError as exc:
                errors.append(exc)
        try:
            await make(key=SecretStr("wrong-key-0123")).synthesize(TEXT)
        except TTSError as exc:
            errors.append(exc)

    secrets = [KEY, "wrong-key-0123", *(r.headers["authorization"][7:] for r in fake.speech_requests)]
    shown = [caplog.text, repr(backend), str(backend.identity()), *map(str, errors), *map(repr, errors)]
    assert len(errors) == 3
    assert all(secret not in text for secret in secrets for text in shown)
    assert all(CALLER_NUMBER not in text for text in shown)


async def test_the_chain_speaks_through_azure_and_falls_back_to_espeak(
    tmp_path: Path, fake: FakeAzure
) -> None:
    chain = build_backends(
        settings(
            tmp_path,
            **DOCS_EXAMPLE,
            tts_azure_url=f"{fake.base_url}/cognitiveservices/v1",
            tts_azure_token_url=f"{fake.base_url}/sts/v1.0/issueToken",
        )
    )
    synth = SpeechSynthesizer(chain, AudioCache(tmp_path / "audio"), cooldown_seconds=3600)
    try:
        clip = await synth.render(TEXT)
        assert clip.backend == "azure"
        assert fake.said == [normalize_for_speech(TEXT)]
        assert wav_format(clip.path.read_bytes()) == (8000, 1, 2)

        fake.answer_error(503, "")
        fallback = await synth.render("请问还有什么可以帮您？")
        assert fallback.backend == "espeak-ng"
        assert len(fake.speech_requests) == 2
    finally:
        await synth.aclose()
        await close_backends(chain)
