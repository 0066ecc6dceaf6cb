"""``make bench``: throughput, latency, memory and start-up of one worker (issues 2 and 17).

Run with ``make bench`` (the short profile: a few minutes plus the sections' own) or
``BENCH=full make bench`` (``make bench BENCH=full`` too): it adds 2,000 concurrent
paced calls and a 10-minute soak. Every figure is measured here, on this machine,
against real processes on loopback; the output is printed and written to
``bench/results/latest.json`` after each section (a failing section is reported and
the others still run). ``python -m bench.run --only calls`` runs sections alone and
updates the figures of the last run. Every target ends as one printed line,
``target … : met (…)`` or ``target … : missed (gap …; …)``, also under ``verdicts``.

The sections (``SECTIONS`` below, in order):

- bot: start-up (process start to ``/healthz`` 200, with an empty audio cache and a
  warm one), RSS at start and after 1,000 calls are live, the warm-up's slowest turn
  (templated prompts synthesized on first use), an open-loop generator sending text
  turns at a fixed 200/s timed from each one's scheduled start, and saturation: ``wrk``
  (one thread, 32 connections) against the bot's text turns (``bench/turns.lua``) and,
  in the same run with the same script, against a bare Quart endpoint
  (``bench/bare.py``), in alternating rounds, the median round of each reported;
- operators' layers: what the edge, the access guard and the metrics cost a turn, the
  app with them against the same app without them, in one process (``bench/operators.py``);
- parse: intent and slots of one utterance for the sample flows and one with every
  built-in intent, in this process (``bench/parse.py``);
- knowledge: the knowledge base at 10,000 entries, in this process (``bench/knowledge.py``);
- llm: what the bot's own side of the language model costs a turn, against a fake model
  that answers at once, in this process (``bench/llm.py``);
- instances: the embedded default against one and two instances (and ``--workers 2``) on
  Redis and PostgreSQL, in alternating rounds (``bench/instances.py``);
- calls: calls played the way the CTI plays them (``bench/calls.py``): paced calls,
  the call mix at 500 turns/s, saturation of the bot, the baseline (bare Quart under the
  bot's server) and the limit (bare Quart under the fastest ASGI server); with the full
  profile, 2,000 concurrent calls and the soak at half of saturation;
- uncached: time to first audio of a turn whose prompt must be synthesized, for
  espeak-ng and each vendor backend against its fake with an assumed latency, and what
  the filler does to it (``bench/uncached.py``);
- stores: what a turn and a call cost Redis and PostgreSQL, one and two instances, and a
  model of N instances on N machines (``bench/stores.py``; the stores' capacity replays
  with the full profile only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psutil

from bench import calls as calls_bench
from bench import instances as instances_bench
from bench import knowledge as knowledge_bench
from bench import llm as llm_bench
from bench import operators as operators_bench
from bench import parse as parse_bench
from bench import stores as stores_bench
from bench import uncached as uncached_bench

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "turns.lua"
# Call k of the 1,000 gets utterances k, k+4, k+8 (mod 12) in turn (1000 ≡ 4 mod 12), so
# each call loops through one column: a question with its slot in the same breath
# (slot-first, then a confirmation; later the slot is known and the lookup or the
# reference number follows at once), a yes, and a global question (service hours) that
# digresses and resumes the step. No call ever ends: every request is a full turn.
UTTERANCES = [
    "查一下身份证11010519491231002X的报销进度",
    "我的医保卡丢了，手机号幺三八幺二三四五六七八",
    "帮我查报销进度，身份证号三二零一零二一九九零零一零一一二三二",
    "医保卡挂失，电话13912345678",
    "对",
    "对的",
    "是的",
    "没错",
    "你们几点下班",
    "几点上班啊",
    "服务时间是什么时候",
    "周末上班吗",
]
WRK_SECONDS = 8
WRK_ROUNDS = 5  # bot and baseline alternate, so a slow moment of the machine hits both
RATE_PER_SECOND = 200
RATE_SECONDS = 10
LIVE_CALLS = 1000
# Issue 17's start-up and memory targets (the others are bench/calls.py's).
# Start-ups measured, medians taken: the first start after a change also compiles the
# changed modules, and one start on a shared machine is noisy.
STARTUP_RUNS = 3
STARTUP_EMPTY_TARGET_SECONDS = 2.0
STARTUP_WARM_TARGET_SECONDS = 1.0
RSS_AT_START_TARGET_MB = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(
    command: list[str], env: dict[str, str], ready_url: str
) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """Start a server, wait until ``ready_url`` answers 200; yield it and its start-up seconds."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as log:  # not a pipe: nobody reads it while the server runs
        proc = subprocess.Popen(
            command, env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"{command[0]} exited: {log.read().decode(errors='replace')}")
                try:
                    if httpx.get(ready_url, timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
            yield proc, time.perf_counter() - began
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def bot(port: int) -> list[str]:
    return [str(Path(sys.executable).with_name("voicebot")), "serve", "--port", str(port)]


def bot_env(data_dir: Path) -> dict[str, str]:
    return {
        "VOICEBOT_DATA_DIR": str(data_dir),
        "VOICEBOT_FLOWS_DIR": str(ROOT / "flows"),
        "VOICEBOT_LOG_LEVEL": "WARNING",
    }


def wrk(base: str) -> float:
    """Requests per second at saturation."""
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{WRK_SECONDS}s", "--latency", "-s", str(LUA), base],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} failed responses:\n{out}")
    return rps


async def open_loop(base: str, rate: int, seconds: int) -> dict[str, float]:
    """Send text turns at a fixed rate; latency from each request's scheduled start."""
    total = rate * seconds
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            nonlocal failures
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            path = f"/cti/ai?telnum=1&callid=rate-{i % 1000}&txt={quote(UTTERANCES[i % len(UTTERANCES)])}"
            response = await client.get(path)
            if response.status_code != 200 or not response.text.startswith("http"):
                failures += 1
            latencies.append((time.perf_counter() - scheduled) * 1000)

        await asyncio.gather(*(one(i) for i in range(total)))
    latencies.sort()
    return {
        "requests": total,
        "failures": failures,
        "p50_ms": round(statistics.median(latencies), 2),
        "p90_ms": round(latencies[int(total * 0.90) - 1], 2),
        "p99_ms": round(latencies[int(total * 0.99) - 1], 2),
        "max_ms": round(latencies[-1], 2),
    }


async def warm_up(base: str) -> dict[str, float]:
    """Play every call pattern of the workload once, so the templated prompts it says
    (a confirmation that reads an ID number back, a claim's amount) are synthesized before
    the steady state is measured; returns the slowest of those first turns."""
    slowest = 0.0
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for k in range(len(UTTERANCES)):
            for j in range(6):  # two rounds of the call's three utterances
                txt = UTTERANCES[(k + 4 * j) % len(UTTERANCES)]
                started = time.perf_counter()
                response = await client.get(
                    "/cti/ai", params={"telnum": "1", "callid": f"warm-{k}", "txt": txt}
                )
                response.raise_for_status()
                slowest = max(slowest, (time.perf_counter() - started) * 1000)
    return {"slowest_first_turn_ms": round(slowest, 1)}


async def make_live_calls(base: str, count: int) -> None:
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        semaphore = asyncio.Semaphore(50)

        async def one(i: int) -> None:
            async with semaphore:
                for txt in ("ready2speak", "我想查一下报销进度"):
                    (
                        await client.get("/cti/ai", params={"telnum": "1", "callid": f"live-{i}", "txt": txt})
                    ).raise_for_status()

        await asyncio.gather(*(one(i) for i in range(count)))


def bot_section(results: dict[str, Any], profile: str) -> list[str]:
    """Start-up, memory, warm-up, the fixed rate and saturation with ``turns.lua`` (the
    keys of latest.json that predate the sections: they stay at its top level)."""
    workdir = Path(tempfile.mkdtemp(prefix="voicebot-bench-"))
    try:
        bot_port, bare_port = free_port(), free_port()
        base, bare_base = f"http://127.0.0.1:{bot_port}", f"http://127.0.0.1:{bare_port}"
        colds, warms = [], []
        for run in range(STARTUP_RUNS):  # each on an empty data directory, then again on it
            data_dir = workdir / f"var-{run}"
            with process(bot(bot_port), bot_env(data_dir), f"{base}/healthz") as (_, cold):
                colds.append(cold)
            if run < STARTUP_RUNS - 1:
                with process(bot(bot_port), bot_env(data_dir), f"{base}/healthz") as (_, warm):
                    warms.append(warm)
        bare_command = [sys.executable, "-m", "bench.bare", "--port", str(bare_port)]
        with (
            process(bot(bot_port), bot_env(data_dir), f"{base}/healthz") as (proc, warm),
            process(bare_command, {}, f"{bare_base}/cti/ai?x=1"),
        ):
            warms.append(warm)
            results["startup_seconds"] = {
                "empty_audio_cache": round(statistics.median(colds), 2),
                "warm_audio_cache": round(statistics.median(warms), 2),
                "runs": {
                    "empty_audio_cache": [round(c, 2) for c in colds],
                    "warm_audio_cache": [round(w, 2) for w in warms],
                },
            }
            print("start-up:", results["startup_seconds"], flush=True)
            at_start = psutil.Process(proc.pid).memory_info().rss
            asyncio.run(make_live_calls(base, LIVE_CALLS))
            health = httpx.get(f"{base}/healthz").json()
            rss = psutil.Process(proc.pid).memory_info().rss
            results["memory"] = {
                "live_calls": health["live_calls"],
                "rss_mb": round(rss / 2**20, 1),
                "rss_at_start_mb": round(at_start / 2**20, 1),
            }
            print("memory:", results["memory"], flush=True)
            results["warm_up"] = asyncio.run(warm_up(base))
            print("warm-up (templated prompts synthesized on first use):", results["warm_up"], flush=True)
            fixed = asyncio.run(open_loop(base, RATE_PER_SECOND, RATE_SECONDS))
            results["fixed_rate"] = {"rate_per_second": RATE_PER_SECOND, **fixed}
            print("fixed rate:", results["fixed_rate"], flush=True)
            rounds: dict[str, list[float]] = {"bot": [], "bare_quart": []}
            for _ in range(WRK_ROUNDS):
                rounds["bot"].append(wrk(base))
                rounds["bare_quart"].append(wrk(bare_base))
                print("saturation round (turns/s):", {k: v[-1] for k, v in rounds.items()}, flush=True)
        for name, values in rounds.items():
            results[name] = {"requests_per_second": statistics.median(values), "rounds": values}
        share = results["bot"]["requests_per_second"] / results["bare_quart"]["requests_per_second"]
        results["bot_share_of_bare"] = round(share, 3)
        print(f"bot turns/s = {share:.1%} of the bare Quart endpoint (medians of {WRK_ROUNDS} rounds)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return startup_verdicts(results)


def startup_verdicts(results: dict[str, Any]) -> list[str]:
    """Issue 17's start-up and memory targets."""
    lines = []
    for key, what, limit in (
        ("empty_audio_cache", "start-up with an empty audio cache", STARTUP_EMPTY_TARGET_SECONDS),
        ("warm_audio_cache", "start-up with a warm audio cache", STARTUP_WARM_TARGET_SECONDS),
    ):
        seconds = results["startup_seconds"][key]
        lines.append(
            _verdict(
                f"{what} ≤ {limit:g} s", seconds <= limit, f"{seconds:.2f} s", f"{seconds - limit:.2f} s"
            )
        )
    rss = results["memory"]["rss_at_start_mb"]
    target = RSS_AT_START_TARGET_MB
    lines.append(
        _verdict(f"RSS at start ≤ {target} MB", rss <= target, f"{rss:.1f} MB", f"{rss - target:.1f} MB")
    )
    return lines


def _verdict(target: str, met: bool, measured: str, gap: str) -> str:
    return (
        f"target {target} : met ({measured})" if met else f"target {target} : missed (gap {gap}; {measured})"
    )


def operators_section(results: dict[str, Any], profile: str) -> list[str]:
    results["operators"] = operators_bench.in_subprocess()
    print(
        "operators' layers (edge, access guard, sessions, metrics), CPU per turn:",
        results["operators"],
        flush=True,
    )
    return []


def parse_section(results: dict[str, Any], profile: str) -> list[str]:
    results["parse"] = parse_bench.run()
    return []


def knowledge_section(results: dict[str, Any], profile: str) -> list[str]:
    results["knowledge"] = knowledge_bench.run()
    return []


def llm_section(results: dict[str, Any], profile: str) -> list[str]:
    results["llm"] = llm_bench.run()
    return []


def instances_section(results: dict[str, Any], profile: str) -> list[str]:
    results["instances"] = instances_bench.run()
    return []


def calls_section(results: dict[str, Any], profile: str) -> list[str]:
    """The call generator (bench/calls.py): paced calls, the call mix at 500 turns/s,
    saturation against the baseline and the limit; with BENCH=full, 2,000 calls and the soak."""
    results["calls"], verdicts = calls_bench.section(profile)
    return verdicts


def uncached_section(results: dict[str, Any], profile: str) -> list[str]:
    """Time to first audio of a turn whose prompt must be synthesized, for espeak-ng and
    each vendor against its fake (bench/uncached.py); one call per case unless full."""
    results["uncached"] = uncached_bench.run(repeats=1 if profile == "short" else uncached_bench.REPEATS)
    return []


def stores_section(results: dict[str, Any], profile: str) -> list[str]:
    """What a turn costs Redis and PostgreSQL, and the model of N instances (bench/stores.py);
    the stores' capacity replays only with BENCH=full."""
    results["stores"] = stores_bench.run(replay=profile == "full")
    return []


# A section: what it measures goes into ``results`` (latest.json) under its own keys; it
# returns its verdict lines (``target … : met (…)`` / ``target … : missed (gap …; …)``).
Section = Callable[[dict[str, Any], str], list[str]]

# =====================================================================================
# THE SECTIONS OF `make bench`, in the order they run. Hook a new section in here:
# ("name", function) with the signature of ``Section`` above; `--only name` runs it alone.
# =====================================================================================
SECTIONS: list[tuple[str, Section]] = [
    ("bot", bot_section),
    ("operators", operators_section),
    ("parse", parse_section),
    ("knowledge", knowledge_section),
    ("llm", llm_section),
    ("instances", instances_section),
    ("calls", calls_section),
    ("uncached", uncached_section),
    ("stores", stores_section),
]
# =====================================================================================


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The benchmarks of `make bench`.")
    parser.add_argument(
        "--profile",
        choices=("short", "full"),
        default=os.environ.get("BENCH") or "short",
        help="short (default), or full (also BENCH=full): 2,000 paced calls and the 10-minute soak",
    )
    names = [name for name, _ in SECTIONS]
    parser.add_argument("--only", nargs="+", choices=names, help="run these sections alone")
    args = parser.parse_args(argv)
    out = ROOT / "bench" / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    results: dict[str, Any] = {}
    if args.only and out.exists():  # a partial run updates the last full one
        results = json.loads(out.read_text())
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    results["profile"] = args.profile
    verdicts: dict[str, list[str]] = results.setdefault("verdicts", {}) if args.only else {}
    results["verdicts"] = verdicts
    failed = []
    for name, run_section in SECTIONS:
        if args.only and name not in args.only:
            continue
        print(f"== {name} ({args.profile} profile)", flush=True)
        try:
            verdicts[name] = run_section(results, args.profile)
        except Exception:  # one section's failure does not lose the others' figures
            traceback.print_exc()
            failed.append(name)
            results.setdefault("failed_sections", []).append(name)
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print("\n".join(line for lines in verdicts.values() for line in lines))
    if failed:
        print(f"failed sections: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
