"""Transfers and hang-ups announced by a process that stopped before carrying them out:
taken over at start from the live calls' file, at their time, or recorded as failed when
found too late (``VOICEBOT_FOLLOWUP_LATE_MS``)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.dialog.state import CallState, Due
from bot.language.loader import load_flow
from bot.pbx.log import LogPBX
from bot.store.sqlite_sessions import SQLiteSessionStore
from bot.text.segmenter import Segmenter
from tests.conftest import FLOWS_DIR


async def left_by_a_stopped_process(settings: Settings, call_id: str, due: Due) -> None:
    """The live calls' file as a process that announced ``due`` and died leaves it."""
    version = load_flow(FLOWS_DIR / "yibao.yaml").version
    state = CallState(call_id=call_id, telnum="13800138000", flow="yibao", flow_version=version)
    state.greeted, state.turns = True, 2
    state.end("transferred" if due.action == "transfer" else "hung_up_by_bot", "announced")
    state.due = due
    store = SQLiteSessionStore(settings.sessions_path)
    await store.open()
    async with store.lock(call_id):
        await store.put(state)
    await store.close()


async def recorded(client: QuartClient, call_id: str) -> dict[str, Any]:
    """The call's transcript once its ``pbx`` turn is in it (a generous bound)."""
    for _ in range(300):
        response = await client.get(f"/calls/{call_id}")
        if response.status_code == 200:
            call: dict[str, Any] = await response.get_json()
            if call["turns"] and call["turns"][-1]["event"] == "pbx":
                return call
        await asyncio.sleep(0.05)
    raise AssertionError(f"no pbx turn for {call_id}")


async def test_a_due_transfer_is_carried_out_once_after_a_restart(
    settings: Settings, segmenter: Segmenter
) -> None:
    await left_by_a_stopped_process(settings, "due-now", Due("transfer", "8001", time.time() + 0.5))
    pbx = LogPBX()
    app = create_app(settings, pbx=pbx, segmenter=segmenter)
    async with app.test_app() as started:
        call = await recorded(started.test_client(), "due-now")
        await asyncio.sleep(1.5)  # a second transfer would come now
    assert [(r.action, r.argument) for r in pbx.requests] == [("transfer", "8001")]
    assert call["outcome"] == "transferred"
    assert call["turns"][-1]["error"] is None


async def test_a_due_transfer_found_too_late_is_recorded_failed(
    tmp_path: Path, settings: Settings, segmenter: Segmenter
) -> None:
    await left_by_a_stopped_process(settings, "late", Due("transfer", "8001", time.time() - 60))
    pbx = LogPBX()
    app = create_app(settings, pbx=pbx, segmenter=segmenter)
    async with app.test_app() as started:
        call = await recorded(started.test_client(), "late")
    assert pbx.requests == []  # the caller waited a minute in silence: no agent now
    assert call["outcome"] == "transfer_failed"
    assert "transfer not made: found 6" in call["end_reason"]
    assert "VOICEBOT_FOLLOWUP_LATE_MS" in call["turns"][-1]["error"]
