"""What the console needs of both transcript stores: the test-call mark, and the calls of
a window with their turns (the dashboard), the same in SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.dialog.state import CallState
from bot.store import codec
from bot.store.pg_transcripts import PostgresTranscriptStore
from bot.store.transcripts import TranscriptStore, Turn, iso

Store = TranscriptStore | PostgresTranscriptStore
START = 1_700_000_000.0


@pytest.fixture(params=["sqlite", "postgresql"])
def dsn(request: pytest.FixtureRequest) -> str | None:
    """None for SQLite, else a fresh PostgreSQL database (set up outside the event loop)."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("database_url"))


@pytest.fixture
async def store(dsn: str | None, tmp_path: Path) -> AsyncIterator[Store]:
    opened = TranscriptStore(tmp_path / "t.sqlite3") if dsn is None else PostgresTranscriptStore(dsn)
    await opened.open()
    yield opened
    await opened.close()


async def test_a_test_call_is_marked_in_its_row_and_its_ended_state(store: Store) -> None:
    test = CallState(call_id="t1", telnum="138", flow="yibao", flow_version="v", started_at=START, test=True)
    cti = CallState(call_id="c1", telnum="139", flow="yibao", flow_version="v", started_at=START + 1)
    for call in (test, cti):
        store.record(call, Turn(at=iso(START), event="ready2speak"))
        call.end("hung_up_by_caller", "caller hung up")
        store.record(call)
    await store.flush()
    marked = await store.get_call("t1")
    assert marked is not None
    assert marked["test"] is True
    assert [(c["callid"], c["test"]) for c in await store.recent_calls(10)] == [("c1", False), ("t1", True)]
    ended = await store.ended_call("t1")
    assert ended is not None
    assert ended.test
    assert not (await store.ended_call("c1") or test).test


async def test_the_calls_of_a_window_come_with_their_turns(store: Store) -> None:
    for n in range(3):
        call = CallState(call_id=f"w{n}", telnum="1", flow="f", flow_version="v", started_at=START + 3600 * n)
        for text in ("喂", "转人工"):
            store.record(call, Turn(at=iso(START), event="text", text=text, intent="x", ms=5.0))
    await store.flush()
    found = await store.calls_since(START + 3600, 10)
    assert [c["callid"] for c in found] == ["w2", "w1"]
    assert [t["text"] for t in found[0]["turns"]] == ["喂", "转人工"]
    assert [c["callid"] for c in await store.calls_since(START, 1)] == ["w2"]
    assert await store.calls_since(START + 10 * 3600, 10) == []


def test_the_mark_survives_the_session_stores_codec() -> None:
    state = CallState(call_id="t", telnum="1", flow="f", flow_version="v", test=True)
    assert codec.loads(codec.dumps(state)).test
    assert not codec.loads(codec.dumps(CallState(call_id="c", telnum="1", flow="f", flow_version="v"))).test
    assert '"test"' not in codec.dumps(CallState(call_id="c", telnum="1", flow="f", flow_version="v"))
