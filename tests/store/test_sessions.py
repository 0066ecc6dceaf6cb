"""The memory session store: per-call locks, idle expiry."""

from __future__ import annotations

import asyncio
import time

from bot.dialog.state import CallState
from bot.store.sessions import MemorySessionStore


def state(call_id: str) -> CallState:
    return CallState(call_id=call_id, telnum="1", flow="f", flow_version="v")


async def test_one_call_is_serialized_while_others_run() -> None:
    store = MemorySessionStore()
    events: list[str] = []

    async def hold(call_id: str, name: str) -> None:
        async with store.lock(call_id):
            events.append(f"{name} in")
            await asyncio.sleep(0.01)
            events.append(f"{name} out")

    await asyncio.gather(hold("a", "a1"), hold("a", "a2"), hold("b", "b1"))
    assert events.index("a1 out") < events.index("a2 in")
    assert events.index("b1 in") < events.index("a1 out")  # b did not wait for a


async def test_locks_are_dropped_with_their_last_user() -> None:
    store = MemorySessionStore()
    async with store.lock("a"):
        pass
    assert store._locks == {}  # the dict does not grow with every call ever seen


async def test_idle_calls_are_popped_busy_ones_kept() -> None:
    store = MemorySessionStore()
    for call_id in ("old", "busy", "fresh"):
        await store.put(state(call_id))
    (await store.get("old")).updated_at = time.time() - 100  # type: ignore[union-attr]
    (await store.get("busy")).updated_at = time.time() - 100  # type: ignore[union-attr]
    async with store.lock("busy"):
        popped = await store.pop_idle(50)
    assert [s.call_id for s in popped] == ["old"]
    assert await store.count() == 2


async def test_calls_ended_for_good_are_forgotten_sooner_than_live_ones() -> None:
    store = MemorySessionStore()
    for call_id in ("live", "ended", "ended-owing", "ended-busy"):
        await store.put(state(call_id))
    for call_id in ("ended", "ended-owing", "ended-busy"):
        stored = await store.get(call_id)
        assert stored is not None
        stored.outcome = "hung_up_by_caller"
    owing = await store.get("ended-owing")
    assert owing is not None
    owing.undelivered = object()  # type: ignore[assignment]  # an answer owed to a next callback
    for call_id in ("live", "ended", "ended-owing", "ended-busy"):
        (await store.get(call_id)).updated_at = time.time() - 100  # type: ignore[union-attr]
    async with store.lock("ended-busy"):
        popped = await store.pop_idle(3600, ended_idle_seconds=50)
    assert [s.call_id for s in popped] == ["ended"]
    assert await store.pop_idle(3600) == []  # without it, ended calls wait for the TTL too
