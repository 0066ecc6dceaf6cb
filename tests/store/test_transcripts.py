"""Transcripts in SQLite: batched, ordered, durable across a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.dialog.state import CallState
from bot.store.transcripts import TranscriptStore, Turn, iso


def turn(text: str) -> Turn:
    return Turn(at=iso(0), event="text", text=text)


async def test_turns_survive_a_restart_in_order(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    store = TranscriptStore(path)
    await store.open()
    call = CallState(call_id="c1", telnum="138", flow="yibao", flow_version="v1", started_at=1_700_000_000)
    for n in range(20):
        store.record(call, turn(f"第{n}句"))
    call.end("hung_up_by_caller", "caller hung up")
    store.record(call)
    await store.close()

    reopened = TranscriptStore(path)
    await reopened.open()
    try:
        found = await reopened.get_call("c1")
        assert found is not None
        assert [t["text"] for t in found["turns"]] == [f"第{n}句" for n in range(20)]
        assert (found["outcome"], found["started_at"]) == ("hung_up_by_caller", "2023-11-14T22:13:20.000Z")
        assert found["ended_at"] is not None
        assert await reopened.get_call("nobody") is None
    finally:
        await reopened.close()


async def test_reads_see_every_turn_queued_before_them(tmp_path: Path) -> None:
    store = TranscriptStore(tmp_path / "t.sqlite3")
    await store.open()
    try:
        calls = [CallState(call_id=f"c{n}", telnum="1", flow="f", flow_version="v") for n in range(50)]

        async def talk(call: CallState) -> None:
            for n in range(4):
                store.record(call, turn(str(n)))
                await asyncio.sleep(0)

        await asyncio.gather(*(talk(c) for c in calls))
        listed = await store.recent_calls(100)
        assert len(listed) == 50
        assert {c["turn_count"] for c in listed} == {4}
    finally:
        await store.close()
