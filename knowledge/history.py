"""What each customer asked before, kept for a configurable number of days (SQLite).

The customer is the part of a webhook ``sender`` after ``userId`` (the caller's number
or id). One worker thread owns the connection, as with the bot's transcripts.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.store.sqlite import open_sqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS asked (
    customer TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    title TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS asked_by_customer ON asked (customer, at DESC);
"""
RECENT_LIMIT = 20


@dataclass(frozen=True)
class Asked:
    """An entry a customer was answered with, and when (Unix time)."""

    entry_id: str
    title: str
    at: float


class CustomerHistory:
    """Answers given to each customer; older than ``retention_days`` is forgotten.

    Args:
        path: The SQLite file; created when missing.
        retention_days: How long an answer is kept; 0 keeps nothing.
    """

    def __init__(self, path: Path, retention_days: float) -> None:
        self._path = path
        self._retention_seconds = retention_days * 86400
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-history")
        self._db: sqlite3.Connection | None = None

    @property
    def enabled(self) -> bool:
        return self._retention_seconds > 0

    async def open(self) -> None:
        if self.enabled:
            await self._run(self._open)

    def _open(self) -> None:
        # FULL (SQLite's default, kept): one small write per answer, so the fsync is cheap.
        self._db = open_sqlite(self._path, schema=SCHEMA, synchronous="FULL")
        self._db.execute("DELETE FROM asked WHERE at < ?", (time.time() - self._retention_seconds,))

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    async def record(self, customer: str, entry_id: str, title: str) -> None:
        """Remember that ``customer`` was answered with an entry."""
        if self._db is None or not customer:
            return
        db, cutoff = self._db, time.time() - self._retention_seconds
        await self._run(
            db.execute, "INSERT INTO asked VALUES (?, ?, ?, ?)", (customer, entry_id, title, time.time())
        )
        await self._run(db.execute, "DELETE FROM asked WHERE customer = ? AND at < ?", (customer, cutoff))

    async def recent(self, customer: str) -> list[Asked]:
        """What ``customer`` was answered with within the retention, newest first."""
        if self._db is None or not customer:
            return []
        db, cutoff = self._db, time.time() - self._retention_seconds
        query = (
            "SELECT entry_id, title, at FROM asked WHERE customer = ? AND at >= ? ORDER BY at DESC LIMIT ?"
        )
        rows = await self._run(lambda: db.execute(query, (customer, cutoff, RECENT_LIMIT)).fetchall())
        return [Asked(*row) for row in rows]

    async def _run(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)
