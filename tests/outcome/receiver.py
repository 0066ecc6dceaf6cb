"""A call center's outcome receiver on loopback: answers each push as a test scripts it.

It runs on the test's event loop (``asyncio.start_server``) and counts, per call id,
every request (``hits``) and every push it accepted (``accepted``): "delivered once"
is ``accepted[callid] == 1``, whatever the retries before.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from tests.loopback import Received, _read_request, _respond

Script = Callable[[str, int], int]  # (callid, nth request for it) -> HTTP status


def always(status: int) -> Script:
    return lambda callid, nth: status


def failing(status: int, times: int) -> Script:
    """``status`` for the first ``times`` requests of each call, then 200."""
    return lambda callid, nth: status if nth <= times else 200


class OutcomeReceiver:
    """Receives outcome pushes on 127.0.0.1.

    Args:
        script: The status of each answer; 200 when not given.
        on_request: Awaited with each push before it is answered.

    Clearing ``hold`` keeps requests waiting before their answer (to see them in flight).
    """

    def __init__(
        self,
        script: Script | None = None,
        *,
        on_request: Callable[[Received], Awaitable[None]] | None = None,
    ) -> None:
        self.script = script or always(200)
        self.on_request = on_request
        self.hold = asyncio.Event()
        self.hold.set()
        self.hits: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.received: list[Received] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/outcomes?token=secret"

    def payload(self, n: int) -> dict[str, Any]:
        return json.loads(self.received[n].body)  # type: ignore[no-any-return]

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for handler in list(self._handlers):
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            received = await _read_request(reader)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                await self._answer(received, writer)
            finally:
                self.in_flight -= 1
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client closed the connection (a timeout, a close)
        finally:
            self._handlers.discard(handler)
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, received: Received, writer: asyncio.StreamWriter) -> None:
        callid = json.loads(received.body)["callid"]
        self.hits[callid] += 1
        self.received.append(received)
        if self.on_request is not None:
            await self.on_request(received)
        await self.hold.wait()
        status = self.script(callid, self.hits[callid])
        if 200 <= status < 300:
            self.accepted[callid] += 1
        await _respond(writer, status, b"{}" if status < 300 else b'{"error": "bad field x"}')


async def eventually(condition: Callable[[], object], seconds: float = 30) -> None:
    """Wait until ``condition()`` (awaited if it is a coroutine) is truthy; a generous
    bound, not a timing assertion."""
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
