"""The aliyun backend against a loopback Alibaba Cloud: tokens, synthesis, limits, errors,
its signer against Alibaba Cloud's own SDK, and the backend in the real speech chain."""

from __future__ import annotations

import importlib
import logging
import wave
from collections.abc import AsyncIterator, Callable
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError, TTSError, VendorAuthError, VendorError, VendorRateLimitedError
from bot.language.outgoing import HostAllowlist
from bot.speech.audio import to_telephone_wav
from bot.speech.backends import build_backends, check_backends, close_backends
from bot.speech.cache import AudioCache
from bot.speech.synthesizer import SpeechSynthesizer
from bot.speech.vendors.aliyun import MAX_TEXT_CHARS, VOICES, AliyunTTS, build
from bot.speech.vendors.aliyun_token import pop_signature
from bot.speech.wav import read_pcm, wav_duration_seconds
from tests.loopback import LoopbackServer

from .fake_aliyun import FakeAliyun
from .serving import serve_asgi

CALLER_NUMBER = "13812345678"
LONG_ANSWER = (
    "您好，这里是医保服务热线，很高兴为您服务。"
    + "异地就医需要先在参保地办理备案手续，备案以后才能在就医地直接结算费用。" * 9
    + "您可以通过国家医保服务平台的应用程序办理，也可以到参保地的医保经办窗口办理。" * 8
    + "请问还有什么可以帮您？"
)

# The tested example of docs/speech.md (the aliyun section), as environment variables.
EXAMPLE = {
    "VOICEBOT_TTS": "aliyun,espeak",
    "VOICEBOT_TTS_ALIYUN_ACCESS_KEY_ID": "LTAI5tFakeAccessKeyId",
    "VOICEBOT_TTS_ALIYUN_ACCESS_KEY_SECRET": "FakeAccessKeySecret0123456789",
    "VOICEBOT_TTS_ALIYUN_APPKEY": "FakeAppkey123",
    "VOICEBOT_TTS_ALIYUN_VOICE": "aixia",
    "VOICEBOT_TTS_ALIYUN_SAMPLE_RATE": "8000",
}

Make = Callable[..., AliyunTTS]


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeAliyun, str]]:
    vendor = FakeAliyun()
    async with serve_asgi(vendor.app) as base_url:
        yield vendor, base_url


@pytest.fixture
async def make(fake: tuple[FakeAliyun, str]) -> AsyncIterator[Make]:
    """Backends pointed at the fake, with its credentials unless told otherwise; closed afterwards."""
    vendor, base_url = fake
    made: list[AliyunTTS] = []

    def make_backend(**options: Any) -> AliyunTTS:
        values: dict[str, Any] = {
            "access_key_id": vendor.access_key_id,
            "access_key_secret": vendor.access_key_secret,
            "appkey": vendor.appkey,
            "url": f"{base_url}/stream/v1/tts",
            "token_url": f"{base_url}/",
            **options,
        }
        made.append(AliyunTTS(**values))
        return made[-1]

    yield make_backend
    for backend in made:
        await backend.aclose()


def example_settings(base_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values = {name.removeprefix("VOICEBOT_").lower(): value for name, value in EXAMPLE.items()}
    values |= {"tts_aliyun_url": f"{base_url}/stream/v1/tts", "tts_aliyun_token_url": f"{base_url}/"}
    return load_settings(data_dir=tmp_path, **(values | overrides))


# --- speaking ---


async def test_a_text_comes_back_as_a_wav_that_becomes_telephone_audio(
    fake: tuple[FakeAliyun, str], make: Make
) -> None:
    vendor, _ = fake
    wav = await make(voice="siyue", sample_rate=16000).synthesize("您好，这里是医保服务热线。")

    pcm = read_pcm(wav)
    assert (pcm.rate, pcm.channels, pcm.width) == (16000, 1, 2)
    with wave.open(BytesIO(to_telephone_wav(wav))) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
        assert reader.getnframes() > 0
    assert vendor.said == ["您好，这里是医保服务热线。"]


async def test_the_identity_names_the_voice_and_options_but_no_credential(make: Make) -> None:
    backend = make(voice="aixia", volume=60, speech_rate=-100, pitch_rate=20)

    identity = backend.identity()

    assert identity["voice"] == "aixia"
    assert (identity["volume"], identity["speech_rate"], identity["pitch_rate"]) == (60, -100, 20)
    assert identity["sample_rate"] == 8000
    assert str(identity["url"]).endswith("/stream/v1/tts")
    assert make(voice="xiaoyun").identity() != identity


async def test_the_start_up_check_says_hello(fake: tuple[FakeAliyun, str], make: Make) -> None:
    vendor, _ = fake
    description = await make().check()

    assert vendor.said == ["您好"]
    assert "AliyunTTS" in description


def test_the_voices_are_documented_mandarin_voices() -> None:
    names = [voice.name for voice in VOICES]
    assert "xiaoyun" in names
    assert len(names) == len(set(names)) >= 5
    assert all(voice.description for voice in VOICES)


# --- tokens ---


async def test_one_token_serves_many_texts(fake: tuple[FakeAliyun, str], make: Make) -> None:
    vendor, _ = fake
    backend = make()

    for text in ("第一句。", "第二句。", "第三句。"):
        await backend.synthesize(text)

    assert len(vendor.token_parameters) == 1
    assert vendor.said == ["第一句。", "第二句。", "第三句。"]


async def test_a_token_near_its_expiry_is_fetched_anew_before_use(
    fake: tuple[FakeAliyun, str], make: Make
) -> None:
    vendor, _ = fake
    vendor.token_lifetime_seconds = 60  # within the five minutes kept in hand: fetched anew each time
    backend = make()

    await backend.synthesize("第一句。")
    await backend.synthesize("第二句。")

    assert len(vendor.token_parameters) == 2
    assert vendor.tts_requests == 2  # no request went out with a token about to expire


async def test_a_token_the_service_calls_expired_is_replaced_and_the_text_asked_again(
    fake: tuple[FakeAliyun, str], make: Make
) -> None:
    vendor, _ = fake
    backend = make()
    await backend.synthesize("第一句。")
    vendor.expire_tokens()  # the service's clock says so; the client still thinks it fresh

    wav = await backend.synthesize("第二句。")

    assert wav_duration_seconds(wav) > 0
    assert len(vendor.token_parameters) == 2
    assert vendor.tts_requests == 3  # one refused, asked once more with the new token
    assert vendor.said == ["第一句。", "第二句。"]


async def test_a_token_refused_twice_is_an_auth_error_without_the_token(
    fake: tuple[FakeAliyun, str], make: Make
) -> None:
    vendor, _ = fake
    vendor.token_lifetime_seconds = -10  # every token it grants is expired already
    backend = make()

    with pytest.raises(VendorAuthError) as info:
        await backend.synthesize("您好。")

    assert info.value.code == "40000001"
    assert "has expired" in info.value.vendor_message
    assert all(token not in str(info.value) for token in vendor.issued)
    assert len(vendor.token_parameters) == 2  # one retry, not a loop


async def test_refused_credentials_name_the_pop_code(fake: tuple[FakeAliyun, str], make: Make) -> None:
    backend = make(access_key_secret="not-the-secret")

    with pytest.raises(VendorAuthError) as info:
        await backend.synthesize("您好。")

    assert info.value.code == "SignatureDoesNotMatch"
    assert "wrong AccessKey secret" in str(info.value)
    assert "not-the-secret" not in str(info.value)


async def test_throttled_token_requests_are_a_rate_limit(fake: tuple[FakeAliyun, str], make: Make) -> None:
    vendor, _ = fake
    vendor.refuse_next_token(400, "Throttling.User", "Request was denied due to user flow control.")

    with pytest.raises(VendorRateLimitedError) as info:
        await make().synthesize("您好。")

    assert info.value.code == "Throttling.User"
    assert info.value.vendor_message == "Request was denied due to user flow control."


# --- errors ---


async def test_too_many_requests_is_a_rate_limit(fake: tuple[FakeAliyun, str], make: Make) -> None:
    vendor, _ = fake
    vendor.rate_limit_next()

    with pytest.raises(VendorRateLimitedError) as info:
        await make().synthesize("您好。")

    assert (info.value.vendor, info.value.code) == ("aliyun", "40000005")
    assert info.value.vendor_message == "Gateway:TOO_MANY_REQUESTS:Too many requests!"


@pytest.mark.parametrize(
    "case",
    [
        (40000010, "Gateway:FREE_TRIAL_EXPIRED:The free trial has expired!", VendorError, "free trial over"),
        (40020105, "Meta:APPKEY_NOT_EXIST:Appkey not exist!", VendorAuthError, "appkey does not exist"),
        (41020001, "TTS:TtsClientError:Illegal ssml text", VendorError, "synthesis refused"),
        (51020001, "TTS:TtsServerError", VendorError, "synthesis server error"),
        (40000001, "Gateway:ACCESS_DENIED:No privilege to this voice!", VendorError, "voice"),
    ],
    ids=["trial-over", "appkey", "client-error", "server-error", "voice-not-allowed"],
)
async def test_a_status_code_keeps_the_vendors_words(
    fake: tuple[FakeAliyun, str], make: Make, case: tuple[int, str, type[VendorError], str]
) -> None:
    vendor, _ = fake
    status, message, kind, meaning = case
    vendor.fail_next(status, message)

    with pytest.raises(VendorError) as info:
        await make().synthesize("您好。")

    assert type(info.value) is kind
    assert (info.value.code, info.value.vendor_message) == (str(status), message)
    assert meaning in str(info.value)
    assert vendor.tts_requests == 1  # none of these is worth a new token


async def test_an_unknown_voice_is_the_vendors_error(make: Make) -> None:
    with pytest.raises(VendorError, match="invalid voice name"):
        await make(voice="nosuchvoice").synthesize("您好。")


async def test_no_answer_in_time_is_a_timeout(fake: tuple[FakeAliyun, str], make: Make) -> None:
    vendor, _ = fake
    backend = make(timeout_ms=300)
    await backend.synthesize("先拿到令牌。")
    vendor.stall_seconds = 30

    with pytest.raises(TTSError, match=r"^aliyun: no answer within 300 ms$"):
        await backend.synthesize("您好。")


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/echo", r"^aliyun: answered HTTP 200 with \d+ bytes of application/json, not audio$"),
        ("/tts/mp3", r"^aliyun: answered MP3 audio, not the PCM asked for$"),
        ("/missing", r"^aliyun: answered HTTP 404 with \d+ bytes of .*, not audio$"),
    ],
    ids=["json", "mp3", "not-found"],
)
async def test_an_answer_that_is_not_the_audio_asked_for_is_an_error(
    make: Make, path: str, error: str
) -> None:
    server = LoopbackServer()
    await server.start()
    try:
        with pytest.raises(TTSError, match=error):
            await make(url=f"{server.base_url}{path}").synthesize("您好。")
    finally:
        await server.close()


# --- long texts ---


async def test_a_text_over_the_limit_is_said_in_pieces_cut_at_sentence_ends(
    fake: tuple[FakeAliyun, str], make: Make
) -> None:
    vendor, _ = fake
    assert len(LONG_ANSWER) > 2 * MAX_TEXT_CHARS

    wav = await make().synthesize(LONG_ANSWER)

    assert len(vendor.said) >= 3
    assert not vendor.truncated
    assert all(len(piece) <= MAX_TEXT_CHARS for piece in vendor.said)
    assert all(piece.endswith(("。", "？")) for piece in vendor.said)
    assert "".join(vendor.said) == LONG_ANSWER
    longest_piece = max(len(piece) for piece in vendor.said)
    assert wav_duration_seconds(wav) > 0.02 * longest_piece + 0.05  # the fake's audio for one piece


# --- settings ---


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        (("tts_aliyun_access_key_id",), "VOICEBOT_TTS_ALIYUN_ACCESS_KEY_ID is not set"),
        (("tts_aliyun_appkey",), "VOICEBOT_TTS_ALIYUN_APPKEY is not set"),
        (
            ("tts_aliyun_access_key_secret", "tts_aliyun_appkey"),
            "VOICEBOT_TTS_ALIYUN_ACCESS_KEY_SECRET, VOICEBOT_TTS_ALIYUN_APPKEY are not set",
        ),
    ],
    ids=["key-id", "appkey", "two"],
)
def test_build_names_each_missing_credential(tmp_path: Path, unset: tuple[str, ...], named: str) -> None:
    settings = example_settings("https://nls.invalid", tmp_path, **dict.fromkeys(unset))

    with pytest.raises(ConfigError, match=named):
        build(settings)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("tts_aliyun_sample_rate", 11025),
        ("tts_aliyun_volume", 101),
        ("tts_aliyun_speech_rate", -501),
        ("tts_aliyun_url", "ftp://nls.example.com/tts"),
        ("tts_aliyun_voice", "xiao yun"),
    ],
    ids=["rate", "volume", "speech-rate", "url", "voice"],
)
def test_invalid_settings_name_the_variable(tmp_path: Path, setting: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"VOICEBOT_{setting.upper()}"):
        example_settings("https://nls.invalid", tmp_path, **{setting: value})


def test_the_vendor_endpoints_are_on_the_outgoing_allowlist(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, outgoing_hosts="crm.example.com")
    allowlist = HostAllowlist.of(settings)

    assert allowlist.allows("https://nls-gateway-cn-shanghai.aliyuncs.com/stream/v1/tts")
    assert allowlist.allows("https://nls-meta.cn-shanghai.aliyuncs.com/?Action=CreateToken")


# --- secrets ---


async def test_no_secret_shows_in_repr_errors_or_logs(
    fake: tuple[FakeAliyun, str], make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    vendor, _ = fake
    backend = make()
    text = f"您的号码是{CALLER_NUMBER}。"
    with caplog.at_level(logging.DEBUG):
        await backend.check()
        await backend.synthesize(text)
        vendor.expire_tokens()
        await backend.synthesize(text)
        vendor.rate_limit_next()
        with pytest.raises(VendorRateLimitedError) as info:
            await backend.synthesize(text)

    shown = "\n".join((repr(backend), str(backend.identity()), str(info.value), caplog.text))
    secrets = (vendor.access_key_id, vendor.access_key_secret, vendor.appkey, *vendor.issued)
    assert all(secret not in shown for secret in secrets)
    assert CALLER_NUMBER not in shown
    assert "new access token" in caplog.text


# --- the signature against Alibaba Cloud's SDK ---


def _sdk_composer() -> Any:
    """aliyun-python-sdk-core's RPC signer (the SDK ships no type information)."""
    return importlib.import_module("aliyunsdkcore.auth.composer.rpc_signature_composer")


async def test_the_token_request_is_signed_as_the_official_sdk_signs_it(
    fake: tuple[FakeAliyun, str], make: Make
) -> None:
    """The very query the backend sent, re-signed by aliyun-python-sdk-core's RPC composer."""
    vendor, _ = fake
    await make().synthesize("您好。")
    [query] = vendor.token_parameters
    sent = dict(parse_qsl(query, keep_blank_values=True))
    unsigned = {name: value for name, value in sent.items() if name != "Signature"}

    composer = _sdk_composer()
    string_to_sign = getattr(composer, "__compose_string_to_sign")("POST", unsigned)
    expected = getattr(composer, "__get_signature")(string_to_sign, vendor.access_key_secret)

    assert sent["Signature"] == expected
    assert {
        "Action": "CreateToken",
        "Version": "2019-02-28",
        "Format": "JSON",
        "RegionId": "cn-shanghai",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
    }.items() <= unsigned.items()


def test_the_signer_agrees_with_the_sdk_on_characters_that_need_encoding() -> None:
    composer = _sdk_composer()
    params = {"Action": "CreateToken", "Version": "2019-02-28", "Note": "医保 a+b*c~d/e=f&g%h"}
    url, _ = composer.get_signed_url(dict(params), "LTAIkeyid", "s3cr3t/+=", "JSON", "GET", {})
    signed = {unquote(k): unquote(v) for k, _, v in (p.partition("=") for p in url[2:].split("&"))}
    sdk_signature = signed.pop("Signature")

    assert pop_signature(signed, "s3cr3t/+=") == sdk_signature
    assert signed["SignatureType"] == ""  # the SDK signs an empty SignatureType as well


# --- in the speech chain ---


async def test_the_chain_speaks_through_aliyun_and_falls_back_to_espeak(
    fake: tuple[FakeAliyun, str], tmp_path: Path
) -> None:
    vendor, base_url = fake
    backends = build_backends(example_settings(base_url, tmp_path))
    try:
        assert [b.name for b in backends] == ["aliyun", "espeak-ng"]
        await check_backends(backends)
        synth = SpeechSynthesizer(backends, AudioCache(tmp_path / "audio"), cooldown_seconds=3600)

        spoken = await synth.render("您好，这里是医保服务热线。")
        vendor.rate_limit_next()
        fallback = await synth.render("请问还有什么可以帮您？")
        cooling = await synth.render("再见。")

        assert spoken.backend == "aliyun"
        with wave.open(str(spoken.path)) as reader:
            assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
        assert (fallback.backend, cooling.backend) == ("espeak-ng", "espeak-ng")
        assert vendor.said == ["您好", "您好，这里是医保服务热线。"]  # the check, then the first text
    finally:
        await close_backends(backends)
