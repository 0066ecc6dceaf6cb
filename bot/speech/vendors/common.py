"""What the cloud speech backends share.

- :func:`split_text`: a text cut into pieces a vendor accepts (each at most its limit,
  counted as the vendor counts: characters, UTF-8 bytes or GBK bytes), cut after a
  sentence's end where one is near, else after a comma, else anywhere.
- :func:`speak_in_pieces`: the pieces said one after the other and joined into one WAV.
- :class:`TokenCache`: one access token kept until shortly before it expires; callers
  that need it at once share one fetch; an ``invalidate`` after the vendor refused it.
- :func:`pcm_wav`: raw PCM (what several vendors stream) wrapped as a WAV.
- :func:`require_settings`: the start stopped, naming each credential not set.
- :func:`check_speaks`: the start-up check every vendor backend makes.
- :func:`post`: one request, a timeout or a failed connection as a :class:`TTSError`.
- :func:`http_client`: the pooled client a backend keeps for its vendor.
- :class:`Voice`: what each vendor module lists in its ``VOICES`` for ``voicebot tts voices``.

Errors are the tree's :class:`~bot.errors.VendorError` family: the vendor's code and
words kept, an auth error marking a token to fetch again, a rate limit marking the
vendor busy (the chain's next backend speaks; the vendor cools down like any failure).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import time
import wave
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from bot.errors import ConfigError, TTSError
from bot.speech.sentences import CLAUSE_END, SENTENCE_END
from bot.speech.tts import TTSBackend
from bot.speech.wav import read_pcm, wav_duration_seconds

logger = logging.getLogger(__name__)

CHECK_TEXT = "您好"
"""What a vendor backend says at start-up to show it works."""


@dataclass(frozen=True)
class Voice:
    """A voice a vendor documents, for ``voicebot tts voices``.

    Attributes:
        name: What the backend's voice setting takes (``xiaoyun``, ``101001``).
        description: Who it sounds like, in the vendor's words (``标准女声``).
    """

    name: str
    description: str


def utf8_bytes(text: str) -> int:
    """A text's length as vendors that count UTF-8 bytes count it."""
    return len(text.encode("utf-8"))


def gbk_bytes(text: str) -> int:
    """A text's length in GBK bytes (a character GBK lacks counts as two)."""
    return len(text.encode("gbk", errors="replace"))


def split_text(text: str, limit: int, *, measure: Callable[[str], int] = len) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` (by ``measure``), in order.

    A piece ends after the last sentence end (。！？；) that keeps it within the limit,
    else after the last comma or colon, else at the limit itself. Pieces are stripped;
    empty ones are dropped.

    Raises:
        ValueError: ``limit`` is below 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if measure(rest) <= limit:
            pieces.append(rest)
            break
        fit = _longest_fitting(rest, limit, measure)
        cut = _last_end(SENTENCE_END, rest, fit) or _last_end(CLAUSE_END, rest, fit) or fit
        piece, rest = rest[:cut].strip(), rest[cut:].strip()
        if piece:
            pieces.append(piece)
    return pieces


def _longest_fitting(text: str, limit: int, measure: Callable[[str], int]) -> int:
    """The most leading characters of ``text`` within ``limit`` (at least one)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _last_end(pattern: re.Pattern[str], text: str, fit: int) -> int:
    """Where the last match of ``pattern`` ending within ``text[:fit]`` ends, or 0."""
    ends = [m.end() for m in pattern.finditer(text, 0, fit)]
    return ends[-1] if ends else 0


async def speak_in_pieces(
    text: str,
    limit: int,
    speak: Callable[[str], Awaitable[bytes]],
    *,
    measure: Callable[[str], int] = len,
) -> bytes:
    """Say ``text`` in pieces of at most ``limit`` and join their WAVs into one.

    Args:
        text: What to say.
        limit: The vendor's longest text per request, counted by ``measure``.
        speak: One request: a piece of text to a WAV of PCM.
        measure: How the vendor counts a text's length.

    Returns:
        One WAV in the pieces' own format.

    Raises:
        TTSError: A piece failed (the vendor's error), or the pieces' formats differ.
    """
    pieces = split_text(text, limit, measure=measure)
    if len(pieces) <= 1:
        return await speak(pieces[0] if pieces else text)
    wavs = [await speak(piece) for piece in pieces]
    return join_wavs(wavs)


def join_wavs(wavs: list[bytes]) -> bytes:
    """PCM WAVs of one format, one after the other, as one WAV of that format.

    Raises:
        TTSError: A part is not a PCM WAV, or the parts' formats differ.
    """
    parts = [read_pcm(wav) for wav in wavs]
    first = parts[0]
    for part in parts[1:]:
        if (part.rate, part.channels, part.width) != (first.rate, first.channels, first.width):
            raise TTSError(
                f"the vendor answered pieces of one text in two formats ({first.rate} Hz / {part.rate} Hz)"
            )
    return pcm_wav(b"".join(p.frames for p in parts), first.rate, channels=first.channels, width=first.width)


def pcm_wav(frames: bytes, rate: int, *, channels: int = 1, width: int = 2) -> bytes:
    """Raw little-endian PCM wrapped in a WAV header (vendors that stream raw PCM)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(frames[: len(frames) - len(frames) % (channels * width)])
    return buffer.getvalue()


def require_settings(backend: str, values: Mapping[str, object]) -> None:
    """Stop the start when a setting a vendor cannot work without is unset or empty.

    Args:
        backend: The ``VOICEBOT_TTS`` name (``aliyun``).
        values: Each required setting's variable (``VOICEBOT_TTS_ALIYUN_APPKEY``) and value.

    Raises:
        ConfigError: Naming every one of them that is missing.
    """
    missing = [name for name, value in values.items() if not _is_set(value)]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise ConfigError(f"VOICEBOT_TTS lists {backend}, but {', '.join(missing)} {verb} not set")


def _is_set(value: object) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return bool(value)


async def check_speaks(backend: TTSBackend) -> str:
    """A vendor backend's start-up check: it says 您好 and the answer is audio.

    Returns:
        The backend's description (its ``repr``, which holds no credentials).

    Raises:
        TTSError: The vendor failed, or answered a recording without sound.
    """
    if wav_duration_seconds(await backend.synthesize(CHECK_TEXT)) <= 0:
        raise TTSError(f"{backend.name}: answered no audio for {CHECK_TEXT}", backend=backend.name)
    logger.info("speech backend ready: %r", backend)
    return repr(backend)


def http_client(timeout_seconds: float) -> httpx.AsyncClient:
    """The pooled client a vendor backend keeps (closed by its ``aclose``)."""
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds), follow_redirects=False)


async def post(
    client: httpx.AsyncClient,
    backend: str,
    url: str,
    *,
    what: str = "",
    redact: Callable[[str], str] = str,
    **request: Any,
) -> httpx.Response:
    """One POST to a vendor, its transport's failures as :class:`TTSError`.

    Args:
        client: The backend's client (:func:`http_client`); its timeout is the one named.
        backend: The backend's name, first in every message (``aliyun``).
        url: Where to.
        what: The request, named in messages when a backend makes more than one kind
            (``CreateToken``).
        redact: Masks what the OS's words might hold (a token in a URL).
        request: The rest of ``httpx.AsyncClient.post``'s arguments.

    Raises:
        TTSError: ``no answer within N ms``, or the request failed (the exception's
            name, and the OS's words for a connection that failed, never the URL).
    """
    doing = f"{what}: " if what else ""
    try:
        return await client.post(url, **request)
    except httpx.TimeoutException as exc:
        timeout_ms = round((client.timeout.read or client.timeout.connect or 0.0) * 1000)
        raise TTSError(f"{backend}: {doing}no answer within {timeout_ms} ms", backend=backend) from exc
    except httpx.TransportError as exc:  # the OS's words (refused, unknown host), not the URL
        reason = f"{type(exc).__name__}: {redact(str(exc))}"
        raise TTSError(f"{backend}: {doing}request failed: {reason}", backend=backend) from exc
    except httpx.HTTPError as exc:
        raise TTSError(f"{backend}: {doing}request failed: {type(exc).__name__}", backend=backend) from exc


TokenFetch = Callable[[], Awaitable[tuple[str, float]]]
"""Fetches a new token: ``(token, expires_at)``, the expiry as a Unix time in seconds."""


class TokenCache:
    """An access token fetched when first needed and again shortly before it expires.

    Args:
        fetch: Asks the vendor for a token: ``(token, expires_at)``.
        refresh_margin_seconds: A token this close to its expiry is fetched anew, so a
            request never goes out with one that expires on the way.
        clock: Unix time now (tests pass their own).
    """

    def __init__(
        self,
        fetch: TokenFetch,
        *,
        refresh_margin_seconds: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch, self._margin, self._clock = fetch, refresh_margin_seconds, clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self) -> str:
        """A token that is good for at least the margin; fetched once for concurrent callers."""
        if self._fresh():
            assert self._token is not None
            return self._token
        async with self._lock:
            if not self._fresh():
                self._token, self._expires_at = await self._fetch()
                self.fetches += 1
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (the vendor refused it): the next :meth:`get` fetches a new one."""
        if self._token == token:
            self._token, self._expires_at = None, 0.0

    def _fresh(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at - self._margin
