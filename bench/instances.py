"""One instance against two, on Redis and PostgreSQL, and the embedded default, in one run.

Run alone with ``.venv/bin/python -m bench.instances`` (3 to 4 minutes), or as a
section of ``make bench``. Configurations, each started fresh (an empty data directory,
an emptied Redis database, a PostgreSQL database created for it and dropped after):

- ``embedded``: one ``voicebot serve``, live calls and transcripts in SQLite (the default);
- ``shared_1``: one ``voicebot serve`` on Redis (``VOICEBOT_REDIS_URL``) and PostgreSQL
  (``VOICEBOT_DATABASE_URL``);
- ``shared_2``: two ``voicebot serve`` on two ports, both on the same Redis and PostgreSQL;
- ``workers_2``: ``voicebot serve --workers 2`` on one port, on Redis and PostgreSQL.

For each, after a warm-up that plays every call pattern once on every instance (so
templated prompts are synthesized before anything is timed):

- latency: the open-loop workload of ``bench/run.py`` (the same utterances and call ids)
  at a fixed 200 turns/s in all, each request timed from its scheduled start. With two
  instances the requests go to them in turn and each call alternates between them
  (call *k*'s *j*-th turn goes to instance (k + j) mod 2), as a load balancer without
  affinity would send them, so every turn's state comes from the other instance
  through Redis. The client is a small keep-alive HTTP/1.1 one (``bench/http_client.py``), not
  httpx: httpx's pool slows down sharply once it holds many connections at once, so
  against a server a few milliseconds slower it fell behind the schedule by seconds
  and timed itself (p50 10 s at 200/s against a server that ``wrk`` drove at 470/s);
- saturation: ``wrk -t1 -d…`` with ``bench/turns.lua``'s text turns, 32 connections in
  all. With two instances, one ``wrk`` per instance runs at the same time, 16
  connections each, on disjoint call ids (a copy of the script whose call ids are
  ``bench-a-…`` and ``bench-b-…``), and their turns/s are summed. Summing concurrent
  runs rather than alternating them is the figure a balancer in front of both would
  see: alternating would time each instance alone while the other idles, and so count
  the machine's two cores twice. The total of 32 connections is the same as one
  instance gets, so only the serving side differs. ``--workers 2`` gets one ``wrk`` of
  32 connections on its one port (the kernel spreads the connections between workers).

The configurations alternate in rounds (the order rotates each round), so a slow
moment of the machine hits all of them alike; each figure is the median of its rounds.
Also reported: start-up to ``/healthz`` 200 (both instances, or both workers,
listening; the instances start at once), the bot processes' RSS after the run (summed
over instances or workers), the CPU the bot processes and the private Redis and
PostgreSQL servers used during the saturation runs, in cores, and the failures (open
loop failures and ``wrk`` socket errors; a non-2xx answer stops the run).

Servers: ``VOICEBOT_BENCH_REDIS_URL`` (``redis://host:port/N``, database 14 when none is
named; **it is emptied** before each configuration) and ``VOICEBOT_BENCH_DATABASE_URL``
(``postgresql://user@host:port/db``; the user must be allowed to create databases) name
servers to use. Unset, a private ``redis-server`` (no persistence, as the tests run it)
and a private PostgreSQL cluster (default settings: fsync and synchronous commit on,
like the transcripts' production set-up) are started on free ports in a temporary
directory and stopped at the end; ``make bench`` installs both Debian packages.

On a 2-core machine two instances do not get two cores each: they share the two
cores with Redis, PostgreSQL and the load generator, and the output says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psutil

# As a module, not its names: bench.run imports this one (its section of `make bench`).
from bench import run as base_bench
from bench.http_client import Connections
from bench.servers import (
    PrivateServer,
    ServerMissingError,
    emptied_redis,
    free_port,
    fresh_database,
    private_postgres,
    private_redis,
    redis_database_url,
    stop_process,
)

REDIS_URL_ENV = "VOICEBOT_BENCH_REDIS_URL"
DATABASE_URL_ENV = "VOICEBOT_BENCH_DATABASE_URL"
DEFAULT_REDIS_DB = 14  # emptied before each configuration, unless the URL names another
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0

ROUNDS = 3
RATE_SECONDS = 6  # 1,200 turns at 200/s: the p99 is the 12th slowest
WRK_SECONDS = 6
WRK_CONNECTIONS = 32  # in all, spread over the instances
CONFIGURATIONS = ("embedded", "shared_1", "shared_2", "workers_2")
CORES_NOTE = (
    "this machine has {cpus} cores: two instances (or two workers) share them with Redis, "
    "PostgreSQL and the load generator (wrk, the open-loop client), so they cannot double one "
    "instance's figure here"
)


# --- private servers ---


@dataclass
class Servers:
    redis_url: str  # redis://host:port/N, the database the configurations use
    postgres_dsn: str  # an admin connection: databases are created and dropped through it
    pids: list[int] = field(default_factory=list)  # private servers, for their CPU use


def _started(stack: ExitStack, server: AbstractContextManager[PrivateServer], env: str) -> PrivateServer:
    """``server`` started (and stopped with ``stack``); if it cannot be, an error that
    says how to get it or which variable to set instead."""
    try:
        return stack.enter_context(server)
    except ServerMissingError as missing:
        hint = " (`make bench` installs it)" if missing.package else ""
        raise RuntimeError(f"{missing}{hint}, nor is {env} set") from None


@contextmanager
def servers(workdir: Path) -> Iterator[Servers]:
    """The environment's servers, or private ones (``bench/servers.py``; PostgreSQL with
    its default settings) stopped on the way out."""
    with ExitStack() as stack:
        pids: list[int] = []
        if not (redis_url := os.environ.get(REDIS_URL_ENV, "")):
            (workdir / "redis").mkdir()
            private = private_redis(workdir / "redis", START_TIMEOUT_SECONDS, STOP_TIMEOUT_SECONDS)
            started = _started(stack, private, REDIS_URL_ENV)
            redis_url = started.url
            pids.append(started.pid)
        if not (dsn := os.environ.get(DATABASE_URL_ENV, "")):
            private = private_postgres(start_timeout=START_TIMEOUT_SECONDS, stop_timeout=STOP_TIMEOUT_SECONDS)
            started = _started(stack, private, DATABASE_URL_ENV)
            dsn = started.url
            pids.append(started.pid)
        yield Servers(redis_database_url(redis_url, DEFAULT_REDIS_DB), dsn, pids)


@contextmanager
def fresh_stores(shared: Servers) -> Iterator[dict[str, str]]:
    """The settings of an emptied Redis database and a new PostgreSQL database (dropped after)."""
    with (
        emptied_redis(shared.redis_url),
        fresh_database(shared.postgres_dsn, "voicebot_bench_", START_TIMEOUT_SECONDS) as database,
    ):
        yield {"VOICEBOT_REDIS_URL": shared.redis_url, "VOICEBOT_DATABASE_URL": database}


# --- the bot ---


def _listening(proc: psutil.Process, port: int) -> bool:
    with contextlib.suppress(psutil.Error):
        return any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in proc.net_connections("tcp")
        )
    return False


@dataclass
class Bot:
    port: int
    data_dir: Path
    log: Path
    workers: int = 1


@contextmanager
def serving(bots: list[Bot], env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``voicebot serve`` for each of ``bots``, all started at once, until every one
    answers ``/healthz`` with 200 and, with ``--workers``, every worker listens."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for bot in bots:
            command = [str(Path(sys.executable).with_name("voicebot")), "serve", "--port", str(bot.port)]
            if bot.workers > 1:
                command += ["--workers", str(bot.workers)]
            with bot.log.open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        command,
                        env={**os.environ, **base_bench.bot_env(bot.data_dir), **env},
                        cwd=base_bench.ROOT,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        for bot, proc in zip(bots, procs, strict=True):
            while not _ready(bot, proc):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"voicebot serve did not start: {bot.log.read_text(errors='replace')[-3000:]}"
                    )
                time.sleep(0.02)
        yield procs
    finally:
        for proc in procs:
            stop_process(proc, STOP_TIMEOUT_SECONDS)


def _ready(bot: Bot, proc: subprocess.Popen[bytes]) -> bool:
    try:
        if httpx.get(f"http://127.0.0.1:{bot.port}/healthz", timeout=1).status_code != 200:
            return False
    except httpx.TransportError:
        return False
    if bot.workers == 1:
        return True
    children = psutil.Process(proc.pid).children()
    return len(children) == bot.workers and all(_listening(c, bot.port) for c in children)


def _tree(pids: list[int]) -> list[psutil.Process]:
    found = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            found += [root, *root.children(recursive=True)]
    return found


def _cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            times = p.cpu_times()
            total += times.user + times.system
    return total


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for p in _tree(pids):
        with contextlib.suppress(psutil.Error):
            if p.memory_info().rss and not p.children():  # the workers, not their supervisor
                total += p.memory_info().rss
    return round(total / 2**20, 1)


async def warm_up(bases: list[str]) -> None:
    """Every call pattern twice through on every instance, its own call ids each."""
    async with httpx.AsyncClient(timeout=30) as client:
        for n, base in enumerate(bases):
            for k in range(len(base_bench.UTTERANCES)):
                for j in range(6):
                    txt = base_bench.UTTERANCES[(k + 4 * j) % len(base_bench.UTTERANCES)]
                    params = {"telnum": "1", "callid": f"warm-{n}-{k}", "txt": txt}
                    (await client.get(f"{base}/cti/ai", params=params)).raise_for_status()


async def open_loop(bases: list[str], rate: int, seconds: int) -> dict[str, float]:
    """Text turns at a fixed rate in all, timed from each one's scheduled start (as
    ``bench.run.open_loop``), spread over ``bases``: call k's j-th turn to base (k + j) mod n."""
    total = rate * seconds
    latencies: list[float] = []
    failures = 0
    pools = [Connections(base) for base in bases]
    start = time.perf_counter() + 0.2

    async def one(i: int) -> None:
        nonlocal failures
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        call, visit = i % 1000, i // 1000
        said = quote(base_bench.UTTERANCES[i % len(base_bench.UTTERANCES)])
        path = f"/cti/ai?telnum=1&callid=rate-{call}&txt={said}"
        try:
            status, body = await asyncio.wait_for(pools[(call + visit) % len(pools)].get(path), 10)
            if status != 200 or not body.startswith(b"http"):
                failures += 1
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, KeyError):
            failures += 1
        latencies.append((time.perf_counter() - scheduled) * 1000)

    try:
        await asyncio.gather(*(one(i) for i in range(total)))
    finally:
        for pool in pools:
            await pool.close()
    latencies.sort()
    return {
        "requests": total,
        "failures": failures,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[int(total * 0.99) - 1], 2),
        "max_ms": round(latencies[-1], 2),
    }


def lua_for(prefix: str, workdir: Path) -> Path:
    """``bench/turns.lua`` with its calls named ``bench-<prefix>-N``: disjoint per instance."""
    text = base_bench.LUA.read_text()
    marker = "callid=bench-%d"
    if marker not in text:
        raise RuntimeError(f"{base_bench.LUA} no longer names its calls {marker!r}")
    path = workdir / f"turns-{prefix}.lua"
    path.write_text(text.replace(marker, f"callid=bench-{prefix}-%d"))
    return path


def wrk_together(bases: list[str], scripts: list[Path], seconds: int) -> tuple[float, int]:
    """Turns/s of one ``wrk`` per base, all at once, summed (connections split evenly), and
    the socket errors (timeouts included) they saw; a non-2xx answer fails the run."""
    connections = WRK_CONNECTIONS // len(bases)
    procs = [
        subprocess.Popen(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), base],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for base, script in zip(bases, scripts, strict=True)
    ]
    total, socket_errors = 0.0, 0
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + 60)
        if proc.returncode != 0:
            raise RuntimeError(f"wrk failed ({proc.returncode}): {err}")
        rps = next((line.split()[-1] for line in out.splitlines() if line.startswith("Requests/sec:")), None)
        if rps is None:
            raise RuntimeError(f"wrk printed no Requests/sec:\n{out}")
        if "Non-2xx or 3xx responses" in out:
            raise RuntimeError(f"wrk saw failed responses:\n{out}")
        for line in out.splitlines():
            if line.strip().startswith("Socket errors:"):  # connect N, read N, write N, timeout N
                socket_errors += sum(int(part.split()[-1]) for part in line.split(":", 1)[1].split(","))
        total += float(rps)
    return round(total, 1), socket_errors


def measure(name: str, shared: Servers, workdir: Path, rate_seconds: int, wrk_seconds: int) -> dict[str, Any]:
    """One configuration, started fresh, measured, stopped."""
    instances = 2 if name == "shared_2" else 1
    workers = 2 if name == "workers_2" else 1
    with ExitStack() as stack:
        env = {} if name == "embedded" else stack.enter_context(fresh_stores(shared))
        ports = [free_port() for _ in range(instances)]
        workdir.mkdir(parents=True, exist_ok=True)
        bots = [
            Bot(port, workdir / f"{name}-{n}" / "var", workdir / f"{name}-{n}.log", workers)
            for n, port in enumerate(ports)
        ]
        began = time.perf_counter()
        procs = stack.enter_context(serving(bots, env))
        startup = time.perf_counter() - began  # both instances started at once: to the later one's 200
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        asyncio.run(warm_up(bases))
        fixed = asyncio.run(open_loop(bases, base_bench.RATE_PER_SECOND, rate_seconds))
        scripts = [base_bench.LUA]  # two instances: a copy each, with call ids of their own
        if instances > 1:
            scripts = [lua_for(chr(ord("a") + n), workdir) for n in range(instances)]
        servers_used = shared.pids if name != "embedded" else []
        # The process lists are taken once: PostgreSQL's backends for the bots' pools exist by now.
        bot_procs, server_procs = _tree([p.pid for p in procs]), _tree(servers_used)
        cpu_bots, cpu_others, wall = _cpu_seconds(bot_procs), _cpu_seconds(server_procs), time.perf_counter()
        rps, socket_errors = wrk_together(bases, scripts, wrk_seconds)
        wall = time.perf_counter() - wall
        cpu_bots = (_cpu_seconds(bot_procs) - cpu_bots) / wall
        cpu_others = (_cpu_seconds(server_procs) - cpu_others) / wall
        rss = _rss_mb([p.pid for p in procs])
    return {
        "turns_per_second": rps,
        "wrk_socket_errors": socket_errors,
        **{k: fixed[k] for k in ("p50_ms", "p99_ms", "max_ms", "failures")},
        "startup_seconds": round(startup, 2),
        "rss_mb": rss,
        "bot_cpu_cores": round(cpu_bots, 2),
        "redis_postgres_cpu_cores": round(cpu_others, 2) if shared.pids and name != "embedded" else None,
    }


def run(
    rounds: int = ROUNDS,
    rate_seconds: int = RATE_SECONDS,
    wrk_seconds: int = WRK_SECONDS,
    configurations: tuple[str, ...] = CONFIGURATIONS,
) -> dict[str, Any]:
    """Every configuration in each of ``rounds`` rounds; the medians and every round."""
    cpus = os.cpu_count() or 0
    print(f"instances: {CORES_NOTE.format(cpus=cpus)}", flush=True)
    per: dict[str, list[dict[str, Any]]] = {name: [] for name in configurations}
    workdir = Path(tempfile.mkdtemp(prefix="voicebot-bench-instances-"))
    try:
        with servers(workdir) as shared:
            where = "private servers" if shared.pids else "the servers of the environment"
            print(f"instances: Redis and PostgreSQL: {where}", flush=True)
            for r in range(rounds):
                order = configurations[r % len(configurations) :] + configurations[: r % len(configurations)]
                for name in order:
                    figures = measure(name, shared, workdir / f"round{r}", rate_seconds, wrk_seconds)
                    per[name].append(figures)
                    print(f"instances round {r + 1}/{rounds} {name}: {figures}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results: dict[str, Any] = {
        "note": CORES_NOTE.format(cpus=cpus),
        "rounds": rounds,
        "rate_per_second": base_bench.RATE_PER_SECOND,
        "rate_seconds": rate_seconds,
        "wrk_seconds": wrk_seconds,
        "wrk_connections_in_all": WRK_CONNECTIONS,
        "servers": "private" if shared.pids else "environment",
    }
    for name, values in per.items():
        medians = {
            key: (statistics.median(v[key] for v in values) if values[0][key] is not None else None)
            for key in values[0]
        }
        results[name] = {"median": medians, "rounds": values}
    base = results["embedded"]["median"]["turns_per_second"] if "embedded" in per else None
    for name in configurations:
        share = results[name]["median"]["turns_per_second"] / base if base else None
        results[name]["median"]["share_of_embedded"] = round(share, 3) if share else None
    print(summary(results, configurations), flush=True)
    return results


def summary(results: dict[str, Any], configurations: tuple[str, ...] = CONFIGURATIONS) -> str:
    """The medians as a table; CPU in cores during the saturation runs."""
    lines = [
        f"instances (medians of {results['rounds']} rounds; {results['note']}):",
        f"  {'configuration':<12} {'turns/s':>8} {'vs embedded':>11} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'failed':>6} {'start s':>7} {'RSS MB':>7} {'bot CPU':>7} {'Redis+PG CPU':>12}",
    ]
    for name in configurations:
        m = results[name]["median"]
        share = f"{m['share_of_embedded']:.1%}" if m["share_of_embedded"] else "-"
        servers_cpu = "-" if m["redis_postgres_cpu_cores"] is None else f"{m['redis_postgres_cpu_cores']:.2f}"
        failed = sum(r["failures"] + r["wrk_socket_errors"] for r in results[name]["rounds"])
        lines.append(
            f"  {name:<12} {m['turns_per_second']:>8.0f} {share:>11} {m['p50_ms']:>7.2f} {m['p99_ms']:>7.2f} "
            f"{failed:>6} {m['startup_seconds']:>7.2f} {m['rss_mb']:>7.1f} {m['bot_cpu_cores']:>7.2f} "
            f"{servers_cpu:>12}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--rate-seconds", type=int, default=RATE_SECONDS)
    parser.add_argument("--wrk-seconds", type=int, default=WRK_SECONDS)
    parser.add_argument("--only", nargs="+", choices=CONFIGURATIONS, default=list(CONFIGURATIONS))
    args = parser.parse_args()
    results = run(args.rounds, args.rate_seconds, args.wrk_seconds, tuple(args.only))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
