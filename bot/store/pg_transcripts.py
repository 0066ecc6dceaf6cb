"""Every callback as a recorded turn, in PostgreSQL (``VOICEBOT_DATABASE_URL``).

The same store as :class:`bot.store.transcripts.TranscriptStore`, method for method,
with the same JSON out: ``record`` queues, a writer task stores everything queued since
its last write in one transaction (one array-valued statement per table), and rows the
database refuses while it is down are kept and written once it is back. Times are
stored as ``timestamptz`` cut to the millisecond, the precision of the SQLite store's
ISO strings, so both order, compare and show them alike.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any

import asyncpg

from bot.dialog.state import CallState
from bot.store import call_records, pg_call_records
from bot.store.postgres import affected_rows, open_pool, release_pool
from bot.store.transcripts import (
    PURGE_BATCH_CALLS,
    BatchedTranscripts,
    CallRow,
    TranscriptStore,
    Turn,
    call_json,
    iso,
)

logger = logging.getLogger(__name__)

_Rows = tuple[CallRow, tuple[str, Turn] | None]  # a call's row, and a turn of it

UPSERT_CALLS = (
    "INSERT INTO calls (call_id, telnum, flow, flow_version, started_at, ended_at, outcome, end_reason, "
    "grade, score, grade_reason, variables, test, direction, campaign) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], "
    "$6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::integer[], $11::text[], $12::json[], "
    "$13::boolean[], $14::text[], $15::text[]) "
    # A call's end is final: a later, forgetful state (after a restart) never reopens
    # it or changes how it ended...
    "ON CONFLICT (call_id) DO UPDATE SET ended_at = excluded.ended_at, outcome = excluded.outcome, "
    "end_reason = excluded.end_reason, grade = excluded.grade, score = excluded.score, "
    "grade_reason = excluded.grade_reason, variables = excluded.variables "
    "WHERE calls.outcome = 'in_progress' "
    # ... except that a transfer is settled when the PBX has carried it out.
    "OR (calls.outcome = 'transferred' AND excluded.outcome IN ('transfer_failed', 'hung_up_by_caller'))"
)
INSERT_TURNS = "INSERT INTO turns (call_id, data) SELECT * FROM unnest($1::text[], $2::json[])"
PURGE_CALLS = (
    "WITH gone AS (SELECT call_id FROM calls WHERE ended_at IS NOT NULL AND ended_at < $1 "
    "ORDER BY ended_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
    "turns_gone AS (DELETE FROM turns WHERE call_id IN (SELECT call_id FROM gone)), "
    "pushes_gone AS (DELETE FROM hangup_pushes WHERE call_id IN (SELECT call_id FROM gone)) "
    "DELETE FROM calls WHERE call_id IN (SELECT call_id FROM gone)"
)


class PostgresTranscriptStore(BatchedTranscripts):
    """Calls and their turns, persisted in PostgreSQL.

    The interface and the semantics of :class:`bot.store.transcripts.TranscriptStore`;
    several instances may share the database (a call's rows come from the instance that
    serves its callback, and the upsert keeps a call's end final whichever writes last).

    Args:
        dsn: ``postgresql://user:password@host:port/db``; the process's pool for it is
            shared with the other PostgreSQL stores.
        keep_days: Ended calls older than this are deleted with their turns and hang-up
            pushes, once an hour (0 keeps everything).
    """

    def __init__(self, dsn: str, *, keep_days: float = 0, mask: bool = False) -> None:
        super().__init__(keep_days=keep_days, mask=mask)
        self._dsn = dsn
        self._pool: asyncpg.Pool | None = None
        self._refused_rows = 0  # rows dropped because PostgreSQL refuses their data

    async def open(self) -> None:
        """Take the shared pool (opening it and migrating the schema if first) and start
        the writer.

        Raises:
            OSError, asyncpg.PostgresError: The database cannot be reached or migrated.
        """
        self._pool = await open_pool(self._dsn)
        self._start()

    async def close(self) -> None:
        await self._stop()
        if self._pool is not None:
            self._pool = None
            await release_pool(self._dsn)

    @property
    def lost_rows(self) -> int:
        """Rows dropped: too many waited for the database, or it refused their data."""
        return self._writer.lost_rows + self._refused_rows

    async def get_call(self, call_id: str) -> dict[str, Any] | None:
        await self.flush()
        async with self._conn.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM calls WHERE call_id = $1", call_id)
            if row is None:
                return None
            turns = await conn.fetch("SELECT data FROM turns WHERE call_id = $1 ORDER BY id", call_id)
        return {**call_json(row, _iso), "turns": [json.loads(t["data"]) for t in turns]}

    async def ended_call(self, call_id: str) -> CallState | None:
        """The state of ``call_id`` if the transcript says it has ended, else None.

        For a callback of a call the session store forgot: its end stays final. An
        end still waiting to be written (a call just closed as abandoned) counts too.
        """
        if (queued := self._queued_end(call_id)) is not None:
            return queued
        row = await self._conn.fetchrow(
            "SELECT * FROM calls WHERE call_id = $1 AND outcome != 'in_progress'", call_id
        )
        return None if row is None else CallRow.stored(row, _epoch).state()

    async def record_push(self, call_id: str, business: str, data: dict[str, str]) -> bool:
        """Keep a hang-up push of the CTI (GX §41); a repeated push of the same call and
        business is ignored. Returns whether this one was new."""
        status = await self._conn.execute(
            "INSERT INTO hangup_pushes (call_id, business, received_at, data) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (call_id, business) DO NOTHING",
            call_id,
            business,
            _moment(time.time()),
            json.dumps(data, ensure_ascii=False),
        )
        return affected_rows(status) == 1

    async def pushes(self, call_id: str) -> list[dict[str, Any]]:
        """The hang-up pushes received for a call."""
        rows = await self._conn.fetch(
            "SELECT business, received_at, data FROM hangup_pushes WHERE call_id = $1 ORDER BY received_at",
            call_id,
        )
        return [
            {"business": r["business"], "received_at": _iso(r["received_at"]), **json.loads(r["data"])}
            for r in rows
        ]

    async def record_call_records(self, records: list[call_records.CallRecord]) -> int:
        """Keep the CTI's call records (GX §31), once per CTI and record: a record pushed
        again replaces its first copy. Returns how many were new."""
        return await pg_call_records.store(self._conn, records, mask=self._mask)

    async def call_records(self, call_id: str, *, slack_ms: int) -> list[dict[str, Any]]:
        """The CTI's call records joined to a call (``bot.store.call_records``)."""
        await self.flush()
        return await pg_call_records.for_call(self._conn, call_id, slack_ms=slack_ms)

    async def recent_calls(self, limit: int) -> list[dict[str, Any]]:
        await self.flush()
        rows = await self._conn.fetch(
            "SELECT c.*, (SELECT count(*) FROM turns t WHERE t.call_id = c.call_id) AS turn_count "
            "FROM calls c ORDER BY started_at DESC, seq DESC LIMIT $1",
            limit,
        )
        return [{**call_json(r, _iso), "turn_count": r["turn_count"]} for r in rows]

    async def calls_since(self, since: float, limit: int) -> list[dict[str, Any]]:
        """The calls started at ``since`` (epoch seconds) or later, newest first, at most
        ``limit``, each with its turns: what the console's dashboard counts."""
        await self.flush()
        async with self._conn.acquire() as conn:
            rows = await conn.fetch(
                "SELECT * FROM calls WHERE started_at >= $1 ORDER BY started_at DESC, seq DESC LIMIT $2",
                _moment(since),
                limit,
            )
            found = await conn.fetch(
                "SELECT call_id, data FROM turns WHERE call_id = ANY($1::text[]) ORDER BY id",
                [r["call_id"] for r in rows],
            )
        turns: dict[str, list[Any]] = {}
        for t in found:
            turns.setdefault(t["call_id"], []).append(json.loads(t["data"]))
        return [{**call_json(r, _iso), "turns": turns.get(r["call_id"], [])} for r in rows]

    async def purge(self, ended_before: float) -> int:
        """Delete the calls that ended before ``ended_before`` (epoch seconds), with their
        turns and hang-up pushes, and the call records received before it; calls in
        progress stay. Returns how many calls went."""
        await self.flush()
        cutoff = _moment(ended_before)
        deleted = 0
        # In batches: the writer's transactions wait for no long delete.
        while batch := affected_rows(await self._conn.execute(PURGE_CALLS, cutoff, PURGE_BATCH_CALLS)):
            deleted += batch
        while cutoff is not None and await pg_call_records.purge(self._conn, cutoff, PURGE_BATCH_CALLS):
            pass  # the CTI's call records received before the cutoff, likewise
        return deleted

    @property
    def _conn(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("PostgresTranscriptStore used before open()")
        return self._pool

    async def _write_batch(self, batch: list[_Rows]) -> None:
        """Store ``batch``. Text PostgreSQL refuses whatever the time (a NUL character, a
        lone surrogate) would stop every later write, so such a batch is stored once more
        with that text replaced, and dropped, counted, if even that is refused."""
        try:
            await self._write(batch, clean=False)
        except (asyncpg.DataError, UnicodeError) as exc:
            logger.error("transcript rows refused (%s); storing them with the text replaced", exc)
            try:
                await self._write(batch, clean=True)
            except (asyncpg.DataError, UnicodeError):
                self._refused_rows += len(batch)
                logger.exception("%d transcript rows lost: PostgreSQL refuses their data", len(batch))

    async def _write(self, batch: list[_Rows], *, clean: bool) -> None:
        latest = {call.call_id: call for call, _ in batch}  # the newest row of each call wins
        text = _clean if clean else _same
        calls = [
            (*map(text, c[:4]), _moment(c.started_at), _moment(c.ended_at), *map(text, c[6:]))
            # In call id order: instances upserting the same calls lock them in one order,
            # so their transactions never deadlock.
            for c in sorted(latest.values(), key=lambda row: row.call_id)
        ]
        turns = [(text(t[0]), text(json.dumps(vars(t[1]), ensure_ascii=False))) for _, t in batch if t]
        async with self._conn.acquire() as conn, conn.transaction():  # no turn without its call's row
            await conn.execute(UPSERT_CALLS, *(list(column) for column in zip(*calls, strict=True)))
            if turns:
                await conn.execute(INSERT_TURNS, [t[0] for t in turns], [t[1] for t in turns])


AnyTranscriptStore = TranscriptStore | PostgresTranscriptStore
"""Either transcript store, for annotations: they have the same interface."""


def _moment(timestamp: float | None) -> dt.datetime | None:
    """An epoch time as the UTC moment stored, cut to the millisecond like :func:`iso`."""
    if timestamp is None:
        return None
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else iso(moment.timestamp())


def _epoch(moment: dt.datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _same(value: Any) -> Any:
    return value


def _clean(value: Any) -> Any:
    """``value`` with what PostgreSQL's text refuses replaced (lone surrogates, NUL)."""
    if not isinstance(value, str):
        return value
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
