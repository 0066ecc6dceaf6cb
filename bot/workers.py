"""``voicebot serve --workers N``: N serving processes on one port.

Each worker is a whole ``voicebot serve`` process (its own event loop, its own
Granian server); they listen on the same address, and the kernel spreads the
connections between them (Granian's sockets are opened with ``SO_REUSEPORT``).
They share live calls through Redis and transcripts through PostgreSQL, exactly as
instances on several machines do, so one call's callbacks may land on any of them.

The parent only supervises: SIGTERM or SIGINT is passed on to every worker, which
finishes its callbacks and hands over its due transfers and hang-ups (the store keeps
them) before exiting. A worker that dies on its own stops the others: the service
exits with that worker's status, and a process manager (systemd, a container
runtime) restarts the whole, as it would a single process.

Metrics: the workers keep their Prometheus values in files of one directory
(``PROMETHEUS_MULTIPROC_DIR``, ``<data dir>/metrics``), emptied before they start, so
that whichever worker answers ``/metrics`` answers for all of them (docs/metrics.md);
a worker that exits is marked dead there, and its live gauges no longer count.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from prometheus_client import multiprocess

from bot.metrics import MULTIPROC_ENV

logger = logging.getLogger(__name__)

WORKER_ENV = "VOICEBOT_WORKER"  # set in each worker: its number, from 1, for its logs
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1  # prctl(2)


def _stop_with_parent() -> None:
    """In a worker, before it runs: SIGTERM when the supervisor dies, however it dies
    (``kill -9`` included), so that no worker outlives it (Linux's ``PR_SET_PDEATHSIG``)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def fresh_metrics_dir(path: Path) -> Path:
    """``path``, created, with nothing left in it from an earlier run (whose counts
    would be added to this one's)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def run_workers(count: int, host: str, port: int, *, metrics_dir: Path | None = None) -> int:
    """Start ``count`` workers on ``host:port`` and supervise them; their exit status.
    ``metrics_dir``: where the workers keep their metrics (emptied first)."""
    command = [sys.executable, "-c", "from bot.cli import main; main()", "serve", "--host", host]
    command += ["--port", str(port)]
    env = dict(os.environ)
    if metrics_dir is not None:
        env[MULTIPROC_ENV] = str(fresh_metrics_dir(metrics_dir))
    # preexec_fn is safe here: the supervisor has started no thread.
    workers = [
        subprocess.Popen(
            command,
            env={**env, WORKER_ENV: str(n)},
            preexec_fn=_stop_with_parent,  # noqa: PLW1509
        )
        for n in range(1, count + 1)
    ]
    stopping: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    logger.info("%d workers serving on %s:%d (pids %s)", count, host, port, [w.pid for w in workers])
    status = 0
    while any(w.poll() is None for w in workers):
        died = next((w for w in workers if w.poll() not in (None, 0)), None)
        if died is not None and not stopping:
            logger.error("worker %d exited with status %s: stopping the others", died.pid, died.returncode)
            status = died.returncode or 1
            forward(signal.SIGTERM, None)
        time.sleep(POLL_SECONDS)
    for worker in workers:
        status = status or abs(worker.returncode or 0)
        if metrics_dir is not None:
            multiprocess.mark_process_dead(worker.pid, str(metrics_dir))  # type: ignore[no-untyped-call]
    return status
