"""The PostgreSQL stores against a real server (tests/servers.py): migrations, the
transcripts' JSON equal to the SQLite store's, the end-is-final rule, retention, a
database that stops accepting connections mid-run, the outbox and the customer history."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from bot.config import Settings
from bot.dialog.state import CallState, Grade
from bot.errors import OutboxError
from bot.outcome.pg_store import CLAIM_SECONDS, PostgresOutboxStore
from bot.outcome.store import OutboxStore
from bot.store import factory, postgres
from bot.store.pg_transcripts import PostgresTranscriptStore
from bot.store.postgres import migrate, migrations
from bot.store.transcripts import TranscriptStore, Turn, iso
from knowledge.history import CustomerHistory
from knowledge.pg_history import PostgresCustomerHistory

FLOWS_DIR = Path(__file__).resolve().parents[2] / "flows"


def turn(text: str, **fields: Any) -> Turn:
    return Turn(at=iso(1_700_000_000.5), event="text", text=text, **fields)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


@pytest.fixture
async def transcripts(database_url: str) -> AsyncIterator[PostgresTranscriptStore]:
    store = PostgresTranscriptStore(database_url)
    await store.open()
    yield store
    await store.close()


# --- migrations ---


def test_the_migrations_are_shipped_numbered_in_order() -> None:
    assert [(m.version, m.name) for m in migrations()] == [
        (1, "transcripts"),
        (2, "outbox"),
        (3, "customer_history"),
        (4, "test_calls"),
        (5, "call_direction_and_campaign"),
        (6, "call_records"),
        (7, "campaigns"),
    ]


async def test_migrations_run_twice_are_a_no_op(conn: asyncpg.Connection) -> None:
    assert await migrate(conn) == [1, 2, 3, 4, 5, 6, 7]
    await conn.execute(
        "INSERT INTO outbox (call_id, payload, created_at, next_attempt_at) VALUES ('c', '{}', 1, 1)"
    )
    assert await migrate(conn) == []
    assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == 7
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 1


async def test_a_database_at_version_1_is_upgraded_keeping_its_rows(conn: asyncpg.Connection) -> None:
    assert await migrate(conn, upto=1) == [1]
    await conn.execute(
        "INSERT INTO calls (call_id, telnum, flow, flow_version, started_at, outcome) "
        "VALUES ('old', '138', 'yibao', 'v0', '2026-01-01T00:00:00Z', 'in_progress')"
    )
    assert await conn.fetchval("SELECT to_regclass('outbox')") is None
    assert await migrate(conn) == [2, 3, 4, 5, 6, 7]
    assert await conn.fetchval("SELECT call_id FROM calls") == "old"
    assert [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")] == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
    ]


async def test_instances_starting_together_apply_each_migration_once(database_url: str) -> None:
    connections = [await asyncpg.connect(database_url) for _ in range(4)]
    try:
        applied = await asyncio.gather(*(migrate(c) for c in connections))
    finally:
        for connection in connections:
            await connection.close()
    assert sorted(applied) == [[], [], [], [1, 2, 3, 4, 5, 6, 7]]


# --- transcripts ---


async def play(store: TranscriptStore | PostgresTranscriptStore) -> None:
    """The same calls, turns and ends recorded in either store."""
    first = CallState(
        call_id="c1", telnum="138", flow="yibao", flow_version="v1", started_at=1_700_000_000.123456
    )
    first.variables.update({"姓名": "张三", "amount": 12.5, "a": [1, 2]})  # key order kept
    for n in range(3):
        store.record(first, turn(f"第{n}句", intent="ask", confidence=0.9, pbx=[{"op": "play", "ok": True}]))
    first.end("transferred", "caller asked for an agent")
    first.ended_at = 1_700_000_050.5
    first.grade = Grade("A", 90, "转人工")
    store.record(first, turn("转人工"))
    await store.flush()
    first.outcome, first.end_reason = "transfer_failed", "no agent"  # settled by the PBX: kept
    store.record(first)
    await store.flush()  # (within one batch the newest row of a call is the one written)
    forgetful = CallState(
        call_id="c1", telnum="138", flow="yibao", flow_version="v1", started_at=1_700_000_000.1
    )
    store.record(forgetful)  # a state that forgot the end (after a restart): ignored

    # Two calls started within the same millisecond: the first inserted lists after.
    for call_id in ("c2", "c3"):
        call = CallState(
            call_id=call_id, telnum="139", flow="f", flow_version="v", started_at=1_700_000_100.0004
        )
        store.record(call, turn("喂"))
    hung = CallState(call_id="c4", telnum="1", flow="f", flow_version="v", started_at=1_700_000_200)
    hung.end("hung_up_by_caller", "caller hung up")
    hung.ended_at = 1_700_000_260.9999
    store.record(hung)
    await store.flush()
    hung.outcome, hung.end_reason = "hung_up_by_bot", "ended again?"  # an end is final
    store.record(hung, turn("late"))
    await store.flush()
    assert await store.record_push("c4", "robot", {"callid": "c4", "reason": "挂机"})
    assert not await store.record_push("c4", "robot", {"callid": "c4", "reason": "again"})


async def test_the_json_out_is_the_sqlite_stores(
    tmp_path: Path, transcripts: PostgresTranscriptStore
) -> None:
    sqlite = TranscriptStore(tmp_path / "t.sqlite3")
    await sqlite.open()
    try:
        await play(sqlite)
        await play(transcripts)
        for call_id in ("c1", "c2", "c3", "c4", "nobody"):
            assert await transcripts.get_call(call_id) == await sqlite.get_call(call_id)
        assert await transcripts.recent_calls(10) == await sqlite.recent_calls(10)
        assert await transcripts.recent_calls(2) == await sqlite.recent_calls(2)
        pg_pushes, sqlite_pushes = await transcripts.pushes("c4"), await sqlite.pushes("c4")
        assert [p.pop("received_at")[-1] for p in (*pg_pushes, *sqlite_pushes)] == ["Z", "Z"]
        assert pg_pushes == sqlite_pushes == [{"business": "robot", "callid": "c4", "reason": "挂机"}]
        for call_id in ("c1", "c2", "c4", "nobody"):
            pg_state, sqlite_state = await transcripts.ended_call(call_id), await sqlite.ended_call(call_id)
            assert (pg_state is None) == (sqlite_state is None)
            if pg_state is not None and sqlite_state is not None:
                assert {**vars(pg_state), "updated_at": 0} == {**vars(sqlite_state), "updated_at": 0}
    finally:
        await sqlite.close()
    found = await transcripts.get_call("c1")
    assert found is not None
    assert (found["outcome"], found["end_reason"], found["grade"]) == ("transfer_failed", "no agent", "A")
    assert found["started_at"] == "2023-11-14T22:13:20.123Z"
    assert list(found["variables"]) == ["姓名", "amount", "a"]
    assert [c["callid"] for c in await transcripts.recent_calls(10)] == ["c4", "c3", "c2", "c1"]


async def test_a_calls_end_is_final_except_a_settled_transfer(transcripts: PostgresTranscriptStore) -> None:
    call = CallState(call_id="x", telnum="1", flow="f", flow_version="v")
    call.end("hung_up_by_bot", "done")
    transcripts.record(call)
    await transcripts.flush()
    again = CallState(call_id="x", telnum="1", flow="f", flow_version="v")
    transcripts.record(again)  # in progress again: ignored
    again.end("transferred", "x")
    transcripts.record(again)  # another end: ignored
    found = await transcripts.get_call("x")
    assert found is not None
    assert (found["outcome"], found["end_reason"]) == ("hung_up_by_bot", "done")
    ended = await transcripts.ended_call("x")
    assert ended is not None
    assert ended.outcome == "hung_up_by_bot"
    assert await transcripts.ended_call("missing") is None


async def test_calls_that_ended_before_the_retention_are_deleted_with_their_turns(
    transcripts: PostgresTranscriptStore,
) -> None:
    old = CallState(call_id="old", telnum="1", flow="f", flow_version="v", started_at=1_000)
    live = CallState(call_id="live", telnum="1", flow="f", flow_version="v", started_at=1_000)
    recent = CallState(call_id="new", telnum="1", flow="f", flow_version="v", started_at=5_000)
    for call in (old, live, recent):
        transcripts.record(call, turn("喂"))
    for call, ended_at in ((old, 2_000), (recent, 6_000)):
        call.end("hung_up_by_caller", "caller hung up")
        call.ended_at = ended_at
        transcripts.record(call)
    assert await transcripts.record_push("old", "robot", {"callid": "old"})
    assert await transcripts.purge(ended_before=3_000) == 1
    assert await transcripts.get_call("old") is None
    assert await transcripts.pushes("old") == []
    assert await transcripts.get_call("live") is not None  # in progress: never deleted
    assert await transcripts.get_call("new") is not None
    assert await transcripts.purge(ended_before=3_000) == 0


async def test_a_store_with_a_retention_purges_at_start(database_url: str) -> None:
    store = PostgresTranscriptStore(database_url)
    await store.open()
    call = CallState(call_id="c", telnum="1", flow="f", flow_version="v", started_at=1_000)
    call.end("hung_up_by_caller", "caller hung up")
    call.ended_at = 2_000
    store.record(call)
    await store.close()
    kept = PostgresTranscriptStore(database_url, keep_days=1)
    await kept.open()
    try:
        for _ in range(500):  # the first purge runs as the store opens (a generous bound)
            if await kept.get_call("c") is None:
                break
            await asyncio.sleep(0.01)
        assert await kept.get_call("c") is None
    finally:
        await kept.close()


async def set_connections(postgres_server: str, database_url: str, *, allowed: bool) -> None:
    """Let the test's database take connections again, or refuse them and end its own."""
    name = urlsplit(database_url).path.lstrip("/")
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
    finally:
        await admin.close()


async def test_rows_wait_for_a_database_that_went_away_and_are_stored_once_it_is_back(
    postgres_server: str, database_url: str, transcripts: PostgresTranscriptStore
) -> None:
    call = CallState(call_id="c", telnum="1", flow="f", flow_version="v")
    transcripts.record(call, turn("0"))
    await transcripts.flush()
    assert transcripts.write_error is None

    await set_connections(postgres_server, database_url, allowed=False)  # connections ended, new refused
    for n in range(1, 4):
        transcripts.record(call, turn(str(n)))
    call.end("hung_up_by_caller", "caller hung up")
    transcripts.record(call)
    await transcripts.flush()
    assert transcripts.write_error is not None
    assert transcripts.unwritten_rows == 4
    ended = await transcripts.ended_call("c")  # an end waiting to be written counts
    assert ended is not None
    assert ended.outcome == "hung_up_by_caller"

    await set_connections(postgres_server, database_url, allowed=True)
    deadline = time.monotonic() + 30
    while transcripts.write_error is not None or transcripts.unwritten_rows:
        assert time.monotonic() < deadline, transcripts.write_error
        await asyncio.sleep(0.05)
    found = await transcripts.get_call("c")
    assert found is not None
    assert [t["text"] for t in found["turns"]] == ["0", "1", "2", "3"]  # each once, in order
    assert found["outcome"] == "hung_up_by_caller"
    assert transcripts.lost_rows == 0


async def test_text_postgresql_refuses_is_stored_replaced_and_stops_nothing(
    transcripts: PostgresTranscriptStore,
) -> None:
    bad = CallState(call_id="nul\x00id", telnum="\ud800", flow="f", flow_version="v")
    transcripts.record(bad, turn("\ud83d"))
    good = CallState(call_id="good", telnum="1", flow="f", flow_version="v")
    transcripts.record(good, turn("好"))
    await transcripts.flush()
    assert transcripts.write_error is None
    assert transcripts.unwritten_rows == 0
    assert (await transcripts.get_call("good") or {})["turns"][0]["text"] == "好"
    stored = await transcripts.get_call("nul\ufffdid")
    assert stored is not None
    assert stored["telnum"] == "?"


# --- the shared pool and the factory ---


async def test_stores_of_one_database_share_a_pool_closed_by_the_last(
    tmp_path: Path, database_url: str
) -> None:
    settings = Settings(data_dir=tmp_path, flows_dir=FLOWS_DIR, database_url=database_url)
    store = factory.transcript_store(settings)
    outbox = factory.outbox_store(settings, settings.outbox_path)
    history = factory.customer_history(settings, settings.kb_history_path, 30)
    assert isinstance(store, PostgresTranscriptStore)
    assert isinstance(outbox, PostgresOutboxStore)
    assert isinstance(history, PostgresCustomerHistory)
    await asyncio.gather(store.open(), outbox.open(time.time()), history.open())
    (shared,) = [s for (dsn, _), s in postgres._pools.items() if dsn == database_url]
    assert shared.users == 3
    pool = shared.opening.result()
    await store.close()
    await outbox.close()
    assert not pool.is_closing()
    await history.recent("someone")
    await history.close()
    assert pool.is_closing()
    assert not [dsn for dsn, _ in postgres._pools if dsn == database_url]


def test_without_a_database_url_the_stores_are_sqlite_files(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, flows_dir=FLOWS_DIR)
    assert isinstance(factory.transcript_store(settings), TranscriptStore)
    assert isinstance(factory.outbox_store(settings, settings.outbox_path), OutboxStore)
    assert isinstance(factory.customer_history(settings, settings.kb_history_path, 30), CustomerHistory)


# --- the outbox ---


@pytest.fixture
async def outbox(database_url: str) -> AsyncIterator[PostgresOutboxStore]:
    store = PostgresOutboxStore(database_url)
    await store.open(1_000)
    yield store
    await store.close()


async def test_the_outbox_stores_takes_and_marks_pushes(outbox: PostgresOutboxStore) -> None:
    assert await outbox.insert("a", '{"callid": "a"}', 1_000)
    assert await outbox.insert("b", '{"callid": "b"}', 1_001)
    assert not await outbox.insert("a", "{}", 1_002)  # one push per call
    assert await outbox.insert("c", '{"callid": "c"}', 1_003)
    rows, next_due = await outbox.take_due(1_010, 1, busy=[])
    assert [r.call_id for r in rows] == ["a"]
    assert rows[0].payload == '{"callid": "a"}'
    assert next_due == 1_001
    rows, next_due = await outbox.take_due(1_010, 10, busy=["b"])
    assert [r.call_id for r in rows] == ["c"]  # "a" is claimed, "b" busy
    assert next_due == 1_010 + CLAIM_SECONDS  # a's claim runs out then
    await outbox.mark_delivered("a", 1_020)
    await outbox.mark_retry("c", 1_020, 1_100, "503")
    await outbox.mark_rejected("b", 1_020, "400 bad payload")
    a, b, c = [await outbox.get(call_id) for call_id in "abc"]
    assert a is not None
    assert (a.state, a.attempts, a.delivered_at, a.last_error) == ("delivered", 1, 1_020, None)
    assert b is not None
    assert (b.state, b.last_error) == ("rejected", "400 bad payload")
    assert c is not None
    assert (c.state, c.next_attempt_at, c.last_attempt_at, c.last_error) == ("pending", 1_100, 1_020, "503")
    assert await outbox.counts() == ({"pending": 1, "delivered": 1, "rejected": 1}, 1_003)
    assert await outbox.take_due(1_050, 10, busy=[]) == ([], 1_100)
    assert await outbox.purge_delivered(1_021) == 1
    assert await outbox.get("a") is None
    assert await outbox.get("nobody") is None


async def test_another_instance_does_not_take_a_claimed_push(
    database_url: str, outbox: PostgresOutboxStore
) -> None:
    other = PostgresOutboxStore(database_url)
    await other.open(1_000)
    try:
        assert await outbox.insert("a", "{}", 1_000)
        taken, other_taken = await asyncio.gather(
            outbox.take_due(1_000, 10, busy=[]), other.take_due(1_000, 10, busy=[])
        )
        assert sorted(len(rows) for rows, _ in (taken, other_taken)) == [0, 1]
        rows, _ = await other.take_due(1_000 + CLAIM_SECONDS + 1, 10, busy=[])  # the claim ran out
        assert [r.call_id for r in rows] == ["a"]
    finally:
        await other.close()


async def test_a_restart_makes_waiting_pushes_due_and_a_closed_outbox_says_so(database_url: str) -> None:
    store = PostgresOutboxStore(database_url)
    await store.open(1_000)
    assert await store.insert("a", "{}", 1_000)
    await store.mark_retry("a", 1_000, 5_000, "timeout")
    await store.close()
    with pytest.raises(OutboxError, match="closed"):
        await store.get("a")
    restarted = PostgresOutboxStore(database_url)
    await restarted.open(1_500)
    try:
        rows, _ = await restarted.take_due(1_500, 10, busy=[])
        assert [r.call_id for r in rows] == ["a"]
    finally:
        await restarted.close()


# --- the customer history ---


async def test_the_customer_history_keeps_answers_within_the_retention(database_url: str) -> None:
    history = PostgresCustomerHistory(database_url, retention_days=1)
    await history.open()
    try:
        await history.record("13800138000", "e1", "报销比例")
        await history.record("13800138000", "e2", "门诊报销")
        await history.record("", "e3", "ignored")
        await history.record("13900000000", "e3", "异地就医")
        recent = await history.recent("13800138000")
        assert [(a.entry_id, a.title) for a in recent] == [("e2", "门诊报销"), ("e1", "报销比例")]
        assert recent[0].at >= recent[1].at
        assert await history.recent("") == []
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("UPDATE customer_history SET at = at - 2 * 86400 WHERE entry_id = 'e1'")
        finally:
            await conn.close()
        assert [a.entry_id for a in await history.recent("13800138000")] == ["e2"]
    finally:
        await history.close()
    reopened = PostgresCustomerHistory(database_url, retention_days=1)
    await reopened.open()  # forgets what is past the retention
    try:
        conn = await asyncpg.connect(database_url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM customer_history") == 2
        finally:
            await conn.close()
    finally:
        await reopened.close()


async def test_a_history_kept_zero_days_is_off(database_url: str) -> None:
    history = PostgresCustomerHistory(database_url, retention_days=0)
    await history.open()
    assert not history.enabled
    await history.record("138", "e1", "t")
    assert await history.recent("138") == []
    await history.close()
