"""A speech backend for vendors with a simple HTTP API: one request per text, WAV back.

The request is described by templates: a POST sends a JSON body in which ``{text}``
and ``{voice}`` are filled in (inside JSON strings, so any text stays valid JSON); a
GET puts them, URL-encoded, into the URL's query. The audio is the response body, or
base64 text at a dotted path of a JSON response (``json:data.audio``). It must be
audio the decoder reads (:mod:`bot.speech.audio`: a WAV of PCM, float, μ-law or A-law,
an MP3…), told by its bytes, not by the Content-Type vendors often get wrong; the
synthesizer converts it to the served format.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx

from bot.errors import TTSError
from bot.speech.audio import audio_duration_seconds, is_audio
from bot.speech.tts import IdentityValue

logger = logging.getLogger(__name__)

DEFAULT_BODY = '{"text": "{text}", "voice": "{voice}"}'
_PLACEHOLDER = re.compile(r"\{(text|voice)\}")
_CHECK_TEXT = "您好"


class HttpTTS:
    """Speech from an HTTP API, described by settings rather than code.

    One connection pool per backend, reused across requests; :meth:`aclose` closes it.

    Args:
        url: The endpoint. For GET it carries ``{text}`` (and may carry ``{voice}``) in
            its query.
        method: ``POST`` (the body template is sent) or ``GET``.
        body_template: JSON text; ``{text}`` and ``{voice}`` inside its strings are
            filled in. POST only.
        headers: Sent with every request (an API key, say); not part of the identity.
        voice: The vendor's voice name, for ``{voice}``.
        audio: ``body`` (the response body is the WAV) or ``json:<dotted.path>`` (base64
            text at that path of a JSON response; a number in the path indexes a list).
        timeout_seconds: Longest wait for a whole answer, connecting included.

    Raises:
        ValueError: An argument cannot describe a working request.
    """

    name = "http"
    remote = True  # its time is mostly waiting: a long text's sentences are asked at once

    def __init__(
        self,
        url: str,
        *,
        method: Literal["POST", "GET"] = "POST",
        body_template: str = DEFAULT_BODY,
        headers: Mapping[str, str] | None = None,
        voice: str = "",
        audio: str = "body",
        timeout_seconds: float = 10.0,
    ) -> None:
        _check_request(url, method, body_template)
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be > 0, not {timeout_seconds}")
        self.url, self.method, self.voice, self.body_template = url, method, voice, body_template
        self.audio, self.timeout_seconds = audio, timeout_seconds
        self._body = _parse_body(body_template) if method == "POST" else None
        self._audio_path = _parse_audio(audio)
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds), headers=dict(headers or {}))

    def __repr__(self) -> str:
        return f"HttpTTS({self.method} {_shown(self.url)}, voice={self.voice!r}, audio={self.audio!r})"

    def identity(self) -> dict[str, IdentityValue]:
        """Where and how the audio is asked for: a change of any gives new cache keys.

        Returns:
            URL, method, voice and body template (the headers are credentials, not voice).
        """
        return {"url": self.url, "method": self.method, "voice": self.voice, "body": self.body_template}

    async def synthesize(self, text: str) -> bytes:
        """Ask the API to speak ``text``.

        Args:
            text: Normalised text.

        Returns:
            The audio the API answered (a WAV, an MP3…).

        Raises:
            TTSError: The request failed or timed out, the status is not 2xx, or the
                answer holds no audio the decoder reads where the settings say it is.
                Messages never contain the text (it can carry callers' numbers).
        """
        values = {"text": text, "voice": self.voice}
        try:
            if self._body is None:
                url = _PLACEHOLDER.sub(lambda m: quote(values[m[1]], safe=""), self.url)
                response = await self._client.get(url)
            else:
                content = json.dumps(_fill(self._body, values), ensure_ascii=False).encode("utf-8")
                response = await self._client.post(
                    self.url, content=content, headers={"Content-Type": "application/json; charset=utf-8"}
                )
        except httpx.TimeoutException as exc:
            raise self._error(f"no answer within {self.timeout_seconds:g} s ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:  # the OS's words (refused, unknown host), not the URL
            raise self._error(f"request failed: {type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise self._error(f"request failed: {type(exc).__name__}") from exc
        if not response.is_success:
            raise self._error(f"answered HTTP {response.status_code} {response.reason_phrase}")
        audio = response.content if self._audio_path is None else self._from_json(response)
        # Sniffed in a thread: libsndfile may read an MP3 through to count its frames.
        if not await asyncio.to_thread(is_audio, audio):
            raise self._error(f"answered {_describe(audio, response)}, not audio the decoder reads")
        return audio

    async def check(self) -> str:
        """Verify at start-up that the API answers a short text with playable audio.

        Returns:
            A description of the backend.

        Raises:
            TTSError: What went wrong.
        """
        await asyncio.to_thread(audio_duration_seconds, await self.synthesize(_CHECK_TEXT))
        logger.info("speech backend ready: %r", self)
        return repr(self)

    async def aclose(self) -> None:
        """Close the connection pool (at shutdown)."""
        await self._client.aclose()

    def _from_json(self, response: httpx.Response) -> bytes:
        assert self._audio_path is not None
        where = ".".join(self._audio_path)
        try:
            node: Any = response.json()
        except ValueError as exc:
            raise self._error(
                f"answered {_describe(response.content, response)}, not JSON with {where}"
            ) from exc
        for part in self._audio_path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise self._error(f"the JSON answer has no {where}")
        if not isinstance(node, str):
            raise self._error(f"{where} in the JSON answer is {type(node).__name__}, not base64 text")
        try:
            return base64.b64decode(node, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise self._error(f"{where} in the JSON answer is not valid base64 ({exc})") from exc

    def _error(self, reason: str) -> TTSError:
        return TTSError(f"HTTP TTS at {_shown(self.url)}: {reason}", backend=self.name)


def _parse_body(template: str) -> Any:
    try:
        return json.loads(template)
    except ValueError as exc:
        raise ValueError(f"the body template is not JSON ({exc})") from exc


def _parse_audio(audio: str) -> tuple[str, ...] | None:
    """``body`` → None; ``json:a.b.0`` → ("a", "b", "0")."""
    if audio == "body":
        return None
    kind, _, path = audio.partition(":")
    parts = tuple(path.split("."))
    if kind != "json" or not all(parts):
        raise ValueError(f"audio must be 'body' or 'json:<dotted.path>', not {audio!r}")
    return parts


def _check_request(url: str, method: str, body_template: str) -> None:
    split = urlsplit(url)
    if split.scheme not in ("http", "https") or not split.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    if method not in ("GET", "POST"):
        raise ValueError(f"method must be GET or POST, not {method!r}")
    if method == "GET" and "{text}" not in split.query:
        raise ValueError("a GET request needs {text} in the URL's query, e.g. ?text={text}")
    if method == "POST" and "{text}" not in body_template:
        raise ValueError('the body template never says {text}; write e.g. {"text": "{text}"}')


def _fill(node: Any, values: Mapping[str, str]) -> Any:
    """The parsed body with ``{text}``/``{voice}`` filled in every string, in one pass
    (a text that says "{voice}" stays as it is)."""
    if isinstance(node, str):
        return _PLACEHOLDER.sub(lambda m: values[m[1]], node)
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    return node


def _describe(data: bytes, response: httpx.Response) -> str:
    """What an answer that is not audio looks like, for an operator: its size and
    Content-Type (what the vendor meant it to be), never its bytes (they may be the text)."""
    kind = response.headers.get("content-type", "no content type")
    return f"{len(data)} bytes of {kind}"


def _shown(url: str) -> str:
    """The URL without its query (a GET's query holds the text) or credentials."""
    split = urlsplit(url)
    return f"{split.scheme}://{split.hostname}{f':{split.port}' if split.port else ''}{split.path}"
