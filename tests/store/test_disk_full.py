"""A disk that refuses writes: the callers keep hearing answers, /healthz says so, and no
answered turn is lost once the disk takes writes again."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from typing import Any

from quart.typing import TestClientProtocol as QuartClient

from bot.services import Services
from bot.store import codec
from bot.store.sqlite_sessions import SQLiteSessionStore
from bot.store.transcripts import TranscriptStore
from tests.conftest import CTI

CALLS = 20
ASKED = "我想查一下报销进度，身份证号码是幺幺零幺零五幺九四九幺二三幺零零二叉"


async def limit_pages(svc: Services, pages: int | None) -> None:
    """SQLite's max_page_count on the connections of the transcripts and of the live
    calls: a database that may not grow fails its writes with SQLITE_FULL, exactly as a
    full disk does."""
    transcripts, sessions = svc.transcripts, svc.sessions
    assert isinstance(transcripts, TranscriptStore)
    assert isinstance(sessions, SQLiteSessionStore)

    def pragma(db: sqlite3.Connection | None) -> None:
        assert db is not None
        limit = pages if pages is not None else db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {limit}")

    await transcripts._run(lambda: pragma(transcripts._db))
    await sessions._run(lambda: pragma(sessions._db))


async def health(client: QuartClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/healthz")
    return response.status_code, await response.get_json()


async def test_turns_wait_for_a_full_disk_and_are_stored_when_it_has_room(
    services: Services, cti: CTI, client: QuartClient
) -> None:
    await cti.say("full-0", "ready2speak")
    await services.transcripts.flush()
    await limit_pages(services, None)  # full from now on
    for n in range(CALLS):  # every caller is still answered
        assert (await cti.say(f"full-{n}", "ready2speak")).startswith("http://127.0.0.1/audio/")
        assert await cti.say(f"full-{n}", ASKED)
    status, body = await health(client)
    assert status == 503
    assert body["status"] == "storage_failing"
    assert "full" in body["storage"]["transcripts"]
    assert "full" in body["storage"]["sessions"]
    assert body["storage"]["unwritten_rows"] > 0

    await limit_pages(services, 1_000_000)  # room again
    for _ in range(500):  # the next try stores what waited (a generous bound)
        if (await health(client))[0] == 200:
            break
        await asyncio.sleep(0.02)
    status, body = await health(client)
    ok = {"transcripts": "ok", "unwritten_rows": 0, "lost_rows": 0, "sessions": "ok"}
    assert (status, body["storage"]) == (200, ok)
    calls = await (await client.get(f"/calls?limit={CALLS + 5}")).get_json()
    turns = {c["callid"]: c["turn_count"] for c in calls["calls"]}
    assert all(turns[f"full-{n}"] == (3 if n == 0 else 2) for n in range(CALLS))
    with contextlib.closing(sqlite3.connect(services.settings.sessions_path)) as db:
        stored = {call_id: codec.loads(state) for call_id, state in db.execute("SELECT * FROM sessions")}
    assert all(stored[f"full-{n}"].turns == (3 if n == 0 else 2) for n in range(CALLS))
