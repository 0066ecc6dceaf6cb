"""Every callback as a recorded turn, in PostgreSQL (``VOICEBOT_DATABASE_URL``).

The same store as :class:`bot.store.transcripts.TranscriptStore`, method for method,
with the same JSON out: ``record`` queues, a writer task stores everything queued since
its last write in one transaction (one array-valued statement per table), and rows the
database refuses while it is down are kept and written once it is back. Times are
stored as ``timestamptz`` cut to the millisecond, the precision of the SQLite store's
ISO strings, so both order, compare and show them alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from typing import Any

import asyncpg

from bot.dialog.state import CallState
from bot.store.batch import BatchWriter
from bot.store.postgres import affected_rows, open_pool, release_pool
from bot.store.transcripts import (
    MAX_UNWRITTEN_ROWS,
    PURGE_BATCH_CALLS,
    PURGE_INTERVAL_SECONDS,
    CallRow,
    TranscriptStore,
    Turn,
    iso,
)

logger = logging.getLogger(__name__)

_Rows = tuple[CallRow, tuple[str, Turn] | None]  # a call's row, and a turn of it

UPSERT_CALLS = (
    "INSERT INTO calls (call_id, telnum, flow, flow_version, started_at, ended_at, outcome, end_reason, "
    "grade, score, grade_reason, variables) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], "
    "$6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::integer[], $11::text[], $12::json[]) "
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


class PostgresTranscriptStore:
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

    def __init__(self, dsn: str, *, keep_days: float = 0) -> None:
        self._dsn = dsn
        self._keep_seconds = keep_days * 86400
        self._pool: asyncpg.Pool | None = None
        self._purger: asyncio.Task[None] | None = None
        self._writer: BatchWriter[_Rows] = BatchWriter(
            self._write_or_drop, name="transcript rows", max_unwritten=MAX_UNWRITTEN_ROWS
        )
        self._refused_rows = 0  # rows dropped because PostgreSQL refuses their data

    async def open(self) -> None:
        """Take the shared pool (opening it and migrating the schema if first) and start
        the writer.

        Raises:
            OSError, asyncpg.PostgresError: The database cannot be reached or migrated.
        """
        self._pool = await open_pool(self._dsn)
        self._writer.start()
        if self._keep_seconds > 0:
            self._purger = asyncio.create_task(self._purge_hourly())

    async def close(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
            self._purger = None
        await self._writer.stop()
        if self._pool is not None:
            self._pool = None
            await release_pool(self._dsn)

    def record(self, state: CallState, turn: Turn | None = None) -> None:
        """Queue the call's row, as it is now, and ``turn``, if any, for its transcript."""
        grade = state.grade
        call = CallRow(
            state.call_id,
            state.telnum,
            state.flow,
            state.flow_version,
            state.started_at,
            state.ended_at,
            state.outcome,
            state.end_reason,
            grade.grade if grade else None,
            grade.score if grade else None,
            grade.reason if grade else None,
            json.dumps(state.variables, ensure_ascii=False, default=str) if state.variables else None,
        )
        self._writer.add((call, None if turn is None else (state.call_id, turn)))

    async def flush(self) -> None:
        """Return once everything queued before this call is stored (or, while the
        database refuses writes, tried once and kept for later: see ``write_error``)."""
        await self._writer.flush()

    @property
    def write_error(self) -> str | None:
        """Why the last write failed, until one succeeds."""
        return self._writer.write_error

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
        return {**_call_json(row), "turns": [json.loads(t["data"]) for t in turns]}

    async def ended_call(self, call_id: str) -> CallState | None:
        """The state of ``call_id`` if the transcript says it has ended, else None.

        For a callback of a call the session store forgot: its end stays final. An
        end still waiting to be written (a call just closed as abandoned) counts too.
        """
        pending = [call for call, _ in self._writer.pending() if call.call_id == call_id]
        if pending and pending[-1].outcome != "in_progress":
            return pending[-1].state()
        row = await self._conn.fetchrow(
            "SELECT * FROM calls WHERE call_id = $1 AND outcome != 'in_progress'", call_id
        )
        if row is None:
            return None
        return CallRow(
            row["call_id"],
            row["telnum"],
            row["flow"],
            row["flow_version"],
            row["started_at"].timestamp(),
            None if row["ended_at"] is None else row["ended_at"].timestamp(),
            row["outcome"],
            row["end_reason"],
            row["grade"],
            row["score"],
            row["grade_reason"],
        ).state()

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

    async def recent_calls(self, limit: int) -> list[dict[str, Any]]:
        await self.flush()
        rows = await self._conn.fetch(
            "SELECT c.*, (SELECT count(*) FROM turns t WHERE t.call_id = c.call_id) AS turn_count "
            "FROM calls c ORDER BY started_at DESC, seq DESC LIMIT $1",
            limit,
        )
        return [{**_call_json(r), "turn_count": r["turn_count"]} for r in rows]

    async def purge(self, ended_before: float) -> int:
        """Delete the calls that ended before ``ended_before`` (epoch seconds), with their
        turns and hang-up pushes; calls in progress stay. Returns how many calls went."""
        await self.flush()
        cutoff = _moment(ended_before)
        deleted = 0
        # In batches: the writer's transactions wait for no long delete.
        while batch := affected_rows(await self._conn.execute(PURGE_CALLS, cutoff, PURGE_BATCH_CALLS)):
            deleted += batch
        return deleted

    @property
    def unwritten_rows(self) -> int:
        """Rows queued and not stored yet (all of them while the database refuses writes)."""
        return self._writer.unwritten

    @property
    def _conn(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("PostgresTranscriptStore used before open()")
        return self._pool

    async def _purge_hourly(self) -> None:
        while True:
            try:
                if deleted := await self.purge(time.time() - self._keep_seconds):
                    logger.info("deleted %d calls that ended over the retention ago", deleted)
            except Exception:  # a failed purge (the database down) is tried next hour
                logger.exception("deleting old transcripts failed")
            await asyncio.sleep(PURGE_INTERVAL_SECONDS)

    async def _write_or_drop(self, batch: list[_Rows]) -> None:
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
            for c in latest.values()
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


def _same(value: Any) -> Any:
    return value


def _clean(value: Any) -> Any:
    """``value`` with what PostgreSQL's text refuses replaced (lone surrogates, NUL)."""
    if not isinstance(value, str):
        return value
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _call_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "callid": row["call_id"],
        "telnum": row["telnum"],
        "flow": row["flow"],
        "flow_version": row["flow_version"],
        "started_at": _iso(row["started_at"]),
        "ended_at": _iso(row["ended_at"]),
        "outcome": row["outcome"],
        "end_reason": row["end_reason"],
        "grade": row["grade"],
        "score": row["score"],
        "grade_reason": row["grade_reason"],
        "variables": json.loads(row["variables"]) if row["variables"] else {},
    }
