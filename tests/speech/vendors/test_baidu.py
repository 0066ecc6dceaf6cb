"""The baidu backend against a loopback fake of Baidu's token service and text2audio,
its requests against the vendor's documented example and official SDK, and the chain."""

from __future__ import annotations

import asyncio
import logging
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Settings, load_settings
from bot.errors import ConfigError, TTSError, VendorAuthError, VendorError, VendorRateLimitedError
from bot.language.outgoing import HostAllowlist
from bot.speech.audio import to_telephone_wav
from bot.speech.backends import build_backends, check_backends, close_backends
from bot.speech.cache import AudioCache
from bot.speech.espeak import EspeakTTS
from bot.speech.synthesizer import SpeechSynthesizer
from bot.speech.vendors.baidu import BaiduTTS
from bot.speech.wav import read_pcm, wav_duration_seconds

from .fake_baidu import FakeBaidu
from .serving import serve_asgi

API_KEY = "Fk4eApiKey0a1b2c3d4e5f6g"
SECRET_KEY = "Fk4eSecretKey9z8y7x6w5v4u3t2s1r0"
TEXT = "您好，这里是医保服务热线。"
CALLER_NUMBER = "13812345678"
SENTENCE = "请您在听到提示音后说出您要办理的业务，我们会尽快为您处理。"

# The example of docs/speech.md ("Baidu"), as a deployment's environment sets it.
DOCS_EXAMPLE = {
    "VOICEBOT_TTS": "baidu,espeak",
    "VOICEBOT_TTS_BAIDU_API_KEY": API_KEY,
    "VOICEBOT_TTS_BAIDU_SECRET_KEY": SECRET_KEY,
    "VOICEBOT_TTS_BAIDU_VOICE": "0",
}


class Served:
    """The fake and the backends made for it (closed when the test ends)."""

    def __init__(self, fake: FakeBaidu, base_url: str) -> None:
        self.fake, self.base_url = fake, base_url
        self.made: list[BaiduTTS] = []

    def backend(self, **options: Any) -> BaiduTTS:
        values: dict[str, Any] = {
            "api_key": SecretStr(API_KEY),
            "secret_key": SecretStr(SECRET_KEY),
            "url": f"{self.base_url}/text2audio",
            "token_url": f"{self.base_url}/oauth/2.0/token",
            "timeout_seconds": 5.0,
            **options,
        }
        self.made.append(BaiduTTS(**values))
        return self.made[-1]

    def urls(self) -> dict[str, str]:
        return {
            "tts_baidu_url": f"{self.base_url}/text2audio",
            "tts_baidu_token_url": f"{self.base_url}/oauth/2.0/token",
        }


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    fake = FakeBaidu(API_KEY, SECRET_KEY)
    async with serve_asgi(fake.app) as base_url:
        served = Served(fake, base_url)
        yield served
        for backend in served.made:
            await backend.aclose()


def settings_of(environment: dict[str, str], tmp_path: Path, **values: object) -> Settings:
    """Settings from ``VOICEBOT_*`` variables, passed in (not through os.environ)."""
    fields = {name.removeprefix("VOICEBOT_").lower(): value for name, value in environment.items()}
    return load_settings(data_dir=tmp_path, **fields, **values)


async def test_a_text_becomes_telephone_audio(served: Served) -> None:
    wav = await served.backend().synthesize(TEXT)

    pcm = read_pcm(wav)
    assert (pcm.rate, pcm.channels, pcm.width) == (8000, 1, 2)
    telephone = read_pcm(to_telephone_wav(wav))
    assert (telephone.rate, telephone.channels, telephone.width) == (8000, 1, 2)
    assert wav_duration_seconds(wav) == pytest.approx(len(TEXT) * 0.05, abs=0.01)
    assert served.fake.texts == [TEXT]
    [form] = served.fake.forms
    assert form == {
        "tex": TEXT,
        "tok": form["tok"],
        "cuid": "voicebot",
        "ctp": "1",
        "lan": "zh",
        "spd": "5",
        "pit": "5",
        "vol": "5",
        "per": "0",
        "aue": "5",
    }
    [token_request] = served.fake.token_requests
    assert token_request.method == "POST"


async def test_16_khz_audio_is_converted_to_8_khz(served: Served) -> None:
    wav = await served.backend(sample_rate=16000, voice=5118, speed=7).synthesize(TEXT)

    assert read_pcm(wav).rate == 16000
    assert read_pcm(to_telephone_wav(wav)).rate == 8000
    form = served.fake.forms[0]
    assert (form["aue"], form["per"], form["spd"]) == ("4", "5118", "7")


async def test_one_token_serves_many_texts(served: Served) -> None:
    tts = served.backend()

    await tts.synthesize(TEXT)
    await tts.synthesize("请问还有什么可以帮您？")

    assert len(served.fake.token_requests) == 1
    assert served.fake.forms[0]["tok"] == served.fake.forms[1]["tok"]


async def test_a_token_is_fetched_again_before_it_expires(served: Served) -> None:
    now = [time.time()]
    served.fake.clock = lambda: now[0]
    served.fake.token_lifetime_seconds = 3600
    tts = served.backend(clock=lambda: now[0])

    await tts.synthesize(TEXT)
    now[0] += 3600 - 200  # within the refresh margin: still good, but not for long
    await tts.synthesize(TEXT)

    assert len(served.fake.token_requests) == 2
    assert served.fake.forms[0]["tok"] != served.fake.forms[1]["tok"]
    assert served.fake.texts == [TEXT, TEXT]  # neither was refused


async def test_a_revoked_token_is_dropped_and_the_text_asked_again(served: Served) -> None:
    tts = served.backend()
    await tts.synthesize(TEXT)
    served.fake.revoke_tokens()

    wav = await tts.synthesize(TEXT)

    assert wav_duration_seconds(wav) > 0
    assert len(served.fake.token_requests) == 2
    assert len(served.fake.forms) == 3  # the refused request, then the same text again
    assert served.fake.texts == [TEXT, TEXT]


async def test_a_token_refused_twice_is_an_auth_error(served: Served) -> None:
    served.fake.fail_next(502, "authentication failed.")
    served.fake.fail_next(502, "authentication failed.")

    with pytest.raises(VendorAuthError, match=r"baidu error 502 .*: authentication failed\.") as raised:
        await served.backend().synthesize(TEXT)

    assert raised.value.code == "502"
    assert (len(served.fake.token_requests), len(served.fake.forms)) == (2, 2)


async def test_a_rate_limit_answer_is_a_rate_limit_error(served: Served) -> None:
    served.fake.rate_limit_next()

    with pytest.raises(VendorRateLimitedError) as raised:
        await served.backend().synthesize(TEXT)

    assert (raised.value.code, raised.value.vendor_message) == ("13", "Open api qps request limit reached")
    assert len(served.fake.forms) == 1  # not retried: the chain's next backend speaks


@pytest.mark.parametrize(
    ("code", "kind", "meaning"),
    [
        (501, VendorError, "a parameter is wrong"),
        (503, VendorError, "synthesis backend error"),
        (6, VendorAuthError, "no speech synthesis permission"),
        (16, VendorRateLimitedError, "characters quota"),
        (18, VendorRateLimitedError, "concurrency limit"),
        (12345, VendorError, ""),
    ],
    ids=["parameter", "backend", "permission", "quota", "cluster", "unknown"],
)
async def test_an_error_code_keeps_the_vendors_words(
    served: Served, code: int, kind: type[VendorError], meaning: str
) -> None:
    served.fake.fail_next(code, "the vendor's own words")

    with pytest.raises(VendorError) as raised:
        await served.backend().synthesize(TEXT)

    assert type(raised.value) is kind
    assert (raised.value.code, raised.value.vendor_message) == (str(code), "the vendor's own words")
    assert str(raised.value).startswith(f"baidu error {code}")
    assert meaning in str(raised.value)
    assert len(served.fake.token_requests) == 1  # only token refusals fetch a new one


async def test_refused_credentials_are_an_auth_error_without_the_secret(served: Served) -> None:
    with pytest.raises(VendorAuthError) as raised:
        await served.backend(secret_key=SecretStr("not-the-secret-key")).synthesize(TEXT)

    assert (raised.value.code, raised.value.vendor_message) == (
        "invalid_client",
        "Client authentication failed",
    )
    assert "not-the-secret-key" not in str(raised.value)
    assert served.fake.forms == []


async def test_a_vendor_that_does_not_answer_times_out(served: Served) -> None:
    tts = served.backend(timeout_seconds=0.3)
    await tts.tokens.get()
    served.fake.stall = True

    with pytest.raises(TTSError, match="no answer within 300 ms") as raised:
        await tts.synthesize(TEXT)

    assert not isinstance(raised.value, VendorError)


@pytest.mark.parametrize(
    ("status", "content_type", "body", "reason"),
    [
        (
            502,
            "text/html",
            b"<html>bad gateway</html>",
            "answered HTTP 502 with 24 bytes of text/html, not audio",
        ),
        (200, "audio/mp3", b"ID3\x04\x00" + bytes(64), "answered MP3 audio"),
        (200, "audio/basic", b"", "answered no audio"),
    ],
    ids=["gateway-page", "mp3", "empty"],
)
async def test_an_answer_that_is_not_audio_is_an_error(
    served: Served, status: int, content_type: str, body: bytes, reason: str
) -> None:
    served.fake.answer_next(status, content_type, body)

    with pytest.raises(TTSError, match=reason):
        await served.backend().synthesize(TEXT)


async def test_a_text_over_the_limit_is_said_in_sentences_and_joined(served: Served) -> None:
    text = SENTENCE * 20  # 580 characters, 1160 GBK bytes
    assert len(text.encode("gbk")) >= 1024

    wav = await served.backend().synthesize(text)

    assert len(served.fake.texts) == 2
    assert all(len(piece.encode("gbk")) < 1024 for piece in served.fake.texts)
    assert all(piece.endswith("。") for piece in served.fake.texts)
    assert "".join(served.fake.texts) == text
    pieces = [len(piece) * 0.05 for piece in served.fake.texts]
    assert wav_duration_seconds(wav) == pytest.approx(sum(pieces), abs=0.01)
    assert wav_duration_seconds(wav) > max(pieces)


async def test_the_fake_refuses_a_text_over_the_limit_as_the_vendor_does(served: Served) -> None:
    with pytest.raises(VendorError, match="baidu error 501"):
        await served.backend()._speak("好" * 512)  # 1024 GBK bytes


async def test_the_start_up_check_says_hello(served: Served) -> None:
    description = await served.backend().check()

    assert description.startswith("BaiduTTS(http://127.0.0.1:")
    assert served.fake.texts == ["您好"]


# --- the requests against independent oracles ---


async def test_the_token_request_is_the_documented_example() -> None:
    # 鉴权认证机制 (https://ai.baidu.com/ai-doc/REFERENCE/Lkru0zoz4): "向授权服务地址
    # https://aip.baidubce.com/oauth/2.0/token发送请求(推荐使用POST),并在URL中带上以下参数",
    # e.g. ?grant_type=client_credentials&client_id=Va5yQRHlA4Fq5eR3LT0vuXV4
    # &client_secret=0rDSjzQ20XUj5itV6WRtznPQSzr5pVw2& (its trailing "&" adds no parameter).
    fake = FakeBaidu("Va5yQRHlA4Fq5eR3LT0vuXV4", "0rDSjzQ20XUj5itV6WRtznPQSzr5pVw2")
    async with serve_asgi(fake.app) as base_url:
        tts = BaiduTTS(
            api_key=SecretStr("Va5yQRHlA4Fq5eR3LT0vuXV4"),
            secret_key=SecretStr("0rDSjzQ20XUj5itV6WRtznPQSzr5pVw2"),
            url=f"{base_url}/text2audio",
            token_url=f"{base_url}/oauth/2.0/token",
        )
        try:
            await tts.tokens.get()
        finally:
            await tts.aclose()

    [sent] = fake.token_requests
    assert (sent.method, sent.query) == (
        "POST",
        "grant_type=client_credentials&client_id=Va5yQRHlA4Fq5eR3LT0vuXV4&client_secret=0rDSjzQ20XUj5itV6WRtznPQSzr5pVw2",
    )


def official_sdk(base_url: str) -> Any:
    """Baidu's own Python SDK (baidu-aip; test-only: synchronous requests with TLS
    verification off), pointed at the fake: its endpoints are fixed in private class
    attributes, so this instance's copies are set to the loopback URLs."""
    aip = pytest.importorskip("aip", reason="the dev extra installs baidu-aip")
    sdk = aip.AipSpeech("10000001", API_KEY, SECRET_KEY)
    sdk._AipBase__accessTokenUrl = f"{base_url}/oauth/2.0/token"
    sdk._AipSpeech__ttsUrl = f"{base_url}/text2audio"
    return sdk


async def test_the_requests_are_the_official_sdks(served: Served) -> None:
    options = {"per": 5118, "spd": 6, "pit": 4, "vol": 7, "aue": 5, "cuid": "voicebot"}
    sdk = official_sdk(served.base_url)

    sdk_audio = await asyncio.to_thread(sdk.synthesis, TEXT, "zh", 1, options)
    await served.backend(voice=5118, speed=6, pitch=4, volume=7).synthesize(TEXT)

    assert isinstance(sdk_audio, bytes)
    assert len(sdk_audio) > 0
    sdk_token, our_token = served.fake.token_requests
    assert sdk_token.params == our_token.params  # the SDK GETs where the page says POST
    sdk_form, our_form = served.fake.forms
    assert {**sdk_form, "tok": ""} == {**our_form, "tok": ""}
    assert served.fake.texts == [TEXT, TEXT]


async def test_tex_is_encoded_twice_so_a_plus_is_said(served: Served) -> None:
    # 短文本在线合成 (https://ai.baidu.com/ai-doc/SPEECH/mlciskuqn), 接口更新说明 2018-07-14:
    # "tex参数兼容一次urlencode, 推荐两次urlencode"; encoded once, "+" is not said. The SDK
    # encodes once, and the fake reads its "+" as the server does.
    text = "1+1等于2，A&B公司的折扣是50%。"
    sdk = official_sdk(served.base_url)

    await served.backend().synthesize(text)
    await asyncio.to_thread(sdk.synthesis, text, "zh", 1, {"aue": 5})

    assert served.fake.texts == [text, text.replace("+", " ")]


# --- settings, secrets, the chain ---


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "VOICEBOT_TTS_BAIDU_API_KEY, VOICEBOT_TTS_BAIDU_SECRET_KEY are not set"),
        ({"tts_baidu_api_key": API_KEY}, "VOICEBOT_TTS_BAIDU_SECRET_KEY is not set"),
        (
            {
                "tts_baidu_api_key": API_KEY,
                "tts_baidu_secret_key": SECRET_KEY,
                "tts_baidu_url": "ftp://tsn.baidu.com/x",
            },
            "url 'ftp://tsn.baidu.com/x' is not an http:// or https:// URL",
        ),
    ],
    ids=["nothing", "no-secret", "bad-url"],
)
def test_build_names_what_is_missing(tmp_path: Path, values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_backends(load_settings(data_dir=tmp_path, tts="baidu", **values))


def test_the_endpoints_are_on_the_outgoing_host_allowlist(tmp_path: Path) -> None:
    allowlist = HostAllowlist.of(settings_of(DOCS_EXAMPLE, tmp_path, outgoing_hosts="crm.example.com"))

    assert allowlist.allows("https://tsn.baidu.com/text2audio")
    assert allowlist.allows("https://aip.baidubce.com/oauth/2.0/token")
    assert not allowlist.allows("https://tsn.example.com/text2audio")


@pytest.mark.parametrize(
    ("name", "value"),
    [("tts_baidu_sample_rate", "24000"), ("tts_baidu_speed", "16"), ("tts_baidu_cuid", "x" * 61)],
)
def test_settings_out_of_range_are_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"VOICEBOT_{name.upper()}"):
        load_settings(data_dir=tmp_path, **{name: value})


async def test_no_secret_or_text_in_repr_errors_or_logs(
    served: Served, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_of(DOCS_EXAMPLE, tmp_path, **served.urls())
    [tts, _] = build_backends(settings)
    assert isinstance(tts, BaiduTTS)
    served.made.append(tts)
    text = f"您的号码是{CALLER_NUMBER}。"
    with caplog.at_level(logging.DEBUG):
        await tts.synthesize(text)
        served.fake.revoke_tokens()
        await tts.synthesize(text)  # a token refused, dropped and fetched again: logged
        served.fake.fail_next(503, "backend error.")
        with pytest.raises(VendorError) as raised:
            await tts.synthesize(text)
        with pytest.raises(VendorAuthError) as refused:
            await served.backend(secret_key=SecretStr(SECRET_KEY[::-1])).synthesize(text)

    assert "refused its access token" in caplog.text
    tokens = [form["tok"] for form in served.fake.forms]
    shown = "\n".join([repr(tts), repr(settings), str(raised.value), str(refused.value), caplog.text])
    for secret in (API_KEY, SECRET_KEY, SECRET_KEY[::-1], *tokens):
        assert secret not in shown
    assert CALLER_NUMBER not in shown


async def test_the_docs_example_speaks_through_the_chain_and_falls_back(
    served: Served, tmp_path: Path
) -> None:
    chain = build_backends(settings_of(DOCS_EXAMPLE, tmp_path, **served.urls()))
    assert [type(b) for b in chain] == [BaiduTTS, EspeakTTS]
    synth = SpeechSynthesizer(chain, AudioCache(tmp_path / "audio"))
    try:
        await check_backends(chain)
        clip = await synth.render(TEXT)
        served.fake.fail_next(503, "backend error.")
        fallback = await synth.render("请问还有什么可以帮您？")
    finally:
        await synth.aclose()
        await close_backends(chain)

    assert (clip.backend, fallback.backend) == ("baidu", "espeak-ng")
    assert served.fake.texts == ["您好", TEXT]
    with wave.open(str(clip.path)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
