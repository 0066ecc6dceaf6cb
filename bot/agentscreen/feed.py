"""Live updates of the agent pages: "call X changed", to every page showing call X.

``LocalFeed`` reaches the pages served by this process; ``RedisFeed`` those of every
instance sharing ``VOICEBOT_REDIS_URL`` (one Redis pub/sub channel, one subscription
per instance, whose messages are handed to the local pages). A notice carries only the
call's id: a page that hears it asks for the call as it is now, so a notice lost or
two merged lose nothing.

``close`` ends every listener at once: an idle event stream never holds the server
at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

CHANNEL = "voicebot:agent-screen"
RETRY_SECONDS = 1.0


class Listener:
    """What one page waits on: a change of its call, or the end."""

    def __init__(self) -> None:
        self._changes: asyncio.Queue[bool] = asyncio.Queue(maxsize=1)

    def notify(self, *, ended: bool = False) -> None:
        if ended:  # the end always gets through, past a change not yet taken
            with contextlib.suppress(asyncio.QueueEmpty):
                self._changes.get_nowait()
        with contextlib.suppress(asyncio.QueueFull):  # a change already waiting says it all
            self._changes.put_nowait(not ended)

    async def wait(self, timeout_seconds: float) -> bool | None:
        """True: the call changed; None: nothing within ``timeout_seconds``; False: the
        feed closed (the server stops)."""
        try:
            return await asyncio.wait_for(self._changes.get(), timeout_seconds)
        except TimeoutError:
            return None


class Feed(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def end(self) -> None:
        """End every page's stream now; from the signal handler, before requests drain."""
        ...

    async def publish(self, call_id: str) -> None:
        """Tell every page of ``call_id`` that it changed."""
        ...

    def listen(self, call_id: str) -> contextlib.AbstractAsyncContextManager[Listener]:
        """A listener of ``call_id``'s changes for the block."""
        ...


class LocalFeed:
    """The pages of this process."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = {}
        self._closed = False

    async def open(self) -> None:
        self._closed = False

    async def close(self) -> None:
        self.end()

    def end(self) -> None:
        """End every listener now, and any that comes later (the server is stopping)."""
        self._closed = True
        for listeners in self._listeners.values():
            for listener in listeners:
                listener.notify(ended=True)

    async def publish(self, call_id: str) -> None:
        self.deliver(call_id)

    def deliver(self, call_id: str) -> None:
        for listener in self._listeners.get(call_id, ()):
            listener.notify()

    @contextlib.asynccontextmanager
    async def listen(self, call_id: str) -> AsyncIterator[Listener]:
        listener = Listener()
        if self._closed:
            listener.notify(ended=True)
        self._listeners.setdefault(call_id, set()).add(listener)
        try:
            yield listener
        finally:
            listeners = self._listeners.get(call_id, set())
            listeners.discard(listener)
            if not listeners:
                self._listeners.pop(call_id, None)

    @property
    def listening(self) -> int:
        """How many pages listen now (tests, and the shutdown's check)."""
        return sum(len(listeners) for listeners in self._listeners.values())


class RedisFeed:
    """Every instance's pages, through one Redis channel."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self.local = LocalFeed()
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def open(self) -> None:
        await self.local.open()
        self._task = asyncio.create_task(self._relay(), name="agent-screen feed")
        # A notice published before the subscription exists would be lost: wait for it
        # (bounded: Redis down at start must not stop the service from starting).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), 5)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.local.close()

    async def publish(self, call_id: str) -> None:
        try:
            await self._redis.publish(CHANNEL, call_id)
        except Exception as exc:  # Redis down: this instance's pages still hear it
            logger.warning("agent-screen notice through Redis failed (%s): local pages only", exc)
            self.local.deliver(call_id)

    def listen(self, call_id: str) -> contextlib.AbstractAsyncContextManager[Listener]:
        return self.local.listen(call_id)

    def end(self) -> None:
        self.local.end()

    async def _relay(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._subscribed.set()
                    while True:
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30.0)
                        if message is not None and message.get("type") == "message":
                            data = message["data"]
                            self.local.deliver(data.decode() if isinstance(data, bytes) else str(data))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection dropped: subscribe again
                logger.warning("agent-screen feed lost Redis (%s); subscribing again", exc)
                await asyncio.sleep(RETRY_SECONDS)
