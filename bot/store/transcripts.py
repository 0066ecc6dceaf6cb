"""Every callback as a recorded turn, in SQLite under the data directory.

SQLite calls block, so one worker thread owns the connection and every operation
is one hop to it (``run_in_executor``). WAL journaling keeps reads cheap beside the
writer, and the file survives restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar, overload

import orjson

from bot.dialog.state import CallState, Grade, Outcome
from bot.pbx.base import Direction
from bot.privacy import mask_json, mask_text
from bot.store import call_records
from bot.store.batch import BatchWriter
from bot.store.sqlite import open_sqlite

T = TypeVar("T")
logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    telnum TEXT NOT NULL,
    flow TEXT NOT NULL,
    flow_version TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT NOT NULL,
    end_reason TEXT,
    grade TEXT,
    score INTEGER,
    grade_reason TEXT,
    variables TEXT
);
CREATE INDEX IF NOT EXISTS calls_by_start ON calls (started_at DESC);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_by_call ON turns (call_id, id);
CREATE TABLE IF NOT EXISTS hangup_pushes (
    call_id TEXT NOT NULL,
    business TEXT NOT NULL,
    received_at TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (call_id, business)
);
"""
# Columns added since the first release, added to older databases when they open.
ADDED_CALL_COLUMNS = {
    "grade": "TEXT",
    "score": "INTEGER",
    "grade_reason": "TEXT",
    "variables": "TEXT",
    "test": "INTEGER NOT NULL DEFAULT 0",  # 1: a test call placed from the console
    "direction": "TEXT NOT NULL DEFAULT 'inbound'",  # outbound: the robot called the customer
    "campaign": "TEXT",  # the outbound campaign whose call it was
}


@dataclass
class Turn:
    """One callback and what the bot answered."""

    at: str
    event: str  # ready2speak | text | hungup; pbx, hangup_push, agent_speech (GX §54's live lines)
    text: str | None = None
    playing: bool = False
    intent: str | None = None
    confidence: float | None = None  # the intent's; None when the language model chose it
    intent_by: str | None = None  # "model": the language model chose it (no intent reached the threshold)
    step: str | None = None
    reply: str | None = None
    audio_url: str | None = None
    continued: bool = False
    ms: float = 0.0
    encoding: str | None = None  # "gbk" when the CTI sent GBK bytes
    filler: str | None = None  # the filler's audio URL, when the answer was late
    delivered: str | None = None  # a late answer: "play" (pushed) or "next callback"
    pbx: list[dict[str, Any]] | None = None  # the PBX requests of this turn, with their answers
    error: str | None = None  # what failed (a PBX action)
    tts: str | None = None  # what spoke the reply (espeak-ng, hwd, recording…), or why nothing could
    side: str | None = None  # agent_speech: the CTI's side of the words (GX §54: caller | callee)
    speaker: str | None = None  # agent_speech: "customer" or "agent", from the side's number
    llm: list[dict[str, Any]] | None = None  # the language model's requests and answers (masked)


PURGE_INTERVAL_SECONDS = 3600.0
MAX_UNWRITTEN_ROWS = 100_000  # about 100 MB of turns kept in memory while the disk refuses them
PURGE_BATCH_CALLS = 500


class StoredRow(Protocol):
    """A row as a database driver returns it, read by column name (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, column: str, /) -> Any: ...


class CallRow(NamedTuple):
    """A call as the ``calls`` table holds it, times still as epoch seconds."""

    call_id: str
    telnum: str
    flow: str
    flow_version: str
    started_at: float
    ended_at: float | None
    outcome: Outcome
    end_reason: str | None
    grade: str | None = None
    score: int | None = None
    grade_reason: str | None = None
    variables: str | None = None  # JSON
    test: bool = False  # a test call placed from the console
    direction: Direction = "inbound"
    campaign: str | None = None

    @classmethod
    def of(cls, state: CallState) -> CallRow:
        """The row of ``state`` as it is now (times stay floats: the writer formats them)."""
        grade = state.grade
        return cls(
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
            _variables_json(state.variables) if state.variables else None,
            state.test,
            state.direction,
            state.campaign,
        )

    @classmethod
    def stored(cls, row: StoredRow, epoch: Callable[[Any], float | None]) -> CallRow:
        """A ``calls`` row as a database returns it; ``epoch`` reads its times."""
        return cls(
            row["call_id"],
            row["telnum"],
            row["flow"],
            row["flow_version"],
            epoch(row["started_at"]) or 0.0,
            epoch(row["ended_at"]),
            row["outcome"],
            row["end_reason"],
            row["grade"],
            row["score"],
            row["grade_reason"],
            test=bool(row["test"]),
            direction=row["direction"],
            campaign=row["campaign"],
        )

    def state(self) -> CallState:
        """The call's state rebuilt from its row (greeted: nothing is said again)."""
        state = CallState(
            call_id=self.call_id,
            telnum=self.telnum,
            flow=self.flow,
            flow_version=self.flow_version,
            started_at=self.started_at,
            greeted=True,
            end_reason=self.end_reason,
            ended_at=self.ended_at,
            test=self.test,
            direction=self.direction,
            campaign=self.campaign,
        )
        state.outcome = self.outcome
        if self.grade is not None and self.score is not None:
            state.grade = Grade(self.grade, self.score, self.grade_reason or "")
        return state


_Rows = tuple[CallRow, tuple[str, Turn] | None]  # a call's row, and a turn of it


@overload
def iso(timestamp: float) -> str: ...
@overload
def iso(timestamp: None) -> None: ...
def iso(timestamp: float | None) -> str | None:
    """An epoch time as ISO 8601 UTC with milliseconds, the format of every API time."""
    if timestamp is None:
        return None
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def call_json(row: StoredRow, moment: Callable[[Any], str | None]) -> dict[str, Any]:
    """A ``calls`` row as the API shows it; ``moment`` writes its times as :func:`iso` does."""
    return {
        "callid": row["call_id"],
        "telnum": row["telnum"],
        "flow": row["flow"],
        "flow_version": row["flow_version"],
        "started_at": moment(row["started_at"]),
        "ended_at": moment(row["ended_at"]),
        "outcome": row["outcome"],
        "end_reason": row["end_reason"],
        "grade": row["grade"],
        "score": row["score"],
        "grade_reason": row["grade_reason"],
        "variables": json.loads(row["variables"]) if row["variables"] else {},
        "test": bool(row["test"]),
        "direction": row["direction"],
        "campaign": row["campaign"],
    }


def masked_rows(row: CallRow, turn: Turn | None) -> tuple[CallRow, Turn | None]:
    """The rows with the caller's number and every phone or ID number in what was said,
    answered, stored in variables or exchanged with the PBX masked (``138****5678``)."""
    row = row._replace(
        telnum=mask_text(row.telnum), variables=mask_text(row.variables) if row.variables else None
    )
    if turn is not None:
        turn = dataclasses.replace(
            turn,
            text=mask_text(turn.text) if turn.text else turn.text,
            reply=mask_text(turn.reply) if turn.reply else turn.reply,
            pbx=mask_json(turn.pbx) if turn.pbx else turn.pbx,
        )
    return row, turn


class BatchedTranscripts:
    """What every transcript store does alike, whatever its database: ``record`` queues
    a call's row and its turn, a ``BatchWriter`` stores them in batches (``_write_batch``,
    one transaction each), ``flush`` waits for them, an end still queued is already
    known (``_queued_end``), and ended calls past the retention are purged once an hour
    (``purge``)."""

    def __init__(self, *, keep_days: float, mask: bool = False) -> None:
        self._keep_seconds = keep_days * 86400
        self._mask = mask  # VOICEBOT_TRANSCRIPT_MASK: numbers are masked before they are stored
        self._purger: asyncio.Task[None] | None = None
        self._writer: BatchWriter[_Rows] = BatchWriter(
            self._write_batch, name="transcript rows", max_unwritten=MAX_UNWRITTEN_ROWS, store="transcripts"
        )

    async def _write_batch(self, batch: list[_Rows]) -> None:
        raise NotImplementedError

    async def purge(self, ended_before: float) -> int:
        """Delete the calls that ended before ``ended_before`` (epoch seconds), with their
        turns and hang-up pushes; calls in progress stay. Returns how many calls went."""
        raise NotImplementedError

    def _start(self) -> None:
        """Start the writer, and the hourly purge when there is a retention."""
        self._writer.start()
        if self._keep_seconds > 0:
            self._purger = asyncio.create_task(self._purge_hourly())

    async def _stop(self) -> None:
        """Stop the purge, then the writer once what is queued was tried once more."""
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
            self._purger = None
        await self._writer.stop()

    def record(self, state: CallState, turn: Turn | None = None) -> None:
        """Queue the call's row, as it is now, and ``turn``, if any, for its transcript."""
        row = CallRow.of(state)
        if self._mask:
            row, turn = masked_rows(row, turn)
        self._writer.add((row, None if turn is None else (state.call_id, turn)))

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
        """Rows dropped because too many waited for a failing database."""
        return self._writer.lost_rows

    @property
    def unwritten_rows(self) -> int:
        """Rows queued and not stored yet (all of them while the database refuses writes)."""
        return self._writer.unwritten

    def _queued_end(self, call_id: str) -> CallState | None:
        """The call's end if its newest queued row has one: a call just closed (as
        abandoned, say) is ended before its row is written."""
        pending = [call for call, _ in self._writer.pending() if call.call_id == call_id]
        if pending and pending[-1].outcome != "in_progress":
            return pending[-1].state()
        return None

    async def _purge_hourly(self) -> None:
        while True:
            try:
                if deleted := await self.purge(time.time() - self._keep_seconds):
                    logger.info("deleted %d calls that ended over the retention ago", deleted)
            except Exception:  # a failed purge (the database locked, full or down) is tried next hour
                logger.exception("deleting old transcripts failed")
            await asyncio.sleep(PURGE_INTERVAL_SECONDS)


class TranscriptStore(BatchedTranscripts):
    """Calls and their turns, persisted in SQLite.

    ``record`` only queues; ``flush`` waits until what was queued is committed. A
    ``BatchWriter`` stores everything queued since its last write in one transaction,
    in one hop to the database thread: under load, one commit for many turns. A turn
    flushes before its callback is answered, so an answered turn is never lost to a
    crash. Reads (``get_call``, ``recent_calls``) flush first, so a transcript read
    after a callback always shows its turn.
    """

    def __init__(self, path: Path, *, keep_days: float = 0, mask: bool = False) -> None:
        """``keep_days``: ended calls older than this are deleted with their turns and
        hang-up pushes, once an hour (0 keeps everything); ``mask``: store phone and ID
        numbers masked."""
        super().__init__(keep_days=keep_days, mask=mask)
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="transcripts")
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        await self._run(self._open)
        self._start()

    async def close(self) -> None:
        await self._stop()
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=False)  # idle by now: nothing left to wait for

    async def get_call(self, call_id: str) -> dict[str, Any] | None:
        await self.flush()
        return await self._run(lambda: self._get_call(call_id))

    async def ended_call(self, call_id: str) -> CallState | None:
        """The state of ``call_id`` if the transcript says it has ended, else None.

        For a callback of a call the session store forgot: its end stays final. An
        end still waiting to be written (a call just closed as abandoned) counts too.
        """
        if (queued := self._queued_end(call_id)) is not None:
            return queued
        row = await self._run(
            lambda: self._conn.execute(
                "SELECT * FROM calls WHERE call_id = ? AND outcome != 'in_progress'", (call_id,)
            ).fetchone()
        )
        return None if row is None else CallRow.stored(row, _epoch).state()

    async def record_push(self, call_id: str, business: str, data: dict[str, str]) -> bool:
        """Keep a hang-up push of the CTI (GX §41); a repeated push of the same call and
        business is ignored. Returns whether this one was new."""

        def insert() -> bool:
            cursor = self._conn.execute(
                "INSERT OR IGNORE INTO hangup_pushes (call_id, business, received_at, data) "
                "VALUES (?, ?, ?, ?)",
                (call_id, business, iso(time.time()), json.dumps(data, ensure_ascii=False)),
            )
            return cursor.rowcount == 1

        return await self._run(insert)

    async def pushes(self, call_id: str) -> list[dict[str, Any]]:
        """The hang-up pushes received for a call."""
        rows = await self._run(
            lambda: self._conn.execute(
                "SELECT business, received_at, data FROM hangup_pushes "
                "WHERE call_id = ? ORDER BY received_at",
                (call_id,),
            ).fetchall()
        )
        return [
            {"business": r["business"], "received_at": r["received_at"], **json.loads(r["data"])}
            for r in rows
        ]

    async def record_call_records(self, records: list[call_records.CallRecord]) -> int:
        """Keep the CTI's call records (GX §31), once per CTI and record: a record pushed
        again replaces its first copy. Returns how many were new."""
        rows = call_records.rows(records, mask=self._mask, received_at=iso(time.time()))
        return await self._run(functools.partial(call_records.store_sqlite, self._conn, rows))

    async def call_records(self, call_id: str, *, slack_ms: int) -> list[dict[str, Any]]:
        """The CTI's call records joined to a call (``bot.store.call_records``)."""
        await self.flush()

        def find() -> list[dict[str, Any]]:
            call = self._conn.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()
            return call_records.for_call_sqlite(self._conn, call_id, call, slack_ms, _epoch)

        return await self._run(find)

    async def recent_calls(self, limit: int) -> list[dict[str, Any]]:
        await self.flush()
        return await self._run(lambda: self._recent(limit))

    async def calls_since(self, since: float, limit: int) -> list[dict[str, Any]]:
        """The calls started at ``since`` (epoch seconds) or later, newest first, at most
        ``limit``, each with its turns: what the console's dashboard counts."""
        await self.flush()
        return await self._run(lambda: self._since(iso(since), limit))

    async def purge(self, ended_before: float) -> int:
        """Delete the calls that ended before ``ended_before`` (epoch seconds), with their
        turns and hang-up pushes, and the call records received before it; calls in
        progress stay. Returns how many calls went."""
        await self.flush()
        cutoff = iso(ended_before)
        deleted = 0
        while batch := await self._run(functools.partial(self._purge_batch, cutoff)):
            deleted += batch  # in batches: the writer's transactions wait for no long delete
        purge_records = functools.partial(call_records.purge_sqlite, self._conn, cutoff, PURGE_BATCH_CALLS)
        while await self._run(purge_records):
            pass  # the CTI's call records received before the cutoff, likewise
        return deleted

    async def _write_batch(self, batch: list[_Rows]) -> None:
        await self._run(functools.partial(self._write, batch))

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    # --- in the worker thread ---

    def _open(self) -> None:
        # NORMAL: a power cut may lose the last few turns, and writes stay cheap.
        db = open_sqlite(self._path, schema=SCHEMA + call_records.SCHEMA, synchronous="NORMAL")
        present = {r["name"] for r in db.execute("PRAGMA table_info(calls)")}
        for column, kind in ADDED_CALL_COLUMNS.items():
            if column not in present:
                db.execute(f"ALTER TABLE calls ADD COLUMN {column} {kind}")
        self._db = db

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("TranscriptStore used before open()")
        return self._db

    def _write(self, batch: list[_Rows]) -> None:
        latest = {call.call_id: call for call, _ in batch}  # the newest row of each call wins
        calls = [(*c[:4], iso(c.started_at), iso(c.ended_at), *c[6:]) for c in latest.values()]
        turns = [(turn[0], orjson.dumps(vars(turn[1])).decode()) for _, turn in batch if turn]
        with self._conn:  # one transaction: a turn is never stored without its call row
            self._conn.execute("BEGIN")
            self._conn.executemany(
                # A call's end is final: a later, forgetful state (after a restart)
                # never reopens it or changes how it ended...
                "INSERT INTO calls (call_id, telnum, flow, flow_version, started_at, ended_at, "
                "outcome, end_reason, grade, score, grade_reason, variables, test, direction, campaign) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO UPDATE SET "
                "ended_at = excluded.ended_at, outcome = excluded.outcome, end_reason = excluded.end_reason, "
                "grade = excluded.grade, score = excluded.score, grade_reason = excluded.grade_reason, "
                "variables = excluded.variables WHERE calls.outcome = 'in_progress' "
                # ... except that a transfer is settled when the PBX has carried it out.
                "OR (calls.outcome = 'transferred' AND excluded.outcome IN ('transfer_failed', "
                "'hung_up_by_caller'))",
                calls,
            )
            self._conn.executemany("INSERT INTO turns (call_id, data) VALUES (?, ?)", turns)

    def _purge_batch(self, cutoff: str) -> int:
        with self._conn:
            self._conn.execute("BEGIN")
            ids = [
                (r["call_id"],)
                for r in self._conn.execute(
                    "SELECT call_id FROM calls WHERE ended_at IS NOT NULL AND ended_at < ? LIMIT ?",
                    (cutoff, PURGE_BATCH_CALLS),
                )
            ]
            for table in ("turns", "hangup_pushes", "calls"):
                self._conn.executemany(f"DELETE FROM {table} WHERE call_id = ?", ids)
        return len(ids)

    def _get_call(self, call_id: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        if row is None:
            return None
        turns = self._conn.execute(
            "SELECT data FROM turns WHERE call_id = ? ORDER BY id", (call_id,)
        ).fetchall()
        return {**call_json(row, _as_stored), "turns": [json.loads(t["data"]) for t in turns]}

    def _since(self, since: str, limit: int) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT * FROM calls WHERE started_at >= ? ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (since, limit),
        ).fetchall()
        turns: dict[str, list[Any]] = {}
        ids = [r["call_id"] for r in rows]
        for start in range(0, len(ids), PURGE_BATCH_CALLS):
            chunk = ids[start : start + PURGE_BATCH_CALLS]
            marks = ",".join("?" * len(chunk))
            for t in self._conn.execute(
                f"SELECT call_id, data FROM turns WHERE call_id IN ({marks}) ORDER BY id", chunk
            ):
                turns.setdefault(t["call_id"], []).append(json.loads(t["data"]))
        return [{**call_json(r, _as_stored), "turns": turns.get(r["call_id"], [])} for r in rows]

    def _recent(self, limit: int) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.call_id = c.call_id) AS turn_count "
            "FROM calls c ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [{**call_json(r, _as_stored), "turn_count": r["turn_count"]} for r in rows]


def _epoch(moment: str | None) -> float | None:
    return dt.datetime.fromisoformat(moment).timestamp() if moment else None


def _as_stored(moment: str | None) -> str | None:
    return moment  # SQLite keeps the ISO strings the API shows


def _variables_json(variables: dict[str, object]) -> str:
    """A call's variables as JSON, what JSON cannot hold (dates, decimals) as its ``str``."""
    try:
        return orjson.dumps(variables, default=str, option=_VARIABLES_OPTIONS).decode()
    except TypeError:  # an integer beyond 64 bits
        return json.dumps(variables, ensure_ascii=False, default=str)


_VARIABLES_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
