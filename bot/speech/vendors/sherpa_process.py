"""The sherpa backend's side of its worker process (:mod:`bot.speech.vendors.sherpa_worker`):
starting it, one text at a time through its pipes, stopping it.

What the worker writes to stderr is kept while it loads the model (it describes the
model, and an error message quotes it) and only counted afterwards: from then on it
can quote the callers' words.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.errors import TTSError

logger = logging.getLogger(__name__)

# Run as a script, so that it needs the service neither installed nor importable; -P keeps
# this directory off its sys.path (the vendor modules here must not shadow what it imports).
WORKER_SCRIPT = Path(__file__).with_name("sherpa_worker.py")
_STDERR_KEPT_BYTES = 4096
_CLOSE_TIMEOUT_SECONDS = 5.0
# "/project/sherpa-onnx/csrc/lexicon.cc:InitLanguage:354 " before each of its messages.
_SOURCE_PREFIX = re.compile(r"^\S+\.(?:cc|h):\w+:\d+ ", re.MULTILINE)


class WorkerFailedError(TTSError):
    """The worker answered that it failed (``ended`` False), or it ended, while speaking a
    text; the backend says which model in the message it raises instead."""

    def __init__(self, message: str, *, ended: bool) -> None:
        super().__init__(message, backend="sherpa")
        self.ended = ended


class _Stderr:
    """What the worker writes to stderr: kept while the model loads (it describes the
    model), only counted afterwards (it can quote the callers' words)."""

    def __init__(self) -> None:
        self.loading = True
        self._kept = bytearray()

    async def drain(self, stream: asyncio.StreamReader) -> None:
        # read(), not readline(): a line quoting a long text could exceed the reader's limit
        while chunk := await stream.read(4096):
            if self.loading:
                self._kept += chunk
                del self._kept[:-_STDERR_KEPT_BYTES]
            else:
                logger.debug(
                    "sherpa-onnx wrote %d bytes to stderr (not shown: they can quote a text)", len(chunk)
                )

    def reason(self) -> str:
        text = _SOURCE_PREFIX.sub("", self._kept.decode("utf-8", "replace")).strip()
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return " / ".join(lines[-4:]) or "it said nothing"


class WorkerProcess:
    """A running worker process with the model loaded."""

    def __init__(
        self, process: asyncio.subprocess.Process, stderr: asyncio.Task[None], header: dict[str, Any]
    ) -> None:
        self._process, self._stderr = process, stderr
        self.rate, self.speakers = int(header["rate"]), int(header["speakers"])

    @classmethod
    async def start(
        cls, config: dict[str, object], timeout_seconds: float, error: Callable[[str], TTSError]
    ) -> WorkerProcess:
        """Start a worker and wait until it has loaded the model.

        Raises:
            TTSError: (made by ``error``) The worker could not load the model in time.
        """
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-P",
            str(WORKER_SCRIPT),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        stderr = _Stderr()
        draining = asyncio.create_task(stderr.drain(process.stderr))
        try:
            process.stdin.write(json.dumps(config).encode() + b"\n")
            header = await asyncio.wait_for(_header(process.stdout), timeout_seconds)
        except TimeoutError:
            await _stop(process, draining, force=True)
            raise error(f"did not load the model within {timeout_seconds:g} s") from None
        except BaseException:
            await _stop(process, draining, force=True)
            raise
        if header is None:
            await _stop(process, draining)
            raise error(f"cannot load the model (exit status {process.returncode}): {stderr.reason()}")
        stderr.loading = False
        return cls(process, draining, header)

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return self._process.returncode is None

    async def speak(self, text: str, speaker_id: int, speed: float) -> tuple[int, bytes]:
        """One text to ``(sample rate, 16-bit PCM)``; the PCM is empty when no audio came out.

        Raises:
            WorkerFailedError: The worker failed or died.
        """
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None
        assert stdout is not None
        request = json.dumps({"text": text, "sid": speaker_id, "speed": speed})
        try:
            stdin.write(request.encode() + b"\n")
            await stdin.drain()
            header = await _header(stdout)
            if header is not None:
                pcm = await stdout.readexactly(int(header["bytes"]))
        except (ConnectionError, asyncio.IncompleteReadError):
            header = None
        if header is None:
            raise WorkerFailedError(await self._ended(), ended=True)
        if header.get("failed"):
            raise WorkerFailedError(f"failed to speak a {len(text)}-character text", ended=False)
        return int(header["rate"]), pcm

    async def close(self, *, force: bool = False) -> None:
        """End the process: by the end of its input, or killed (``force``, or when it
        does not end within 5 s)."""
        await _stop(self._process, self._stderr, force=force)

    async def _ended(self) -> str:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._process.wait(), _CLOSE_TIMEOUT_SECONDS)
        status = self._process.returncode
        return f"the worker process ended (exit status {status})"


async def _header(stdout: asyncio.StreamReader) -> dict[str, Any] | None:
    """The worker's next header line, or None when it ended or broke the protocol."""
    line = await stdout.readline()
    try:
        header = json.loads(line) if line else None
    except ValueError:
        return None
    return header if isinstance(header, dict) else None


async def _stop(
    process: asyncio.subprocess.Process, draining: asyncio.Task[None], *, force: bool = False
) -> None:
    if process.stdin is not None and not process.stdin.is_closing():
        process.stdin.close()
    if force and process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    try:
        await asyncio.wait_for(process.wait(), _CLOSE_TIMEOUT_SECONDS)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
    await draining
