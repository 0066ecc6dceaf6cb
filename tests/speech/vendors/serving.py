"""A speech vendor's fake (an ASGI app) served on a loopback port by Hypercorn, on the
test's own event loop, and stopped when the test leaves the ``async with``.

    async with serve_asgi(fake.app) as base_url:
        backend = AliyunTTS(url=f"{base_url}/stream/v1/tts", …)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config

from tests.servers import free_port


@asynccontextmanager
async def serve_asgi(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 until the block ends; yields ``http://127.0.0.1:<port>``."""
    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 0.1
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        await _until_listening(port, task)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        with suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)


async def _until_listening(port: int, task: asyncio.Task[None]) -> None:
    for _ in range(500):
        if task.done():
            task.result()
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.01)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise TimeoutError(f"the fake did not listen on port {port}")
