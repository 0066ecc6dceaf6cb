"""The tencent backend against a loopback TextToVoice: signing, synthesis, limits, errors,
its signer against Tencent's published example and its own SDK, and the backend in the
real speech chain."""

from __future__ import annotations

import importlib
import logging
import re
import time
import wave
from collections.abc import AsyncIterator, Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError, TTSError, VendorAuthError, VendorError, VendorRateLimitedError
from bot.language.outgoing import HostAllowlist
from bot.speech.audio import to_telephone_wav
from bot.speech.backends import build_backends, check_backends, close_backends
from bot.speech.cache import AudioCache
from bot.speech.synthesizer import SpeechSynthesizer
from bot.speech.vendors.tencent import VOICES, TencentTTS, build, text_units
from bot.speech.vendors.tencent_signature import tc3_authorization
from bot.speech.wav import read_pcm, wav_duration_seconds
from tests.loopback import LoopbackServer

from .fake_tencent import FakeTencent, Received, too_long
from .serving import serve_asgi

CALLER_NUMBER = "13812345678"
LONG_ANSWER = (
    "您好，这里是医保服务热线。"
    + "异地就医需要先在参保地办理备案手续，备案以后才能在就医地直接结算费用。" * 4
    + "您可以通过国家医保服务平台的应用程序办理，也可以到参保地的医保经办窗口办理。" * 3
    + "请问还有什么可以帮您？"
)
_SIGNATURE = re.compile(r"Signature=([0-9a-f]{64})$")

# The tested example of docs/speech.md (the tencent section), as environment variables.
EXAMPLE = {
    "VOICEBOT_TTS": "tencent,espeak",
    "VOICEBOT_TTS_TENCENT_SECRET_ID": "AKIDFakeSecretId0123456789abcdefEXAMPLE",
    "VOICEBOT_TTS_TENCENT_SECRET_KEY": "FakeSecretKey0123456789EXAMPLE",
    "VOICEBOT_TTS_TENCENT_VOICE_TYPE": "101008",
    "VOICEBOT_TTS_TENCENT_SAMPLE_RATE": "8000",
}

Make = Callable[..., TencentTTS]


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeTencent, str]]:
    vendor = FakeTencent()
    async with serve_asgi(vendor.app) as base_url:
        yield vendor, base_url


@pytest.fixture
async def make(fake: tuple[FakeTencent, str]) -> AsyncIterator[Make]:
    """Backends pointed at the fake, with its key unless told otherwise; closed afterwards."""
    vendor, base_url = fake
    made: list[TencentTTS] = []

    def make_backend(**options: Any) -> TencentTTS:
        values = {"secret_id": vendor.secret_id, "secret_key": vendor.secret_key, "url": f"{base_url}/"}
        made.append(TencentTTS(**(values | options)))
        return made[-1]

    yield make_backend
    for backend in made:
        await backend.aclose()


def example_settings(base_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        name.removeprefix("VOICEBOT_").lower(): value for name, value in EXAMPLE.items()
    }
    values["tts_tencent_url"] = f"{base_url}/"
    return load_settings(data_dir=tmp_path, **(values | overrides))


# --- speaking ---


async def test_a_text_comes_back_as_a_wav_that_becomes_telephone_audio(
    fake: tuple[FakeTencent, str], make: Make
) -> None:
    vendor, _ = fake
    wav = await make(voice_type=101001, sample_rate=16000).synthesize("您好，这里是医保服务热线。")

    pcm = read_pcm(wav)
    assert (pcm.rate, pcm.channels, pcm.width) == (16000, 1, 2)
    with wave.open(BytesIO(to_telephone_wav(wav))) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
        assert reader.getnframes() > 0
    assert vendor.said == ["您好，这里是医保服务热线。"]
    headers = vendor.received[0].headers
    assert (headers["x-tc-action"], headers["x-tc-version"], headers["x-tc-region"]) == (
        "TextToVoice",
        "2019-08-23",
        "ap-guangzhou",
    )


async def test_no_region_header_when_the_region_is_empty(fake: tuple[FakeTencent, str], make: Make) -> None:
    vendor, _ = fake
    await make(region="").synthesize("您好。")

    assert "x-tc-region" not in vendor.received[0].headers


async def test_the_identity_names_the_voice_and_options_but_no_credential(make: Make) -> None:
    backend = make(voice_type=101008, speed=1.5, volume=-2)

    identity = backend.identity()

    assert (identity["voice_type"], identity["speed"], identity["volume"]) == (101008, 1.5, -2)
    assert identity["sample_rate"] == 8000
    assert make(voice_type=101003).identity() != identity


async def test_the_start_up_check_says_hello(fake: tuple[FakeTencent, str], make: Make) -> None:
    vendor, _ = fake
    description = await make().check()

    assert vendor.said == ["您好"]
    assert "TencentTTS" in description


def test_the_voices_are_documented_mandarin_voices() -> None:
    names = [voice.name for voice in VOICES]
    assert "101003" in names
    assert len(names) == len(set(names)) >= 5
    assert all(name.isdigit() for name in names)
    assert all(voice.description for voice in VOICES)


# --- signatures (the API's stand-in for a token) ---


async def test_a_signature_called_expired_is_made_anew_and_the_text_asked_again(
    fake: tuple[FakeTencent, str], make: Make
) -> None:
    vendor, _ = fake
    vendor.expire_next_signatures(1)

    wav = await make().synthesize("您好。")

    assert wav_duration_seconds(wav) > 0
    assert len(vendor.received) == 2
    first, second = (r.headers["authorization"] for r in vendor.received)
    assert first != second
    assert vendor.said == ["您好。"]


async def test_a_clock_far_off_is_an_auth_error_after_one_retry(
    fake: tuple[FakeTencent, str], make: Make
) -> None:
    vendor, _ = fake
    backend = make(clock=lambda: time.time() - 600)

    with pytest.raises(VendorAuthError) as info:
        await backend.synthesize("您好。")

    assert info.value.code == "AuthFailure.SignatureExpire"
    assert "clock" in str(info.value)
    assert len(vendor.received) == 2  # one retry, not a loop


async def test_a_wrong_secret_key_fails_the_fakes_signature_check(
    fake: tuple[FakeTencent, str], make: Make
) -> None:
    vendor, _ = fake
    with pytest.raises(VendorAuthError) as info:
        await make(secret_key="not-the-key").synthesize("您好。")

    assert info.value.code == "AuthFailure.SignatureFailure"
    assert "wrong SecretKey" in str(info.value)
    assert len(vendor.received) == 1


async def test_a_revoked_key_is_an_auth_error_without_retry(
    fake: tuple[FakeTencent, str], make: Make
) -> None:
    vendor, _ = fake
    vendor.revoked = True

    with pytest.raises(VendorAuthError) as info:
        await make().synthesize("您好。")

    assert info.value.code == "AuthFailure.SecretIdNotFound"
    assert len(vendor.received) == 1


# --- errors ---


@pytest.mark.parametrize(
    "code",
    ["RequestLimitExceeded", "LimitExceeded.AccessLimit", "InternalError.ExceedMaxLimit"],
    ids=["rate", "access-limit", "load"],
)
async def test_rate_limits_are_rate_limit_errors(
    fake: tuple[FakeTencent, str], make: Make, code: str
) -> None:
    vendor, _ = fake
    vendor.fail_next(code, "Please reduce the frequency of calls.")

    with pytest.raises(VendorRateLimitedError) as info:
        await make().synthesize("您好。")

    assert (info.value.vendor, info.value.code) == ("tencent", code)
    assert info.value.vendor_message == "Please reduce the frequency of calls."


async def test_the_fakes_rate_limit_is_the_documented_one(fake: tuple[FakeTencent, str], make: Make) -> None:
    vendor, _ = fake
    vendor.rate_limit_next()

    with pytest.raises(VendorRateLimitedError, match="RequestLimitExceeded"):
        await make().synthesize("您好。")


@pytest.mark.parametrize(
    ("code", "kind", "meaning"),
    [
        ("UnsupportedOperation.AccountArrears", VendorError, "arrears"),
        ("UnsupportedOperation.ServerNotOpen", VendorAuthError, "not activated"),
        ("InternalError.InternalError", VendorError, "failed internally"),
        ("InvalidParameterValue.SomethingNew", VendorError, ""),
        ("AuthFailure.SomethingNew", VendorAuthError, ""),
    ],
    ids=["arrears", "not-open", "internal", "unknown-parameter-code", "unknown-auth-code"],
)
async def test_an_error_code_keeps_the_vendors_words(
    fake: tuple[FakeTencent, str], make: Make, code: str, kind: type[VendorError], meaning: str
) -> None:
    vendor, _ = fake
    vendor.fail_next(code, "服务暂不可用。")

    with pytest.raises(VendorError) as info:
        await make().synthesize("您好。")

    assert type(info.value) is kind
    assert (info.value.code, info.value.vendor_message) == (code, "服务暂不可用。")
    assert meaning in str(info.value)


async def test_an_unknown_voice_type_is_the_vendors_error(make: Make) -> None:
    with pytest.raises(VendorError) as info:
        await make(voice_type=999).synthesize("您好。")

    assert info.value.code == "InvalidParameterValue.VoiceType"
    assert "unknown VoiceType" in str(info.value)


async def test_no_answer_in_time_is_a_timeout(fake: tuple[FakeTencent, str], make: Make) -> None:
    vendor, _ = fake
    vendor.stall_seconds = 30

    with pytest.raises(TTSError, match=r"^tencent: no answer within 300 ms$"):
        await make(timeout_ms=300).synthesize("您好。")


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/tts/wav", r"^tencent: answered HTTP 200 with \d+ bytes of audio/wav, not the API's JSON$"),
        ("/missing", r"^tencent: answered HTTP 404 with \d+ bytes of .*, not the API's JSON$"),
        ("/echo", r"^tencent: answered HTTP 200 with \d+ bytes of application/json, not the API's JSON$"),
    ],
    ids=["wav", "not-found", "other-json"],
)
async def test_an_answer_that_is_not_the_apis_is_an_error(make: Make, path: str, error: str) -> None:
    server = LoopbackServer()
    await server.start()
    try:
        with pytest.raises(TTSError, match=error):
            await make(url=f"{server.base_url}{path}").synthesize("您好。")
    finally:
        await server.close()


# --- long texts ---


async def test_a_text_over_the_limit_is_said_in_pieces_cut_at_sentence_ends(
    fake: tuple[FakeTencent, str], make: Make
) -> None:
    vendor, _ = fake
    assert too_long(LONG_ANSWER)

    wav = await make().synthesize(LONG_ANSWER)

    assert len(vendor.said) >= 3
    assert not any(too_long(piece) for piece in vendor.said)  # none refused as TextTooLong
    assert all(piece.endswith(("。", "？")) for piece in vendor.said)
    assert "".join(vendor.said) == LONG_ANSWER
    longest_piece = max(len(piece) for piece in vendor.said)
    assert wav_duration_seconds(wav) > 0.02 * longest_piece + 0.05  # the fake's audio for one piece


async def test_letters_count_less_than_chinese_characters(fake: tuple[FakeTencent, str], make: Make) -> None:
    vendor, _ = fake
    letters = "Please hold the line. " * 18  # 396 letters: one request as English alone
    mixed = letters + "请您稍等，马上为您转接人工服务。" * 3

    await make().synthesize(letters)
    await make().synthesize(mixed)

    assert vendor.said[0] == letters.strip()
    assert len(vendor.said) >= 3
    assert not any(too_long(piece) for piece in vendor.said)
    assert text_units(letters) <= 1500 < text_units(mixed)


# --- settings ---


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        (("tts_tencent_secret_id",), "VOICEBOT_TTS_TENCENT_SECRET_ID is not set"),
        (
            ("tts_tencent_secret_id", "tts_tencent_secret_key"),
            "VOICEBOT_TTS_TENCENT_SECRET_ID, VOICEBOT_TTS_TENCENT_SECRET_KEY are not set",
        ),
    ],
    ids=["id", "both"],
)
def test_build_names_each_missing_credential(tmp_path: Path, unset: tuple[str, ...], named: str) -> None:
    settings = example_settings("https://tts.invalid", tmp_path, **dict.fromkeys(unset))

    with pytest.raises(ConfigError, match=named):
        build(settings)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("tts_tencent_sample_rate", 22050),
        ("tts_tencent_speed", 7),
        ("tts_tencent_volume", -11),
        ("tts_tencent_url", "tts.tencentcloudapi.com"),
        ("tts_tencent_region", "AP Guangzhou"),
    ],
    ids=["rate", "speed", "volume", "url", "region"],
)
def test_invalid_settings_name_the_variable(tmp_path: Path, setting: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"VOICEBOT_{setting.upper()}"):
        example_settings("https://tts.invalid", tmp_path, **{setting: value})


def test_the_vendor_endpoint_is_on_the_outgoing_allowlist(tmp_path: Path) -> None:
    allowlist = HostAllowlist.of(load_settings(data_dir=tmp_path, outgoing_hosts="crm.example.com"))

    assert allowlist.allows("https://tts.tencentcloudapi.com/")


# --- secrets ---


async def test_no_secret_shows_in_repr_errors_or_logs(
    fake: tuple[FakeTencent, str], make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    vendor, _ = fake
    backend = make()
    text = f"您的号码是{CALLER_NUMBER}。"
    with caplog.at_level(logging.DEBUG):
        await backend.check()
        vendor.expire_next_signatures(1)
        await backend.synthesize(text)
        vendor.fail_next("InvalidParameter.InvalidText", f"请求文本含有非法字符：{text}")
        with pytest.raises(VendorError) as info:
            await backend.synthesize(text)

    shown = "\n".join((repr(backend), str(backend.identity()), str(info.value), caplog.text))
    assert vendor.secret_id not in shown
    assert vendor.secret_key not in shown
    assert CALLER_NUMBER not in shown
    assert "signing it anew" in caplog.text


# --- the signature against Tencent's published example and its SDK ---


def test_the_signer_reproduces_the_documented_example() -> None:
    """The worked example of "签名方法 v3" (Signature v3,
    https://cloud.tencent.com/document/api/1073/37990): DescribeInstances of cvm, signed
    at 1551113065 with the documentation's example SecretKey."""
    payload = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'

    authorization = tc3_authorization(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        host="cvm.tencentcloudapi.com",
        payload=payload,
        timestamp=1551113065,
        service="cvm",
    )

    assert authorization == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def _sdk_signature(received: Received, secret_id: str, secret_key: str) -> str:
    """tencentcloud-sdk-python-common's own TC3 signing of the request as received."""
    credential = importlib.import_module("tencentcloud.common.credential").Credential(secret_id, secret_key)
    client = importlib.import_module("tencentcloud.common.common_client").CommonClient(
        "tts", "2019-08-23", credential, "ap-guangzhou"
    )
    headers = received.headers
    request = importlib.import_module("tencentcloud.common.http.request").RequestInternal(
        headers["host"],
        "POST",
        "/",
        header={
            "Content-Type": headers["content-type"],
            "Host": headers["host"],
            "X-TC-Timestamp": headers["x-tc-timestamp"],
        },
        data=received.body,
    )
    date = time.strftime("%Y-%m-%d", time.gmtime(int(headers["x-tc-timestamp"])))
    signature: str = client._get_tc3_signature({}, request, date, "tts", secret_key)
    return signature


async def test_requests_are_signed_as_the_official_sdk_signs_them(
    fake: tuple[FakeTencent, str], make: Make
) -> None:
    vendor, _ = fake
    await make().synthesize("您好，请问有什么可以帮您？")
    [received] = vendor.received

    match = _SIGNATURE.search(received.headers["authorization"])

    assert match is not None
    assert match[1] == _sdk_signature(received, vendor.secret_id, vendor.secret_key)


# --- in the speech chain ---


async def test_the_chain_speaks_through_tencent_and_falls_back_to_espeak(
    fake: tuple[FakeTencent, str], tmp_path: Path
) -> None:
    vendor, base_url = fake
    backends = build_backends(example_settings(base_url, tmp_path))
    try:
        assert [b.name for b in backends] == ["tencent", "espeak-ng"]
        await check_backends(backends)
        synth = SpeechSynthesizer(backends, AudioCache(tmp_path / "audio"), cooldown_seconds=3600)

        spoken = await synth.render("您好，这里是医保服务热线。")
        vendor.rate_limit_next()
        fallback = await synth.render("请问还有什么可以帮您？")
        cooling = await synth.render("再见。")

        assert spoken.backend == "tencent"
        with wave.open(str(spoken.path)) as reader:
            assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
        assert (fallback.backend, cooling.backend) == ("espeak-ng", "espeak-ng")
        assert vendor.said == ["您好", "您好，这里是医保服务热线。"]
        assert len(vendor.received) == 3  # the check, the first text, the refused one; none while cooling
    finally:
        await close_backends(backends)
