"""The HTTP speech backend against a vendor API on loopback: requests, audio, errors."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from quart import Quart, Response

from bot.errors import TTSError
from bot.speech.audio import to_telephone_wav
from bot.speech.cache import AudioCache
from bot.speech.http_tts import HttpTTS
from tests.loopback import LoopbackServer, tts_wav, unused_port
from tests.speech.audio_samples import mp3_tone, pcm16_samples, peak_hz, sox_tone
from tests.speech.vendors.serving import serve_asgi

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
        ("/text", "body", "18 bytes of text/html, not audio the decoder reads"),
        ("/tts/mp3", "body", "69 bytes of audio/mpeg, not audio the decoder reads"),
        ("/tts/json", "body", "application/json, not audio the decoder reads"),
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
        "id3-without-audio",
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


# --- what the decoder reads, whatever the Content-Type says -----------------------------

MP3 = mp3_tone(rate=16000, seconds=0.5, frequency=440.0)
MULAW = sox_tone("mulaw", rate=8000, seconds=0.5, frequency=440.0)
# Vendors label audio loosely: the answer's bytes decide, the labels below are all wrong or vague.
ANSWERS = {
    "/mp3": (MP3, "application/octet-stream"),
    "/mulaw": (MULAW, "audio/mpeg"),
    "/wav-as-text": (tts_wav("v", seconds=0.5), "text/plain"),
}


@pytest.fixture
async def labelling_vendor() -> AsyncIterator[str]:
    """A vendor answering MP3, μ-law WAV or PCM WAV under a misleading Content-Type, in the
    body (``/mp3``) or as base64 in JSON (``/json/mp3``)."""
    app = Quart(__name__)

    @app.post("/<kind>")
    async def body(kind: str) -> Response:
        audio, content_type = ANSWERS[f"/{kind}"]
        return Response(audio, content_type=content_type)

    @app.post("/json/<kind>")
    async def in_json(kind: str) -> Response:
        audio, _ = ANSWERS[f"/{kind}"]
        return Response(
            json.dumps({"data": {"audio": base64.b64encode(audio).decode()}}), content_type="text/plain"
        )

    async with serve_asgi(app) as base_url:
        yield base_url


@pytest.mark.parametrize("path", ["/mp3", "/mulaw", "/wav-as-text", "/json/mp3", "/json/mulaw"])
async def test_audio_the_decoder_reads_is_accepted_whatever_its_content_type(
    labelling_vendor: str, path: str
) -> None:
    audio_path = "json:data.audio" if path.startswith("/json/") else "body"
    backend = HttpTTS(f"{labelling_vendor}{path}", audio=audio_path)
    try:
        audio = await backend.synthesize("您好")
        described = await backend.check()
    finally:
        await backend.aclose()

    assert audio == ANSWERS[f"/{path.rsplit('/', 1)[-1]}"][0]
    assert path.removeprefix("/json") in described
    shape, samples = pcm16_samples(to_telephone_wav(audio))
    assert shape == (8000, 1, 2)
    assert samples.size > 0.45 * 8000
    if path != "/wav-as-text":  # the loopback's tone has its own pitch
        assert peak_hz(samples, 8000) == pytest.approx(440.0, abs=2.0)
