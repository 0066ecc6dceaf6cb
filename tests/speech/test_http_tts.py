"""The HTTP speech backend against a vendor API on loopback: requests, audio, errors."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from bot.errors import TTSError
from bot.speech.cache import AudioCache
from bot.speech.http_tts import HttpTTS
from tests.loopback import LoopbackServer, tts_wav, unused_port

from .conftest import HttpFactory

# Quotes, a backslash, a newline, braces and a placeholder's name: all must arrive as written.
TRICKY = '您好，"张三"\\先生\n您的卡号是 6222 0200 {voice} & 100%？'


async def test_post_fills_the_body_template_json_safely(
    http_tts: HttpFactory, vendor: LoopbackServer
) -> None:
    backend = http_tts(
        body_template='{"input": {"text": "{text}"}, "voice": "{voice}", "format": "wav", "rate": 16000}',
        headers={"X-Api-Key": "s3cret"},
        voice="xiaoyan",
    )

    audio = await backend.synthesize(TRICKY)

    assert audio == tts_wav("xiaoyan")
    request = vendor.received["/tts/wav"]
    assert request.method == "POST"
    assert json.loads(request.body) == {
        "input": {"text": TRICKY},
        "voice": "xiaoyan",
        "format": "wav",
        "rate": 16000,
    }
    assert request.headers["x-api-key"] == "s3cret"
    assert request.headers["content-type"].startswith("application/json")


async def test_get_puts_the_text_url_encoded_in_the_query(
    http_tts: HttpFactory, vendor: LoopbackServer
) -> None:
    backend = http_tts("/tts/wav?text={text}&voice={voice}&fmt=wav", method="GET", voice="男声 1")

    audio = await backend.synthesize(TRICKY)

    assert audio == tts_wav("男声 1")
    request = vendor.received["/tts/wav"]
    assert request.method == "GET"
    assert dict(parse_qsl(urlsplit(request.target).query)) == {
        "text": TRICKY,
        "voice": "男声 1",
        "fmt": "wav",
    }


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_base64_audio_inside_a_json_answer(http_tts: HttpFactory, method: str) -> None:
    url = "/tts/json?text={text}&voice={voice}" if method == "GET" else "/tts/json"
    backend = http_tts(url, method=method, audio="json:data.audio", voice="v")
    assert await backend.synthesize("您好") == tts_wav("v")


@pytest.mark.parametrize(
    ("path", "audio", "reason"),
    [
        ("/missing", "body", "HTTP 404"),
        ("/flaky/503/9", "body", "HTTP 503"),
        ("/text", "body", "text/html, not a WAV file"),
        ("/tts/mp3", "body", "MP3 is not supported"),
        ("/tts/json", "body", "application/json, not a WAV file"),
        ("/text", "json:data.audio", "not JSON with data.audio"),
        ("/tts/json", "json:data.sound", "has no data.sound"),
        ("/tts/json", "json:code", "code in the JSON answer is int, not base64 text"),
        ("/tts/badb64", "json:data.audio", "not valid base64"),
        ("/echo", "json:method", "answered 3 bytes"),
    ],
    ids=[
        "404",
        "503",
        "html",
        "mp3",
        "json-as-body",
        "not-json",
        "no-path",
        "not-text",
        "bad-base64",
        "not-wav",
    ],
)
async def test_unusable_answers_are_tts_errors(
    http_tts: HttpFactory, path: str, audio: str, reason: str
) -> None:
    backend = http_tts(path, audio=audio)
    with pytest.raises(TTSError, match=reason) as info:
        await backend.synthesize(TRICKY)
    assert info.value.backend == "http"
    assert "6222" not in str(info.value)  # the text never appears: it can carry callers' numbers


async def test_unreachable_and_slow_vendors_are_tts_errors(http_tts: HttpFactory) -> None:
    refused = HttpTTS(f"http://127.0.0.1:{unused_port()}/tts")
    try:
        with pytest.raises(TTSError, match="request failed: ConnectError"):
            await refused.synthesize("您好")
    finally:
        await refused.aclose()
    with pytest.raises(TTSError, match=r"no answer within 0\.2 s"):
        await http_tts("/slow", timeout_seconds=0.2).synthesize("您好")


async def test_a_get_never_shows_its_query_in_errors(http_tts: HttpFactory) -> None:
    with pytest.raises(TTSError) as info:
        await http_tts("/missing?text={text}", method="GET").synthesize("6222020000")
    assert "6222020000" not in str(info.value)
    assert "/missing:" in str(info.value)


async def test_check_passes_on_wav_and_names_the_problem_otherwise(http_tts: HttpFactory) -> None:
    assert "tts/wav" in await http_tts().check()
    with pytest.raises(TTSError, match="HTTP 404"):
        await http_tts("/missing").check()


def test_identity_holds_what_changes_the_audio_and_not_the_credentials(cache: AudioCache) -> None:
    base = {"url": "http://tts.invalid/v1", "voice": "a", "body_template": '{"t": "{text}"}'}
    backends = [
        HttpTTS(**base),  # type: ignore[arg-type]
        HttpTTS(**{**base, "voice": "b"}),  # type: ignore[arg-type]
        HttpTTS(**{**base, "url": "http://tts.invalid/v2"}),  # type: ignore[arg-type]
        HttpTTS(**{**base, "body_template": '{"t": "{text}", "speed": 1.2}'}),  # type: ignore[arg-type]
    ]
    with_key = HttpTTS(**base, headers={"Authorization": "Bearer new"})  # type: ignore[arg-type]
    keys = {cache.key_for("您好", b) for b in backends}
    assert len(keys) == len(backends)
    assert cache.key_for("您好", with_key) == cache.key_for("您好", backends[0])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "ftp://tts.invalid/"}, "not an http"),
        ({"url": "http://tts.invalid/speak", "method": "GET"}, "needs {text} in the URL's query"),
        ({"url": "http://tts.invalid/", "body_template": '{"voice": "{voice}"}'}, "never says {text}"),
        ({"url": "http://tts.invalid/", "body_template": '{"text": {text}}'}, "not JSON"),
        ({"url": "http://tts.invalid/", "audio": "json:"}, "json:<dotted.path>"),
        ({"url": "http://tts.invalid/", "audio": "xml:a"}, "json:<dotted.path>"),
        ({"url": "http://tts.invalid/", "method": "PUT"}, "GET or POST"),
        ({"url": "http://tts.invalid/", "timeout_seconds": 0}, "timeout_seconds"),
    ],
    ids=[
        "scheme",
        "get-without-text",
        "body-without-text",
        "body-not-json",
        "empty-path",
        "xml",
        "put",
        "timeout",
    ],
)
def test_settings_that_cannot_work_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HttpTTS(**options)  # type: ignore[arg-type]
