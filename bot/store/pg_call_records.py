"""The CTI's call records in PostgreSQL: the statements of ``bot.store.call_records``
(what is stored, how it joins) in PostgreSQL's dialect, on the transcripts' pool."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from bot.store import call_records
from bot.store.call_records import COLUMNS, UPDATED, how_joined, id_candidates, joined, telnum_keys, window_ms
from bot.store.postgres import affected_rows
from bot.store.transcripts import iso

UPSERT = (
    f"INSERT INTO call_records ({COLUMNS}) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
    "$7::bigint[], $8::bigint[], $9::timestamptz[], $10::json[], $11::json[]) "
    f"ON CONFLICT (source, record_key) DO UPDATE SET {UPDATED} "
    "RETURNING (xmax = 0) AS inserted"  # xmax is 0 in a row just inserted, not in one updated
)
BY_ID = (
    f"SELECT {COLUMNS} FROM call_records WHERE callid = ANY($1::text[]) OR peercallid = ANY($1::text[]) "
    "ORDER BY begin_ms"
)
BY_NUMBER = (
    f"SELECT {COLUMNS} FROM call_records r "
    "WHERE (caller_key = ANY($1::text[]) OR callee_key = ANY($1::text[])) "
    "AND begin_ms <= $2 AND end_ms >= $3 "
    "AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.call_id IN (r.callid, r.peercallid) AND c.call_id != $4) "
    "ORDER BY begin_ms"
)
PURGE = (
    "DELETE FROM call_records WHERE ctid = ANY(ARRAY("
    "SELECT ctid FROM call_records WHERE received_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))"
)


async def store(pool: asyncpg.Pool, records: list[call_records.CallRecord], *, mask: bool) -> int:
    """Upsert ``records`` in one statement; how many were new."""
    now = dt.datetime.now(dt.UTC)
    # In key order: instances storing the same records lock them in one order.
    stored = sorted(call_records.rows(records, mask=mask, received_at=now), key=lambda row: row[:2])
    if not stored:
        return 0
    answers = await pool.fetch(UPSERT, *(list(column) for column in zip(*stored, strict=True)))
    return sum(1 for answer in answers if answer["inserted"])


async def for_call(pool: asyncpg.Pool, call_id: str, *, slack_ms: int) -> list[dict[str, Any]]:
    """The records joined to ``call_id`` (see ``bot.store.call_records``)."""
    ids = id_candidates(call_id)
    async with pool.acquire() as conn:
        by_id = await conn.fetch(BY_ID, list(ids))
        call = await conn.fetchrow(
            "SELECT telnum, started_at, ended_at FROM calls WHERE call_id = $1", call_id
        )
        by_number = (
            [] if call is None else await conn.fetch(BY_NUMBER, *_number_args(call, call_id, slack_ms))
        )
    found = [joined(r, how_joined(r, ids), _iso(r["received_at"])) for r in by_id]
    seen = {(r["source"], r["record_key"]) for r in by_id}
    found += [
        joined(r, "number_and_time", _iso(r["received_at"]))
        for r in by_number
        if (r["source"], r["record_key"]) not in seen
    ]
    return found


async def purge(pool: asyncpg.Pool, received_before: dt.datetime, batch: int) -> int:
    """Delete up to ``batch`` records received before ``received_before``."""
    return affected_rows(await pool.execute(PURGE, received_before, batch))


def _number_args(call: Any, call_id: str, slack_ms: int) -> tuple[Any, ...]:
    ended = call["ended_at"]
    low, high = window_ms(call["started_at"].timestamp(), ended.timestamp() if ended else None, slack_ms)
    return list(telnum_keys(call["telnum"])), high, low, call_id


def _iso(moment: dt.datetime) -> str:
    return iso(moment.timestamp())
