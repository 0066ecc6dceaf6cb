"""Azure AI Speech on loopback: ``issueToken`` and the text to speech REST API.

Written from the vendor's pages, not from ``bot/speech/vendors/azure.py``:

- "Text to speech REST API" (https://learn.microsoft.com/azure/ai-services/speech-service/rest-text-to-speech):
  the headers of ``POST /cognitiveservices/v1`` (Authorization or
  Ocp-Apim-Subscription-Key, Content-Type ``application/ssml+xml``, a known
  X-Microsoft-OutputFormat, a User-Agent under 255 characters), the SSML body, the
  statuses 400/401/415/429, and ``POST /sts/v1.0/issueToken`` (the key in
  Ocp-Apim-Subscription-Key; the token in the body; valid 10 minutes).
- "Customize voice and sound with SSML": ``<speak version="1.0" xml:lang=…>``, ``<voice name=…>``.

The fake parses the SSML with an XML parser, checks the voice and the language, and
answers a tone as a RIFF WAV in the format asked for, as long as the text. Azure
documents no text limit for this API, only that audio past 10 minutes is cut off:
the fake stands in for that with a 400 past :attr:`FakeAzure.max_text_chars`, so a
text the client failed to split fails loudly instead of being silently cut.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from quart import Quart, Response, request

from tests.loopback import tts_wav
from tests.speech.vendors.latency import Latency

from .serving import serve_asgi

SSML_NS = "{http://www.w3.org/2001/10/synthesis}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TOKEN_LIFETIME_SECONDS = 600
FORMATS = {
    "riff-8khz-16bit-mono-pcm": 8000,
    "riff-16khz-16bit-mono-pcm": 16000,
    "riff-22050hz-16bit-mono-pcm": 22050,
    "riff-24khz-16bit-mono-pcm": 24000,
    "riff-44100hz-16bit-mono-pcm": 44100,
    "riff-48khz-16bit-mono-pcm": 48000,
}
VOICES = frozenset({"zh-CN-XiaoxiaoNeural", "zh-CN-YunxiNeural", "zh-CN-YunjianNeural", "zh-CN-XiaoyiNeural"})
ACCESS_DENIED = (
    '{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API '
    "endpoint. Make sure to provide a valid key for an active subscription and use a correct regional "
    'API endpoint for your resource."}}'
)


@dataclass
class Received:
    """One request as it arrived."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Spoken:
    """What one accepted synthesis asked for."""

    text: str
    voice: str
    lang: str
    output_format: str
    prosody: dict[str, str] = field(default_factory=dict)
    effect: str | None = None


class FakeAzure:
    """The two endpoints, with switches for the failures a test needs.

    Args:
        key: The resource key it accepts (its own copy).
        clock: Unix time now, for its tokens' expiry (a test shares one with the client).
        max_text_chars: Longest text it speaks (see the module's docstring).
        latency: How slowly it answers (None: at once, with a short tone).
    """

    def __init__(
        self,
        *,
        key: str = "fake-azure-key",
        clock: Callable[[], float] = time.time,
        max_text_chars: int = 1000,
        latency: Latency | None = None,
    ) -> None:
        self.key, self.clock, self.max_text_chars = key, clock, max_text_chars
        self.latency = latency
        self.tokens: dict[str, float] = {}
        self.issued = 0
        self.token_requests: list[Received] = []
        self.speech_requests: list[Received] = []
        self.spoken: list[Spoken] = []
        self.rate_limited = False
        self.failure: tuple[int, str] | None = None
        self.stalled = False
        self._released = asyncio.Event()
        self.base_url = ""  # set while serving
        self.app = Quart(__name__)
        self.app.add_url_rule("/sts/v1.0/issueToken", view_func=self._issue_token, methods=["POST"])
        self.app.add_url_rule("/cognitiveservices/v1", view_func=self._speak, methods=["POST"])

    @property
    def said(self) -> list[str]:
        """Each text it spoke, decoded from the SSML, in order."""
        return [s.text for s in self.spoken]

    def revoke_tokens(self) -> None:
        """Every token issued so far is refused from now on (401)."""
        self.tokens.clear()

    def answer_error(self, status: int, body: str = "") -> None:
        """Answer every synthesis with ``status`` (and ``body``) from now on."""
        self.failure = (status, body)

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Serve on loopback until the block ends; yields the base URL."""
        async with serve_asgi(self.app) as base_url:
            self.base_url = base_url
            try:
                yield base_url
            finally:
                self._released.set()  # a stalled request ends with the server

    async def _issue_token(self) -> Response:
        self.token_requests.append(await _received())
        if request.headers.get("Ocp-Apim-Subscription-Key") != self.key:
            return Response(ACCESS_DENIED, status=401, content_type="application/json")
        token = f"fake.{secrets.token_urlsafe(24)}"
        self.tokens[token] = self.clock() + TOKEN_LIFETIME_SECONDS
        self.issued += 1
        return Response(token, content_type="text/plain")

    async def _speak(self) -> Response:
        received = await _received()
        self.speech_requests.append(received)
        if self.stalled:
            await self._released.wait()
        if not self._authorized():
            return Response("", status=401)
        if self.rate_limited:
            return Response("", status=429, headers={"Retry-After": "2"})
        if self.failure is not None:
            return Response(self.failure[1], status=self.failure[0])
        problem, spoken = self._read(received)
        if spoken is None:
            status = 415 if problem == "content type" else 400
            return Response(problem, status=status)
        self.spoken.append(spoken)
        rate = FORMATS[spoken.output_format]
        if self.latency is not None:
            await self.latency.wait(spoken.text)
            return Response(self.latency.wav(rate, spoken.text), content_type="audio/x-wav")
        wav = tts_wav(spoken.voice, rate=rate, seconds=0.05 + 0.01 * len(spoken.text))
        return Response(wav, content_type="audio/x-wav")

    def _authorized(self) -> bool:
        if request.headers.get("Ocp-Apim-Subscription-Key") == self.key:
            return True
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme == "Bearer" and self.clock() < self.tokens.get(token, 0.0)

    def _read(self, received: Received) -> tuple[str, Spoken | None]:
        """What is wrong with a synthesis request ("content type" for a 415), or what it asks."""
        headers = received.headers
        try:
            speak = ET.fromstring(received.body.decode("utf-8"))
        except (ET.ParseError, UnicodeDecodeError):
            speak = ET.Element("not-ssml")
        voice = speak.find(f"{SSML_NS}voice")
        voice = voice if voice is not None else ET.Element("missing")
        text = "".join(voice.itertext())
        checks = [
            (headers.get("content-type", "").split(";")[0].strip() == "application/ssml+xml", "content type"),
            (headers.get("x-microsoft-outputformat") in FORMATS, "unknown X-Microsoft-OutputFormat"),
            (0 < len(headers.get("user-agent", "")) < 255, "User-Agent missing or too long"),
            (speak.tag == f"{SSML_NS}speak" and speak.get("version") == "1.0", "not <speak version='1.0'>"),
            (bool(speak.get(XML_LANG)), "<speak> without xml:lang"),
            (voice.get("name") in VOICES, "no <voice> of a known name"),
            (len(text) <= self.max_text_chars, f"the text is longer than {self.max_text_chars} characters"),
        ]
        problems = [problem for ok, problem in checks if not ok]
        if problems:
            return problems[0], None
        prosody = voice.find(f"{SSML_NS}prosody")
        return "", Spoken(
            text=text,
            voice=voice.get("name", ""),
            lang=speak.get(XML_LANG, ""),
            output_format=headers["x-microsoft-outputformat"],
            prosody=dict(prosody.attrib) if prosody is not None else {},
            effect=voice.get("effect"),
        )


async def _received() -> Received:
    return Received(
        path=request.path,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.get_data(cache=True, as_text=False, parse_form_data=False),
    )
