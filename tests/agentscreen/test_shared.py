"""With Redis, two instances share the handovers and the agent pages' live updates: a
transfer made by one matches the lines another receives, and a line stored by one
wakes the pages the other serves. In-process, the same without Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.agentscreen.feed import LocalFeed, RedisFeed
from bot.agentscreen.handovers import MemoryHandovers, RedisHandovers

BOUND_SECONDS = 30  # a bound for slow machines, never a timing assertion


@pytest.fixture
async def clients(redis_url: str) -> AsyncIterator[tuple[Redis, Redis]]:
    one, two = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        yield one, two
    finally:
        await one.aclose()
        await two.aclose()


async def test_a_handover_on_one_instance_matches_a_line_on_another(clients: tuple[Redis, Redis]) -> None:
    one, two = RedisHandovers(clients[0], 600), RedisHandovers(clients[1], 600)
    now = time.time()
    await one.register("robot-1", "13800138000", now - 30)
    await one.register("robot-2", "13800138000", now - 10)
    assert await two.match(("801", "+8613800138000"), (), now) == "robot-2"  # the latest
    assert await two.match(("801", "13900139000"), (), now) is None
    assert await two.match(("801", "13800138000"), (), now + 700) is None  # past the window
    await two.bind(("leg-9",), "robot-1")
    assert await one.match(("802", "803"), ("leg-9",), now + 700) == "robot-1"


async def test_a_line_stored_on_one_instance_wakes_the_pages_of_another(clients: tuple[Redis, Redis]) -> None:
    one, two = RedisFeed(clients[0]), RedisFeed(clients[1])
    await one.open()
    await two.open()
    try:
        async with two.listen("robot-1") as page, two.listen("robot-2") as other:
            await one.publish("robot-1")
            assert await page.wait(BOUND_SECONDS) is True
            assert await other.wait(0) is None
            await two.close()
            assert await page.wait(BOUND_SECONDS) is False  # closed: the stream ends
    finally:
        await one.close()
        await two.close()


async def test_in_process_the_same() -> None:
    handovers = MemoryHandovers(600)
    await handovers.register("robot-1", "013800138000", time.time())
    assert await handovers.match(("13800138000", "801"), (), time.time()) == "robot-1"
    feed = LocalFeed()
    async with feed.listen("robot-1") as page:
        await feed.publish("robot-1")
        await feed.publish("robot-1")  # merged with the first: one change to fetch
        assert await page.wait(BOUND_SECONDS) is True
        assert await page.wait(0) is None
        feed.end()
        assert await asyncio.wait_for(page.wait(BOUND_SECONDS), BOUND_SECONDS) is False
    assert feed.listening == 0
