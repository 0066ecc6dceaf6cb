"""What the operators' layers cost a turn: the app as served against the same app
without them, in one process, in alternating batches (issue 13's target, ≤ 5 %).

The layers: the edge (the Host check, the count of the CTI's callbacks, the access line;
``bot/web/edge.py``), the access guard and the cookie sessions (``bot/web/auth.py``), and
the metrics moved inside a turn (``bot/metrics.py``). "Without" unwraps the edge (keeping
the fast endpoint it hands ``/cti/ai`` to, ``bot/cti/fast.py``), drops
the guard's hook, puts back Quart's own session interface with no secret key, and makes
the metrics' calls do nothing during its own batches. Both apps play the workload of
``bench/run.py`` (the same calls and utterances) through ASGI calls, with no server in
between: the figure is of our own code, and a server's share of each request would only
dilute it. Measured: the process's CPU time per turn (``time.process_time``, the writer
threads included), at ``INFO``, so that every callback writes its access line (to
``/dev/null``). Batches are short (64 turns) and alternate, so a slow moment of the
machine (they last seconds on a shared VM) hits both; each app's first batch is left out.

    .venv/bin/python -m bench.operators

``make bench`` runs it in a process of its own and prints ``cost_pct``: the median of
the 150 pairs' ratios, less one, and the same over each half (how steady it is). The
median leaves out the few batches a full collection of the heap lands in (over 100 ms
of one batch of either app, at random: ±8 % on a ratio of sums, which is printed too as
``cost_pct_of_sums``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import quote

from quart import Quart
from quart.sessions import SecureCookieSessionInterface

from bot import metrics
from bot.app import create_app
from bot.config import load_settings
from bot.logs import configure_logging

ROOT = Path(__file__).resolve().parent.parent
BATCH_TURNS = 64  # short batches, alternating: a slow moment of the machine (seconds) hits both
ROUNDS = 150  # batches of each app: 9,600 turns each
WARM_TURNS = 2000  # every call pattern twice: the templated prompts are synthesized first
CONCURRENT_TURNS = 32  # as wrk's connections in bench/run.py
UTTERANCES_PER_CALL = 3


def build(data_dir: Path, *, layers: bool) -> Quart:
    os.environ["VOICEBOT_DATA_DIR"] = str(data_dir)
    app = create_app(load_settings())
    if not layers:
        edge: Any = app.asgi_app
        app.asgi_app = _without_edge(edge)  # type: ignore[method-assign]
        guards = app.before_request_funcs[None]
        app.before_request_funcs[None] = [hook for hook in guards if hook.__name__ != "_guard"]
        app.secret_key = None
        app.session_interface = SecureCookieSessionInterface()
    return app


def _without_edge(edge: Any) -> Callable[..., Any]:
    """The app the edge wraps, and the fast endpoints it hands its paths to, without the
    edge's own work (the Host check, the count, the access line)."""

    async def dispatch(scope: Any, receive: Any, send: Any) -> None:
        # The lifespan's scope (start-up, shutdown) has no method and no path.
        http = scope["type"] == "http" and scope["method"] in ("GET", "POST")
        fast = edge.fast.get(scope["path"]) if http else None
        await (fast or edge.app)(scope, receive, send)

    return dispatch


@contextmanager
def metrics_off() -> Iterator[None]:
    """The metrics' calls do nothing inside the block."""
    names = [name for name in dir(metrics) if name.startswith(("count_", "observe_"))]
    saved = {name: getattr(metrics, name) for name in names}
    for name in names:
        setattr(metrics, name, _nothing)
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(metrics, name, function)


def _nothing(*args: object, **kwargs: object) -> None:
    return None


async def turn(app: Quart, number: int, tag: str) -> None:
    """One text turn of call ``number % 1000``, as ``bench/run.py``'s workload has it."""
    from bench.run import UTTERANCES  # noqa: PLC0415  # bench.run imports this module

    call = number % 1000
    text = UTTERANCES[(call + 4 * (number // 1000)) % len(UTTERANCES)]
    query = f"telnum=1&callid={tag}-{call}&txt={quote(text)}".encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/cti/ai",
        "raw_path": b"/cti/ai",
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }
    answered = asyncio.Event()
    statuses: list[int] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
        elif not message.get("more_body"):
            answered.set()

    await app(scope, receive, send)  # type: ignore[arg-type]
    if statuses != [200]:
        raise RuntimeError(f"turn {number} of {tag} answered {statuses}")


async def batch(app: Quart, first: int, tag: str) -> float:
    """CPU microseconds per turn of ``BATCH_TURNS`` turns, ``CONCURRENT_TURNS`` at a time."""
    slots = asyncio.Semaphore(CONCURRENT_TURNS)

    async def one(number: int) -> None:
        async with slots:
            await turn(app, number, tag)

    began = time.process_time()
    await asyncio.gather(*(one(first + i) for i in range(BATCH_TURNS)))
    return (time.process_time() - began) / BATCH_TURNS * 1e6


async def compare(apps: dict[str, Quart], switches: dict[str, Callable[[], Any]]) -> dict[str, list[float]]:
    async with apps["with"].test_app(), apps["without"].test_app():
        for tag, app in apps.items():
            for number in range(WARM_TURNS):
                await turn(app, number, tag)
        for tag, app in apps.items():  # the first batch of each was the slowest, by 10–30 %
            await batch(app, WARM_TURNS, tag)
        costs: dict[str, list[float]] = {tag: [] for tag in apps}
        turns = dict.fromkeys(apps, WARM_TURNS + BATCH_TURNS)
        for index in range(ROUNDS * 2):
            tag = ("with", "without")[(index + index // 2) % 2]  # with, without, without, with…
            with switches[tag]():
                costs[tag].append(await batch(apps[tag], turns[tag], tag))
            turns[tag] += BATCH_TURNS
        return costs


def run() -> dict[str, float]:
    os.environ.setdefault("VOICEBOT_FLOWS_DIR", str(ROOT / "flows"))
    configure_logging("INFO")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115  # closed with the process
    with tempfile.TemporaryDirectory() as with_dir, tempfile.TemporaryDirectory() as without_dir:
        apps = {"with": build(Path(with_dir), layers=True), "without": build(Path(without_dir), layers=False)}
        costs = asyncio.run(compare(apps, {"with": nullcontext, "without": metrics_off}))
    ratios = [a / b for a, b in zip(costs["with"], costs["without"], strict=True)]
    half = ROUNDS // 2
    return {
        "with_layers_us_per_turn": round(statistics.median(costs["with"]), 1),
        "without_us_per_turn": round(statistics.median(costs["without"]), 1),
        "cost_pct": round((statistics.median(ratios) - 1) * 100, 1),
        # How steady it is: the same figure over each half of the batches.
        "cost_pct_first_half": round((statistics.median(ratios[:half]) - 1) * 100, 1),
        "cost_pct_second_half": round((statistics.median(ratios[half:]) - 1) * 100, 1),
        # With the rare slow batches counted (a full collection of the heap lands in one
        # batch of either app, at random): the ratio of the whole CPU times.
        "cost_pct_of_sums": round((sum(costs["with"]) / sum(costs["without"]) - 1) * 100, 1),
        "rounds": ROUNDS,
    }


def in_subprocess() -> dict[str, float]:
    """:func:`run` in a process of its own (it sets the environment and the logging up)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.operators", "--json"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    figures = run()
    print(json.dumps(figures) if sys.argv[1:] == ["--json"] else f"operators' layers: {figures}", flush=True)
