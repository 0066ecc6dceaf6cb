"""VOICEBOT_TTS and its settings: building the chain, checking it at start-up, closing it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError
from bot.speech.backends import build_backends, check_backends, close_backends
from bot.speech.espeak import EspeakTTS
from bot.speech.http_tts import HttpTTS
from tests.loopback import LoopbackServer

from .conftest import HttpFactory


def settings(tmp_path: Path, **values: object) -> Settings:
    return load_settings(data_dir=tmp_path, **values)


async def test_the_chain_follows_the_settings_order(tmp_path: Path, vendor: LoopbackServer) -> None:
    hwd = EspeakTTS(voice="yue")  # stands in for the HWD backend the app builds from its API client
    chain = build_backends(
        settings(tmp_path, tts="http, HWD,espeak", tts_http_url=f"{vendor.base_url}/tts/wav"), hwd=hwd
    )
    try:
        assert [b.name for b in chain] == ["http", "espeak-ng", "espeak-ng"]
        assert chain[1] is hwd
        assert isinstance(chain[0], HttpTTS)
    finally:
        await close_backends(chain)


def test_the_default_is_espeak_with_its_settings(tmp_path: Path) -> None:
    [only] = build_backends(settings(tmp_path, tts_voice="yue", tts_rate_wpm=200))
    assert isinstance(only, EspeakTTS)
    assert (only.voice, only.rate_wpm) == ("yue", 200)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"tts": "espeak,polly"}, "unknown speech backend 'polly'; valid: espeak, http, hwd"),
        ({"tts": ""}, "lists no speech backend"),
        ({"tts": "espeak,espeak"}, "lists 'espeak' twice"),
        ({"tts": "http"}, "VOICEBOT_TTS_HTTP_URL is not set"),
        ({"tts": "hwd"}, "set VOICEBOT_HWD_URL, VOICEBOT_HWD_CLIENT_ID"),
        ({"tts": "http", "tts_http_url": "http://tts.invalid/?t=1", "tts_http_method": "GET"}, "{text}"),
        ({"tts_voice": "-x"}, "invalid espeak-ng voice name"),
    ],
    ids=["unknown", "empty", "twice", "http-without-url", "hwd-without-client", "get-without-text", "voice"],
)
def test_a_chain_that_cannot_be_built_names_the_setting(
    tmp_path: Path, values: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("}", r"\}")):
        build_backends(settings(tmp_path, **values))


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"tts_http_body": "{text}"}, "VOICEBOT_TTS_HTTP_BODY"),
        ({"tts_http_headers": "X-Key: 1"}, "VOICEBOT_TTS_HTTP_HEADERS"),
        ({"tts_http_audio": "json:"}, "VOICEBOT_TTS_HTTP_AUDIO"),
        ({"tts_http_url": "tts.invalid/speak"}, "VOICEBOT_TTS_HTTP_URL"),
        ({"tts_http_method": "PUT"}, "VOICEBOT_TTS_HTTP_METHOD"),
        ({"tts_timeout_ms": 10}, "VOICEBOT_TTS_TIMEOUT_MS"),
        ({"tts_cooldown_seconds": -1}, "VOICEBOT_TTS_COOLDOWN_SECONDS"),
    ],
    ids=["body", "headers", "audio", "url", "method", "timeout", "cooldown"],
)
def test_invalid_speech_settings_name_themselves(
    tmp_path: Path, values: dict[str, object], variable: str
) -> None:
    with pytest.raises(ConfigError, match=variable):
        settings(tmp_path, **values)


def test_headers_are_a_json_object_of_secrets(tmp_path: Path) -> None:
    read = settings(tmp_path, tts_http_headers='{"Authorization": "Bearer abc"}', tts_http_method="get")
    assert read.tts_http_headers["Authorization"].get_secret_value() == "Bearer abc"
    assert "abc" not in repr(read)
    assert read.tts_http_method == "GET"


async def test_a_failing_check_before_a_working_backend_is_a_warning(
    http_tts: HttpFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.speech"):
        await check_backends([http_tts("/missing"), EspeakTTS()])
    [warning] = caplog.records
    assert "speech backend http failed its start-up check" in warning.getMessage()


async def test_a_working_first_backend_with_a_failing_last_one_starts(http_tts: HttpFactory) -> None:
    await check_backends([http_tts(), EspeakTTS(binary="/nonexistent/espeak-ng")])


async def test_every_check_failing_stops_the_start(http_tts: HttpFactory) -> None:
    with pytest.raises(ConfigError, match=r"no speech backend works[\s\S]*HTTP 404[\s\S]*not found"):
        await check_backends([http_tts("/missing"), EspeakTTS(binary="/nonexistent/espeak-ng")])
