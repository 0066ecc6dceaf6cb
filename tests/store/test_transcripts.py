"""Transcripts in SQLite: batched, ordered, durable across a restart."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.dialog.state import CallState, Grade
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


async def test_a_database_of_the_first_release_gains_the_grade_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the schema before grading existed
        db.executescript(
            "CREATE TABLE calls (call_id TEXT PRIMARY KEY, telnum TEXT NOT NULL, flow TEXT NOT NULL, "
            "flow_version TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, outcome TEXT NOT NULL, "
            "end_reason TEXT);"
            "INSERT INTO calls VALUES ('old', '138', 'yibao', 'v0', '2026-01-01T00:00:00.000Z', NULL, "
            "'in_progress', NULL);"
        )
    db.close()
    store = TranscriptStore(path)
    await store.open()
    try:
        old = await store.get_call("old")
        assert old is not None
        assert (old["grade"], old["variables"]) == (None, {})
        call = CallState(call_id="new", telnum="139", flow="yibao", flow_version="v1")
        call.variables["phone"] = "13912345678"
        call.end("transferred", "test")
        call.grade = Grade("A", 90, "转人工")
        store.record(call)
        new = await store.get_call("new")
        assert new is not None
        assert (new["grade"], new["score"], new["grade_reason"]) == ("A", 90, "转人工")
        assert new["variables"] == {"phone": "13912345678"}
        ended = await store.ended_call("new")
        assert ended is not None
        assert ended.grade == Grade("A", 90, "转人工")
    finally:
        await store.close()


async def test_calls_that_ended_before_the_retention_are_deleted_with_their_turns(tmp_path: Path) -> None:
    store = TranscriptStore(tmp_path / "t.sqlite3")
    await store.open()
    try:
        old = CallState(call_id="old", telnum="1", flow="f", flow_version="v", started_at=1_000)
        open_call = CallState(call_id="live", telnum="1", flow="f", flow_version="v", started_at=1_000)
        recent = CallState(call_id="new", telnum="1", flow="f", flow_version="v", started_at=5_000)
        for call in (old, open_call, recent):
            store.record(call, turn("喂"))
        old.end("hung_up_by_caller", "caller hung up")
        old.ended_at = 2_000
        recent.end("hung_up_by_caller", "caller hung up")
        recent.ended_at = 6_000
        store.record(old)
        store.record(recent)
        assert await store.record_push("old", "robot", {"callid": "old"})
        assert await store.purge(ended_before=3_000) == 1
        assert await store.get_call("old") is None
        assert await store.pushes("old") == []
        assert await store.get_call("live") is not None  # in progress: never deleted
        assert await store.get_call("new") is not None
        assert await store.purge(ended_before=3_000) == 0
    finally:
        await store.close()


async def test_a_store_with_a_retention_purges_at_start(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    store = TranscriptStore(path)
    await store.open()
    call = CallState(call_id="c", telnum="1", flow="f", flow_version="v", started_at=1_000)
    call.end("hung_up_by_caller", "caller hung up")
    call.ended_at = 2_000
    store.record(call)
    await store.close()
    kept = TranscriptStore(path, keep_days=1)
    await kept.open()
    try:
        for _ in range(500):  # the first purge runs as the store opens (a generous bound)
            if await kept.get_call("c") is None:
                break
            await asyncio.sleep(0.01)
        assert await kept.get_call("c") is None
    finally:
        await kept.close()
