"""One SQL dialect for the campaign store, on SQLite or PostgreSQL.

The store's statements are written once, PostgreSQL style (``$1``, ``$2``… each used
once, in order); on SQLite they run with ``?`` in a worker thread that owns the
connection. Times are epoch seconds (``double precision``/``REAL``) and JSON is text,
so that both databases hold the same values.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from bot.errors import StorageError
from bot.store.sqlite import open_sqlite

_PLACEHOLDER = re.compile(r"\$\d+")

Row = Mapping[str, Any]


class Database(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; how many rows it changed."""
        ...

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...
    async def transaction(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Run the statements in one transaction."""
        ...


class SQLiteDatabase:
    """A SQLite file with the store's schema, its statements on one worker thread."""

    def __init__(self, path: Path, schema: str) -> None:
        self._path = path
        self._schema = schema
        self._db: sqlite3.Connection | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="campaigns-sqlite")

    async def open(self) -> None:
        try:
            self._db = await self._run(
                lambda: open_sqlite(self._path, schema=self._schema, synchronous="FULL")
            )
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"campaigns in {self._path}: {exc}") from exc

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await self._run(db.close)
        self._executor.shutdown(wait=True)

    async def execute(self, sql: str, *args: Any) -> int:
        count: int = await self._run(lambda: self._conn.execute(_qmarks(sql), args).rowcount)
        return count

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        rows: list[Row] = await self._run(
            lambda: [dict(row) for row in self._conn.execute(_qmarks(sql), args)]
        )
        return rows

    async def transaction(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        def run() -> None:
            with self._conn:
                self._conn.execute("BEGIN")
                for sql, args in statements:
                    self._conn.execute(_qmarks(sql), tuple(args))

        await self._run(run)

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StorageError("the campaign store is used before it is opened")
        return self._db

    async def _run(self, work: Any) -> Any:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        except sqlite3.Error as exc:
            raise StorageError(f"campaigns in {self._path}: {exc}") from exc


class PostgresDatabase:
    """The process's shared pool for ``dsn`` (its schema migrated by bot/store/migrations)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool: Any = None

    async def open(self) -> None:
        import asyncpg  # noqa: PLC0415 (only where PostgreSQL is configured)

        from bot.store.postgres import open_pool  # noqa: PLC0415

        try:
            self._pool = await open_pool(self._dsn)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageError(f"campaigns in PostgreSQL: {exc}") from exc

    async def close(self) -> None:
        from bot.store.postgres import release_pool  # noqa: PLC0415

        if self._pool is not None:
            self._pool = None
            await release_pool(self._dsn)

    async def execute(self, sql: str, *args: Any) -> int:
        from bot.store.postgres import affected_rows  # noqa: PLC0415

        return affected_rows(await self._guarded(self._pool.execute(sql, *args)))

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return [dict(row) for row in await self._guarded(self._pool.fetch(sql, *args))]

    async def transaction(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        async def run() -> None:
            async with self._pool.acquire() as conn, conn.transaction():
                for sql, args in statements:
                    await conn.execute(sql, *args)

        await self._guarded(run())

    async def _guarded(self, work: Any) -> Any:
        import asyncpg  # noqa: PLC0415

        if self._pool is None:
            work.close()
            raise StorageError("the campaign store is used before it is opened")
        try:
            return await work
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageError(f"campaigns in PostgreSQL: {exc}") from exc


def _qmarks(sql: str) -> str:
    return _PLACEHOLDER.sub("?", sql)
