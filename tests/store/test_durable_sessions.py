"""The live calls' stores that outlive the process: SQLite (one process) and Redis
(shared), with the Redis lock's timeout and fencing and the claim of due actions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.dialog.state import CallState, Due
from bot.errors import StorageError
from bot.store.redis_sessions import RedisSessionStore
from bot.store.sqlite_sessions import SQLiteSessionStore


def state(call_id: str, step: str = "ask") -> CallState:
    s = CallState(call_id=call_id, telnum="13800000000", flow="f", flow_version="v1")
    s.step = step
    return s


async def test_sqlite_states_are_read_back_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite3"
    store = SQLiteSessionStore(path)
    await store.open()
    due = state("due", "transfer_notice")
    due.end("transferred", "asked for an agent")
    due.due = Due("transfer", "8001", time.time() + 1)
    for s in (state("a", "confirm_id"), due, state("gone")):
        async with store.lock(s.call_id):
            await store.put(s)
    await store.pop_idle(-1.0)  # every call idle: all popped, and deleted from the file
    for s in (state("a", "confirm_id"), due):
        await store.put(s)
    await store.close()

    again = SQLiteSessionStore(path)
    await again.open()
    try:
        assert (await again.get("a")).step == "confirm_id"  # type: ignore[union-attr]
        assert await again.get("gone") is None
        assert (await again.count(), await again.count_live()) == (2, 1)
        orphans = await again.orphaned_dues()
        assert [(o.call_id, o.due) for o in orphans] == [("due", due.due)]
        assert await again.orphaned_dues() == []  # handed out once
    finally:
        await again.close()


async def test_sqlite_file_belongs_to_one_process(tmp_path: Path) -> None:
    first = SQLiteSessionStore(tmp_path / "sessions.sqlite3")
    await first.open()
    second = SQLiteSessionStore(tmp_path / "sessions.sqlite3")
    try:
        with pytest.raises(StorageError, match="VOICEBOT_REDIS_URL"):
            await second.open()
    finally:
        await first.close()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def opened(client: Redis, **kwargs: float) -> RedisSessionStore:
    store = RedisSessionStore(client, **kwargs)
    await store.open()
    return store


async def test_two_instances_share_calls_and_serialize_them(redis: Redis) -> None:
    a, b = await opened(redis), await opened(redis)
    events: list[str] = []

    async def turn(store: RedisSessionStore, name: str) -> None:
        async with store.lock("c"):
            events.append(f"{name} in")
            current = await store.get("c") or state("c")
            current.turns += 1
            await asyncio.sleep(0.05)
            await store.put(current)
            events.append(f"{name} out")

    await asyncio.gather(turn(a, "a"), turn(b, "b"))
    assert events in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert (await a.get("c")).turns == 2  # type: ignore[union-attr]
    assert (await b.count(), await b.count_live()) == (1, 1)
    await a.close()
    await b.close()


async def test_a_crashed_holder_blocks_a_call_only_until_its_lock_expires(redis: Redis) -> None:
    crashed = await opened(redis, lock_timeout_seconds=0.5)
    await crashed.lock("c").__aenter__()  # taken, never released
    await crashed.close()  # nobody renews it any more: as if the process died
    other = await opened(redis, lock_timeout_seconds=0.5, lock_wait_seconds=5)
    started = time.monotonic()
    async with other.lock("c"):
        waited = time.monotonic() - started
    assert 0.2 < waited < 5
    await other.close()


async def test_a_stale_holder_cannot_overwrite_a_newer_state(redis: Redis) -> None:
    stale = await opened(redis, lock_timeout_seconds=0.3)
    fresh = await opened(redis, lock_timeout_seconds=0.3)
    await stale.close()  # its renewer stops: its lock will expire while "paused"
    async with stale.lock("c"):
        await asyncio.sleep(0.5)  # stalled past its lock's expiry
        async with fresh.lock("c"):
            await fresh.put(state("c", "newer"))
        await stale.put(state("c", "older"))  # refused: a later holder took the lock
    assert stale.stale_writes == 1
    assert (await fresh.get("c")).step == "newer"  # type: ignore[union-attr]
    await fresh.close()


async def test_a_due_action_is_claimed_once(redis: Redis) -> None:
    a, b = await opened(redis), await opened(redis)
    s = state("c")
    s.due = Due("hangup", None, time.time() - 5)  # overdue: its announcer stopped
    async with a.lock("c"):
        await a.put(s)
    assert [o.call_id for o in await b.orphaned_dues()] == ["c"]
    claims = await asyncio.gather(a.claim_due("c"), b.claim_due("c"))
    assert sorted(claims) == [False, True]
    async with a.lock("c"):
        await a.put(s)  # the same due written again (a later turn) is not due again
    assert await b.orphaned_dues() == []
    s.due = None
    async with a.lock("c"):
        await a.put(s)
    assert not await b.claim_due("c")
    await a.close()
    await b.close()


async def test_idle_calls_are_popped_by_one_instance(redis: Redis) -> None:
    a, b = await opened(redis), await opened(redis)
    async with a.lock("old"):
        await a.put(state("old"))
    popped = await asyncio.gather(a.pop_idle(-1.0), b.pop_idle(-1.0))
    assert sorted(len(p) for p in popped) == [0, 1]
    assert await a.get("old") is None
    await a.close()
    await b.close()


async def test_redis_down_is_a_storage_error() -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    with pytest.raises(StorageError, match="does not answer"):
        await RedisSessionStore(client).open()
    await client.aclose()
