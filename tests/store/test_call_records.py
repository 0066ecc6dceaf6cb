"""The CTI's call records (GX manual §31) in both transcript stores, SQLite and
PostgreSQL (tests/servers.py): stored once per CTI and record, joined by id or by
number and time whichever came first, masked at rest with the transcripts, purged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.dialog.state import CallState
from bot.store.call_records import CallRecord, number_key, telnum_keys
from bot.store.pg_transcripts import AnyTranscriptStore, PostgresTranscriptStore
from bot.store.transcripts import TranscriptStore

START = 1_700_000_000.0  # the robot call's first callback, epoch seconds
SLACK_MS = 30_000


def call_record(number: int, *, callid: str | None = None, **fields: Any) -> CallRecord:
    begin_ms = fields.pop("begin_ms", int(START * 1000) - 5_000)
    values: dict[str, Any] = {
        "key": f"id:{number}",
        "source": "192.168.3.86",
        "callid": callid,
        "peercallid": None,
        "caller": "1000",
        "callee": "13800138000",
        "begin_ms": begin_ms,
        "end_ms": None if begin_ms is None else begin_ms + 60_000,
        "shown": {"id": number, "callee": "13800138000"},
        "raw": {"id": number, "callee": "13800138000", "beginTime": begin_ms},
    }
    values.update(fields)
    return CallRecord(**values)


def robot_call(call_id: str, telnum: str = "13800138000") -> CallState:
    call = CallState(call_id=call_id, telnum=telnum, flow="yibao", flow_version="v1", started_at=START)
    call.end("hung_up_by_caller", "caller hung up")
    call.ended_at = START + 40
    return call


@pytest.fixture(params=["sqlite", "postgres"])
def dsn(request: pytest.FixtureRequest) -> str | None:
    """None for SQLite, else a fresh PostgreSQL database's URL."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("database_url"))


@pytest.fixture
async def make_store(dsn: str | None, tmp_path: Path) -> AsyncIterator[Any]:
    """Opens a store of the parametrized kind (``mask`` as asked); closes them after."""
    opened: list[AnyTranscriptStore] = []

    async def make(*, mask: bool = False) -> AnyTranscriptStore:
        store: AnyTranscriptStore
        if dsn is None:
            store = TranscriptStore(tmp_path / f"t{len(opened)}.sqlite3", mask=mask)
        else:
            store = PostgresTranscriptStore(dsn, mask=mask)
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


async def joins(store: AnyTranscriptStore, call_id: str) -> list[tuple[Any, str]]:
    return [(r["id"], r["join"]) for r in await store.call_records(call_id, slack_ms=SLACK_MS)]


async def test_a_record_is_stored_once_per_cti_and_key(make_store: Any) -> None:
    store = await make_store()
    first = call_record(1, callid="c1")
    assert await store.record_call_records([first, call_record(2, callid="c1")]) == 2
    assert await store.record_call_records([first]) == 0  # pushed again after a "400"
    assert await store.record_call_records([call_record(1, callid="c1", source="10.0.0.9")]) == 1
    assert await store.record_call_records([first, first]) == 0  # repeated within one push
    assert len(await store.call_records("c1", slack_ms=SLACK_MS)) == 3


async def test_a_newer_copy_replaces_the_first(make_store: Any) -> None:
    store = await make_store()
    await store.record_call_records(
        [call_record(1, callid="c1", shown={"id": 1, "state": "STATE_RECEIVING"})]
    )
    await store.record_call_records([call_record(1, callid="c1", shown={"id": 1, "state": "STATE_RECEIVED"})])
    (found,) = await store.call_records("c1", slack_ms=SLACK_MS)
    assert found["state"] == "STATE_RECEIVED"
    assert found["received_at"].endswith("Z")
    assert found["record"]["callee"] == "13800138000"


async def test_records_join_by_id_and_by_number_and_time_whichever_came_first(make_store: Any) -> None:
    store = await make_store()
    await store.record_call_records(
        [
            call_record(1, callid="robot-1"),
            call_record(2, callid="agent-leg", peercallid="robot-1", callee="8001", caller="13800138000"),
            call_record(3, callid="cti-3"),  # the customer's number, at the call's time
            call_record(4, callid="cti-4", callee="13900139000"),  # another number
            call_record(5, callid="cti-5", begin_ms=int(START * 1000) - 200_000),  # ended long before
            call_record(6, callid="cti-6", begin_ms=int((START + 40) * 1000) + 20_000),  # within the slack
            call_record(7, callid="robot-2"),  # another robot call's, by id
            call_record(8, callid="cti-8", begin_ms=None, end_ms=None),  # no time: by id only
        ]
    )
    assert await joins(store, "robot-1") == [(1, "callid"), (2, "peercallid")]  # no transcript yet: by id
    store.record(robot_call("robot-1"))
    store.record(robot_call("robot-2", telnum="13600136000"))
    by_number = [(3, "number_and_time"), (6, "number_and_time")]
    assert await joins(store, "robot-1") == [(1, "callid"), (2, "peercallid"), *by_number]
    without_slack = [(r["id"], r["join"]) for r in await store.call_records("robot-1", slack_ms=0)]
    assert without_slack == [(1, "callid"), (2, "peercallid"), (3, "number_and_time")]


async def test_a_url_encoded_call_id_joins(make_store: Any) -> None:
    store = await make_store()
    await store.record_call_records([call_record(1, callid="105652437424950-326581766720130@192.168.3.9")])
    assert await joins(store, "105652437424950-326581766720130%40192.168.3.9") == [(1, "callid")]


async def test_masked_transcripts_store_records_masked_and_join_them(make_store: Any) -> None:
    store = await make_store(mask=True)
    store.record(robot_call("robot-1"))
    pushed = call_record(1, callid="cti-1", callee="+86 138 0013 8000")
    assert await store.record_call_records([pushed]) == 1
    (found,) = await store.call_records("robot-1", slack_ms=SLACK_MS)
    assert found["join"] == "number_and_time"
    assert found["callee"] == "138****8000"
    assert "13800138000" not in str(found)


async def test_records_received_before_the_retention_are_purged(make_store: Any) -> None:
    store = await make_store()
    await store.record_call_records([call_record(1, callid="c1")])
    assert await store.purge(ended_before=START) == 0  # received now: kept
    assert len(await store.call_records("c1", slack_ms=SLACK_MS)) == 1
    await store.purge(ended_before=START + 10**9)
    assert await store.call_records("c1", slack_ms=SLACK_MS) == []


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("013800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("138****8000", "138****8000"),
        ("0138****8000", "138****8000"),
        ("1000", "1000"),
        ("010-12345678", "01012345678"),
    ],
)
def test_numbers_are_compared_without_their_prefixes(number: str, key: str) -> None:
    assert number_key(number) == key


def test_a_clear_number_also_joins_masked_records() -> None:
    assert telnum_keys("13800138000") == ("13800138000", "138****8000")
    assert telnum_keys("138****8000") == ("138****8000", "138****8000")
