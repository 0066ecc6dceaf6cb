"""Live calls in a SQLite file of the data directory: the default store, one process.

Reads come from memory; every ``put`` is also written to ``sessions.sqlite3`` and
returns once its transaction has committed. In WAL mode with ``synchronous=NORMAL`` a
committed transaction survives ``kill -9`` of the process without an fsync per commit
(a power cut may lose the last ones). Writes are batched by ``BatchWriter``: while
one transaction commits, the puts of other calls gather for the next, so the cost per
turn falls as the load rises. At open, the states of the calls in progress (and of
ended calls kept for their last callbacks) are read back, and the transfers and
hang-ups that were due are handed to the caller of ``orphaned_dues``.

One process owns the file (an exclusive ``flock`` beside it): a second ``voicebot
serve`` on the same data directory refuses to start and says to use Redis.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from bot.dialog.state import CallState
from bot.errors import StorageError
from bot.store import codec
from bot.store.batch import BatchWriter
from bot.store.sessions import MemorySessionStore
from bot.store.sqlite import open_sqlite

T = TypeVar("T")
logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    call_id TEXT PRIMARY KEY,
    state TEXT NOT NULL
);
"""
MAX_UNWRITTEN_STATES = 100_000  # puts kept in memory while the disk refuses them
_Row = tuple[str, str | None]  # call id, the state's JSON (None: delete)


class SQLiteSessionStore(MemorySessionStore):
    """Sessions in memory, written through to a SQLite file before each put returns."""

    shared = False

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sessions")
        self._db: sqlite3.Connection | None = None
        self._owner: int | None = None  # the lock file's descriptor, held while open
        self._writer = BatchWriter(
            self._write, name="call states", max_unwritten=MAX_UNWRITTEN_STATES, store="sessions"
        )
        self._orphans: list[CallState] = []

    async def open(self) -> None:
        """Open the file, take it for this process, read the calls back.

        Raises:
            StorageError: another process holds the file, or it cannot be opened.
        """
        states = await self._run(self._open)
        for state in states:
            await MemorySessionStore.put(self, state)
            self._states[state.call_id].updated_at = state.updated_at  # idle time kept
        self._orphans = [s for s in states if s.due is not None]
        if states:
            logger.info(
                "%d calls read back from %s, %d with a transfer or hang-up due",
                len(states),
                self._path.name,
                len(self._orphans),
            )
        self._writer.start()

    async def close(self) -> None:
        await self._writer.stop()
        if self._db is not None:
            await self._run(self._close)
        self._executor.shutdown(wait=False)

    @property
    def write_error(self) -> str | None:
        return self._writer.write_error

    @property
    def lost_states(self) -> int:
        return self._writer.lost_rows

    async def put(self, state: CallState) -> None:
        await super().put(state)
        self._writer.add((state.call_id, codec.dumps(state)))
        await self._writer.flush()

    async def pop_idle(
        self, idle_seconds: float, *, ended_idle_seconds: float | None = None
    ) -> list[CallState]:
        idle = await super().pop_idle(idle_seconds, ended_idle_seconds=ended_idle_seconds)
        for state in idle:
            self._writer.add((state.call_id, None))
        if idle:
            await self._writer.flush()
        return idle

    async def orphaned_dues(self) -> list[CallState]:
        orphans, self._orphans = self._orphans, []
        return orphans

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def _write(self, batch: list[_Row]) -> None:
        latest = dict(batch)  # the newest state of each call wins
        await self._run(lambda: self._write_rows(latest))

    # --- in the worker thread ---

    def _open(self) -> list[CallState]:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        owner = os.open(self._path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o660)
        try:
            fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(owner)
            raise StorageError(
                f"{self._path}: another voicebot process uses this data directory; several processes "
                "(--workers, more instances) share live calls through VOICEBOT_REDIS_URL"
            ) from None
        try:
            self._db = open_sqlite(self._path, schema=SCHEMA, synchronous="NORMAL")
        except (OSError, sqlite3.Error) as exc:
            os.close(owner)
            raise StorageError(f"{self._path}: cannot open the live calls' file: {exc}") from exc
        self._owner = owner
        states = []
        for row in self._db.execute("SELECT call_id, state FROM sessions"):
            try:
                states.append(codec.loads(row["state"]))
            except codec.StateDecodeError as exc:
                logger.error("call %s: its stored state is unreadable, dropped: %s", row["call_id"], exc)
        return states

    def _write_rows(self, latest: dict[str, str | None]) -> None:
        assert self._db is not None
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO sessions (call_id, state) VALUES (?, ?) "
                "ON CONFLICT (call_id) DO UPDATE SET state = excluded.state",
                [(call_id, state) for call_id, state in latest.items() if state is not None],
            )
            self._db.executemany(
                "DELETE FROM sessions WHERE call_id = ?",
                [(call_id,) for call_id, state in latest.items() if state is None],
            )

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._owner is not None:
            os.close(self._owner)  # releases the flock
            self._owner = None
