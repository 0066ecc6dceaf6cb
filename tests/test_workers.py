"""``voicebot serve --workers N`` (``bot/workers.py``): the workers are forked from one
supervisor that imported the code first (issue 17: their memory is shared), which
passes signals on, stops them all when one dies, and takes them with it when it dies.
Serving itself is tested in tests/test_instances.py."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from tests.conftest import FLOWS_DIR
from tests.loopback import unused_port
from tests.test_serve import VOICEBOT, stop, wait_for, wait_healthy


@pytest.fixture
def stores(redis_url: str, database_url: str) -> dict[str, str]:
    return {"VOICEBOT_REDIS_URL": redis_url, "VOICEBOT_DATABASE_URL": database_url}


@contextmanager
def two_workers(
    tmp_path: Path, stores: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[bytes], list[psutil.Process]]]:
    """``voicebot serve --workers 2``, both workers ready; the process and its workers."""
    port = unused_port()
    env = {
        **os.environ,
        **stores,
        "VOICEBOT_DATA_DIR": str(tmp_path / "var"),
        "VOICEBOT_FLOWS_DIR": str(FLOWS_DIR),
    }
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [VOICEBOT, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, tmp_path)
        assert wait_for(lambda: (tmp_path / "serve.log").read_text().count("bot.app: ready: ") == 2, 60)
        yield process, psutil.Process(process.pid).children()
    finally:
        stop(process)


def test_the_workers_are_forked_from_the_supervisor(tmp_path: Path, stores: dict[str, str]) -> None:
    with two_workers(tmp_path, stores) as (process, workers):
        supervisor = psutil.Process(process.pid)  # the same process, replaced by exec
        assert "fork_workers" in " ".join(supervisor.cmdline())
        assert len(workers) == 2
        assert all(worker.ppid() == process.pid for worker in workers)
        assert all(worker.exe() == supervisor.exe() for worker in workers)
    assert process.returncode == 0  # SIGTERM passed on: both finished cleanly
    log = (tmp_path / "serve.log").read_text()
    assert "worker 1 " in log
    assert "worker 2 " in log


def test_a_worker_that_dies_stops_the_service(tmp_path: Path, stores: dict[str, str]) -> None:
    with two_workers(tmp_path, stores) as (process, workers):
        workers[0].send_signal(signal.SIGKILL)
        assert wait_for(lambda: process.poll() is not None, 60)
        assert not any(worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE for worker in workers)
    assert process.returncode != 0
    assert "stopping the others" in (tmp_path / "serve.log").read_text()


def test_the_workers_stop_with_their_supervisor(tmp_path: Path, stores: dict[str, str]) -> None:
    with two_workers(tmp_path, stores) as (process, workers):
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert wait_for(lambda: not any(worker.is_running() for worker in workers), 60)
