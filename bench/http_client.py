"""The benchmarks' HTTP client: keep-alive HTTP/1.1 connections to one server, cheap
enough to stay out of the figures.

Not httpx: its pool slows down sharply once a slower server makes it hold many
connections at once, and then measures itself (against a server a few milliseconds
slower, an httpx open loop fell behind its schedule by seconds: p50 10 s at 200/s
against a server that ``wrk`` drove at 470/s). This one opens a connection when none is
idle, reuses it after a complete answer, and parses only the status line, the headers
and a ``Content-Length`` body (what Granian, uvicorn and Hypercorn send to a GET).
Used by ``bench/instances.py`` and the call generator (``bench/calls*.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from urllib.parse import urlsplit

# What a request can fail with on the wire: the server closed, reset or sent garbage.
TRANSPORT_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, KeyError)
# An idle connection older than this is closed rather than reused: servers close idle
# keep-alive connections (Granian after 30 s, its header read timeout), and a request
# written as the server closes is lost. HTTP clients retry such a request; this one avoids it.
MAX_IDLE_SECONDS = 10.0


class Connections:
    """Keep-alive HTTP/1.1 connections to the server of ``base`` (``http://host:port``);
    with ``limit``, at most that many at once (a request waits for a free one, as behind
    a client's bounded pool), used in turn (the least recently used first) so that none
    sits idle: the server's open files do not follow the client's bursts."""

    def __init__(self, base: str, limit: int | None = None) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []  # idle since
        self.opened: list[asyncio.StreamWriter] = []
        self._slots = asyncio.Semaphore(limit) if limit else None
        self._in_turn = bool(limit)

    async def open(self, count: int) -> None:
        """Open ``count`` idle connections now (a run that starts with its pool full)."""
        for _ in range(count):
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.opened.append(writer)
            self.idle.append((reader, writer, time.monotonic()))

    async def get(self, path: str) -> tuple[int, bytes]:
        """GET ``path`` (already percent-encoded); its status and body. A connection that
        fails or is cancelled mid-answer is closed, never reused."""
        if self._slots is None:
            return await self._get(path)
        async with self._slots:
            return await self._get(path)

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The most recently used idle connection (with a limit: the least recently used)
        that is still fresh, else a new one.
        Idle connections past ``MAX_IDLE_SECONDS`` are closed (the oldest are first in
        ``idle``), as a client's pool closes them after its keep-alive timeout."""
        now = time.monotonic()
        while self.idle and now - self.idle[0][2] >= MAX_IDLE_SECONDS:
            self._drop(self.idle.pop(0)[1])
        while self.idle:
            reader, writer, since = self.idle.pop(0 if self._in_turn else -1)
            if now - since < MAX_IDLE_SECONDS and not reader.at_eof():
                return reader, writer
            self._drop(writer)
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.opened.append(writer)
        return reader, writer

    def _drop(self, writer: asyncio.StreamWriter) -> None:
        writer.close()
        self.opened.remove(writer)

    async def _get(self, path: str) -> tuple[int, bytes]:
        reader, writer = await self._connection()
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            body = await reader.readexactly(int(headers["content-length"]))
        except BaseException:
            self._drop(writer)
            raise
        if headers.get("connection", "").lower() == "close":
            self._drop(writer)
        else:
            self.idle.append((reader, writer, time.monotonic()))
        return status, body

    async def close(self) -> None:
        for writer in self.opened:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        self.opened.clear()
        self.idle.clear()
