"""Start-up and memory of ``voicebot serve`` (issue 17), one tree or several alternating.

Run with ``.venv/bin/python -m bench.startup`` (about a minute for 5 runs). Each run
starts real processes on loopback and prints, per tree:

- ``cold_s``: process start to the first ``/healthz`` 200 with an empty data directory
  (every static prompt synthesized); with ``--fresh-caches``, without the dictionaries'
  caches either (jieba's and ``bot.text.tables``'), as on a machine's very first start;
- ``warm_s``: the same again on that data directory (the audio cache warm);
- ``cold_cpu_s``, ``warm_cpu_s``: the CPU time the server (and its espeak-ng processes)
  used until then, steadier than the wall clock when the machine is busy;
- ``rss_mb``, ``uss_mb``: the server's memory right after that 200 (warm start);
- ``calls_rss_mb``: its RSS once ``--live-calls`` calls (1,000) were each greeted and
  answered once (``bench.run.make_live_calls``);
- with ``--workers N``: ``voicebot serve --workers N`` on private Redis and PostgreSQL
  servers (``bench/servers.py``), the time until every worker listens, each worker's
  and the supervisor's RSS, USS (memory only it holds) and PSS (its share of what it
  shares), and the PSS of them all (``total_pss_mb``: the service's memory).

``--tree DIR`` (repeatable) serves the code of another checkout (``git worktree`` or
``git archive``) with this virtualenv, to compare before and after: the trees take
turns inside every run, so a slow moment of the machine hits all of them alike. The
medians over the runs are printed last. Nothing here asserts a time.
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
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psutil

from bench import run as base_bench
from bench.servers import (
    emptied_redis,
    free_port,
    fresh_database,
    private_postgres,
    private_redis,
    redis_database_url,
    stop_process,
)

START_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.01
MB = 2**20
Figures = dict[str, float]


def _command(tree: Path, workers: int, port: int) -> list[str]:
    # The tree's own `voicebot` entry point, imported from the working directory (the
    # tree), not from the installed project.
    module, _, function = _entry_point(tree).partition(":")
    command = [sys.executable, "-c", f"from {module} import {function}; {function}()", "serve"]
    return command + ["--port", str(port)] + (["--workers", str(workers)] if workers > 1 else [])


def _entry_point(tree: Path) -> str:
    """``module:function`` of the tree's ``voicebot`` script (pyproject.toml)."""
    with (tree / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["scripts"]["voicebot"])


def _listening(proc: psutil.Process, port: int) -> bool:
    with contextlib.suppress(psutil.Error):
        return any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in proc.net_connections("tcp")
        )
    return False


def _ready(base: str, proc: subprocess.Popen[bytes], port: int, workers: int) -> bool:
    try:
        if httpx.get(f"{base}/healthz", timeout=1).status_code != 200:
            return False
    except httpx.TransportError:
        return False
    if workers == 1:
        return True
    children = psutil.Process(proc.pid).children()
    return len(children) == workers and all(_listening(c, port) for c in children)


@contextmanager
def serving(
    tree: Path, env: dict[str, str], workers: int = 1
) -> Iterator[tuple[subprocess.Popen[bytes], str, float]]:
    """``voicebot serve`` of ``tree``: the process, its base URL and its seconds to ready."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    began = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            _command(tree, workers, port),
            env={**os.environ, **env},
            cwd=tree,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            while not _ready(base, proc, port, workers):
                if proc.poll() is not None or time.perf_counter() - began > START_TIMEOUT_SECONDS:
                    log.seek(0)
                    raise RuntimeError(
                        f"{tree}: serve did not start: {log.read().decode(errors='replace')[-3000:]}"
                    )
                time.sleep(POLL_SECONDS)
            yield proc, base, time.perf_counter() - began
        finally:
            stop_process(proc, 15)


def _cpu_seconds(pid: int) -> float:
    """CPU time the server has used so far, with its children that have exited (the
    espeak-ng processes of the static prompts): on a busy machine a steadier measure
    of the start-up's work than the wall clock."""
    times = psutil.Process(pid).cpu_times()
    return round(times.user + times.system + times.children_user + times.children_system, 3)


def _memory_mb(pid: int) -> Figures:
    info = psutil.Process(pid).memory_full_info()
    return {
        "rss_mb": round(info.rss / MB, 1),
        "uss_mb": round(info.uss / MB, 1),
        "pss_mb": round(info.pss / MB, 1),
    }


def one_worker(tree: Path, workdir: Path, live_calls: int, *, fresh_caches: bool = False) -> Figures:
    """Cold and warm start-up, memory at start and with ``live_calls`` calls.
    ``fresh_caches``: the cold start also finds no dictionary cache (jieba's, in the
    temporary directory, and ``bot.text.tables``'), as on a machine's first start."""
    data_dir = workdir / "var"
    env = base_bench.bot_env(data_dir)
    env["VOICEBOT_FLOWS_DIR"] = str(tree / "flows")
    figures: Figures = {}
    first_env = dict(env)
    if fresh_caches:
        caches = workdir / "caches"
        shutil.rmtree(caches, ignore_errors=True)
        caches.mkdir()
        first_env |= {"TMPDIR": str(caches), "XDG_CACHE_HOME": str(caches)}
    with serving(tree, first_env) as (proc, _base, seconds):
        figures["cold_s"] = round(seconds, 3)
        figures["cold_cpu_s"] = _cpu_seconds(proc.pid)
    with serving(tree, env) as (proc, base, seconds):
        figures["warm_s"] = round(seconds, 3)
        figures["warm_cpu_s"] = _cpu_seconds(proc.pid)
        memory = _memory_mb(proc.pid)
        figures.update({"rss_mb": memory["rss_mb"], "uss_mb": memory["uss_mb"]})
        if live_calls:
            asyncio.run(base_bench.make_live_calls(base, live_calls))
            figures["calls_rss_mb"] = round(psutil.Process(proc.pid).memory_info().rss / MB, 1)
    shutil.rmtree(data_dir, ignore_errors=True)
    return figures


def many_workers(tree: Path, workdir: Path, workers: int, stores: dict[str, str]) -> Figures:
    """``--workers N``: seconds until all listen, and each worker's memory (w1_rss_mb, …)."""
    env = {**base_bench.bot_env(workdir / "var"), **stores, "VOICEBOT_FLOWS_DIR": str(tree / "flows")}
    figures: Figures = {}
    with serving(tree, env, workers) as (proc, _base, seconds):
        figures["workers_s"] = round(seconds, 3)
        children = sorted(psutil.Process(proc.pid).children(), key=lambda c: c.pid)
        for n, child in enumerate(children, start=1):
            figures.update({f"w{n}_{k}": v for k, v in _memory_mb(child.pid).items()})
        supervisor = _memory_mb(proc.pid)
        figures.update({f"sup_{k}": v for k, v in supervisor.items()})
        # PSS adds up: what all the processes of the service hold together.
        pss = supervisor["pss_mb"] + sum(figures[f"w{n}_pss_mb"] for n in range(1, len(children) + 1))
        figures["total_pss_mb"] = round(pss, 1)
    shutil.rmtree(workdir / "var", ignore_errors=True)
    return figures


@contextmanager
def _stores(workdir: Path) -> Iterator[tuple[str, str]]:
    """Private Redis and PostgreSQL: the Redis URL and the PostgreSQL admin DSN."""
    with ExitStack() as stack:
        (workdir / "redis").mkdir()
        redis = stack.enter_context(private_redis(workdir / "redis"))
        postgres = stack.enter_context(private_postgres(fsync=False))
        yield redis_database_url(redis.url, 14), postgres.url


def _fresh(redis_url: str, dsn: str, stack: ExitStack) -> dict[str, str]:
    stack.enter_context(emptied_redis(redis_url))
    database = stack.enter_context(fresh_database(dsn, "voicebot_startup_"))
    return {"VOICEBOT_REDIS_URL": redis_url, "VOICEBOT_DATABASE_URL": database}


def medians(runs: list[Figures]) -> Figures:
    return {key: round(statistics.median(run[key] for run in runs), 3) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tree", type=Path, action="append", help="a checkout to serve (default: this one)")
    parser.add_argument("--live-calls", type=int, default=base_bench.LIVE_CALLS)
    parser.add_argument(
        "--workers", type=int, default=0, help="also measure serve --workers N (Redis, PostgreSQL)"
    )
    parser.add_argument(
        "--fresh-caches", action="store_true", help="cold starts without dictionary caches (first start)"
    )
    args = parser.parse_args()
    trees = [t.resolve() for t in args.tree or [base_bench.ROOT]]
    results: dict[str, list[Figures]] = {str(t): [] for t in trees}
    workdir = Path(tempfile.mkdtemp(prefix="voicebot-startup-"))
    try:
        with _stores(workdir) if args.workers > 1 else contextlib.nullcontext(("", "")) as (redis_url, dsn):
            for run in range(1, args.runs + 1):
                for tree in trees if run % 2 else reversed(trees):
                    figures = one_worker(tree, workdir, args.live_calls, fresh_caches=args.fresh_caches)
                    if args.workers > 1:
                        with ExitStack() as stack:
                            figures |= many_workers(
                                tree, workdir, args.workers, _fresh(redis_url, dsn, stack)
                            )
                    results[str(tree)].append(figures)
                    print(f"run {run} {tree}: {json.dumps(figures)}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for tree, runs in results.items():
        print(f"median of {len(runs)} runs, {tree}: {json.dumps(medians(runs))}")


if __name__ == "__main__":
    main()
