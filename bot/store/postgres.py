"""PostgreSQL for the stores: one connection pool per database and process, and the schema.

With ``VOICEBOT_DATABASE_URL`` set, the transcripts, the outcome outbox and the knowledge
service's customer history live in one PostgreSQL database. They share the process's
pool for that URL (:func:`open_pool` opens it for the first user, :func:`release_pool`
closes it after the last), and the first open of each process brings the schema up to
date: the numbered SQL files of ``bot/store/migrations`` not yet applied run in order,
in one transaction, under an advisory lock, so that instances starting together apply
each exactly once and an existing database is upgraded, never recreated.

The driver is asyncpg (docs/storage.md has the measurements). This module imports only
the standard library and asyncpg, so that ``knowledge/`` can use it without the bot's
runtime.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

logger = logging.getLogger(__name__)

POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 10  # connections per process and database, shared by every store
CONNECT_TIMEOUT_SECONDS = 5.0  # a database that does not answer fails a write soon, to be retried
COMMAND_TIMEOUT_SECONDS = 60.0
MIGRATION_LOCK_KEY = 0x766F_6963_6562_6F74  # "voicebot": the advisory lock of the migrations
MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file of ``bot/store/migrations``."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The migrations shipped with the package, in the order they are applied.

    Raises:
        RuntimeError: Two files have the same number.
    """
    found: dict[int, Migration] = {}
    for entry in (resources.files("bot.store") / "migrations").iterdir():
        match = MIGRATION_FILE.match(entry.name)
        if match is None:
            continue
        version = int(match[1])
        if version in found:
            raise RuntimeError(f"two migrations numbered {version}: {found[version].name}, {match[2]}")
        found[version] = Migration(version, match[2], entry.read_text(encoding="utf-8"))
    return [found[version] for version in sorted(found)]


async def migrate(
    conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy, *, upto: int | None = None
) -> list[int]:
    """Apply the migrations that ``conn``'s database lacks, in one transaction.

    The transaction first takes the migrations' advisory lock, so a second instance
    starting at the same time waits, then finds nothing left to do.

    Args:
        conn: A connection outside any transaction.
        upto: Apply none numbered above it (tests: a database as an older release left it).

    Returns:
        The versions applied now, in order (empty: the database was up to date).

    Raises:
        asyncpg.PostgresError: A migration failed; none of this call's is kept.
    """
    applied: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(SCHEMA_MIGRATIONS)
        done = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        known = migrations()
        if newer := done - {m.version for m in known}:
            logger.warning("the database has migrations this release does not know: %s", sorted(newer))
        for migration in known:
            if migration.version in done or (upto is not None and migration.version > upto):
                continue
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
            applied.append(migration.version)
    if applied:
        logger.info("database schema migrated to version %d (%s applied)", applied[-1], applied)
    return applied


@dataclass
class _Shared:
    opening: asyncio.Future[asyncpg.Pool]
    users: int = 0


_pools: dict[tuple[str, asyncio.AbstractEventLoop], _Shared] = {}
_closing: set[asyncio.Task[None]] = set()  # pools opened for no one any more, being closed


async def open_pool(dsn: str) -> asyncpg.Pool:
    """The process's pool for ``dsn``, opened (and the schema migrated) by its first user.

    Every call must be matched by one :func:`release_pool` once the caller is done.

    Args:
        dsn: ``postgresql://user:password@host:port/db``.

    Returns:
        The shared pool; its users never close it themselves.

    Raises:
        OSError, asyncpg.PostgresError: The database cannot be reached or migrated.
    """
    key = (dsn, asyncio.get_running_loop())
    shared = _pools.get(key)
    if shared is None:
        shared = _pools[key] = _Shared(asyncio.ensure_future(_create_pool(dsn)))
    shared.users += 1
    try:
        return await asyncio.shield(shared.opening)
    except BaseException:
        shared.users -= 1
        if shared.users == 0 and _pools.get(key) is shared:
            del _pools[key]  # a later open tries again
            shared.opening.add_done_callback(_close_if_opened)
        raise


async def release_pool(dsn: str) -> None:
    """Give back a hold on ``dsn``'s pool taken by :func:`open_pool`; the last closes it."""
    key = (dsn, asyncio.get_running_loop())
    shared = _pools.get(key)
    if shared is None:
        return
    shared.users -= 1
    if shared.users > 0:
        return
    del _pools[key]
    pool = await shared.opening
    await pool.close()


def _close_if_opened(opening: asyncio.Future[asyncpg.Pool]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        closing = asyncio.ensure_future(opening.result().close())
        _closing.add(closing)
        closing.add_done_callback(_closing.discard)


async def _create_pool(dsn: str) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=POOL_MIN_SIZE,
        max_size=POOL_MAX_SIZE,
        timeout=CONNECT_TIMEOUT_SECONDS,
        command_timeout=COMMAND_TIMEOUT_SECONDS,
    )
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
    except BaseException:
        await pool.close()
        raise
    return pool


def affected_rows(status: str) -> int:
    """The row count of a command status such as ``INSERT 0 1`` or ``DELETE 12``."""
    count = status.rsplit(" ", 1)[-1]
    return int(count) if count.isdigit() else 0
