"""``voicebot serve --workers N``: N serving processes on one port.

Each worker runs ``voicebot serve`` (its own event loop, its own Granian server);
they listen on the same address, and the kernel spreads the connections between them
(Granian's sockets are opened with ``SO_REUSEPORT``). They share live calls through
Redis and transcripts through PostgreSQL, exactly as instances on several machines do,
so one call's callbacks may land on any of them.

The workers are forked from one process that imported the service's code first (with
pypinyin's tables, ``bot.text.pinyin_tables``) and froze it out of the garbage
collector: the pages of what none of them changes stay shared, copy-on-write, instead
of one copy per worker (about 60 MB of each worker's 140, docs/performance.md). That
process is started anew (``exec``) by ``voicebot serve --workers N`` once
``PROMETHEUS_MULTIPROC_DIR`` is set, since prometheus_client reads it when imported.
Nothing has started a thread of ours when it forks (OpenBLAS's own pool is
fork-safe: it stops and restarts around ``fork``).

That parent then only supervises: SIGTERM or SIGINT is passed on to every worker,
which finishes its callbacks and hands over its due transfers and hang-ups (the store
keeps them) before exiting. A worker that dies on its own stops the others: the
service exits with that worker's status, and a process manager (systemd, a container
runtime) restarts the whole, as it would a single process. A worker stops when the
parent dies, however it dies (``PR_SET_PDEATHSIG``).

Metrics: the workers keep their Prometheus values in files of one directory
(``PROMETHEUS_MULTIPROC_DIR``, ``<data dir>/metrics``), emptied before they start, so
that whichever worker answers ``/metrics`` answers for all of them (docs/metrics.md);
a worker that exits is marked dead there, and its live gauges no longer count.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from prometheus_client import multiprocess

from bot.metrics import MULTIPROC_ENV

logger = logging.getLogger(__name__)

WORKER_ENV = "VOICEBOT_WORKER"  # set in each worker: its number, from 1, for its logs
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1  # prctl(2)
_PARENT = "import gc; gc.disable(); from bot.workers import fork_workers; fork_workers()"  # bot/entry.py


def _stop_with_parent(parent: int) -> None:
    """In a worker, before it runs: SIGTERM when the supervisor dies, however it dies
    (``kill -9`` included), so that no worker outlives it (Linux's ``PR_SET_PDEATHSIG``)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before prctl: nobody would tell us
        os.kill(os.getpid(), signal.SIGTERM)


def fresh_metrics_dir(path: Path) -> Path:
    """``path``, created, with nothing left in it from an earlier run (whose counts
    would be added to this one's)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def run_workers(count: int, host: str, port: int, *, metrics_dir: Path | None = None) -> int:
    """Become the supervisor of ``count`` workers on ``host:port``: this process is
    replaced by a new one (same process id) that imports the code, forks the workers and
    supervises them (:func:`fork_workers`); it exits with their status.
    ``metrics_dir``: where the workers keep their metrics (emptied first)."""
    if metrics_dir is not None:
        os.environ[MULTIPROC_ENV] = str(fresh_metrics_dir(metrics_dir))
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    # -P: not the working directory first on the path (a file there would shadow a module).
    os.execv(sys.executable, [sys.executable, "-P", "-c", _PARENT, str(count), host, str(port)])
    return 1  # not reached: execv returns only by raising OSError


def fork_workers() -> None:
    """The supervisor (``python -c`` of :data:`_PARENT`; arguments: count, host, port):
    imports the service, forks the workers, supervises them and exits with their status."""
    count, host, port = sys.argv[1:4]
    from bot import cli  # noqa: PLC0415  # the whole service, imported once for every worker
    from bot.config import load_settings  # noqa: PLC0415
    from bot.logs import configure_logging  # noqa: PLC0415  # bot.logs imports this module

    gc.collect()
    gc.freeze()  # what is imported now is never collected: its pages stay shared
    parent = os.getpid()
    serve = ["serve", "--host", host, "--port", port]
    pids = [_fork(n, parent, lambda: cli.main(serve, prog_name="voicebot")) for n in range(1, int(count) + 1)]
    gc.enable()  # the workers resume theirs once ready, as one `voicebot serve` does
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    logger.info("%s workers serving on %s:%s (pids %s)", count, host, port, pids)
    sys.exit(supervise(pids, metrics_dir=os.environ.get(MULTIPROC_ENV)))


def _fork(number: int, parent: int, serve: Callable[[], object]) -> int:
    """A worker forked from this process, numbered ``number``; its pid (in the parent)."""
    pid = os.fork()
    if pid:
        return pid
    # The worker: serve, then leave as any process does (SystemExit from click).
    os.environ[WORKER_ENV] = str(number)
    _stop_with_parent(parent)
    serve()
    raise SystemExit(0)


def supervise(pids: list[int], *, metrics_dir: str | None = None) -> int:
    """Wait for the workers ``pids``; pass SIGTERM and SIGINT on to them, stop them all
    when one dies on its own; their exit status."""
    stopping: list[int] = []
    exited: dict[int, int] = {}  # pid -> exit code (negative: the signal that ended it)

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        for pid in pids:
            if pid not in exited:
                with contextlib.suppress(ProcessLookupError):  # reaped, not yet marked exited
                    os.kill(pid, signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    status = 0
    while len(exited) < len(pids):
        for pid in pids:
            if pid in exited:
                continue
            done, wait_status = os.waitpid(pid, os.WNOHANG)
            if done:
                exited[pid] = os.waitstatus_to_exitcode(wait_status)
                if exited[pid] != 0 and not stopping:
                    logger.error("worker %d exited with status %s: stopping the others", pid, exited[pid])
                    status = exited[pid] or 1
                    forward(signal.SIGTERM, None)
        time.sleep(POLL_SECONDS)
    for pid in pids:
        status = status or abs(exited[pid])
        if metrics_dir is not None:
            multiprocess.mark_process_dead(pid, metrics_dir)  # type: ignore[no-untyped-call]
    return status
