"""A new call beyond VOICEBOT_MAX_LIVE_CALLS hears the busy words and is hung up or
transferred, never refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.pbx.log import LogPBX
from bot.text.segmenter import Segmenter
from tests.conftest import CTI, FLOWS_DIR


async def record(client: QuartClient, call_id: str) -> dict[str, Any]:
    response = await client.get(f"/calls/{quote(call_id)}")
    assert response.status_code == 200
    return await response.get_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("transfer", "action", "outcome"),
    [(None, "hangup", "hung_up_by_bot"), ("queue:200", "transfer", "transferred")],
    ids=["hang-up", "transfer"],
)
async def test_a_call_beyond_the_cap_hears_the_busy_words(
    tmp_path: Path, segmenter: Segmenter, transfer: str | None, action: str, outcome: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, max_live_calls=2, busy_transfer=transfer
    )
    pbx = LogPBX()
    async with create_app(settings, pbx=pbx, segmenter=segmenter).test_app() as started:
        cti, client = CTI(started.test_client()), started.test_client()
        await cti.say("in-1", "ready2speak")
        greeting = await cti.say("in-2", "ready2speak")
        busy = await cti.say("over-1", "ready2speak")
        assert busy != greeting
        assert busy.endswith("canbeinterrupted=false")
        await pbx.wait_for(1)
        call = await record(client, "over-1")
        assert await cti.say("in-1", "我想查一下报销进度")  # calls in progress go on
        await cti.say("in-2", "hungup")
        assert await cti.say("in-3", "ready2speak") == greeting  # room again: greeted
    assert [(r.action, r.call_id) for r in pbx.requests] == [(action, "over-1")]
    assert (call["outcome"], call["turns"][0]["reply"]) == (outcome, settings.busy_text)
    assert call["end_reason"].startswith("busy: ")


def test_a_busy_transfer_target_is_checked_at_start() -> None:
    with pytest.raises(ValueError, match="busy_transfer"):
        Settings(busy_transfer="queue:")
