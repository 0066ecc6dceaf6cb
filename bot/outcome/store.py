"""The outbox's rows in SQLite: what is still to push, what was pushed, what was refused.

SQLite calls block, so one worker thread owns the connection and every operation is one
hop to it. Times are epoch seconds (``REAL``): the worker compares and adds them all
day; ``datetime(created_at, 'unixepoch')`` shows one to a person.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from bot.errors import OutboxError
from bot.store.sqlite import open_sqlite

T = TypeVar("T")
State = Literal["pending", "delivered", "rejected"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    call_id TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_attempt_at REAL,
    delivered_at REAL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox (state, next_attempt_at);
"""


@dataclass(frozen=True)
class OutboxRow:
    """One call's push as the ``outbox`` table holds it."""

    call_id: str
    payload: str  # JSON, sent byte for byte as stored
    state: State
    created_at: float
    attempts: int
    next_attempt_at: float
    last_attempt_at: float | None
    delivered_at: float | None
    last_error: str | None


class OutboxStore:
    """The ``outbox`` table of one SQLite file, used from the event loop."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self._db: sqlite3.Connection | None = None
        self._closed = False

    async def open(self, now: float) -> None:
        """Open the file; a push left pending by an earlier run is due ``now``."""
        await self._run(functools.partial(self._open, now))

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._closed = True
        self._executor.shutdown(wait=False)  # idle by now: nothing left to wait for

    async def insert(self, call_id: str, payload: str, now: float) -> bool:
        """Store a pending push; False when ``call_id`` already has one (in any state)."""
        sql = (
            "INSERT OR IGNORE INTO outbox (call_id, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?)"
        )
        return await self._run(lambda: self._conn.execute(sql, (call_id, payload, now, now)).rowcount == 1)

    async def take_due(
        self, now: float, limit: int, busy: Collection[str]
    ) -> tuple[list[OutboxRow], float | None]:
        """Up to ``limit`` pending rows due by ``now``, oldest first, none of ``busy``;
        and when the next of the rest falls due (None: nothing else pending)."""
        return await self._run(functools.partial(self._take_due, now, limit, tuple(busy)))

    async def get(self, call_id: str) -> OutboxRow | None:
        row = await self._run(
            lambda: self._conn.execute("SELECT * FROM outbox WHERE call_id = ?", (call_id,)).fetchone()
        )
        return None if row is None else OutboxRow(**row)

    async def mark_delivered(self, call_id: str, now: float) -> None:
        await self._update(call_id, now, "state = 'delivered', delivered_at = ?, last_error = NULL", now)

    async def mark_retry(self, call_id: str, now: float, next_attempt_at: float, error: str) -> None:
        await self._update(call_id, now, "next_attempt_at = ?, last_error = ?", next_attempt_at, error)

    async def mark_rejected(self, call_id: str, now: float, error: str) -> None:
        await self._update(call_id, now, "state = 'rejected', last_error = ?", error)

    async def purge_delivered(self, before: float) -> int:
        """Delete the delivered rows delivered before ``before``; their number."""
        sql = "DELETE FROM outbox WHERE state = 'delivered' AND delivered_at < ?"
        return await self._run(lambda: self._conn.execute(sql, (before,)).rowcount)

    async def counts(self) -> tuple[dict[State, int], float | None]:
        """The number of rows in each state, and the ``created_at`` of the oldest pending one."""
        return await self._run(self._counts)

    async def _update(self, call_id: str, now: float, assignments: str, *values: object) -> None:
        counted = "attempts = attempts + 1, last_attempt_at = ?"
        sql = f"UPDATE outbox SET {counted}, {assignments} WHERE call_id = ?"
        await self._run(lambda: self._conn.execute(sql, (now, *values, call_id)))

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._closed:
            raise OutboxError(f"outbox {self._path} used while closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn)
        except sqlite3.Error as exc:
            raise OutboxError(f"outbox {self._path}: {exc}") from exc

    # --- in the worker thread ---

    def _open(self, now: float) -> None:
        # FULL: a handful of writes per call, and a push stored must survive a power cut.
        db = open_sqlite(self._path, schema=SCHEMA, synchronous="FULL")
        # A restart is often the fix for what kept them waiting: try them at once.
        db.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE state = 'pending' AND next_attempt_at > ?",
            (now, now),
        )
        self._db = db

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise OutboxError(f"outbox {self._path} used before open()")
        return self._db

    def _take_due(
        self, now: float, limit: int, busy: tuple[str, ...]
    ) -> tuple[list[OutboxRow], float | None]:
        not_busy = f"call_id NOT IN ({', '.join('?' * len(busy))})" if busy else "1"
        rows = self._conn.execute(
            f"SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? AND {not_busy} "
            "ORDER BY created_at, rowid LIMIT ?",
            (now, *busy, limit),
        ).fetchall()
        taken = busy + tuple(r["call_id"] for r in rows)
        not_taken = f"call_id NOT IN ({', '.join('?' * len(taken))})" if taken else "1"
        (next_due,) = self._conn.execute(
            f"SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending' AND {not_taken}", taken
        ).fetchone()
        return [OutboxRow(**r) for r in rows], next_due

    def _counts(self) -> tuple[dict[State, int], float | None]:
        counts: dict[State, int] = {"pending": 0, "delivered": 0, "rejected": 0}
        for state, count in self._conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"):
            counts[state] = count
        (oldest,) = self._conn.execute(
            "SELECT MIN(created_at) FROM outbox WHERE state = 'pending'"
        ).fetchone()
        return counts, oldest
