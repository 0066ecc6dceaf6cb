"""The start-up hook (``bot/app.py``, issue 17): the static prompts are synthesized while
the knowledge base and the classifiers are built, ready waits for both, and a failure of
either stops the start with its own error and leaves nothing running."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from bot.app import create_app
from bot.config import Settings
from bot.dialog.registry import FlowRegistry
from bot.errors import TTSError
from bot.pbx.log import LogPBX
from bot.services import EXTENSION_KEY, Services
from bot.speech.espeak import EspeakTTS
from bot.speech.tts import IdentityValue
from bot.text.segmenter import Segmenter

SAFETY_SECONDS = 30  # only ever reached when the behaviour under test is broken


class Probe:
    """espeak-ng, told when a synthesis starts; it may instead fail, or never finish."""

    name = "probe"

    def __init__(self, mode: str = "speak") -> None:
        self.mode = mode
        self.started = threading.Event()  # waited on from the classifiers' thread
        self.hanging = 0
        self._espeak = EspeakTTS()

    def identity(self) -> dict[str, IdentityValue]:
        return {"probe": self.mode}

    async def synthesize(self, text: str) -> bytes:
        self.started.set()
        if self.mode == "fail":
            raise TTSError("the probe refuses", backend=self.name)
        if self.mode == "hang":
            self.hanging += 1
            try:
                await asyncio.sleep(SAFETY_SECONDS)
            finally:
                self.hanging -= 1
        return await self._espeak.synthesize(text)


def _app(settings: Settings, segmenter: Segmenter, probe: Probe) -> Any:
    return create_app(settings, pbx=LogPBX(), tts=probe, segmenter=segmenter)


async def test_prompts_are_synthesized_while_the_classifiers_are_built(
    settings: Settings, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = Probe()
    install = FlowRegistry.install
    overlapped: list[bool] = []

    def install_once_speaking(self: FlowRegistry, sources: Any) -> None:
        # In its thread: a prompt is under way before the classifiers are done.
        overlapped.append(probe.started.wait(SAFETY_SECONDS))
        install(self, sources)

    monkeypatch.setattr(FlowRegistry, "install", install_once_speaking)
    app = _app(settings, segmenter, probe)
    async with app.test_app() as started:
        health = await started.test_client().get("/healthz")
        svc: Services = app.extensions[EXTENSION_KEY]
        assert health.status_code == 200  # ready: every prompt rendered
        assert svc.prompts_rendered > 0
    assert overlapped == [True]


async def test_a_failed_opening_stops_the_prompts_and_is_the_error(
    settings: Settings, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = Probe("hang")

    def broken(self: FlowRegistry, sources: Any) -> None:
        assert probe.started.wait(SAFETY_SECONDS)
        raise ValueError("no classifier today")

    monkeypatch.setattr(FlowRegistry, "install", broken)
    app = _app(settings, segmenter, probe)
    before = asyncio.all_tasks()
    with pytest.raises(ValueError, match="no classifier today"):
        await app.startup()
    # Raised without waiting for the prompts: the synthesizer finishes (or, here, drops)
    # the syntheses under way on its own, as it does for a caller who hangs up.
    assert probe.hanging > 0
    assert not app.extensions[EXTENSION_KEY].ready
    left = asyncio.all_tasks() - before
    for task in left:
        task.cancel()
    if left:
        await asyncio.wait(left)


async def test_a_prompt_that_cannot_be_said_stops_the_start(settings: Settings, segmenter: Segmenter) -> None:
    app = _app(settings, segmenter, Probe("fail"))
    before = asyncio.all_tasks()
    with pytest.raises(TTSError, match="the probe refuses"):
        await app.startup()
    assert asyncio.all_tasks() == before


async def test_serving_trains_the_intents_second_opinions_once_ready(
    settings: Settings, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # voicebot serve sets nlu_opinion_later; the threshold is one no other test shares
    # (classifiers are reused between apps), so that these are trained here.
    settings = settings.model_copy(update={"nlu_opinion_later": True, "nlu_threshold": 0.4998})
    trained_when_ready: list[bool] = []

    def train_once_ready(self: FlowRegistry) -> None:
        trained_when_ready.append(app.extensions[EXTENSION_KEY].ready)
        train(self)

    train = FlowRegistry.train_opinions
    monkeypatch.setattr(FlowRegistry, "train_opinions", train_once_ready)
    app = _app(settings, segmenter, Probe())
    text = "五一那几天柜台有人吗"
    async with app.test_app() as started:
        client = started.test_client()
        for _ in range(SAFETY_SECONDS * 10):
            response = await client.post("/model/parse", json={"text": text, "flow": "yibao"})
            parsed = await response.get_json()
            if parsed["intent"]["name"] is not None:
                break
            await asyncio.sleep(0.1)
        assert parsed["intent"]["name"] == "service_hours"
    assert trained_when_ready == [True]


async def test_a_stop_before_the_opinions_begin_leaves_them_untrained(
    settings: Settings, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"nlu_opinion_later": True, "nlu_threshold": 0.4997})
    called: list[bool] = []
    monkeypatch.setattr(FlowRegistry, "train_opinions", lambda self: called.append(True))
    app = _app(settings, segmenter, Probe())
    async with app.test_app():
        pass  # stopped within the wait before training
    assert called == []
