"""Answered turns under ``kill -9``: none may be missing from the transcripts.

``python -m bench.kills`` serves the sample bot (the default store: SQLite in a fresh
data directory), plays calls against it from many concurrent callers, and kills the
process with SIGKILL several times while they talk, restarting it on the same port
each time. Every callback answered 200 is an answered turn; at the end each must be
in its call's transcript, and every call that was in the middle of its conversation
must go on at its step (its turns' steps follow the conversation's, whatever the
kills interrupted). It prints the counts; this is a benchmark of correctness under
crashes, not a test (it takes about a minute and depends on timing).

A turn refused or cut off by the kill (the caller got no answer) may or may not be in
the transcript; the CTI documents no retry, and the next callback goes on from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.run import bot, bot_env, free_port

CALLERS = 40
KILLS = 5
SECONDS_BETWEEN_KILLS = 6.0
# One call: greeting, business, ID number, confirmation, the claim read out, goodbye.
CONVERSATION = ("ready2speak", "我想查一下报销进度", "幺幺零幺零五幺九四九幺二三幺零零二叉", "对的", "再见")
STEPS_AFTER = ("greeting", "query_progress", "query_progress", "menu", "goodbye")
HEARD = (None, *CONVERSATION[1:])  # as the transcript has them: a silence has no text


def start(port: int, data_dir: Path, log: Any) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        bot(port), env={**os.environ, **bot_env(data_dir)}, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    while True:
        if proc.poll() is not None:
            raise RuntimeError("voicebot serve exited while starting")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc
        time.sleep(0.05)


async def caller(base: str, n: int, stop: asyncio.Event, answered: list[tuple[str, int]]) -> None:
    """Calls one after another; each callback answered 200 is recorded."""
    rounds = 0
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        while not stop.is_set():
            call_id = f"kill-{n}-{rounds}"
            rounds += 1
            index = 0
            while index < len(CONVERSATION) and not stop.is_set():
                params = {"telnum": "13800138000", "txt": CONVERSATION[index], "callid": call_id}
                try:
                    response = await client.get("/cti/ai", params=params)
                except httpx.TransportError:
                    await asyncio.sleep(0.2)  # the bot is down: the CTI would say it again later
                    continue
                if response.status_code == 200:
                    answered.append((call_id, index))
                    index += 1
                await asyncio.sleep(random.uniform(0.05, 0.3))  # the caller listens, then speaks


async def play(base: str, proc_box: list[subprocess.Popen[bytes]], restart: Any) -> list[tuple[str, int]]:
    answered: list[tuple[str, int]] = []
    stop = asyncio.Event()
    callers = [asyncio.create_task(caller(base, n, stop, answered)) for n in range(CALLERS)]
    for _ in range(KILLS):
        await asyncio.sleep(SECONDS_BETWEEN_KILLS)
        proc_box[0].send_signal(signal.SIGKILL)
        proc_box[0].wait()
        proc_box[0] = await asyncio.to_thread(restart)
    await asyncio.sleep(SECONDS_BETWEEN_KILLS)
    stop.set()
    await asyncio.gather(*callers)
    return answered


def stored_turns(data_dir: Path) -> dict[str, list[tuple[str | None, str | None]]]:
    with contextlib.closing(sqlite3.connect(data_dir / "voicebot.sqlite3")) as db:
        rows = db.execute(
            "SELECT call_id, json_extract(data, '$.text'), json_extract(data, '$.step') "
            "FROM turns WHERE json_extract(data, '$.event') != 'pbx' ORDER BY id"
        ).fetchall()
    turns: dict[str, list[tuple[str | None, str | None]]] = {}
    for call_id, text, step in rows:
        turns.setdefault(call_id, []).append((text, step))
    return turns


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as log:
        data_dir = Path(tmp) / "var"
        proc_box = [start(port, data_dir, log)]
        began = time.perf_counter()
        try:
            answered = asyncio.run(
                play(f"http://127.0.0.1:{port}", proc_box, lambda: start(port, data_dir, log))
            )
        finally:
            proc_box[0].send_signal(signal.SIGTERM)
            proc_box[0].wait(timeout=30)
        seconds = time.perf_counter() - began
        turns = stored_turns(data_dir)
    missing = [
        (call_id, i) for call_id, i in answered if (HEARD[i], STEPS_AFTER[i]) not in turns.get(call_id, [])
    ]
    # A turn committed but cut off before its answer left is said again by this caller
    # (after the retry window: a restart takes longer), and heard anew at the next step:
    # those calls are counted apart, their steps are the dialog's, not a lost state's.
    said_again = {c for c, said in turns.items() if len({t for t, _ in said}) < len(said)}
    out_of_step = Counter(
        call_id
        for call_id, said in turns.items()
        if call_id not in said_again
        for (text, step) in said
        if text in HEARD and step != STEPS_AFTER[HEARD.index(text)]
    )
    print(f"{len(answered)} turns answered by {CALLERS} callers in {seconds:.0f} s, {KILLS} × kill -9")
    print(f"answered turns missing from the transcripts: {len(missing)}")
    print(f"calls with a turn not at its step (restarted at the wrong place): {len(out_of_step)}")
    print(f"calls whose caller said a cut-off turn again: {len(said_again)}")
    if missing[:5]:
        print("  e.g.", missing[:5])
    for call_id in list(out_of_step)[:3]:
        print(f"  {call_id}: {turns[call_id]}")


if __name__ == "__main__":
    main()
