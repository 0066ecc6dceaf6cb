"""asyncpg against psycopg 3 (async, psycopg_pool) on what the PostgreSQL stores do.

Run: ``.venv/bin/python -m bench.pg_drivers postgresql://postgres@127.0.0.1:5432/postgres``
(any database the user may create tables in; the benchmark's tables are dropped after).

- write: transactions of N turns (JSON text, ~400 bytes) with the upsert of their calls'
  rows (one call per 10 turns, as ``TranscriptStore._write`` batches them), by two
  methods: ``executemany`` (both drivers pipeline it) and one ``INSERT … SELECT FROM
  unnest(arrays)`` per table; rows/s counts turns, latency is per transaction;
- read: one call row by its key, a pool connection acquired and released each time,
  sequentially (per-query latency) and 32 at once (queries/s).

The drivers run in alternating rounds; each figure is the median round's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from psycopg_pool import AsyncConnectionPool

CALL_COLUMNS = (
    "call_id, telnum, flow, flow_version, started_at, ended_at, outcome, end_reason, grade, score, "
    "grade_reason, variables"
)
UPSERT_TAIL = (
    " ON CONFLICT (call_id) DO UPDATE SET ended_at = excluded.ended_at, outcome = excluded.outcome, "
    "end_reason = excluded.end_reason, grade = excluded.grade, score = excluded.score, "
    "grade_reason = excluded.grade_reason, variables = excluded.variables "
    "WHERE {calls}.outcome = 'in_progress'"
)
TYPES = (
    "text",
    "text",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "text",
    "text",
    "text",
    "integer",
    "text",
    "json",
)
TURNS_PER_CALL = 10
READ_CONCURRENCY = 32
POOL_SIZE = 10

Call = tuple[Any, ...]
Batch = tuple[list[Call], list[tuple[str, str]]]


def make_batch(turns: int) -> Batch:
    """``turns`` turns and the rows of their calls (new call ids each time)."""
    now = dt.datetime.now(dt.UTC)
    calls: list[Call] = []
    rows: list[tuple[str, str]] = []
    for _ in range(max(1, turns // TURNS_PER_CALL)):
        call_id = uuid.uuid4().hex
        calls.append(
            (
                call_id,
                "13800138000",
                "sample",
                "v3",
                now,
                None,
                "in_progress",
                None,
                None,
                None,
                None,
                json.dumps({"订单号": "A123456"}, ensure_ascii=False),
            )
        )
    for i in range(turns):
        turn = {
            "at": now.isoformat(),
            "event": "text",
            "text": "我想查一下我的订单什么时候到",
            "playing": False,
            "intent": "order_status",
            "confidence": 0.93,
            "step": "ask_order",
            "continued": False,
            "reply": "好的，请您说一下订单号，我帮您查询。",
            "audio_url": f"/audio/{uuid.uuid4().hex}.wav",
            "ms": 12.5,
            "encoding": None,
            "filler": None,
            "delivered": None,
            "pbx": None,
        }
        rows.append((calls[i % len(calls)][0], json.dumps(turn, ensure_ascii=False)))
    return calls, rows


def schema(prefix: str) -> list[str]:
    return [
        f"CREATE TABLE {prefix}_calls (call_id text PRIMARY KEY, telnum text NOT NULL, flow text NOT NULL, "
        "flow_version text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz, "
        "outcome text NOT NULL, end_reason text, grade text, score integer, grade_reason text, "
        "variables json)",
        f"CREATE TABLE {prefix}_turns (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "call_id text NOT NULL, data json NOT NULL)",
        f"CREATE INDEX ON {prefix}_turns (call_id, id)",
    ]


class Statements:
    """The benchmark's SQL for one driver's placeholder style (``$1`` or ``%s``)."""

    def __init__(self, prefix: str, placeholder: Callable[[int], str]) -> None:
        calls, turns = f"{prefix}_calls", f"{prefix}_turns"
        marks = ", ".join(placeholder(i + 1) for i in range(len(TYPES)))
        tail = UPSERT_TAIL.format(calls=calls)
        self.upsert_many = f"INSERT INTO {calls} ({CALL_COLUMNS}) VALUES ({marks}){tail}"
        self.insert_many = f"INSERT INTO {turns} (call_id, data) VALUES ({placeholder(1)}, {placeholder(2)})"
        arrays = ", ".join(f"{placeholder(i + 1)}::{kind}[]" for i, kind in enumerate(TYPES))
        self.upsert_unnest = f"INSERT INTO {calls} ({CALL_COLUMNS}) SELECT * FROM unnest({arrays}){tail}"
        self.insert_unnest = (
            f"INSERT INTO {turns} (call_id, data) "
            f"SELECT * FROM unnest({placeholder(1)}::text[], {placeholder(2)}::json[])"
        )
        self.read = f"SELECT * FROM {calls} WHERE call_id = {placeholder(1)}"


def columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


class AsyncpgDriver:
    name = "asyncpg"

    def __init__(self, dsn: str, prefix: str) -> None:
        self._dsn = dsn
        self.sql = Statements(prefix, lambda i: f"${i}")
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None
        return self._pool

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(self._dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)

    async def close(self) -> None:
        await self.pool.close()

    async def execute(self, statement: str) -> None:
        await self.pool.execute(statement)

    async def write_many(self, batch: Batch) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.executemany(self.sql.upsert_many, batch[0])
            await conn.executemany(self.sql.insert_many, batch[1])

    async def write_unnest(self, batch: Batch) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(self.sql.upsert_unnest, *columns(batch[0]))
            await conn.execute(self.sql.insert_unnest, *columns(batch[1]))

    async def read(self, call_id: str) -> object:
        async with self.pool.acquire() as conn:
            return await conn.fetchrow(self.sql.read, call_id)


class PsycopgDriver:
    name = "psycopg"

    def __init__(self, dsn: str, prefix: str) -> None:
        self.sql = Statements(prefix, lambda _: "%s")
        self.pool = AsyncConnectionPool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE, open=False)

    async def open(self) -> None:
        await self.pool.open(wait=True)

    async def close(self) -> None:
        await self.pool.close()

    async def execute(self, statement: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(statement.encode())

    async def write_many(self, batch: Batch) -> None:
        async with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            await cursor.executemany(self.sql.upsert_many.encode(), batch[0])
            await cursor.executemany(self.sql.insert_many.encode(), batch[1])

    async def write_unnest(self, batch: Batch) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(self.sql.upsert_unnest.encode(), columns(batch[0]), binary=True)
            await conn.execute(self.sql.insert_unnest.encode(), columns(batch[1]), binary=True)

    async def read(self, call_id: str) -> object:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(self.sql.read.encode(), (call_id,))
            return await cursor.fetchone()


Driver = AsyncpgDriver | PsycopgDriver


async def timed(calls: Sequence[Callable[[], Awaitable[object]]]) -> tuple[float, list[float]]:
    """Total seconds of running ``calls`` one after the other, and each one's seconds."""
    each: list[float] = []
    start = time.perf_counter()
    for call in calls:
        began = time.perf_counter()
        await call()
        each.append(time.perf_counter() - began)
    return time.perf_counter() - start, each


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def write_round(driver: Driver, method: str, turns: int, total_turns: int) -> dict[str, float]:
    write = driver.write_many if method == "executemany" else driver.write_unnest
    batches = [make_batch(turns) for _ in range(max(3, total_turns // turns))]
    await write(make_batch(turns))  # warm: statements prepared, connections up
    seconds, each = await timed([lambda b=b: write(b) for b in batches])  # type: ignore[misc]
    return {
        "rows_per_s": len(batches) * turns / seconds,
        "p50_ms": percentile(each, 0.5) * 1000,
        "p99_ms": percentile(each, 0.99) * 1000,
    }


async def read_round(driver: Driver, ids: list[str], reads: int) -> dict[str, float]:
    for call_id in ids[:50]:
        await driver.read(call_id)
    _, each = await timed([lambda i=i: driver.read(ids[i % len(ids)]) for i in range(reads)])  # type: ignore[misc]
    start = time.perf_counter()
    for first in range(0, reads, READ_CONCURRENCY):
        await asyncio.gather(
            *(driver.read(ids[i % len(ids)]) for i in range(first, first + READ_CONCURRENCY))
        )
    parallel_seconds = time.perf_counter() - start
    return {
        "p50_ms": percentile(each, 0.5) * 1000,
        "p99_ms": percentile(each, 0.99) * 1000,
        "queries_per_s": reads / parallel_seconds,
    }


async def main(dsn: str, rounds: int, total_turns: int, reads: int) -> None:
    prefix = f"bench_{uuid.uuid4().hex[:8]}"
    first = AsyncpgDriver(dsn, prefix)
    drivers: list[Driver] = [first, PsycopgDriver(dsn, prefix)]
    for driver in drivers:
        await driver.open()
    try:
        for statement in schema(prefix):
            await drivers[0].execute(statement)
        results: dict[str, list[dict[str, float]]] = {}
        for _ in range(rounds):
            for driver in drivers:
                for method in ("executemany", "unnest"):
                    for turns in (50, 500):
                        key = f"write {driver.name:8} {method:11} {turns:3} turns/tx"
                        results.setdefault(key, []).append(
                            await write_round(driver, method, turns, total_turns)
                        )
        await drivers[0].write_unnest(make_batch(5000))
        ids = [row["call_id"] for row in await first.pool.fetch(f"SELECT call_id FROM {prefix}_calls")]
        for _ in range(rounds):
            for driver in drivers:
                results.setdefault(f"read  {driver.name:8} one call row", []).append(
                    await read_round(driver, ids, reads)
                )
        print(f"PostgreSQL {await first.pool.fetchval('SHOW server_version')}, median of {rounds} rounds")
        for key, measured in results.items():
            middle = {name: statistics.median(r[name] for r in measured) for name in measured[0]}
            print(f"{key:42} " + "  ".join(f"{name} {value:9.2f}" for name, value in middle.items()))
    finally:
        for table in ("turns", "calls"):
            await drivers[0].execute(f"DROP TABLE IF EXISTS {prefix}_{table}")
        for driver in drivers:
            await driver.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dsn", help="postgresql://user@host:port/db")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--turns", type=int, default=20000, help="turns written per round and method")
    parser.add_argument("--reads", type=int, default=3000, help="reads per round")
    args = parser.parse_args()
    asyncio.run(main(args.dsn, args.rounds, args.turns, args.reads))
