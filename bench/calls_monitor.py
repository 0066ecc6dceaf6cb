"""The served process over time: RSS, CPU, open files, and the event loop's tasks.

A thread samples the process about once a second with psutil (RSS, CPU in cores since
the previous sample, open file descriptors, threads) and asks its ``/healthz`` for the
tasks of its event loop (``tasks``) and its live calls, so a run can say whether memory,
files or tasks grow (the soak's "no growth in open files or tasks").
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from types import TracebackType
from typing import Any

import httpx
import psutil

INTERVAL_SECONDS = 1.0


class Monitor:
    """Samples of one process (and its children: ``--workers``) while the block runs."""

    def __init__(self, pid: int, base: str, interval_seconds: float = INTERVAL_SECONDS) -> None:
        self.process = psutil.Process(pid)
        self.base, self.interval_seconds = base, interval_seconds
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-monitor", daemon=True)

    def __enter__(self) -> Monitor:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def _run(self) -> None:
        started = time.perf_counter()
        last_wall, last_cpu = started, self._cpu_seconds()
        with httpx.Client(base_url=self.base, timeout=2) as http:
            while not self._stop.wait(self.interval_seconds):
                with contextlib.suppress(psutil.Error):
                    wall, cpu = time.perf_counter(), self._cpu_seconds()
                    sample: dict[str, Any] = {
                        "t": round(wall - started, 1),
                        "rss_mb": round(self.process.memory_info().rss / 2**20, 1),
                        "cpu_cores": round((cpu - last_cpu) / (wall - last_wall), 3),
                        "fds": self.process.num_fds(),
                        "threads": self.process.num_threads(),
                        **_health(http),
                    }
                    last_wall, last_cpu = wall, cpu
                    self.samples.append(sample)

    def summary(self) -> dict[str, Any]:
        """Start, highest and last RSS; mean and highest CPU; open files and tasks, first to last."""
        s = self.samples
        if not s:
            return {"samples": 0}
        return {
            "samples": len(s),
            "rss_mb": {"first": s[0]["rss_mb"], "max": max(x["rss_mb"] for x in s), "last": s[-1]["rss_mb"]},
            "cpu_cores": {
                "mean": round(statistics.fmean(x["cpu_cores"] for x in s), 2),
                "max": max(x["cpu_cores"] for x in s),
            },
            "fds": {"first": s[0]["fds"], "max": max(x["fds"] for x in s), "last": s[-1]["fds"]},
            "tasks": _first_max_last(s, "tasks"),
            "live_calls": _first_max_last(s, "live_calls"),
        }

    def per_minute(self) -> list[dict[str, Any]]:
        """Each minute's RSS (its last sample), mean CPU, highest open files, and median tasks."""
        minutes: dict[int, list[dict[str, Any]]] = {}
        for sample in self.samples:
            minutes.setdefault(int(sample["t"] // 60), []).append(sample)
        rows = []
        for minute, samples in sorted(minutes.items()):
            tasks = [x["tasks"] for x in samples if x.get("tasks") is not None]
            rows.append(
                {
                    "minute": minute + 1,
                    "rss_mb": samples[-1]["rss_mb"],
                    "cpu_cores": round(statistics.fmean(x["cpu_cores"] for x in samples), 2),
                    "fds_max": max(x["fds"] for x in samples),
                    "tasks_median": statistics.median(tasks) if tasks else None,
                    "live_calls": samples[-1].get("live_calls"),
                }
            )
        return rows


def _health(http: httpx.Client) -> dict[str, Any]:
    try:
        body = http.get("/healthz").json()
    except (httpx.HTTPError, ValueError):
        return {"tasks": None, "live_calls": None}
    return {"tasks": body.get("tasks"), "live_calls": body.get("live_calls")}


def _first_max_last(samples: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    values = [x[key] for x in samples if x.get(key) is not None]
    return {"first": values[0], "max": max(values), "last": values[-1]} if values else None
