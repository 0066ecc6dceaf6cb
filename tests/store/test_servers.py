"""The real servers of tests/servers.py answer: Redis stores and reads back, PostgreSQL
creates, inserts and selects, and each test starts from an empty database."""

from __future__ import annotations

import asyncpg
import redis
import redis.asyncio as aioredis


def test_redis_url_is_an_empty_database_that_stores(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.dbsize() == 0
        client.set("greeting", "您好")
        assert client.get("greeting") == "您好".encode()
    finally:
        client.close()


async def test_redis_url_serves_the_asyncio_client_too(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert await client.dbsize() == 0  # the previous test's key is gone
        await client.set("n", 1)
        assert await client.incr("n") == 2
    finally:
        await client.aclose()


async def test_database_url_is_a_fresh_database(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables == 0
        await conn.execute("CREATE TABLE t (id integer PRIMARY KEY, name text NOT NULL)")
        await conn.executemany("INSERT INTO t VALUES ($1, $2)", [(1, "张三"), (2, "李四")])
        assert [tuple(r) for r in await conn.fetch("SELECT name FROM t ORDER BY id")] == [
            ("张三",),
            ("李四",),
        ]
    finally:
        await conn.close()


async def test_each_test_has_its_own_database(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('t')") is None  # the previous test's table
    finally:
        await conn.close()
