"""What the call generator prints, and its targets' verdicts (issue 17).

Every verdict is one line, ``target … : met (…)`` or ``target … : missed (gap …)``.
The soak's four, on its per-minute rows (the first minute is the warm-up):

- RSS flat: every later minute's RSS within ±10 % of the first minute's last sample;
- p99 steady: no minute's p99 above twice the median of the minutes' p99s;
- no growth in open files: the last minute's highest count at most
  ``max(5, 10 %)`` above the second minute's;
- no growth in tasks: the last minute's median task count at most ``max(10, 10 %)``
  above the second minute's.
"""

from __future__ import annotations

import statistics
from typing import Any

RSS_BAND = 0.10
P99_STEADY_FACTOR = 2.0
SATURATION_SHARE_TARGET = 0.5


def verdict(target: str, met: bool, measured: str, gap: str) -> str:
    return (
        f"target {target} : met ({measured})" if met else f"target {target} : missed (gap {gap}; {measured})"
    )


def latency_verdict(name: str, result: dict[str, Any], target_ms: float, *, no_errors: bool) -> str:
    """p99 of every event at most ``target_ms`` (and, with ``no_errors``, no error)."""
    p99 = result["latency_ms"]["all"].get("p99_ms", float("inf"))
    errors = result["errors"]
    met = p99 <= target_ms and (errors == 0 or not no_errors)
    target = f"{name}: p99 ≤ {target_ms:g} ms" + (", no errors" if no_errors else "")
    gaps = [f"p99 {p99 - target_ms:+.2f} ms"] if p99 > target_ms else []
    if no_errors and errors:
        gaps.append(f"{errors} errors")
    return verdict(target, met, f"p99 {p99:.2f} ms, {errors} errors", ", ".join(gaps))


def saturation_verdict(saturation: dict[str, Any]) -> str:
    share, limit = saturation["bot_share_of_limit"], saturation["limit"]
    target = f"saturation ≥ {SATURATION_SHARE_TARGET:.0%} of the limit (bare Quart, fastest server)"
    if share is None:
        return f"target {target} : not measured (no limit server started)"
    bot = saturation["bot_turns_per_second"]
    limit_rps = saturation["limit_requests_per_second"]
    needed = limit_rps * SATURATION_SHARE_TARGET
    measured = f"bot {bot:,.0f} turns/s = {share:.1%} of {limit}'s {limit_rps:,.0f}/s"
    gap = f"{(SATURATION_SHARE_TARGET - share) * 100:.1f} points, {needed - bot:,.0f} turns/s"
    return verdict(target, share >= SATURATION_SHARE_TARGET, measured, gap)


def soak_verdicts(rows: list[dict[str, Any]]) -> list[str]:
    """The soak's four verdicts on its per-minute rows (``minute``, ``rss_mb``, ``p99_ms``,
    ``fds_max``, ``tasks_median``)."""
    if len(rows) < 3:
        return [f"target soak : not judged ({len(rows)} minutes; it takes 3 or more)"]
    reference, later = rows[0]["rss_mb"], rows[1:]
    worst = max(later, key=lambda r: abs(r["rss_mb"] - reference))
    drift = (worst["rss_mb"] - reference) / reference
    rss = verdict(
        f"soak: RSS flat within ±{RSS_BAND:.0%} after warm-up",
        abs(drift) <= RSS_BAND,
        f"{reference:.1f} MB after minute 1, {worst['rss_mb']:.1f} MB at minute {worst['minute']}"
        f" ({drift:+.1%})",
        f"{(abs(drift) - RSS_BAND) * 100:.1f} points",
    )
    p99s = [r["p99_ms"] for r in later]
    median, highest = statistics.median(p99s), max(p99s)
    p99 = verdict(
        f"soak: p99 steady per minute (each ≤ {P99_STEADY_FACTOR:g}× the median minute's)",
        highest <= P99_STEADY_FACTOR * median,
        f"median {median:.2f} ms, highest {highest:.2f} ms",
        f"{highest - P99_STEADY_FACTOR * median:.2f} ms",
    )
    return [
        rss,
        p99,
        _growth_verdict("open files", later, "fds_max", 5),
        _growth_verdict("tasks", later, "tasks_median", 10),
    ]


def _growth_verdict(what: str, rows: list[dict[str, Any]], key: str, slack: int) -> str:
    first, last = rows[0].get(key), rows[-1].get(key)
    target = f"soak: no growth in {what}"
    if first is None or last is None:
        return f"target {target} : not measured (the server did not say)"
    allowed = max(slack, 0.1 * first)
    measured = f"{first} at minute {rows[0]['minute']}, {last} at minute {rows[-1]['minute']}"
    return verdict(
        target, last - first <= allowed, measured, f"{last - first - allowed:.0f} over the allowance"
    )


def kind_table(result: dict[str, Any]) -> str:
    lines = [
        f"  {'event':<12} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}"
    ]
    for kind, s in result["latency_ms"].items():
        if not s.get("count"):
            continue
        errors = result["errors"] if kind == "all" else s["errors"]
        lines.append(
            f"  {kind:<12} {s['count']:>7} {s['p50_ms']:>8.2f} {s['p95_ms']:>8.2f} {s['p99_ms']:>8.2f}"
            f" {s['max_ms']:>8.2f} {errors:>6}"
        )
    return "\n".join(lines)


def run_report(title: str, result: dict[str, Any]) -> str:
    """A run's headline, its table per event type, and the server's resources."""
    calls = f"{result['calls_started']} calls started, " if result["calls_started"] else ""
    rate = f"{result['turns_per_second']:,.1f} turns/s over {result['seconds']} s"
    head = f"{title}: {rate}, {calls}{result['errors']} errors"
    if result["errors"]:
        head += f" {result['errors_by_reason']}; e.g. {result['error_examples'][:2]}"
    lag = result["send_lag_ms"]
    lines = [head, kind_table(result)]
    if lag.get("count"):
        lines.append(f"  generator lateness: p99 {lag['p99_ms']:.2f} ms, max {lag['max_ms']:.2f} ms")
    if (server := result.get("server")) and server.get("samples"):
        tasks = server["tasks"] or {}
        lines.append(
            f"  server: RSS {server['rss_mb']['first']}→{server['rss_mb']['last']} MB "
            f"(max {server['rss_mb']['max']}), CPU {server['cpu_cores']['mean']} cores mean "
            f"(max {server['cpu_cores']['max']}), "
            f"open files {server['fds']['first']}→{server['fds']['last']}, "
            f"tasks {tasks.get('first')}→{tasks.get('last')} (max {tasks.get('max')})"
        )
    return "\n".join(lines)


def minute_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"  {'minute':>6} {'turns/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8} {'RSS MB':>7} {'CPU':>5}"
        f" {'files':>5} {'tasks':>6} {'calls':>6}"
    ]
    for r in rows:
        lines.append(
            f"  {r['minute']:>6} {r.get('turns_per_second', 0):>8.1f} {r.get('p50_ms', 0):>7.2f}"
            f" {r.get('p99_ms', 0):>7.2f} {r.get('max_ms', 0):>8.2f} {r.get('rss_mb', 0):>7.1f}"
            f" {r.get('cpu_cores', 0):>5.2f} {r.get('fds_max', '-')!s:>5} {r.get('tasks_median', '-')!s:>6}"
            f" {r.get('live_calls', '-')!s:>6}"
        )
    return "\n".join(lines)


def merge_minutes(latency: list[dict[str, Any]], server: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latency and the server's rows of each minute, side by side."""
    by_minute = {r["minute"]: dict(r) for r in latency}
    for r in server:
        by_minute.setdefault(r["minute"], {"minute": r["minute"]}).update(r)
    return [by_minute[m] for m in sorted(by_minute) if "p99_ms" in by_minute[m] and "rss_mb" in by_minute[m]]
