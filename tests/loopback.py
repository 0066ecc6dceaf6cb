"""A real HTTP/1.1 server on the loopback interface, standing in for a call center's
business API in tests (``http:`` steps). It runs on the test's own event loop
(``asyncio.start_server``), so a slow route is an ``asyncio.sleep`` that closing
the server cancels, leaving no thread or process behind. Every request it serves
is counted per path, which is how tests check retries without measuring time.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import socket
import threading
import wave
import zlib
from array import array
from collections import Counter
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.dialog.business import MAX_BODY_BYTES


def unused_port() -> int:
    """A loopback port nothing listens on (for a server to start on, or to be refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


HUGE = MAX_BODY_BYTES * 2
RASA_ANSWER = {"type": 0, "clarify": "这是远程知识库的回答。", "title": "远程条目"}
ECHO_DATA = {"amount": 12.5, "items": [{"name": "first"}, {"name": "second"}], "owner": None}


@dataclass(frozen=True)
class Received:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


class LoopbackServer:
    """A tiny HTTP/1.1 server on 127.0.0.1 with the routes the tests need.

    Routes: ``/echo…`` answers JSON describing the request; ``/slow`` never
    answers in time; ``/flaky/<status>/<n>`` fails with ``status`` n times, then
    answers JSON; ``/missing`` is a 404; ``/text`` is a 200 that is not JSON;
    ``/huge`` (with Content-Length) and ``/huge-stream`` (without) send 2 MiB;
    ``/empty`` is a 204; ``/created`` a 201 without a body; ``/redirect`` is a
    302 to ``/echo``; ``/trickle`` sends its body a byte at a time;
    ``/rasa/<ms>`` is a Rasa REST webhook that answers ``RASA_ANSWER`` after ``ms``;
    ``/tts/wav`` and ``/tts/json`` are a speech vendor (a WAV body, or base64 WAV at
    ``data.audio``; ``tts_status`` other than 200 makes them fail), ``/tts/mp3`` and
    ``/tts/badb64`` a vendor answering what we cannot use. The last request to each
    path is kept in ``received``. Each connection serves one request and is closed.
    """

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.requested = asyncio.Event()
        self.received: dict[str, Received] = {}
        self.tts_status = 200
        self._handlers: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self._thread: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @classmethod
    def in_thread(cls) -> LoopbackServer:
        """A started server on an event loop of its own thread: for tests that drive
        real processes synchronously. Stop it with ``stop_thread``."""
        loop = asyncio.new_event_loop()
        started: list[LoopbackServer] = []
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            server = cls()
            loop.run_until_complete(server.start())
            started.append(server)
            ready.set()
            loop.run_forever()

        thread = threading.Thread(target=run, name="loopback-server", daemon=True)
        thread.start()
        if not ready.wait(10):
            raise RuntimeError("the loopback server did not start")
        server = started[0]
        server._thread = (loop, thread)
        return server

    def stop_thread(self) -> None:
        assert self._thread is not None, "not started with in_thread()"
        loop, thread = self._thread
        asyncio.run_coroutine_threadsafe(self.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for handler in list(self._handlers):
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            received = await _read_request(reader)
            path = urlsplit(received.target).path
            self.hits[path] += 1
            self.requested.set()
            self.received[path] = received
            await self._route(path, received, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up, as it does on a timeout or a too large body
        finally:
            self._handlers.discard(handler)
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()

    async def _route(self, path: str, received: Received, writer: asyncio.StreamWriter) -> None:
        if path.startswith("/echo"):
            await _respond(writer, 200, _echo(received))
        elif path == "/slow":
            await asyncio.sleep(60)
            await _respond(writer, 200, b"{}")
        elif path.startswith("/flaky/"):
            _, _, failing_status, failures = path.split("/")
            if self.hits[path] <= int(failures):
                await _respond(writer, int(failing_status), b"busy", content_type="text/plain")
            else:
                await _respond(writer, 200, json.dumps({"attempt": self.hits[path]}).encode())
        elif path == "/trickle":
            await _trickle(writer)
        elif path == "/huge-stream":
            await _stream_huge_body(writer)
        elif path in FIXED_ANSWERS:
            status, body, content_type = FIXED_ANSWERS[path]
            await _respond(writer, status, body, content_type=content_type)
        elif path.startswith("/rasa/"):
            await asyncio.sleep(int(path.rsplit("/", 1)[1]) / 1000)
            await _respond(writer, 200, _rasa_answer(received))
        elif path.startswith("/tts/"):
            status, body, content_type = _tts_answer(path, received, self.tts_status)
            await _respond(writer, status, body, content_type=content_type)
        elif path == "/redirect":
            await _respond(writer, 302, b"", extra_headers={"Location": "/echo"})
        else:
            await _respond(writer, 500, b"no such route", content_type="text/plain")


FIXED_ANSWERS: dict[str, tuple[int, bytes, str]] = {
    "/missing": (404, b'{"error": "no such order"}', "application/json"),
    "/text": (200, b"<html>hello</html>", "text/html"),
    "/huge": (200, b"[" + b"0," * (HUGE // 2) + b"0]", "application/json"),
    "/empty": (204, b"", "application/json"),
    "/created": (201, b"", "application/json"),
}


async def _trickle(writer: asyncio.StreamWriter) -> None:
    """A JSON body sent a byte every 50 ms: each read is quick, the whole answer is slow."""
    body = b'{"padding": "' + b"x" * 100 + b'"}'
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n")
    writer.write(f"Content-Length: {len(body)}\r\n\r\n".encode())
    for byte in body:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.05)


async def _stream_huge_body(writer: asyncio.StreamWriter) -> None:
    """2 MiB of JSON without a Content-Length: the client only learns the size by reading."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[")
    for _ in range(HUGE // 65536):
        writer.write(b"0," * 32768)
        await writer.drain()
    writer.write(b"0]")


async def _read_request(reader: asyncio.StreamReader) -> Received:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("utf-8")
    request_line, *header_lines = head.split("\r\n")
    method, target, _ = request_line.split(" ")
    headers = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Received(method, target, headers, body)


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    *,
    content_type: str = "application/json",
    extra_headers: Mapping[str, str] | None = None,
) -> None:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "Connection: close"]
    if status != 204:
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (extra_headers or {}).items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()


def _echo(received: Received) -> bytes:
    split = urlsplit(received.target)
    answer = {
        "method": received.method,
        "path": split.path,
        "raw_query": split.query,
        "query": dict(parse_qsl(split.query, keep_blank_values=True)),
        "headers": received.headers,
        "json": json.loads(received.body) if received.body else None,
        "data": ECHO_DATA,
    }
    return json.dumps(answer, ensure_ascii=False).encode()


def _rasa_answer(received: Received) -> bytes:
    sender = json.loads(received.body)["sender"]
    text = json.dumps(RASA_ANSWER, ensure_ascii=False)
    return json.dumps([{"recipient_id": sender, "text": text}], ensure_ascii=False).encode()


def tts_wav(voice: str, *, rate: int = 16000, seconds: float = 0.25) -> bytes:
    """A tone as a speech vendor would send it; its pitch follows the voice, so two
    voices never give the same audio."""
    pitch = 300 + zlib.crc32(voice.encode()) % 500
    frames = array(
        "h", (int(8000 * math.sin(2 * math.pi * pitch * n / rate)) for n in range(int(rate * seconds)))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(frames.tobytes())
    return buffer.getvalue()


def _tts_answer(path: str, received: Received, status: int) -> tuple[int, bytes, str]:
    if status != 200:
        return status, b"vendor down", "text/plain"
    asked = json.loads(received.body) if received.body else dict(parse_qsl(urlsplit(received.target).query))
    wav = tts_wav(str(asked.get("voice", "")))
    if path == "/tts/wav":
        return 200, wav, "audio/wav"
    if path == "/tts/json":
        return (
            200,
            json.dumps({"code": 0, "data": {"audio": base64.b64encode(wav).decode()}}).encode(),
            "application/json",
        )
    if path == "/tts/mp3":
        return 200, b"ID3\x04\x00" + bytes(64), "audio/mpeg"
    return 200, b'{"data": {"audio": "not base64!"}}', "application/json"
