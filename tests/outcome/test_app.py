"""The outcome push inside the app: created from the settings, opened at start, in /healthz."""

from __future__ import annotations

from pathlib import Path

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.services import EXTENSION_KEY, Services
from bot.text.segmenter import Segmenter
from tests.conftest import CTI, FLOWS_DIR
from tests.outcome.receiver import OutcomeReceiver, eventually


@pytest.fixture
def settings(tmp_path: Path, receiver: OutcomeReceiver) -> Settings:
    return Settings(data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, outcome_url=receiver.url)


async def test_a_transferred_call_is_pushed_with_its_transcript(
    cti: CTI, services: Services, receiver: OutcomeReceiver, client: QuartClient, settings: Settings
) -> None:
    await cti.say("call-1", "ready2speak")
    await cti.say("call-1", "我要转人工")
    assert services.outcomes is not None
    await services.outcomes.publish("call-1")
    await eventually(lambda: receiver.accepted["call-1"] == 1)

    pushed = receiver.payload(0)
    assert (pushed["version"], pushed["callid"], pushed["outcome"]) == (1, "call-1", "transferred")
    assert pushed["telnum"] == "13800138000"
    assert [t["event"] for t in pushed["transcript"]] == ["ready2speak", "text"]
    assert pushed["transcript"][1]["text"] == "我要转人工"
    assert receiver.received[0].headers["idempotency-key"] == "call-1"
    assert settings.outbox_path.exists()

    async def health_shows_it() -> bool:
        body = await (await client.get("/healthz")).get_json()
        expected = {"pending": 0, "delivered": 1, "rejected": 0, "oldest_pending_seconds": None}
        return bool(body["outcomes"] == expected)

    await eventually(health_shows_it)


async def test_no_url_no_outbox(tmp_path: Path, segmenter: Segmenter) -> None:
    plain = Settings(data_dir=tmp_path / "plain", flows_dir=FLOWS_DIR)
    app = create_app(plain, segmenter=segmenter)
    async with app.test_app() as started:
        assert app.extensions[EXTENSION_KEY].outcomes is None
        assert (await (await started.test_client().get("/healthz")).get_json())["outcomes"] is None
    assert not plain.outbox_path.exists()
