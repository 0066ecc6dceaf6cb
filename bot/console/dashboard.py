"""The dashboard's figures: plain aggregates of the transcripts of the last hours.

Counted from the calls of the window (at most ``MAX_CALLS``, the newest) and their
turns, in a worker thread: calls per hour (in the call center's time zone), outcomes,
grades, the no-match rate of the caller's words, turn latency, and the questions the
knowledge base had no answer for (``knowledge.misses``, kept by the process since it
started). Test calls from the console are left out unless asked for.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections import Counter
from collections.abc import Sequence
from typing import Any

MAX_CALLS = 5000
MAX_HOURS = 168
LATENCY_BUCKETS_MS = (50, 100, 200, 500, 1000, 2000, 5000)


def summarize(
    calls: Sequence[dict[str, Any]],
    *,
    since: float,
    hours: int,
    timezone: str,
    include_test: bool = False,
) -> dict[str, Any]:
    """The figures of ``calls`` (as ``calls_since`` returns them), started from ``since``."""
    zone = zoneinfo.ZoneInfo(timezone)
    counted = [c for c in calls if include_test or not c.get("test")]
    start = dt.datetime.fromtimestamp(since, zone).replace(minute=0, second=0, microsecond=0)
    hour_keys = [(start + dt.timedelta(hours=h)).strftime("%m-%d %H:00") for h in range(hours + 1)]
    per_hour: Counter[str] = Counter()
    said = no_match = 0
    latencies: list[float] = []
    for call in counted:
        moment = dt.datetime.fromisoformat(call["started_at"].replace("Z", "+00:00")).astimezone(zone)
        per_hour[moment.strftime("%m-%d %H:00")] += 1
        for turn in call.get("turns", []):
            if turn.get("event") == "pbx":
                continue
            if turn.get("ms"):
                latencies.append(float(turn["ms"]))
            if turn.get("event") == "text" and not turn.get("continued"):
                said += 1
                no_match += turn.get("intent") is None
    return {
        "hours": hours,
        "timezone": timezone,
        "calls": len(counted),
        "test_calls_left_out": 0 if include_test else len(calls) - len(counted),
        "truncated": len(calls) >= MAX_CALLS,
        "per_hour": [{"hour": key, "calls": per_hour.get(key, 0)} for key in hour_keys],
        "outcomes": _ranked(Counter(c["outcome"] for c in counted)),
        "grades": _ranked(Counter(c.get("grade") or "ungraded" for c in counted)),
        "flows": _ranked(Counter(c["flow"] for c in counted)),
        "utterances": said,
        "no_match": no_match,
        "no_match_rate": round(no_match / said, 3) if said else None,
        "latency_ms": _latency(latencies),
    }


def _ranked(counts: Counter[str]) -> list[dict[str, Any]]:
    return [{"name": name, "count": count} for name, count in counts.most_common()]


def _latency(values: list[float]) -> dict[str, Any]:
    """Percentiles and a histogram of turn times (the bot's side of each callback)."""
    if not values:
        return {"turns": 0, "p50": None, "p90": None, "p99": None, "max": None, "buckets": []}
    ordered = sorted(values)
    buckets = Counter(next((b for b in LATENCY_BUCKETS_MS if v <= b), math.inf) for v in ordered)
    return {
        "turns": len(ordered),
        "p50": _percentile(ordered, 0.5),
        "p90": _percentile(ordered, 0.9),
        "p99": _percentile(ordered, 0.99),
        "max": round(ordered[-1], 1),
        "buckets": [
            {"le": "+Inf" if b == math.inf else b, "turns": buckets.get(b, 0)}
            for b in (*LATENCY_BUCKETS_MS, math.inf)
        ],
    }


def _percentile(ordered: list[float], share: float) -> float:
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return round(ordered[index], 1)
