"""Saturation with the call mix: the bot, the baseline and the limit, in one run.

A Python client cannot saturate a server on two cores, so ``wrk`` (C) drives it, with
``bench/calls.lua`` replaying the callbacks of generated calls (bench/calls_script.py)
that this module writes to a file: ``LANES`` calls at a time, round robin, each call's
events in order, no pacing, the hang-up pushes left out (the bare endpoints serve
``/cti/ai`` alone). Each run tags its call ids, so no call is played twice.

Servers, all up at once, measured in alternating rounds (a slow moment of the machine
hits them all), each figure the median of its rounds:

- ``bot``: ``voicebot serve`` (started by the caller, warmed up);
- ``baseline``: the bare Quart endpoint (bench/bare.py) under the bot's own server set-up
  (Granian embedded, ``bot.server.run``);
- the limit's candidates: the same bare endpoint under the fastest ASGI servers there
  are: Granian standalone with its fastest options, uvicorn with httptools and uvloop,
  Hypercorn with uvloop. The limit is the fastest of them in this run, the baseline
  included (since the bot runs on uvloop, its own set-up can be the fastest); all are
  reported.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import httpx

from bench.calls_script import ScriptWriter, interleaved
from bench.servers import free_port, stop_process

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "calls.lua"
LANES = 512  # calls at a time: a call's next callback comes 512 requests after its previous one
FILE_REQUESTS = 60_000
WRK_CONNECTIONS = 32
START_TIMEOUT_SECONDS = 60.0
READY_PATH = "/cti/ai?telnum=1&callid=ready&txt=ready2speak"


def _venv_bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@dataclass(frozen=True)
class Candidate:
    name: str
    description: str
    command: Callable[[int], list[str]]


LIMIT_CANDIDATES = (
    Candidate(
        "granian",
        "Granian standalone: 1 worker, single-threaded runtime, uvloop, HTTP/1 only",
        lambda port: [
            *(_venv_bin("granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port)),
            *("--workers", "1", "--runtime-mode", "st", "--loop", "uvloop", "--no-ws", "--http", "1"),
            *("--log-level", "warning", "--no-access-log", "--factory", "bench.bare:create_app"),
        ],
    ),
    Candidate(
        "uvicorn",
        "uvicorn: httptools, uvloop, no access log, no lifespan",
        lambda port: [
            *(_venv_bin("uvicorn"), "--factory", "bench.bare:create_app", "--host", "127.0.0.1"),
            *("--port", str(port), "--http", "httptools", "--loop", "uvloop", "--no-access-log"),
            *("--log-level", "warning", "--lifespan", "off"),
        ],
    ),
    Candidate(
        "hypercorn",
        "Hypercorn: uvloop worker, 1 worker",
        lambda port: [
            *(_venv_bin("hypercorn"), "--bind", f"127.0.0.1:{port}", "--worker-class", "uvloop"),
            *("--workers", "1", "--log-level", "warning", "bench.bare:create_app()"),
        ],
    ),
)


def write_requests(path: Path, seed: int, lanes: int = LANES, count: int = FILE_REQUESTS) -> dict[str, int]:
    """The callbacks of generated calls, one path a line, for ``bench/calls.lua``; the mix."""
    mix: Counter[str] = Counter()
    with path.open("w") as out:
        for kind, request in islice(interleaved(ScriptWriter(seed, "sat"), lanes, pushes=False), count):
            mix[kind.value] += 1
            out.write(request + "\n")
    return dict(mix.most_common())


@contextmanager
def serving(
    command: list[str], port: int, env: dict[str, str] | None = None, ready_path: str = READY_PATH
) -> Iterator[int]:
    """``command`` started, until ``ready_path`` on ``port`` answers 200; its pid. Stopped on the way out."""
    with tempfile.TemporaryFile() as log:  # not a pipe: nobody reads it while the server runs
        proc = subprocess.Popen(
            command,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while not _answers(f"http://127.0.0.1:{port}{ready_path}"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(
                        f"{command[0]} did not start: {log.read().decode(errors='replace')[-2000:]}"
                    )
                time.sleep(0.05)
            yield proc.pid
        finally:
            stop_process(proc)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    base: str, requests: Path, tag: str, seconds: int, connections: int = WRK_CONNECTIONS
) -> dict[str, Any]:
    """One ``wrk`` run of the call mix: requests/s, its p50/p99 and what failed."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA), base]
    out = subprocess.run(
        [*command, "--", str(requests), tag], check=True, capture_output=True, text=True, timeout=seconds + 60
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    latency = {f"p{q}_ms": round(float(v) * _UNIT_MS[unit], 2) for q, v, unit in _LATENCY.findall(out)}
    return {
        "requests_per_second": round(float(rps.group(1)), 1),
        **latency,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in socket.groups()) if socket else 0,
    }


def _start_limits(stack: ExitStack) -> tuple[dict[str, str], dict[str, str]]:
    """The limit's candidates that start here, by name (their base URLs), and why the others did not."""
    bases, skipped = {}, {}
    for candidate in LIMIT_CANDIDATES:
        port = free_port()
        try:
            stack.enter_context(serving(candidate.command(port), port))
        except (RuntimeError, OSError) as exc:
            skipped[candidate.name] = str(exc).splitlines()[0][:200]
            print(
                f"saturation: limit candidate {candidate.name} skipped: {skipped[candidate.name]}", flush=True
            )
            continue
        bases[f"limit_{candidate.name}"] = f"http://127.0.0.1:{port}"
    return bases, skipped


def run(bot_base: str, workdir: Path, *, seed: int, rounds: int, seconds: int) -> dict[str, Any]:
    """The bot, the baseline and the limit's candidates in ``rounds`` alternating rounds."""
    requests = workdir / "calls-requests.txt"
    mix = write_requests(requests, seed)
    per: dict[str, list[dict[str, Any]]] = {}
    with ExitStack() as stack:
        baseline_port = free_port()
        baseline = [sys.executable, "-m", "bench.bare", "--port", str(baseline_port)]
        stack.enter_context(serving(baseline, baseline_port))
        limits, skipped = _start_limits(stack)
        bases = {"bot": bot_base, "baseline": f"http://127.0.0.1:{baseline_port}", **limits}
        for r in range(rounds):
            for name, base in bases.items():
                per.setdefault(name, []).append(wrk(base, requests, f"r{r}{name[:3]}", seconds))
            row = {name: values[-1]["requests_per_second"] for name, values in per.items()}
            print(f"saturation round {r + 1}/{rounds} (requests/s): {row}", flush=True)
    return _results(per, mix, skipped, rounds, seconds)


def _results(
    per: dict[str, list[dict[str, Any]]],
    mix: dict[str, int],
    skipped: dict[str, str],
    rounds: int,
    seconds: int,
) -> dict[str, Any]:
    servers: dict[str, Any] = {}
    for name, values in per.items():
        servers[name] = {
            "requests_per_second": statistics.median(v["requests_per_second"] for v in values),
            "p50_ms": statistics.median(v.get("p50_ms", 0.0) for v in values),
            "p99_ms": statistics.median(v.get("p99_ms", 0.0) for v in values),
            "errors": sum(v["non_2xx"] + v["socket_errors"] for v in values),
            "rounds": [v["requests_per_second"] for v in values],
        }
    # The fastest server for the bare endpoint, the bot's own set-up (the baseline) included.
    limits = {name: s for name, s in servers.items() if name.startswith("limit_") or name == "baseline"}
    fastest = max(limits, key=lambda name: limits[name]["requests_per_second"]) if limits else None
    bot, baseline = servers["bot"]["requests_per_second"], servers["baseline"]["requests_per_second"]
    limit = limits[fastest]["requests_per_second"] if fastest else None
    return {
        "tool": f"wrk -t1 -c{WRK_CONNECTIONS} -d{seconds}s, bench/calls.lua",
        "rounds": rounds,
        "seconds": seconds,
        "lanes": LANES,
        "mix": mix,
        "servers": servers,
        "limit": fastest.removeprefix("limit_") if fastest else None,
        "limit_requests_per_second": limit,
        "limit_candidates": {c.name: c.description for c in LIMIT_CANDIDATES},
        "skipped": skipped,
        "bot_turns_per_second": bot,
        "bot_share_of_limit": round(bot / limit, 3) if limit else None,
        "baseline_share_of_limit": round(baseline / limit, 3) if limit else None,
        "bot_share_of_baseline": round(bot / baseline, 3) if baseline else None,
    }


def summary(results: dict[str, Any]) -> str:
    lines = [f"saturation with the call mix ({results['tool']}; medians of {results['rounds']} rounds):"]
    for name, s in results["servers"].items():
        rounds = " / ".join(f"{v:,.0f}" for v in s["rounds"])
        lines.append(
            f"  {name:<16} {s['requests_per_second']:>9,.0f}/s  p50 {s['p50_ms']:.2f} ms"
            f"  p99 {s['p99_ms']:.2f} ms  errors {s['errors']}  (rounds {rounds})"
        )
    if results["limit"]:
        lines.append(
            f"  limit = {results['limit']}; bot {results['bot_share_of_limit']:.1%} of it, baseline "
            f"{results['baseline_share_of_limit']:.1%}; "
            f"bot {results['bot_share_of_baseline']:.1%} of the baseline"
        )
    return "\n".join(lines)
