"""What each customer asked before, in PostgreSQL (``VOICEBOT_DATABASE_URL``).

The interface of :class:`knowledge.history.CustomerHistory`, in the ``customer_history``
table that every instance shares. Like the SQLite history it imports nothing of the
bot's runtime: only the pool and migrations of :mod:`bot.store.postgres`.
"""

from __future__ import annotations

import time

import asyncpg

from bot.store.postgres import open_pool, release_pool
from knowledge.history import RECENT_LIMIT, Asked

RECORD = (
    "WITH added AS (INSERT INTO customer_history (customer, entry_id, title, at) VALUES ($1, $2, $3, $4)) "
    "DELETE FROM customer_history WHERE customer = $1 AND at < $5"
)
RECENT = (
    "SELECT entry_id, title, at FROM customer_history WHERE customer = $1 AND at >= $2 "
    "ORDER BY at DESC LIMIT $3"
)


class PostgresCustomerHistory:
    """Answers given to each customer; older than ``retention_days`` is forgotten.

    Args:
        dsn: ``postgresql://user:password@host:port/db``; the process's pool for it is
            shared with the bot's PostgreSQL stores.
        retention_days: How long an answer is kept; 0 keeps nothing.
    """

    def __init__(self, dsn: str, retention_days: float) -> None:
        self._dsn = dsn
        self._retention_seconds = retention_days * 86400
        self._pool: asyncpg.Pool | None = None

    @property
    def enabled(self) -> bool:
        return self._retention_seconds > 0

    async def open(self) -> None:
        """Take the shared pool (migrating the schema if first) and forget what is past
        the retention.

        Raises:
            OSError, asyncpg.PostgresError: The database cannot be reached or migrated.
        """
        if not self.enabled:
            return
        pool = await open_pool(self._dsn)
        try:
            cutoff = time.time() - self._retention_seconds
            await pool.execute("DELETE FROM customer_history WHERE at < $1", cutoff)
        except BaseException:
            await release_pool(self._dsn)
            raise
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            self._pool = None
            await release_pool(self._dsn)

    async def record(self, customer: str, entry_id: str, title: str) -> None:
        """Remember that ``customer`` was answered with an entry."""
        if self._pool is None or not customer:
            return
        now = time.time()
        await self._pool.execute(RECORD, customer, entry_id, title, now, now - self._retention_seconds)

    async def recent(self, customer: str) -> list[Asked]:
        """What ``customer`` was answered with within the retention, newest first."""
        if self._pool is None or not customer:
            return []
        cutoff = time.time() - self._retention_seconds
        rows = await self._pool.fetch(RECENT, customer, cutoff, RECENT_LIMIT)
        return [Asked(row["entry_id"], row["title"], row["at"]) for row in rows]
