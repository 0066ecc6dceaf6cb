"""The call generator (issue 17): calls played the way the CTI plays them, and its runs.

What a call does and its pacing: ``bench/calls_script.py``; how it is played and timed:
``bench/calls_player.py`` (what it records: ``bench/calls_stats.py``); the server's RSS,
CPU, open files and tasks over time: ``bench/calls_monitor.py``; saturation with ``wrk``
against the bot, the baseline and the limit: ``bench/calls_saturation.py``; verdicts:
``bench/calls_report.py``.

``section(profile)`` is the calls' part of ``make bench`` (``bench/run.py``): a fresh
``voicebot serve``, a warm-up that says every templated prompt once, then

- short: a paced run of a few hundred calls, the call mix at a fixed 500 turns/s
  (target p99 ≤ 10 ms), saturation (bot, baseline, limit; target ≥ 50 % of the limit);
- full (``BENCH=full``) adds 2,000 concurrent calls with realistic pacing (target p99
  ≤ 50 ms, no errors) and a 10-minute soak at half the bot's measured saturation, on a
  fresh bot (RSS flat, p99 steady, no growth in open files or tasks).

Alone (a bot is started unless ``--base`` names one; ``--pid`` lets it be monitored)::

    .venv/bin/python -m bench.calls --calls 2000 --seconds 120        # paced calls
    .venv/bin/python -m bench.calls --rate 500 --seconds 10            # the call mix at a fixed rate
    .venv/bin/python -m bench.calls --saturation --rounds 3 --seconds 5
    .venv/bin/python -m bench.calls --soak --seconds 600 [--rate 800]  # default: half of saturation
    .venv/bin/python -m bench.calls --profile short                    # what make bench runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from bench import calls_report as report
from bench import calls_saturation as saturation
from bench.calls_monitor import Monitor
from bench.calls_player import PromptDurations, play_open_loop, play_paced
from bench.calls_script import Kind, ScriptWriter, interleaved, warm_up_scripts
from bench.servers import free_port

DEFAULT_SEED = 17
# Open loops: a call's events come this far apart (lanes = rate × this); its first round
# (every lane's first event: greetings only) is a pre-roll, sent but not counted.
LANE_SECONDS = 1.0
MIX_SAMPLE = 20_000  # requests of the mix sampled for its share of pushes
SOAK_LANE_SECONDS = 4.0  # about a real call's pace: the soak holds more calls at once
FIXED_RATE_TARGET_MS = 10.0
PACED_TARGET_MS = 50.0


@dataclass(frozen=True)
class Profile:
    paced_calls: int = 300
    paced_seconds: float = 45
    fixed_rate: float = 500
    fixed_seconds: float = 10
    saturation_rounds: int = 3
    saturation_seconds: int = 5
    big_calls: int = 0  # the 2,000 concurrent calls, full profile only
    big_seconds: float = 120
    soak_seconds: float = 0


PROFILES = {
    "short": Profile(),
    "full": Profile(
        fixed_seconds=20, saturation_rounds=5, saturation_seconds=8, big_calls=2000, soak_seconds=600
    ),
}


def bot_command(port: int) -> list[str]:
    return [str(Path(sys.executable).with_name("voicebot")), "serve", "--port", str(port)]


@contextmanager
def bot_serving(data_dir: Path) -> Iterator[tuple[str, int]]:
    """A fresh ``voicebot serve`` of the sample flows (as bench/run.py starts it); its base and pid."""
    port = free_port()
    env = {
        "VOICEBOT_DATA_DIR": str(data_dir),
        "VOICEBOT_FLOWS_DIR": str(saturation.ROOT / "flows"),
        "VOICEBOT_LOG_LEVEL": "WARNING",
    }
    with saturation.serving(bot_command(port), port, env, ready_path="/healthz") as pid:
        yield f"http://127.0.0.1:{port}", pid


async def _warm_up(base: str, durations: PromptDurations) -> dict[str, Any]:
    scripts = warm_up_scripts("warm")
    recorder, seconds = await play_paced(
        base, iter(scripts), calls=4, call_rate=1000, seconds=None, pace=0, durations=durations
    )
    result = recorder.summary(seconds)
    return {
        "calls": len(scripts),
        "requests": result["requests"],
        "slowest_first_turn_ms": result["latency_ms"]["all"]["max_ms"],
        "errors": result["errors"],
        "prompts": len(durations.known),
    }


def warm_up(base: str) -> dict[str, Any]:
    """Every templated prompt and joined answer of the call mix said once (and every
    audio URL's duration read) before anything is timed."""

    async def run() -> dict[str, Any]:
        durations = PromptDurations(base)
        try:
            return await _warm_up(base, durations)
        finally:
            await durations.close()

    result = asyncio.run(run())
    print(f"calls warm-up: {result}", flush=True)
    return result


def paced_run(
    base: str, pid: int | None, *, calls: int, seconds: float, seed: int, prefix: str
) -> dict[str, Any]:
    """At most ``calls`` calls at once with realistic pacing, arriving at calls/20 a second."""
    call_rate = max(1.0, calls / 20)
    scripts = ScriptWriter(seed, prefix).calls()
    with _monitored(pid, base) as monitor:
        recorder, wall = asyncio.run(
            play_paced(base, scripts, calls=calls, call_rate=call_rate, seconds=seconds, seed=seed)
        )
    result = {"calls": calls, "call_rate_per_second": call_rate, **recorder.summary(wall)}
    result["server"] = monitor.summary() if monitor else None
    print(report.run_report(f"paced calls ({calls} at once at most, {call_rate:g} new a second)", result))
    return result


def open_loop_run(
    base: str,
    pid: int | None,
    *,
    rate: float,
    seconds: float,
    seed: int,
    prefix: str,
    lane_seconds: float = LANE_SECONDS,
) -> dict[str, Any]:
    """The call mix at ``rate`` turns/s (``/cti/ai`` callbacks; the hang-up pushes are sent
    besides, at their place in the calls), unpaced, from ``rate × lane_seconds`` calls at a time."""
    lanes = max(1, int(rate * lane_seconds))
    sample = [kind for kind, _ in islice(interleaved(ScriptWriter(seed, prefix), lanes), MIX_SAMPLE)]
    requests_per_turn = len(sample) / sum(1 for kind in sample if kind is not Kind.HANGUP_PUSH)
    requests_rate = rate * requests_per_turn
    requests = interleaved(ScriptWriter(seed, prefix), lanes)
    with _monitored(pid, base) as monitor:
        recorder, wall = asyncio.run(
            play_open_loop(base, requests, rate=requests_rate, seconds=seconds, preroll=lanes)
        )
    result = {
        "rate_per_second": rate,
        "requests_per_second": round(requests_rate, 1),
        "lanes": lanes,
        **recorder.summary(wall),
    }
    if monitor:
        result["server"] = monitor.summary()
        result["minutes"] = report.merge_minutes(recorder.per_minute(), monitor.per_minute())
    title = (
        f"call mix at a fixed {rate:g} turns/s ({requests_rate:.0f} requests/s with the pushes; "
        f"{lanes} calls at a time)"
    )
    print(report.run_report(title, result))
    return result


@contextmanager
def _monitored(pid: int | None, base: str) -> Iterator[Monitor | None]:
    if pid is None:
        yield None
        return
    with Monitor(pid, base) as monitor:
        yield monitor


def soak_run(
    base: str, pid: int, *, rate: float, seconds: float, seed: int
) -> tuple[dict[str, Any], list[str]]:
    """The call mix at ``rate`` turns/s for ``seconds``, four seconds between a call's
    events; its rows per minute and their verdicts (whole minutes only)."""
    result = open_loop_run(
        base, pid, rate=rate, seconds=seconds, seed=seed, prefix="soak", lane_seconds=SOAK_LANE_SECONDS
    )
    result["minutes"] = [row for row in result["minutes"] if row["minute"] <= seconds // 60]
    print("soak, per minute:\n" + report.minute_table(result["minutes"]), flush=True)
    return result, report.soak_verdicts(result["minutes"])


def section(profile_name: str = "short", seed: int = DEFAULT_SEED) -> tuple[dict[str, Any], list[str]]:
    """The calls' part of ``make bench``: its results and its verdict lines."""
    profile = PROFILES[profile_name]
    results: dict[str, Any] = {"profile": profile_name, "seed": seed}
    verdicts: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="voicebot-bench-calls-"))
    try:
        with bot_serving(workdir / "bot") as (base, pid):
            results["warm_up"] = warm_up(base)
            results["paced"] = paced_run(
                base, pid, calls=profile.paced_calls, seconds=profile.paced_seconds, seed=seed, prefix="paced"
            )
            fixed = open_loop_run(
                base, pid, rate=profile.fixed_rate, seconds=profile.fixed_seconds, seed=seed, prefix="fixed"
            )
            results["fixed_rate"] = fixed
            name = f"{profile.fixed_rate:g} turns/s (call mix)"
            verdicts.append(report.latency_verdict(name, fixed, FIXED_RATE_TARGET_MS, no_errors=False))
            if profile.big_calls:
                big = paced_run(
                    base, pid, calls=profile.big_calls, seconds=profile.big_seconds, seed=seed, prefix="big"
                )
                results["paced_2000"] = big
                name = f"{profile.big_calls:,} concurrent calls, realistic pacing"
                verdicts.append(report.latency_verdict(name, big, PACED_TARGET_MS, no_errors=True))
            sat = saturation.run(
                base, workdir, seed=seed, rounds=profile.saturation_rounds, seconds=profile.saturation_seconds
            )
            results["saturation"] = sat
            print(saturation.summary(sat), flush=True)
            verdicts.append(report.saturation_verdict(sat))
        if profile.soak_seconds:
            rate = round(results["saturation"]["bot_turns_per_second"] / 2)
            with bot_serving(workdir / "soak") as (base, pid):
                warm_up(base)
                results["soak"], soak_verdicts = soak_run(
                    base, pid, rate=rate, seconds=profile.soak_seconds, seed=seed
                )
            verdicts += soak_verdicts
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["verdicts"] = verdicts
    return results, verdicts


def _alone(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """One run, as the arguments say, against a bot started here or the one of ``--base``."""
    results: dict[str, Any] = {"seed": args.seed}
    workdir = Path(tempfile.mkdtemp(prefix="voicebot-bench-calls-"))
    try:
        with _server(args, workdir) as (base, pid):
            if not args.no_warm_up:
                results["warm_up"] = warm_up(base)
            if args.saturation or (args.soak and not args.rate):
                seconds = int(args.seconds or 5) if args.saturation else 5
                sat = saturation.run(base, workdir, seed=args.seed, rounds=args.rounds, seconds=seconds)
                results["saturation"] = sat
                print(saturation.summary(sat), flush=True)
                if args.saturation:
                    return results, [report.saturation_verdict(sat)]
            if args.soak:
                if pid is None:
                    raise SystemExit("--soak watches the server's process: give --pid with --base")
                rate = args.rate or round(results["saturation"]["bot_turns_per_second"] / 2)
                results["soak"], verdicts = soak_run(
                    base, pid, rate=rate, seconds=args.seconds or 600, seed=args.seed
                )
                return results, verdicts
            if args.rate:
                run = open_loop_run(
                    base, pid, rate=args.rate, seconds=args.seconds or 10, seed=args.seed, prefix="fixed"
                )
                results["fixed_rate"] = run
                name = f"{args.rate:g} turns/s (call mix)"
                return results, [report.latency_verdict(name, run, FIXED_RATE_TARGET_MS, no_errors=False)]
            run = paced_run(
                base, pid, calls=args.calls, seconds=args.seconds or 60, seed=args.seed, prefix="paced"
            )
            results["paced"] = run
            name = f"{args.calls:,} concurrent calls, realistic pacing"
            return results, [report.latency_verdict(name, run, PACED_TARGET_MS, no_errors=True)]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _server(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[str, int | None]]:
    if args.base:
        yield args.base.rstrip("/"), args.pid
        return
    with bot_serving(workdir / "bot") as (base, pid):
        yield base, pid


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Calls played the way the CTI plays them (issue 17).")
    parser.add_argument("--profile", choices=sorted(PROFILES), help="the calls' part of make bench")
    parser.add_argument("--calls", type=int, default=300, help="paced: calls at once at most")
    parser.add_argument("--seconds", type=float, help="the run's length (wrk's, with --saturation)")
    parser.add_argument("--rate", type=float, help="the call mix at this many requests/s, unpaced")
    parser.add_argument("--saturation", action="store_true", help="wrk: bot, baseline and limit")
    parser.add_argument("--rounds", type=int, default=3, help="saturation rounds")
    parser.add_argument(
        "--soak", action="store_true", help="--rate (default: half of saturation), per minute"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--base", help="a server already running (default: a fresh voicebot serve)")
    parser.add_argument("--pid", type=int, help="--base's process, to watch its RSS, CPU and files")
    parser.add_argument("--no-warm-up", action="store_true")
    parser.add_argument("--json", type=Path, help="write the results there")
    args = parser.parse_args(argv)
    results, verdicts = section(args.profile, args.seed) if args.profile else _alone(args)
    results["verdicts"] = verdicts
    print("\n".join(verdicts))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
