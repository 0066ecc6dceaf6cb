"""The iflytek backend against a loopback fake of iFlytek's streaming TTS WebAPI, its
signer against the vendor's documented example and official SDK, and the chain."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr
from websockets.asyncio.client import connect

from bot.config import Settings, load_settings
from bot.errors import ConfigError, TTSError, VendorAuthError, VendorError, VendorRateLimitedError
from bot.language.outgoing import HostAllowlist
from bot.speech.audio import to_telephone_wav
from bot.speech.backends import build_backends, check_backends, close_backends
from bot.speech.cache import AudioCache
from bot.speech.espeak import EspeakTTS
from bot.speech.synthesizer import SpeechSynthesizer
from bot.speech.vendors import iflytek
from bot.speech.vendors.iflytek import IflytekTTS, http_date, signed_url
from bot.speech.wav import read_pcm, wav_duration_seconds

from .fake_iflytek import FakeIflytek

APP_ID = "5f0c1a2b"
API_KEY = "key0fake1e2d3c4b5a6978685a4b3c2d1"
API_SECRET = "secret9fake8e7d6c5b4a3928171615141"
TEXT = "您好，这里是医保服务热线。"
CALLER_NUMBER = "13812345678"
SENTENCE = "请您在听到提示音后说出您要办理的业务，我们会尽快为您处理。"

# The example of docs/speech.md ("iFlytek"), as a deployment's environment sets it.
DOCS_EXAMPLE = {
    "VOICEBOT_TTS": "iflytek,espeak",
    "VOICEBOT_TTS_IFLYTEK_APP_ID": APP_ID,
    "VOICEBOT_TTS_IFLYTEK_API_KEY": API_KEY,
    "VOICEBOT_TTS_IFLYTEK_API_SECRET": API_SECRET,
    "VOICEBOT_TTS_IFLYTEK_VOICE": "xiaoyan",
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeIflytek]:
    vendor = FakeIflytek(APP_ID, API_KEY, API_SECRET)
    async with vendor.serve():
        yield vendor


def backend(fake: FakeIflytek, **options: Any) -> IflytekTTS:
    values: dict[str, Any] = {
        "app_id": APP_ID,
        "api_key": SecretStr(API_KEY),
        "api_secret": SecretStr(API_SECRET),
        "url": fake.url,
        "timeout_seconds": 5.0,
        **options,
    }
    return IflytekTTS(**values)


def settings_of(environment: dict[str, str], tmp_path: Path, **values: object) -> Settings:
    """Settings from ``VOICEBOT_*`` variables, passed in (not through os.environ)."""
    fields = {name.removeprefix("VOICEBOT_").lower(): value for name, value in environment.items()}
    return load_settings(data_dir=tmp_path, **fields, **values)


async def test_a_text_becomes_telephone_audio(fake: FakeIflytek) -> None:
    wav = await backend(fake).synthesize(TEXT)

    pcm = read_pcm(wav)
    assert (pcm.rate, pcm.channels, pcm.width) == (8000, 1, 2)
    telephone = read_pcm(to_telephone_wav(wav))
    assert (telephone.rate, telephone.channels, telephone.width) == (8000, 1, 2)
    assert wav_duration_seconds(wav) > 0.5
    assert fake.texts == [TEXT]
    [request] = fake.requests
    assert request["common"] == {"app_id": APP_ID}
    assert request["business"] == {
        "aue": "raw",
        "auf": "audio/L16;rate=8000",
        "vcn": "xiaoyan",
        "speed": 50,
        "volume": 50,
        "pitch": 50,
        "tte": "UTF8",
    }
    assert request["data"]["status"] == 2


async def test_16_khz_audio_is_converted_to_8_khz(fake: FakeIflytek) -> None:
    wav = await backend(fake, sample_rate=16000, voice="aisjiuxu", speed=60).synthesize(TEXT)

    assert read_pcm(wav).rate == 16000
    assert read_pcm(to_telephone_wav(wav)).rate == 8000
    assert fake.requests[0]["business"]["auf"] == "audio/L16;rate=16000"
    assert (fake.requests[0]["business"]["vcn"], fake.requests[0]["business"]["speed"]) == ("aisjiuxu", 60)


async def test_every_connection_is_signed_with_the_date_of_its_own(fake: FakeIflytek) -> None:
    # The vendor's "token" is the signed date, good for 300 s: an hour later the backend
    # signs anew rather than reusing anything.
    now = [time.time()]
    fake.clock = lambda: now[0]
    tts = backend(fake, clock=lambda: now[0])

    await tts.synthesize(TEXT)
    now[0] += 3600
    await tts.synthesize(TEXT)

    assert [h.date for h in fake.handshakes] == [http_date(now[0] - 3600), http_date(now[0])]
    assert fake.refusals == []


async def test_a_clock_more_than_300_s_off_is_refused(fake: FakeIflytek) -> None:
    with pytest.raises(VendorAuthError, match="more than 300 s off") as raised:
        await backend(fake, clock=lambda: time.time() - 400).synthesize(TEXT)

    assert raised.value.code == "403"
    assert "a valid date or x-date header is required" in raised.value.vendor_message
    assert fake.texts == []


async def test_a_wrong_secret_is_refused_without_showing_it(fake: FakeIflytek) -> None:
    with pytest.raises(VendorAuthError) as raised:
        await backend(fake, api_secret=SecretStr("not-the-secret")).synthesize(TEXT)

    assert (raised.value.code, raised.value.vendor_message) == ("401", "HMAC signature does not match")
    assert "not-the-secret" not in str(raised.value)
    assert fake.refusals == [(401, "HMAC signature does not match")]


async def test_a_rate_limit_answer_is_a_rate_limit_error(fake: FakeIflytek) -> None:
    fake.rate_limit_next()

    with pytest.raises(VendorRateLimitedError) as raised:
        await backend(fake).synthesize(TEXT)

    assert (raised.value.vendor, raised.value.code, raised.value.vendor_message) == (
        "iflytek",
        "11202",
        "licc limit",
    )
    await backend(fake).synthesize(TEXT)  # the next request is answered again
    assert fake.texts == [TEXT]


@pytest.mark.parametrize(
    ("code", "kind", "meaning"),
    [
        (11200, VendorAuthError, "not licensed"),
        (11201, VendorRateLimitedError, "daily limit"),
        (10163, VendorError, "a parameter is missing or invalid"),
        (10700, VendorError, "engine error"),
        (99999, VendorError, ""),
    ],
    ids=["no-licence", "daily-limit", "parameter", "engine", "unknown"],
)
async def test_an_error_code_keeps_the_vendors_words(
    fake: FakeIflytek, code: int, kind: type[VendorError], meaning: str
) -> None:
    fake.fail_next(code, "the vendor's own words")

    with pytest.raises(VendorError) as raised:
        await backend(fake).synthesize(TEXT)

    assert type(raised.value) is kind
    assert (raised.value.code, raised.value.vendor_message) == (str(code), "the vendor's own words")
    assert str(raised.value).startswith(f"iflytek error {code}")
    assert meaning in str(raised.value)
    assert str(raised.value).endswith(": the vendor's own words")


@pytest.mark.parametrize(
    ("status", "kind"),
    [(429, VendorRateLimitedError), (500, VendorError), (403, VendorAuthError)],
    ids=["too-many", "server-error", "forbidden"],
)
async def test_a_refused_handshake_is_a_vendor_error(
    fake: FakeIflytek, status: int, kind: type[VendorError]
) -> None:
    fake.refuse_next(status, "the gateway's own words")

    with pytest.raises(VendorError) as raised:
        await backend(fake).synthesize(TEXT)

    assert type(raised.value) is kind
    assert (raised.value.code, raised.value.vendor_message) == (str(status), "the gateway's own words")
    assert fake.requests == []


async def test_a_vendor_that_does_not_answer_times_out(fake: FakeIflytek) -> None:
    fake.stall = True

    with pytest.raises(TTSError, match="no answer within 300 ms") as raised:
        await backend(fake, timeout_seconds=0.3).synthesize(TEXT)

    assert not isinstance(raised.value, VendorError)
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (
            {"code": 0, "message": "success", "data": {"audio": "not base64!", "status": 2}},
            "not valid base64",
        ),
        ({"code": 0, "message": "success", "data": {"audio": "", "status": 2}}, "answered no audio"),
        ({"code": 0, "message": "success", "data": {"audio": 7, "status": 2}}, "not base64 text"),
    ],
    ids=["bad-base64", "empty", "not-text"],
)
async def test_an_answer_that_is_not_audio_is_an_error(
    fake: FakeIflytek, frame: dict[str, Any], reason: str
) -> None:
    fake.answer_next(frame)

    with pytest.raises(TTSError, match=reason):
        await backend(fake).synthesize(TEXT)


async def test_a_connection_closed_before_the_last_frame_is_an_error(fake: FakeIflytek) -> None:
    fake.answer_next({"code": 0, "message": "success", "data": {"audio": "AAAA", "status": 1}})

    with pytest.raises(TTSError, match="before the last audio frame"):
        await backend(fake).synthesize(TEXT)


async def test_a_text_over_the_limit_is_said_in_sentences_and_joined(fake: FakeIflytek) -> None:
    text = SENTENCE * 120  # 3480 characters, 10440 UTF-8 bytes
    assert len(text.encode("utf-8")) >= iflytek.MAX_TEXT_UTF8_BYTES + 1

    wav = await backend(fake).synthesize(text)

    assert len(fake.texts) == 2
    assert all(len(piece.encode("utf-8")) < 8000 for piece in fake.texts)
    assert all(piece.endswith("。") for piece in fake.texts)
    assert "".join(fake.texts) == text
    pieces = [len(piece) * 0.05 for piece in fake.texts]
    assert wav_duration_seconds(wav) == pytest.approx(sum(pieces), abs=0.01)
    assert wav_duration_seconds(wav) > max(pieces)


async def test_the_fake_refuses_a_text_over_the_limit_as_the_vendor_does(fake: FakeIflytek) -> None:
    # What the split above avoids: one piece of 8000 bytes or more.
    tts = backend(fake)
    with pytest.raises(VendorError, match="iflytek error 10109") as raised:
        await tts._speak("好" * 2667)  # 8001 bytes

    assert raised.value.code == "10109"


async def test_the_start_up_check_says_hello(fake: FakeIflytek) -> None:
    description = await backend(fake).check()

    assert description.startswith("IflytekTTS(ws://127.0.0.1:")
    assert fake.texts == ["您好"]


# --- the signer against independent oracles ---


def test_the_signature_is_the_vendors_documented_example() -> None:
    # 语音听写（流式版）WebAPI 文档, section 接口鉴权 (the authentication every iFlytek
    # streaming WebAPI shares, TTS included): https://www.xfyun.cn/doc/asr/voicedictation/API.html
    # APIKey keyxxxxxxxx8ee279348519exxxxxxxx, APISecret secretxxxxxxxx2df7900c09xxxxxxxx,
    # date Wed, 10 Jul 2019 07:35:43 GMT → signature Hp3Ty4ZkSBmL8jKyOLpQiv9Sr5nvmeYEH7WsL/ZO2Jg=
    # and this whole example URL.
    documented = (
        "wss://iat-api.xfyun.cn/v2/iat?authorization=YXBpX2tleT0ia2V5eHh4eHh4eHg4ZWUyNzkzNDg1MTlleHh4eHh4eHgiLC"
        "BhbGdvcml0aG09ImhtYWMtc2hhMjU2IiwgaGVhZGVycz0iaG9zdCBkYXRlIHJlcXVlc3QtbGluZSIsIHNpZ25hdHVyZT0iSHAzVHk0"
        "WmtTQm1MOGpLeU9McFFpdjlTcjVudm1lWUVIN1dzTC9aTzJKZz0i&date=Wed%2C%2010%20Jul%202019%2007%3A35%3A43%20GMT"
        "&host=iat-api.xfyun.cn"
    )
    moment = dt.datetime(2019, 7, 10, 7, 35, 43, tzinfo=dt.UTC).timestamp()

    url = signed_url(
        "wss://iat-api.xfyun.cn/v2/iat",
        "keyxxxxxxxx8ee279348519exxxxxxxx",
        "secretxxxxxxxx2df7900c09xxxxxxxx",
        http_date(moment),
    )

    assert url == documented
    authorization = base64.b64decode(parse_qs(urlsplit(url).query)["authorization"][0]).decode()
    assert authorization.endswith('signature="Hp3Ty4ZkSBmL8jKyOLpQiv9Sr5nvmeYEH7WsL/ZO2Jg="')


async def test_the_signature_is_the_official_sdks(fake: FakeIflytek) -> None:
    # iFlytek's own Python SDK (xfyunsdkcore, by iflytek.com; test-only: it is synchronous,
    # threaded and turns TLS verification off) signs the same URL; its date is its own "now".
    signature = pytest.importorskip("xfyunsdkcore.signature", reason="the dev extra installs xfyunsdkcore")
    sdk_url: str = signature.Signature.create_signed_url(fake.url, API_KEY, API_SECRET)
    sdk_query = {name: values[0] for name, values in parse_qs(urlsplit(sdk_url).query).items()}

    ours = signed_url(fake.url, API_KEY, API_SECRET, sdk_query["date"])

    assert {name: values[0] for name, values in parse_qs(urlsplit(ours).query).items()} == sdk_query
    # And the fake, which checks signatures its own way, accepts the SDK's URL.
    request = {
        "common": {"app_id": APP_ID},
        "business": {"aue": "raw", "auf": "audio/L16;rate=8000", "vcn": "xiaoyan", "tte": "UTF8"},
        "data": {"status": 2, "text": base64.b64encode(TEXT.encode()).decode()},
    }
    async with connect(sdk_url) as connection:
        await connection.send(json.dumps(request))
        first = json.loads(await connection.recv())
    assert (first["code"], fake.texts, fake.refusals) == (0, [TEXT], [])


def test_the_date_is_rfc_1123_in_gmt() -> None:
    assert http_date(dt.datetime(2019, 7, 10, 7, 35, 43, tzinfo=dt.UTC).timestamp()) == (
        "Wed, 10 Jul 2019 07:35:43 GMT"
    )


# --- settings, secrets, the chain ---


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {},
            "VOICEBOT_TTS_IFLYTEK_APP_ID, VOICEBOT_TTS_IFLYTEK_API_KEY, VOICEBOT_TTS_IFLYTEK_API_SECRET "
            "are not set",
        ),
        (
            {"tts_iflytek_app_id": APP_ID, "tts_iflytek_api_key": API_KEY},
            "VOICEBOT_TTS_IFLYTEK_API_SECRET is not set",
        ),
        (
            {
                "tts_iflytek_app_id": APP_ID,
                "tts_iflytek_api_key": API_KEY,
                "tts_iflytek_api_secret": API_SECRET,
                "tts_iflytek_url": "https://tts-api.xfyun.cn/v2/tts",
            },
            "is not a ws:// or wss:// URL",
        ),
    ],
    ids=["nothing", "no-secret", "http-url"],
)
def test_build_names_what_is_missing(tmp_path: Path, values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_backends(load_settings(data_dir=tmp_path, tts="iflytek", **values))


def test_the_endpoint_is_on_the_outgoing_host_allowlist(tmp_path: Path) -> None:
    allowlist = HostAllowlist.of(settings_of(DOCS_EXAMPLE, tmp_path, outgoing_hosts="crm.example.com"))

    assert allowlist.allows("wss://tts-api.xfyun.cn/v2/tts")
    assert not allowlist.allows("wss://tts-api.example.com/v2/tts")


@pytest.mark.parametrize("value", ["44100", "0", "12000"])
def test_the_sample_rate_is_8000_or_16000(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="VOICEBOT_TTS_IFLYTEK_SAMPLE_RATE"):
        load_settings(data_dir=tmp_path, tts_iflytek_sample_rate=value)


async def test_no_secret_or_text_in_repr_errors_or_logs(
    fake: FakeIflytek, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_of(DOCS_EXAMPLE, tmp_path, tts_iflytek_url=fake.url)
    [tts, _] = build_backends(settings)
    assert isinstance(tts, IflytekTTS)
    text = f"您的号码是{CALLER_NUMBER}。"
    with caplog.at_level(logging.DEBUG):
        await tts.synthesize(text)
        await tts.check()
        fake.fail_next(10700, "engine error")
        with pytest.raises(VendorError) as raised:
            await tts.synthesize(text)
        wrong = backend(fake, api_secret=SecretStr(API_SECRET[::-1]))
        with pytest.raises(VendorAuthError) as refused:
            await wrong.synthesize(text)

    assert [h.api_key for h in fake.handshakes] == [API_KEY] * 3
    shown = "\n".join(
        [repr(tts), repr(wrong), repr(settings), str(raised.value), str(refused.value), caplog.text]
    )
    for secret in (API_KEY, API_SECRET, API_SECRET[::-1]):
        assert secret not in shown
    assert CALLER_NUMBER not in shown
    assert "authorization=" not in caplog.text


async def test_the_docs_example_speaks_through_the_chain_and_falls_back(
    fake: FakeIflytek, tmp_path: Path
) -> None:
    chain = build_backends(settings_of(DOCS_EXAMPLE, tmp_path, tts_iflytek_url=fake.url))
    assert [type(b) for b in chain] == [IflytekTTS, EspeakTTS]
    synth = SpeechSynthesizer(chain, AudioCache(tmp_path / "audio"))
    try:
        await check_backends(chain)
        clip = await synth.render(TEXT)
        fake.fail_next(10700, "engine error")
        fallback = await synth.render("请问还有什么可以帮您？")
    finally:
        await synth.aclose()
        await close_backends(chain)

    assert (clip.backend, fallback.backend) == ("iflytek", "espeak-ng")
    assert fake.texts == ["您好", TEXT]
    with wave.open(str(clip.path)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
