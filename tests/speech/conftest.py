"""Fixtures for the speech tests: the real espeak-ng, wrapped to count its calls, and a
speech vendor's HTTP API on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.speech.cache import AudioCache
from bot.speech.espeak import EspeakTTS
from bot.speech.http_tts import HttpTTS
from bot.speech.synthesizer import SpeechSynthesizer
from bot.speech.tts import IdentityValue, TTSBackend
from tests.loopback import LoopbackServer


class CountingBackend:
    """Passes every call to a real backend and records how many ran and how many overlapped."""

    def __init__(self, inner: TTSBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0
        self.running = 0
        self.max_running = 0

    def identity(self) -> dict[str, IdentityValue]:
        return self.inner.identity()

    async def synthesize(self, text: str) -> bytes:
        self.calls += 1
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            # Yield once so that concurrent callers really overlap before the process starts.
            await asyncio.sleep(0)
            return await self.inner.synthesize(text)
        finally:
            self.running -= 1


@pytest.fixture
def espeak() -> EspeakTTS:
    return EspeakTTS()


@pytest.fixture
def backend(espeak: EspeakTTS) -> CountingBackend:
    return CountingBackend(espeak)


@pytest.fixture
def cache(tmp_path: Path) -> AudioCache:
    return AudioCache(tmp_path / "audio")


@pytest.fixture
def synth(backend: CountingBackend, cache: AudioCache) -> SpeechSynthesizer:
    return SpeechSynthesizer(backend, cache, concurrency=2)


@pytest.fixture
async def vendor() -> AsyncIterator[LoopbackServer]:
    """A speech vendor's API (``/tts/…`` routes) and every other loopback route."""
    server = LoopbackServer()
    await server.start()
    yield server
    await server.close()


HttpFactory = Callable[..., HttpTTS]


@pytest.fixture
async def http_tts(vendor: LoopbackServer) -> AsyncIterator[HttpFactory]:
    """Makes HTTP backends for paths of ``vendor`` (``"/tts/wav"``) and closes them afterwards."""
    made: list[HttpTTS] = []

    def make(path: str = "/tts/wav", **options: Any) -> HttpTTS:
        made.append(HttpTTS(f"{vendor.base_url}{path}", **options))
        return made[-1]

    yield make
    for backend in made:
        await backend.aclose()
