"""What a run of the call generator records: every event's latency, by kind, and its errors.

Latency is from the moment an event was due to its answer's last byte (the players,
bench/calls_player.py, say when that was); percentiles are nearest-rank.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bench.calls_script import Kind

MAX_EXAMPLES = 5


def percentile(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of an ascending list."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def latency_stats(values: Iterable[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}
    return {
        "count": len(ordered),
        "p50_ms": round(percentile(ordered, 0.50), 2),
        "p95_ms": round(percentile(ordered, 0.95), 2),
        "p99_ms": round(percentile(ordered, 0.99), 2),
        "max_ms": round(ordered[-1], 2),
    }


@dataclass
class Recorder:
    """Every answered (or failed) event: when it was due, its kind, its latency."""

    started: float = field(default_factory=time.perf_counter)
    # (due - started, the kind's value, ms): plain strings and floats, so that the collector
    # stops tracking the rows. With the Kind members in them, the 370,000 rows of a 10-minute
    # soak made this process's own full collections last up to about 220 ms, which showed
    # as the bot's latency.
    rows: list[tuple[float, str, float]] = field(default_factory=list)
    lags_ms: list[float] = field(default_factory=list)
    errors: Counter[tuple[Kind, str]] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    calls_started: int = 0
    calls_finished: int = 0
    audio_errors: int = 0

    def add(self, due: float, kind: Kind, *, sent: float, done: float, error: str | None, path: str) -> None:
        self.rows.append((due - self.started, kind.value, (done - due) * 1000))
        self.lags_ms.append((sent - due) * 1000)
        if error is not None:
            self.errors[kind, error] += 1
            if len(self.examples) < MAX_EXAMPLES:
                self.examples.append(f"{kind}: {error}: {path}")

    def summary(self, seconds: float) -> dict[str, Any]:
        """Turns/s (``/cti/ai`` callbacks; the pushes are counted apart), latency per kind."""
        turns = sum(1 for _, kind, _ in self.rows if kind != Kind.HANGUP_PUSH)
        by_kind: dict[str, Any] = {"all": latency_stats(ms for _, _, ms in self.rows)}
        for kind in Kind:
            stats = latency_stats(ms for _, k, ms in self.rows if k == kind)
            if stats["count"]:
                by_kind[kind.value] = {
                    **stats,
                    "errors": sum(n for (k, _), n in self.errors.items() if k is kind),
                }
        reasons: Counter[str] = Counter()
        for (_, reason), n in self.errors.items():
            reasons[reason.split()[0] if reason.startswith("status") else reason] += n
        return {
            "seconds": round(seconds, 1),
            "calls_started": self.calls_started,
            "calls_finished": self.calls_finished,
            "requests": len(self.rows),
            "turns": turns,
            "turns_per_second": round(turns / seconds, 1) if seconds else 0.0,
            "errors": sum(self.errors.values()),
            "errors_by_reason": dict(reasons),
            "error_examples": self.examples,
            "audio_fetch_errors": self.audio_errors,
            "latency_ms": by_kind,
            "send_lag_ms": latency_stats(self.lags_ms),
        }

    def per_minute(self) -> list[dict[str, Any]]:
        """Turns/s and latency of each minute of the run (by when events were due)."""
        minutes: dict[int, list[tuple[str, float]]] = {}
        for at, kind, ms in self.rows:
            minutes.setdefault(int(at // 60), []).append((kind, ms))
        return [
            {
                "minute": m + 1,
                "turns_per_second": round(sum(1 for k, _ in v if k != Kind.HANGUP_PUSH) / 60, 1),
                **latency_stats(ms for _, ms in v),
            }
            for m, v in sorted(minutes.items())
        ]
