"""A flow's voice in the service: its static prompts rendered at start by its backend (then
down the chain when that fails), its calls said in it, and a reloaded flow's prompts
rendered in its new voice before the new version takes calls. The vendor is the loopback
server's speech API; espeak-ng is real."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from bot.app import create_app
from bot.config import Settings
from bot.services import EXTENSION_KEY, Services
from bot.speech.espeak import EspeakTTS
from bot.speech.http_tts import HttpTTS
from bot.speech.normalize import normalize_for_speech
from bot.speech.tts import IdentityValue, TTSBackend
from bot.text.segmenter import Segmenter
from tests.conftest import CTI
from tests.loopback import LoopbackServer

GREETING = "您好，这里是语音测试热线。"
NEW_GREETING = "您好，这里是新版语音测试热线。"
FLOW = """\
title: 语音测试
{voice}
steps:
  greeting:
    say: {greeting}
    hangup: true
"""
RELOAD_WAIT_SECONDS = 30.0  # a bound on waiting for the watcher, never asserted


def write_flow(flows: Path, name: str, voice: str = "", greeting: str = GREETING) -> Path:
    path = flows / f"{name}.yaml"
    path.write_text(FLOW.format(voice=voice, greeting=greeting), encoding="utf-8")
    return path


def app_with(tmp_path: Path, segmenter: Segmenter, vendor: LoopbackServer, **values: Any) -> Quart:
    """VOICEBOT_TTS=espeak,http: espeak-ng first, the vendor for the flows that choose it."""
    settings = Settings(
        data_dir=tmp_path / "var",
        flows_dir=tmp_path / "flows",
        default_flow="plain",
        tts=("espeak", "http"),
        tts_http_url=f"{vendor.base_url}/tts/wav",
        **values,
    )
    return create_app(settings, segmenter=segmenter)


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    directory = tmp_path / "flows"
    directory.mkdir()
    write_flow(directory, "plain")
    write_flow(directory, "voiced", "voice: http")
    return directory


async def said_by(client: Any, call_id: str, flow: str) -> str:
    """What said a new call's greeting in ``flow``, from its transcript."""
    await CTI(client).say(call_id, "ready2speak", flow=flow)
    call = await (await client.get(f"/calls/{call_id}")).get_json()
    return str(call["turns"][0]["tts"])


async def test_a_flows_prompts_and_calls_are_said_in_its_voice(
    tmp_path: Path, flows: Path, segmenter: Segmenter, vendor: LoopbackServer
) -> None:
    app = app_with(tmp_path, segmenter, vendor, watch_flows=False)
    async with app.test_app() as started:
        svc: Services = app.extensions[EXTENSION_KEY]
        assert svc.flows is not None
        voiced = svc.flows.get("voiced").flow
        at_start = vendor.hits["/tts/wav"]
        clips = await svc.speech.render_prompts(voiced.static_prompts(), voice=voiced.voice)
        client = started.test_client()
        voiced_greeting = await said_by(client, "v-1", "voiced")
        plain_greeting = await said_by(client, "p-1", "plain")

    # The vendor's check, then each of the voiced flow's static prompts once; nothing more.
    assert at_start == 1 + len({p.text for p in voiced.static_prompts()})
    assert {c.backend for c in clips} == {"http"}
    assert (voiced_greeting, plain_greeting) == ("http", "espeak-ng")
    assert vendor.hits["/tts/wav"] == at_start


async def test_a_voice_that_fails_at_start_falls_back_down_the_chain(
    tmp_path: Path,
    flows: Path,
    segmenter: Segmenter,
    vendor: LoopbackServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    vendor.tts_status = 503
    app = app_with(tmp_path, segmenter, vendor, watch_flows=False, tts_cooldown_seconds=3600)
    with caplog.at_level(logging.WARNING, logger="bot.speech"):
        async with app.test_app() as started:
            greeting = await said_by(started.test_client(), "v-2", "voiced")
            concurrency = app.extensions[EXTENSION_KEY].settings.tts_slots

    assert greeting == "espeak-ng"
    assert any("speech backend http failed" in r.getMessage() for r in caplog.records)
    assert vendor.hits["/tts/wav"] <= 1 + concurrency  # its check, the prompts under way: then it cooled down


class LiveVersionProbe:
    """Passes every synthesis to a real backend and notes which version of a flow was live
    (taking calls) when each text was said."""

    def __init__(self, inner: TTSBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.live: Callable[[], str] = lambda: ""
        self.said: list[tuple[str, str]] = []  # (text, the version live then)

    def identity(self) -> dict[str, IdentityValue]:
        return self.inner.identity()

    async def synthesize(self, text: str) -> bytes:
        self.said.append((text, self.live()))
        return await self.inner.synthesize(text)

    async def aclose(self) -> None:
        aclose = getattr(self.inner, "aclose", None)
        if aclose is not None:
            await aclose()


@pytest.mark.parametrize("vendor_up", [True, False], ids=["vendor-up", "vendor-down"])
async def test_a_reloaded_flow_is_rendered_in_its_new_voice_before_it_goes_live(
    tmp_path: Path, flows: Path, segmenter: Segmenter, vendor: LoopbackServer, vendor_up: bool
) -> None:
    http = LiveVersionProbe(HttpTTS(f"{vendor.base_url}/tts/wav"))
    espeak = LiveVersionProbe(EspeakTTS())
    settings = Settings(
        data_dir=tmp_path / "var", flows_dir=flows, default_flow="plain", tts=("espeak", "http")
    )
    app = create_app(settings, tts=[espeak, http], segmenter=segmenter)
    async with app.test_app() as started:
        svc: Services = app.extensions[EXTENSION_KEY]
        assert svc.flows is not None
        registry = svc.flows
        old = registry.get("plain").version
        http.live = espeak.live = lambda: registry.get("plain").version
        http.said.clear()  # what start-up said
        espeak.said.clear()
        vendor.tts_status = 200 if vendor_up else 503

        # The plain flow takes the vendor's voice, and says a new greeting.
        with reloaded("plain") as done:
            write_flow(flows, "plain", "voice: http", NEW_GREETING)
            async with asyncio.timeout(RELOAD_WAIT_SECONDS):
                await done.wait()
        new = registry.get("plain")
        cache = svc.speech.cache
        static = {normalize_for_speech(p.text) for p in new.flow.static_prompts()}
        in_new_voice = {t for t in static if cache.path(cache.key_for(t, http)).is_file()}
        asked = vendor.hits["/tts/wav"]
        greeting = await said_by(started.test_client(), "reloaded-1", "plain")

    spoken = normalize_for_speech(NEW_GREETING)
    assert new.version != old
    assert (spoken, old) in http.said  # the new voice was asked while the old version was live
    assert all(version == old for _, version in http.said + espeak.said)
    if vendor_up:
        assert in_new_voice == static  # every static prompt is made in the new voice
        assert greeting == "http"
        assert vendor.hits["/tts/wav"] == asked  # the call found its greeting made
    else:
        assert (spoken, old) in espeak.said  # fell back down the chain, before going live too
        assert greeting == "espeak-ng"


@contextmanager
def reloaded(name: str) -> Iterator[asyncio.Event]:
    """Set once the watcher says flow ``name`` was reloaded (the version is live then)."""
    done = asyncio.Event()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith(f"flow {name!r} reloaded"):
                done.set()

    handler, logger = Watch(), logging.getLogger("bot.dialog.watch")
    logger.addHandler(handler)
    try:
        yield done
    finally:
        logger.removeHandler(handler)
