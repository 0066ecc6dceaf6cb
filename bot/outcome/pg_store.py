"""The outbox's rows in PostgreSQL (``VOICEBOT_DATABASE_URL``), shared by every instance.

The interface of :class:`bot.outcome.store.OutboxStore`. Times are epoch seconds, as
there. Since several instances read the same table, taking a due row claims it: the
instance that took it pushes it alone until it records the attempt, or until
``CLAIM_SECONDS`` have passed (it stopped mid-push: another takes the row over).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Collection
from typing import TypeVar

import asyncpg

from bot.errors import OutboxError
from bot.outcome.store import OutboxRow, State
from bot.store.postgres import affected_rows, open_pool, release_pool

T = TypeVar("T")
CLAIM_SECONDS = 300.0  # longer than any push's timeout (at most 60 s) and its bookkeeping
COLUMNS = ", ".join(f.name for f in dataclasses.fields(OutboxRow))  # in the order of OutboxRow
TAKE_DUE = (
    f"WITH due AS (SELECT call_id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1 "
    "AND claimed_until <= $1 AND NOT (call_id = ANY($2::text[])) ORDER BY created_at, seq LIMIT $3 "
    "FOR UPDATE SKIP LOCKED) "
    "UPDATE outbox o SET claimed_until = $1 + $4 FROM due WHERE o.call_id = due.call_id "
    f"RETURNING o.seq, {', '.join('o.' + c for c in COLUMNS.split(', '))}"
)
NEXT_DUE = (
    "SELECT min(greatest(next_attempt_at, claimed_until)) FROM outbox "
    "WHERE state = 'pending' AND NOT (call_id = ANY($1::text[]))"
)


class PostgresOutboxStore:
    """The ``outbox`` table of a PostgreSQL database, used from the event loop.

    Args:
        dsn: ``postgresql://user:password@host:port/db``; the process's pool for it is
            shared with the other PostgreSQL stores.
    """

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool: asyncpg.Pool | None = None
        self._closed = False

    async def open(self, now: float) -> None:
        """Take the shared pool (migrating the schema if first); a push left pending by
        an earlier run is due ``now``.

        Raises:
            OutboxError: The database cannot be reached or migrated.
        """
        try:
            self._pool = await open_pool(self._dsn)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise OutboxError(f"outbox in PostgreSQL: {exc}") from exc
        # A restart is often the fix for what kept them waiting: try them at once.
        sql = "UPDATE outbox SET next_attempt_at = $1 WHERE state = 'pending' AND next_attempt_at > $1"
        await self._run(lambda pool: pool.execute(sql, now))

    async def close(self) -> None:
        if self._pool is not None:
            self._pool = None
            await release_pool(self._dsn)
        self._closed = True

    async def insert(self, call_id: str, payload: str, now: float) -> bool:
        """Store a pending push; False when ``call_id`` already has one (in any state)."""
        sql = (
            "INSERT INTO outbox (call_id, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $3) "
            "ON CONFLICT (call_id) DO NOTHING"
        )
        return affected_rows(await self._run(lambda pool: pool.execute(sql, call_id, payload, now))) == 1

    async def take_due(
        self, now: float, limit: int, busy: Collection[str]
    ) -> tuple[list[OutboxRow], float | None]:
        """Up to ``limit`` pending rows due by ``now``, oldest first, none of ``busy`` nor
        claimed by another instance, now claimed by this one; and when the next of the
        rest falls due (None: nothing else pending)."""

        async def take(pool: asyncpg.Pool) -> tuple[list[OutboxRow], float | None]:
            async with pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(TAKE_DUE, now, list(busy), limit, CLAIM_SECONDS) if limit > 0 else []
                rows = sorted(rows, key=lambda r: (r["created_at"], r["seq"]))
                taken = [*busy, *(r["call_id"] for r in rows)]
                next_due: float | None = await conn.fetchval(NEXT_DUE, taken)
            return [_row(r) for r in rows], next_due

        return await self._run(take)

    async def get(self, call_id: str) -> OutboxRow | None:
        sql = f"SELECT {COLUMNS} FROM outbox WHERE call_id = $1"
        row = await self._run(lambda pool: pool.fetchrow(sql, call_id))
        return None if row is None else _row(row)

    async def mark_delivered(self, call_id: str, now: float) -> None:
        await self._update(call_id, now, "state = 'delivered', delivered_at = $3, last_error = NULL", now)

    async def mark_retry(self, call_id: str, now: float, next_attempt_at: float, error: str) -> None:
        await self._update(call_id, now, "next_attempt_at = $3, last_error = $4", next_attempt_at, error)

    async def mark_rejected(self, call_id: str, now: float, error: str) -> None:
        await self._update(call_id, now, "state = 'rejected', last_error = $3", error)

    async def purge_delivered(self, before: float) -> int:
        """Delete the delivered rows delivered before ``before``; their number."""
        sql = "DELETE FROM outbox WHERE state = 'delivered' AND delivered_at < $1"
        return affected_rows(await self._run(lambda pool: pool.execute(sql, before)))

    async def counts(self) -> tuple[dict[State, int], float | None]:
        """The number of rows in each state, and the ``created_at`` of the oldest pending one."""

        async def count(pool: asyncpg.Pool) -> tuple[dict[State, int], float | None]:
            counts: dict[State, int] = {"pending": 0, "delivered": 0, "rejected": 0}
            async with pool.acquire() as conn:
                for row in await conn.fetch("SELECT state, count(*) AS n FROM outbox GROUP BY state"):
                    counts[row["state"]] = row["n"]
                oldest = await conn.fetchval("SELECT min(created_at) FROM outbox WHERE state = 'pending'")
            return counts, oldest

        return await self._run(count)

    async def _update(self, call_id: str, now: float, assignments: str, *values: object) -> None:
        counted = "attempts = attempts + 1, last_attempt_at = $2, claimed_until = 0"
        sql = f"UPDATE outbox SET {counted}, {assignments} WHERE call_id = $1"
        await self._run(lambda pool: pool.execute(sql, call_id, now, *values))

    async def _run(self, operation: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
        if self._closed:
            raise OutboxError("outbox in PostgreSQL used while closed")
        if self._pool is None:
            raise OutboxError("outbox in PostgreSQL used before open()")
        try:
            return await operation(self._pool)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise OutboxError(f"outbox in PostgreSQL: {exc}") from exc


def _row(record: asyncpg.Record) -> OutboxRow:
    return OutboxRow(**{name: record[name] for name in COLUMNS.split(", ")})
