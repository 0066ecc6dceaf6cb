"""Playing call scripts (bench/calls_script.py) against a server, as the CTI would.

- ``play_paced``: calls arriving at a call rate, at most ``calls`` at once, each event
  sent when its pacing says: after the prompt the bot answered has played (its WAV's
  duration, read once per distinct URL by a GET of the URL), at a share of it, or
  after the previous answer. ``pace`` scales every wait (0.01: a hundred times faster,
  for tests);
- ``play_open_loop``: the events of many calls (``calls_script.interleaved``) at a fixed
  rate in all, whatever the answers' speed, each timed from its scheduled start.

Every event is timed from the moment it was due (or, when the previous answer came
later, from that answer: the earliest the CTI could have sent it) to its answer's last
byte, so a slow server cannot hide the queue behind it; ``send_lag`` says how late the
generator itself was. An answer is an error when its status is not 200, its body is not
what the protocol allows for the event (an audio URL; ``continue`` only for a callback
with ``playing=true``; an empty body after ``hungup``; ``ok`` for the hang-up push), or
it has not come within the timeout. What is recorded: bench/calls_stats.py.
"""

from __future__ import annotations

import asyncio
import random
import re
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.calls_script import CallEvent, CallScript, Kind, Timing
from bench.calls_stats import Recorder
from bench.http_client import TRANSPORT_ERRORS, Connections

TIMEOUT_SECONDS = 10.0  # a CTI gives up on a callback long before this
FALLBACK_PROMPT_SECONDS = 3.0  # a prompt whose WAV could not be read
AUDIO_URL = re.compile(rb"https?://[^/\s]+/audio/[0-9A-Za-z_-]+\.wav\?canbeinterrupted=(?:true|false)")
OPEN_LOOP_CONNECTIONS = 64  # a CTI's bounded pool; fixed, so the server's open files do not follow it


def answer_error(kind: Kind, playing: bool, status: int, body: bytes) -> str | None:
    """Why an answer breaks the protocol (docs/cti.md), or None."""
    if status != 200:
        return f"status {status}"
    if kind is Kind.HANGUP_PUSH:
        return None if body == b"ok" else "body"
    if kind is Kind.HANGUP:
        return None if body == b"" else "body"
    if body == b"continue":
        return None if playing else "body"
    return None if AUDIO_URL.fullmatch(body) else "body"


def wav_seconds(data: bytes) -> float:
    """The duration of a WAV file (PCM or G.711): its data chunk's size over its byte rate."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    at, byte_rate = 12, 0
    while at + 8 <= len(data):
        chunk, size = data[at : at + 4], struct.unpack_from("<I", data, at + 4)[0]
        if chunk == b"fmt ":
            byte_rate = struct.unpack_from("<I", data, at + 16)[0]
        elif chunk == b"data":
            if not byte_rate:
                raise ValueError("no fmt chunk before the data")
            return float(min(size, len(data) - at - 8) / byte_rate)
        at += 8 + size + (size & 1)
    raise ValueError("no data chunk")


class PromptDurations:
    """Each distinct audio URL's duration, read once (a GET of the WAV, as the CTI downloads it)."""

    def __init__(self, base: str) -> None:
        self.pool = Connections(base)
        self.known: dict[bytes, asyncio.Future[float]] = {}
        self.errors = 0  # WAVs that could not be read: FALLBACK_PROMPT_SECONDS each

    async def seconds(self, url: bytes) -> float:
        if url not in self.known:
            self.known[url] = asyncio.ensure_future(self._fetch(url))
        return await self.known[url]

    async def _fetch(self, url: bytes) -> float:
        try:
            status, data = await asyncio.wait_for(self.pool.get(urlsplit(url.decode()).path), TIMEOUT_SECONDS)
            if status != 200:
                raise ValueError(f"status {status}")
            return wav_seconds(data)
        except (TimeoutError, ValueError, *TRANSPORT_ERRORS):
            self.errors += 1
            return FALLBACK_PROMPT_SECONDS

    async def close(self) -> None:
        await self.pool.close()


async def _sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


async def send(pool: Connections, recorder: Recorder, kind: Kind, path: str, due: float) -> bytes | None:
    """One request, timed and checked; its body, or None when it failed."""
    sent = time.perf_counter()
    try:
        status, body = await asyncio.wait_for(pool.get(path), TIMEOUT_SECONDS)
    except TimeoutError:
        recorder.add(due, kind, sent=sent, done=time.perf_counter(), error="timeout", path=path)
        return None
    except TRANSPORT_ERRORS as exc:
        failure = f"connection {type(exc).__name__}"
        recorder.add(due, kind, sent=sent, done=time.perf_counter(), error=failure, path=path)
        return None
    error = answer_error(kind, path.endswith("&playing=true"), status, body)
    recorder.add(due, kind, sent=sent, done=time.perf_counter(), error=error, path=path)
    return None if error else body


@dataclass
class _Prompt:
    """What the caller hears now: from ``start`` to ``end`` (perf_counter seconds)."""

    start: float
    end: float


class PacedPlayer:
    """Calls played with their pacing; see ``play_paced``."""

    def __init__(
        self, base: str, recorder: Recorder, durations: PromptDurations, pace: float, deadline: float | None
    ) -> None:
        self.pool = Connections(base)
        self.recorder, self.durations, self.pace, self.deadline = recorder, durations, pace, deadline

    def _due(self, event: CallEvent, prompt: _Prompt, answered: float) -> float:
        if event.timing is Timing.AFTER_PROMPT:
            due = prompt.end + event.seconds * self.pace
        elif event.timing is Timing.DURING_PROMPT:
            due = prompt.start + event.fraction * (prompt.end - prompt.start)
        else:
            due = answered + event.seconds * self.pace
        return max(due, answered)  # never before the previous answer: the earliest it could go

    async def play(self, script: CallScript) -> None:
        now = time.perf_counter()
        prompt, answered = _Prompt(now, now), now
        self.recorder.calls_started += 1
        for event in script.events:
            due = self._due(event, prompt, answered)
            if self.deadline is not None and due > self.deadline:
                return
            await _sleep_until(due)
            body = await send(self.pool, self.recorder, event.kind, script.path(event), due)
            answered = time.perf_counter()
            if body is None or body in (b"", b"ok"):
                prompt = _Prompt(answered, answered)
            elif body != b"continue":
                seconds = await self.durations.seconds(body)
                started = time.perf_counter()  # the CTI plays it once downloaded
                prompt = _Prompt(started, started + seconds * self.pace)
        self.recorder.calls_finished += 1

    async def close(self) -> None:
        await self.pool.close()


async def play_paced(
    base: str,
    scripts: Iterator[CallScript],
    *,
    calls: int,
    call_rate: float,
    seconds: float | None,
    pace: float = 1.0,
    seed: int = 0,
    durations: PromptDurations | None = None,
) -> tuple[Recorder, float]:
    """At most ``calls`` calls at once, starting at ``call_rate`` a second (Poisson
    arrivals, seeded) for ``seconds`` (None: until ``scripts`` run out and every call has
    ended); events due after the end are not sent. ``durations``: the prompts' durations
    known so far (a warm-up's). The recorder and the run's seconds."""
    recorder = Recorder()
    deadline = None if seconds is None else recorder.started + seconds
    own = durations is None
    durations = PromptDurations(base) if durations is None else durations
    errors_before = durations.errors
    player = PacedPlayer(base, recorder, durations, pace, deadline)
    arrivals = random.Random(seed)
    free = asyncio.Semaphore(calls)
    running: set[asyncio.Task[None]] = set()

    async def one(script: CallScript) -> None:
        try:
            await player.play(script)
        finally:
            free.release()

    try:
        next_start = time.perf_counter()
        for script in scripts:
            next_start += arrivals.expovariate(call_rate)
            if deadline is not None and next_start > deadline:
                break
            await free.acquire()
            next_start = max(next_start, time.perf_counter())  # no burst after waiting for a free line
            await _sleep_until(next_start)
            task = asyncio.create_task(one(script))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.gather(*running)
    finally:
        await player.close()
        recorder.audio_errors = durations.errors - errors_before
        if own:
            await durations.close()
    return recorder, time.perf_counter() - recorder.started


async def play_open_loop(
    base: str,
    requests: Iterator[tuple[Kind, str]],
    *,
    rate: float,
    seconds: float,
    connections: int = OPEN_LOOP_CONNECTIONS,
    preroll: int = 0,
) -> tuple[Recorder, float]:
    """``requests`` sent at ``rate`` a second for ``seconds``, each timed from its scheduled
    start, over ``connections`` keep-alive connections opened first (a request waits for a
    free one: the wait is in its latency). The first ``preroll`` requests are sent at the
    same rate before, and not recorded (the first round of interleaved calls: greetings only)."""
    pool = Connections(base, limit=connections)
    await pool.open(connections)
    recorder, ignored = Recorder(), Recorder()
    start = time.perf_counter() + 0.2
    recorder.started = start + preroll / rate
    running: set[asyncio.Task[bytes | None]] = set()
    try:
        for i in range(preroll + int(rate * seconds)):
            kind, path = next(requests)
            due = start + i / rate
            await _sleep_until(due)
            task = asyncio.create_task(send(pool, recorder if i >= preroll else ignored, kind, path, due))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.gather(*running)
    finally:
        await pool.close()
    return recorder, time.perf_counter() - recorder.started
