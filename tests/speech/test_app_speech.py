"""The speech chain as the service builds it from VOICEBOT_TTS: start-up checks, the
prompts rendered at start, and a call's audio when the preferred backend is down."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from quart import Quart

from bot.app import create_app
from bot.config import Settings
from bot.errors import ConfigError
from bot.services import EXTENSION_KEY, Services
from bot.text.segmenter import Segmenter
from tests.conftest import CTI, FLOWS_DIR
from tests.loopback import LoopbackServer


def app_with(tmp_path: Path, segmenter: Segmenter, **values: object) -> Quart:
    settings = Settings(data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, kb_filler_ms=30000, **values)  # type: ignore[arg-type]
    return create_app(settings, segmenter=segmenter)


async def test_the_preferred_backend_renders_the_prompts_and_greets(
    tmp_path: Path, segmenter: Segmenter, vendor: LoopbackServer
) -> None:
    app = app_with(tmp_path, segmenter, tts=("http", "espeak"), tts_http_url=f"{vendor.base_url}/tts/wav")
    async with app.test_app() as started:
        svc: Services = app.extensions[EXTENSION_KEY]
        rendered = vendor.hits["/tts/wav"]
        greeting = await CTI(started.test_client()).say("speech-1", "ready2speak")
        assert svc.flows is not None
        clips = await svc.speech.render_prompts(svc.flows.get("yibao").flow.static_prompts())

    assert [b.name for b in svc.speech.backends] == ["http", "espeak-ng"]
    assert 1 < rendered <= 1 + svc.prompts_rendered  # the check, then the static prompts
    assert {c.backend for c in clips} == {"http"}
    assert vendor.hits["/tts/wav"] == rendered  # nothing new to say in the greeting
    key = urlsplit(greeting).path.removeprefix("/audio/").removesuffix(".wav")
    assert await svc.speech.clip(key) is not None


async def test_a_vendor_down_at_start_is_a_warning_and_espeak_speaks(
    tmp_path: Path, segmenter: Segmenter, vendor: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    vendor.tts_status = 503
    app = app_with(
        tmp_path,
        segmenter,
        tts=("http", "espeak"),
        tts_http_url=f"{vendor.base_url}/tts/wav",
        tts_cooldown_seconds=3600,
    )
    with caplog.at_level(logging.WARNING, logger="bot.speech"):
        async with app.test_app() as started:
            greeting = await CTI(started.test_client()).say("speech-2", "ready2speak")
            svc: Services = app.extensions[EXTENSION_KEY]
            key = urlsplit(greeting).path.removeprefix("/audio/").removesuffix(".wav")
            assert await svc.speech.clip(key) is not None

    assert any("http failed its start-up check: " in r.getMessage() for r in caplog.records)
    assert vendor.hits["/tts/wav"] <= 1 + svc.settings.tts_slots  # then it cooled down


async def test_no_working_backend_stops_the_start(
    tmp_path: Path, segmenter: Segmenter, vendor: LoopbackServer
) -> None:
    app = app_with(tmp_path, segmenter, tts=("http",), tts_http_url=f"{vendor.base_url}/missing")
    with pytest.raises(ConfigError, match="no speech backend works"):
        await app.startup()  # what did open is closed again by the failed start
