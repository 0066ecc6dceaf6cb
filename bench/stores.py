"""What a turn costs Redis and PostgreSQL, one and two instances, and where each store saturates.

Run alone with ``.venv/bin/python -m bench.stores`` (about 8 minutes; ``--instances 1``
and ``--no-replay`` shorten it). It always starts its own ``redis-server`` (no
persistence, as the tests run it) and PostgreSQL cluster (default settings: fsync and
synchronous commit on) on free ports: the figures are deltas of the servers' own
counters, so nothing else may use them. It needs ``wrk`` and ``redis-benchmark``.

**Per turn, measured.** One ``voicebot serve`` on both stores, then two (each call's
callbacks alternating between them, as in ``bench/instances.py``), after a warm-up and
a ``wrk`` run that creates every call of ``bench/turns.lua`` (a call's first turn costs
more). For each, windows of load, each bracketed by snapshots of the counters:

- ``idle``: nothing sent (the instances' once-a-second check for overdue transfers);
- ``rate``: the open-loop workload of ``bench/run.py`` at 100 turns/s in all (light
  load: each instance's transcript writer commits about one turn per transaction);
- ``saturation``: ``wrk`` with ``bench/turns.lua`` as ``bench/instances.py`` runs it
  (the bot's saturation: the writers batch many turns per transaction);
- ``calls``: whole calls, each ``ready2speak`` (the greeting), three utterances of the
  workload, ``hungup``, then the CTI's hang-up push (``/cti/hangup?business=robot``),
  counted per call.

A turn is a row of the ``turns`` table. Counted: Redis's commands by command (``INFO
commandstats``, which also counts the commands a script runs inside Redis), bytes in
and out (``total_net_input_bytes`` / ``total_net_output_bytes``, less the snapshots'
own ``INFO``) and the ``redis-server`` process's CPU time; PostgreSQL's transactions
(``pg_stat_database.xact_commit``, less the snapshots' own) and, of them, the write
transactions (the transaction ids handed out), tuples inserted and updated (and the
share of HOT updates), WAL bytes (``pg_current_wal_insert_lsn``), WAL syncs
(``pg_stat_wal.wal_sync``: the fdatasyncs of commits) and the CPU time of every
PostgreSQL process (backends, WAL writer, checkpointer, autovacuum). CPU times are read
from ``/proc/<pid>/task/*/schedstat`` (nanoseconds; psutil's clock ticks are 10 ms).
The ``pg_stat_*`` counters reach the views up to 10 s after a backend goes idle, so each
window waits ``STATS_SETTLE_SECONDS`` before its last read. ``pg_stat_statements``
needs ``shared_preload_libraries`` (a configuration change and a restart): not used;
the statements are those of ``bot/store/pg_transcripts.py`` (per batch, one upsert of
the calls' rows and one insert of the turns, each an ``unnest`` of arrays), plus the
query asyncpg's pool resets a connection with when it is released, which PostgreSQL
counts as a transaction of its own.

**Capacity.** A sample of turns is recorded with ``MONITOR`` (outside the counted
windows) for each command's exact arguments; each command a turn sends is replayed
alone with ``redis-benchmark`` (50 connections, no pipelining, call ids random over
2,000), and Redis's CPU per command, weighted by how many a turn sends, is its CPU per
turn: Redis runs commands on one thread, so one core divided by that is its ceiling in
turns/s. (The state write's fencing token is replaced by 0, unfenced: random keys would
otherwise hold newer tokens and the script would refuse the write.) On a 2-core
machine the client cannot keep Redis busy (Redis stays under 0.6 cores), so the
ceiling is computed, not observed; a busy Redis serves more commands per pass of its
event loop, so the figure errs low. PostgreSQL: the transcripts' own statements
(``UPSERT_CALLS``, ``INSERT_TURNS``) with rows sampled from the run, replayed by 1 to 8
writers at once, each one transaction at a time as an instance's writer is, at 1, the
saturation's and 64 turns per transaction, with and without the pool's reset query, in
two rounds; turns/s, commits/s, syncs/s, CPU and WAL per turn.

**The model** (``model``): N instances on N machines, each at the one-instance
saturation X measured in the same run; what each store must do per second, and the N
at which each saturates.

On a 2-core machine the bot, both stores and the load generator share the cores:
turns/s are this machine's, not what a machine of its own would do; the stores' costs
per turn are counted in their own CPU time, which the sharing changes less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import httpx
import psutil
import redis

from bench import instances
from bench import run as base_bench
from bench.servers import (
    emptied_redis,
    free_port,
    fresh_database,
    private_postgres,
    private_redis,
    redis_database_url,
)

T = TypeVar("T")

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
REDIS_DB = 14
# PostgreSQL's backends report their counters when they go idle, at most once a second,
# and an idle one within 10 s (PGSTAT_IDLE_INTERVAL): a window's last read waits this long.
STATS_SETTLE_SECONDS = 11.0
STATS_SETTLE_MAX_SECONDS = 40.0
IDLE_SECONDS = 5
RATE_SECONDS = 5
LIGHT_RATE_PER_SECOND = 100  # light load: a transcript transaction for about every turn
WRK_SECONDS = 6
PRIME_WRK_SECONDS = 6
CALLS_PER_SCRIPT = 1000  # turns.lua's calls: bench-0 … bench-999
LIFECYCLE_CALLS = 200
LIFECYCLE_CONCURRENCY = 16
CAPTURE_TURNS = 60
REDIS_KEYSPACE = 2000  # call ids a replayed command draws from
REDIS_CLIENTS = 50
REDIS_BENCHMARK_THREADS = 2  # one thread cannot keep Redis busy here (nor can two: see the docstring)
REDIS_REPLAY_SECONDS = 2.0
REDIS_MIN_PER_TURN = 0.05  # a command sent less often than this per turn is not replayed
PG_REPLAY_SECONDS = 3.0
PG_REPLAY_ROUNDS = 2
PG_CALLS_PER_WRITER = 500
# (writers at once, turns per transaction, asyncpg's pool reset after each); a batch of None
# is the one measured at one instance's saturation.
PG_REPLAY: tuple[tuple[int, int | None, bool], ...] = (
    (1, 1, False),
    (1, 1, True),
    (8, 1, False),
    (4, None, False),
    (4, None, True),
    (4, 64, False),
)
MODEL_INSTANCES = (1, 2, 4, 8, 16, 32)
STORE_MACHINE_CORES = 8
CALL_ID = re.compile(rb"\bbench-(?:[a-z]-)?\d+\b")  # the call ids of turns.lua (and its copies)
RANDOM_CALL_ID = b"bench-__rand_int__"  # redis-benchmark puts a random number in each __rand_int__
# The state write (bot/store/redis_sessions.py's _PUT): a script of five keys whose ARGV[3]
# is the fencing token.
FENCED_SCRIPT_KEYS = 5
FENCE_ARGV = 3
CORES_NOTE = (
    "this machine has {cpus} cores shared by the bot, Redis, PostgreSQL and the load generator: "
    "turns/s are this machine's, the stores' costs are counted in their own CPU time"
)


# --- counting: Redis ---


@dataclass(frozen=True)
class CommandStat:
    calls: int
    usec: int  # time Redis spent executing them


def parse_info(text: str) -> dict[str, str]:
    """The ``field:value`` lines of an ``INFO`` reply (section headers and blanks skipped)."""
    fields: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields[key] = value
    return fields


def command_stats(info: dict[str, str]) -> dict[str, CommandStat]:
    """``cmdstat_<name>:calls=…,usec=…,…`` of ``INFO commandstats``, by command name."""
    stats: dict[str, CommandStat] = {}
    for key, value in info.items():
        if not key.startswith("cmdstat_"):
            continue
        parts = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
        stats[key.removeprefix("cmdstat_")] = CommandStat(int(parts["calls"]), int(parts["usec"]))
    return stats


def command_delta(
    before: dict[str, CommandStat],
    after: dict[str, CommandStat],
    ignore: frozenset[str] = frozenset({"info"}),
) -> dict[str, CommandStat]:
    """The commands run between two snapshots, most frequent first (``ignore``: the
    snapshots' own)."""
    delta = {}
    for name, stat in after.items():
        old = before.get(name, CommandStat(0, 0))
        if name not in ignore and stat.calls > old.calls:
            delta[name] = CommandStat(stat.calls - old.calls, stat.usec - old.usec)
    return dict(sorted(delta.items(), key=lambda item: (-item[1].calls, item[0])))


INFO_REQUEST = b"*2\r\n$4\r\nINFO\r\n$3\r\nall\r\n"


def info_reply_bytes(text: bytes) -> int:
    """Bytes on the wire of an ``INFO`` reply (a RESP2 bulk string) carrying ``text``."""
    return len(b"$%d\r\n" % len(text)) + len(text) + 2


@dataclass(frozen=True)
class MonitorEntry:
    db: int
    source: str  # the client's address, or "lua" for a command a script ran
    args: tuple[bytes, ...]


_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("a"): b"\a", ord("b"): b"\b"}


def parse_monitor_line(line: bytes) -> MonitorEntry | None:
    """One line of ``MONITOR`` (``1700000000.123456 [14 127.0.0.1:5555] "SET" "k" "v"``;
    arguments as Redis's ``sdscatrepr`` writes them), or None for anything else."""
    line = line.rstrip(b"\r\n")
    if not line.startswith(b"+") or b" [" not in line:
        return None
    _, _, rest = line.partition(b" [")
    where, _, rest = rest.partition(b"] ")
    db, _, source = where.partition(b" ")
    if not db.isdigit():
        return None
    args: list[bytes] = []
    i = 0
    while i < len(rest):
        if rest[i : i + 1] != b'"':
            i += 1
            continue
        out = bytearray()
        i += 1
        while i < len(rest) and rest[i : i + 1] != b'"':
            if rest[i : i + 1] == b"\\" and i + 1 < len(rest):
                code = rest[i + 1]
                if code == ord("x") and i + 3 < len(rest):
                    out.append(int(rest[i + 2 : i + 4], 16))
                    i += 4
                    continue
                out += _ESCAPES.get(code, bytes([code]))
                i += 2
                continue
            out.append(rest[i])
            i += 1
        args.append(bytes(out))
        i += 1
    return MonitorEntry(int(db), source.decode(), tuple(args))


@dataclass(frozen=True)
class Shape:
    """One kind of command a turn sends, as replayed: its name (with the script's SHA for
    ``EVALSHA``), how many a turn sends, and arguments with random call ids."""

    name: str
    per_turn: float
    args: tuple[bytes, ...]


def shape_name(args: tuple[bytes, ...]) -> str:
    name = args[0].decode(errors="replace").upper()
    if name in ("EVALSHA", "EVALSHA_RO") and len(args) > 2:
        return f"{name} {args[1][:8].decode(errors='replace')} ({int(args[2])} keys)"
    return name


def replayable(args: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """``args`` with the benchmark's call ids made random, and the state write's fencing
    token made 0 (unfenced), so that a write on random keys is never refused as stale."""
    out = [CALL_ID.sub(RANDOM_CALL_ID, arg) for arg in args]
    if out[0].upper() == b"EVALSHA" and len(out) > 2 and out[2] == str(FENCED_SCRIPT_KEYS).encode():
        out[2 + FENCED_SCRIPT_KEYS + FENCE_ARGV] = b"0"
    return tuple(out)


def shapes(entries: list[MonitorEntry], turns: int, db: int) -> tuple[list[Shape], dict[str, float]]:
    """The commands clients sent per turn (``turns`` recorded), by kind, most frequent
    first; and the commands scripts ran per turn, by name."""
    counts: Counter[str] = Counter()
    first: dict[str, tuple[bytes, ...]] = {}
    inside: Counter[str] = Counter()
    for entry in entries:
        if entry.db != db or not entry.args:
            continue
        if entry.source == "lua":
            inside[entry.args[0].decode(errors="replace").lower()] += 1
            continue
        name = shape_name(entry.args)
        counts[name] += 1
        first.setdefault(name, entry.args)
    found = [Shape(name, n / turns, replayable(first[name])) for name, n in counts.most_common()]
    return found, {name: round(n / turns, 3) for name, n in inside.most_common()}


# --- counting: processes and PostgreSQL ---


def schedstat_seconds(pid: int) -> float | None:
    """CPU seconds of every thread of ``pid`` in nanoseconds' precision (the first field of
    ``/proc/<pid>/task/<tid>/schedstat``), or None where that cannot be read. psutil's
    times count clock ticks (10 ms): over a window of a few seconds and a dozen
    processes that is an error of tens of percent on a light load."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        return (
            sum(int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0]) for tid in tasks) / 1e9
        )
    except (OSError, ValueError, IndexError):
        return None


def cpu_by_pid(roots: list[int]) -> dict[int, float]:
    """CPU seconds of ``roots`` and all their descendants, by pid."""
    seconds: dict[int, float] = {}
    for root in roots:
        with contextlib.suppress(psutil.Error):
            parent = psutil.Process(root)
            for proc in (parent, *parent.children(recursive=True)):
                with contextlib.suppress(psutil.Error):
                    precise = schedstat_seconds(proc.pid)
                    if precise is None:
                        times = proc.cpu_times()
                        precise = times.user + times.system
                    seconds[proc.pid] = precise
    return seconds


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two ``cpu_by_pid`` readings; a process started between
    them counts from zero (one that exited between them is lost: its time is unknown)."""
    return sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in after.items())


def lsn_bytes(lsn: str) -> int:
    """A WAL location ``X/Y`` (hexadecimal halves) as a byte offset."""
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


PG_DATABASE_COUNTERS = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted")
PG_WAL_COUNTERS = ("wal_records", "wal_fpi", "wal_bytes", "wal_write", "wal_sync")
PG_TABLES = ("calls", "turns", "hangup_pushes")
PG_SETTINGS = (
    "server_version",
    "fsync",
    "synchronous_commit",
    "wal_sync_method",
    "commit_delay",
    "wal_level",
    "shared_buffers",
    "max_wal_size",
    "checkpoint_timeout",
)


async def pg_counters(admin: asyncpg.Connection, database: str) -> dict[str, int]:
    """The cumulative counters of ``database`` (``pg_stat_database``) and of the WAL
    (``pg_stat_wal``, the whole cluster), as they are reported so far."""
    db = await admin.fetchrow(
        f"SELECT {', '.join(PG_DATABASE_COUNTERS)} FROM pg_stat_database WHERE datname = $1", database
    )
    wal = await admin.fetchrow(f"SELECT {', '.join(PG_WAL_COUNTERS)} FROM pg_stat_wal")
    counters = {name: int(db[name]) if db else 0 for name in PG_DATABASE_COUNTERS}
    counters |= {name: int(wal[name]) for name in PG_WAL_COUNTERS} if wal else {}
    return counters


async def pg_position(admin: asyncpg.Connection) -> dict[str, int]:
    """Read at once (no reporting delay): the WAL's insert position in bytes and the next
    transaction id (each write transaction takes one)."""
    row = await admin.fetchrow(
        "SELECT pg_current_wal_insert_lsn()::text AS lsn, "
        "pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS next_xid"
    )
    assert row is not None
    return {"wal_lsn": lsn_bytes(row["lsn"]), "next_xid": int(row["next_xid"])}


TABLES_QUERY = (
    "SELECT (SELECT count(*) FROM turns) AS turns, (SELECT count(*) FROM calls) AS calls, "
    "(SELECT count(*) FROM hangup_pushes) AS pushes, "
    "(SELECT json_object_agg(relname, json_build_array(n_tup_ins, n_tup_upd, n_tup_hot_upd)) "
    " FROM pg_stat_user_tables WHERE relname = ANY($1::text[])) AS tables, "
    # Our own counters reach the views at once (not up to 10 s later): this transaction's
    # place in xact_commit is then known.
    "pg_stat_force_next_flush() AS flushed"
)


async def pg_tables(conn: asyncpg.Connection) -> dict[str, Any]:
    """Rows in the transcripts' tables, and their tuple counters (one transaction)."""
    row = await conn.fetchrow(TABLES_QUERY, list(PG_TABLES))
    assert row is not None
    tables = json.loads(row["tables"]) if row["tables"] else {}
    return {"turns": row["turns"], "calls": row["calls"], "pushes": row["pushes"], "tables": tables}


class _Loop:
    """An event loop of its own for the probes' connections, run only between the
    benchmark's own ``asyncio.run`` calls (never while one runs)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, awaitable: Awaitable[T]) -> T:
        return self.loop.run_until_complete(awaitable)

    def close(self) -> None:
        self.loop.close()


# --- snapshots and windows ---


@dataclass
class Probe:
    """Reads both servers' counters: Redis ``INFO``, PostgreSQL's views, processes' CPU."""

    redis_client: redis.Redis
    redis_pid: int
    postgres_pid: int
    loop: _Loop
    admin: asyncpg.Connection
    database: str = ""
    bench: asyncpg.Connection | None = None  # to the configuration's database
    bot_pids: list[int] = field(default_factory=list)

    def info(self) -> bytes:
        raw = self.redis_client.execute_command("INFO", "all")  # type: ignore[no-untyped-call]
        return raw if isinstance(raw, bytes) else str(raw).encode()

    def immediate(self) -> dict[str, Any]:
        """What can be read at once: Redis, the WAL position, rows, CPU times."""
        info = self.info()
        snap: dict[str, Any] = {
            "at": time.perf_counter(),
            "info_raw": info,
            "info": parse_info(info.decode(errors="replace")),
            "redis_cpu": cpu_by_pid([self.redis_pid]),
            "postgres_cpu": cpu_by_pid([self.postgres_pid]),
            "bot_cpu": cpu_by_pid(self.bot_pids),
        }
        snap |= self.loop.run(pg_position(self.admin))
        if self.bench is not None:
            snap |= self.loop.run(pg_tables(self.bench))
        return snap

    def counters(self) -> dict[str, int]:
        return self.loop.run(pg_counters(self.admin, self.database))


OWN_TRANSACTIONS_PER_WINDOW = 2  # the two pg_tables reads of a window, on its database


def window(probe: Probe, drive: Callable[[], int]) -> dict[str, Any]:
    """Counters before and after ``drive`` (which returns how many requests it sent)."""
    counters_before = probe.counters()
    before = probe.immediate()
    requests = drive()
    after = probe.immediate()
    counters_after = settled(probe, counters_before, before, after)
    return difference(before, after, counters_before, counters_after) | {"requests": requests}


def settled(
    probe: Probe, counters_before: dict[str, int], before: dict[str, Any], after: dict[str, Any]
) -> dict[str, int]:
    """PostgreSQL's counters once they include the window's work: at least
    ``STATS_SETTLE_SECONDS`` after it, and until they count every row the window
    inserted and a commit for every write transaction (a backend that could not report
    at once tries again 10 s later), or ``STATS_SETTLE_MAX_SECONDS``."""
    time.sleep(STATS_SETTLE_SECONDS)
    inserted = sum(after.get(key, 0) - before.get(key, 0) for key in ("turns", "calls", "pushes"))
    writes = after["next_xid"] - before["next_xid"] - 2  # an autovacuum elsewhere may take one or two
    deadline = time.monotonic() + STATS_SETTLE_MAX_SECONDS - STATS_SETTLE_SECONDS
    while True:
        counters = probe.counters()
        counted = counters["tup_inserted"] - counters_before["tup_inserted"]
        committed = counters["xact_commit"] - counters_before["xact_commit"]
        if counted >= inserted and committed >= writes:
            return counters
        if time.monotonic() > deadline:
            print(
                f"stores: PostgreSQL's counters still lack rows ({counted} of {inserted} inserts)", flush=True
            )
            return counters
        time.sleep(1)


def difference(
    before: dict[str, Any],
    after: dict[str, Any],
    counters_before: dict[str, int],
    counters_after: dict[str, int],
) -> dict[str, Any]:
    """The raw deltas of a window (see ``window``)."""
    info_before, info_after = before["info"], after["info"]
    net_in = int(info_after["total_net_input_bytes"]) - int(info_before["total_net_input_bytes"])
    net_out = int(info_after["total_net_output_bytes"]) - int(info_before["total_net_output_bytes"])
    counters = {name: counters_after[name] - counters_before.get(name, 0) for name in counters_after}
    counters["xact_commit"] -= OWN_TRANSACTIONS_PER_WINDOW if before.get("tables") is not None else 0
    tables = {}
    for name, (ins, upd, hot) in (after.get("tables") or {}).items():
        old = (before.get("tables") or {}).get(name, (0, 0, 0))
        tables[name] = {"inserted": ins - old[0], "updated": upd - old[1], "hot_updated": hot - old[2]}
    return {
        "seconds": after["at"] - before["at"],
        "turns": after.get("turns", 0) - before.get("turns", 0),
        "calls_created": after.get("calls", 0) - before.get("calls", 0),
        "pushes": after.get("pushes", 0) - before.get("pushes", 0),
        "commands": command_delta(command_stats(info_before), command_stats(info_after)),
        "net_in": net_in - len(INFO_REQUEST),
        "net_out": net_out - info_reply_bytes(before["info_raw"]),
        "redis_cpu": cpu_delta(before["redis_cpu"], after["redis_cpu"]),
        "postgres_cpu": cpu_delta(before["postgres_cpu"], after["postgres_cpu"]),
        "bot_cpu": cpu_delta(before["bot_cpu"], after["bot_cpu"]),
        "wal_bytes": after["wal_lsn"] - before["wal_lsn"],
        "xids": after["next_xid"] - before["next_xid"],
        "counters": counters,
        "tables": tables,
    }


def per_unit(raw: dict[str, Any], units: float, unit: str) -> dict[str, Any]:
    """A window's deltas divided by ``units`` (turns, calls or seconds), rounded."""
    if units <= 0:
        return {"error": f"no {unit} counted"}
    commands = raw["commands"]
    counters = raw["counters"]
    tables = raw["tables"]
    updated = sum(t["updated"] for t in tables.values())
    hot = sum(t["hot_updated"] for t in tables.values())
    xacts = counters.get("xact_commit", 0)
    return {
        "redis": {
            "commands": round(sum(c.calls for c in commands.values()) / units, 3),
            "by_command": {name: round(c.calls / units, 3) for name, c in commands.items()},
            "bytes_in": round(raw["net_in"] / units, 1),
            "bytes_out": round(raw["net_out"] / units, 1),
            "cpu_us": round(raw["redis_cpu"] * 1e6 / units, 1),
        },
        "postgres": {
            "transactions": round(xacts / units, 4),
            "write_transactions": round(raw["xids"] / units, 4),
            "tuples_inserted": round(counters.get("tup_inserted", 0) / units, 3),
            "tuples_updated": round(counters.get("tup_updated", 0) / units, 3),
            "hot_update_share": round(hot / updated, 3) if updated else None,
            "wal_bytes": round(raw["wal_bytes"] / units, 1),
            "wal_syncs": round(counters.get("wal_sync", 0) / units, 4),
            "wal_full_page_images": round(counters.get("wal_fpi", 0) / units, 4),
            "cpu_us": round(raw["postgres_cpu"] * 1e6 / units, 1),
        },
        "bot_cpu_us": round(raw["bot_cpu"] * 1e6 / units, 1),
    }


def summarize(raw: dict[str, Any], unit: str) -> dict[str, Any]:
    """A window's figures: per turn (or per call, or per second when idle), and rates."""
    seconds = raw["seconds"]
    units = {"turn": raw["turns"], "call": raw["requests"] / len(CALL_TEXTS_AND_PUSH), "second": seconds}[
        unit
    ]
    writes = raw["xids"]
    return {
        "seconds": round(seconds, 2),
        "requests": raw["requests"],
        "turns": raw["turns"],
        "turns_per_second": round(raw["turns"] / seconds, 1),
        # The transcript writer's batches: every write transaction takes a transaction id.
        "turns_per_write_transaction": round(raw["turns"] / writes, 2) if writes > 0 else None,
        "redis_cores": round(raw["redis_cpu"] / seconds, 3),
        "postgres_cores": round(raw["postgres_cpu"] / seconds, 3),
        "bot_cores": round(raw["bot_cpu"] / seconds, 3),
        f"per_{unit}": per_unit(raw, units, unit),
    }


# --- load ---

CALL_TEXTS_AND_PUSH = ("ready2speak", "question", "yes", "global question", "hungup", "hang-up push")


def call_texts(k: int) -> list[str]:
    """Call k's callbacks: the greeting, a question with its slot, a yes, a global question, hung up."""
    column = k % 4
    utterances = base_bench.UTTERANCES
    return ["ready2speak", utterances[column], utterances[4 + column], utterances[8 + column], "hungup"]


async def play_calls(bases: list[str], count: int, concurrency: int, prefix: str) -> int:
    """``count`` whole calls, ``concurrency`` at once, each callback to the next base in
    turn; then each call's hang-up push. Returns the requests sent."""
    semaphore = asyncio.Semaphore(concurrency)
    sent = 0
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(k: int) -> None:
            nonlocal sent
            call_id = f"{prefix}-{k}"
            async with semaphore:
                for j, txt in enumerate(call_texts(k)):
                    params = {"telnum": "1", "callid": call_id, "txt": txt}
                    (
                        await client.get(f"{bases[(k + j) % len(bases)]}/cti/ai", params=params)
                    ).raise_for_status()
                    sent += 1
                push = {"callid": call_id, "business": "robot", "caller": "1"}
                (await client.get(f"{bases[k % len(bases)]}/cti/hangup", params=push)).raise_for_status()
                sent += 1

        await asyncio.gather(*(one(k) for k in range(count)))
    return sent


async def sample_turns(bases: list[str], count: int, prefix: str) -> int:
    """``count`` text turns of the benchmark's existing calls (``<prefix>0``…), one at a time."""
    async with httpx.AsyncClient(timeout=30) as client:
        for k in range(count):
            txt = base_bench.UTTERANCES[(k + 4 * (k % 3)) % len(base_bench.UTTERANCES)]
            params = {"telnum": "1", "callid": f"{prefix}{k}", "txt": txt}
            (await client.get(f"{bases[k % len(bases)]}/cti/ai", params=params)).raise_for_status()
    return count


@contextmanager
def monitored(host: str, port: int) -> Iterator[list[bytes]]:
    """Every line ``MONITOR`` prints while the block runs (a raw connection, read by a thread)."""
    lines: list[bytes] = []
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(b"*1\r\n$7\r\nMONITOR\r\n")
    reader = sock.makefile("rb")
    if not reader.readline().startswith(b"+OK"):
        raise RuntimeError("MONITOR was refused")
    sock.settimeout(None)

    def read() -> None:
        with contextlib.suppress(OSError, ValueError):
            for line in reader:
                lines.append(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        yield lines
        time.sleep(0.3)  # the last commands' lines
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        thread.join(5)


# --- one configuration ---


@dataclass
class Stores:
    redis_url: str  # with the database the bots use
    redis_pid: int
    postgres_dsn: str  # admin
    postgres_pid: int


def measure_configuration(
    stores: Stores, probe: Probe, count: int, workdir: Path, capture: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``count`` instances on fresh stores: the four windows; with ``capture``, also the
    commands of a sample of turns (MONITOR) and rows for the PostgreSQL replay."""
    shared = instances.Servers(stores.redis_url, stores.postgres_dsn, [stores.redis_pid, stores.postgres_pid])
    extra: dict[str, Any] = {}
    with ExitStack() as stack:
        env = stack.enter_context(instances.fresh_stores(shared))
        ports = [free_port() for _ in range(count)]
        workdir.mkdir(parents=True, exist_ok=True)
        bots = [
            instances.Bot(port, workdir / f"bot-{n}" / "var", workdir / f"bot-{n}.log")
            for n, port in enumerate(ports)
        ]
        procs = stack.enter_context(instances.serving(bots, env))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        database = urlsplit(env["VOICEBOT_DATABASE_URL"]).path.strip("/")
        probe.database, probe.bot_pids = database, [p.pid for p in procs]
        probe.bench = probe.loop.run(asyncpg.connect(env["VOICEBOT_DATABASE_URL"]))
        stack.callback(lambda: probe.loop.run(probe.bench.close()) if probe.bench else None)
        scripts = [base_bench.LUA]
        if count > 1:
            scripts = [instances.lua_for(chr(ord("a") + n), workdir) for n in range(count)]
        print(f"stores: {count} instance(s): warming up and priming the calls", flush=True)
        asyncio.run(instances.warm_up(bases))
        # A window whose figures are dropped: it ends with the priming's counters reported.
        window(probe, lambda: prime(probe, bases, scripts))
        windows: dict[str, Any] = {}
        failures: dict[str, int] = {}

        def rate() -> int:
            result = asyncio.run(instances.open_loop(bases, LIGHT_RATE_PER_SECOND, RATE_SECONDS))
            failures["rate"] = int(result["failures"])
            if result["failures"]:
                print(f"stores: the open loop saw failures (a busy machine?): {result}", flush=True)
            return int(result["requests"])

        def saturate() -> int:
            rps, socket_errors = instances.wrk_together(bases, scripts, WRK_SECONDS)
            failures["saturation"] = socket_errors
            if socket_errors:
                print(f"stores: wrk saw {socket_errors} socket errors", flush=True)
            return round(rps * WRK_SECONDS)

        def lifecycle() -> int:
            return asyncio.run(play_calls(bases, LIFECYCLE_CALLS, LIFECYCLE_CONCURRENCY, f"life{count}"))

        def idle() -> int:
            time.sleep(IDLE_SECONDS)
            return 0

        for name, drive, unit in (
            ("idle", idle, "second"),
            ("rate", rate, "turn"),
            ("saturation", saturate, "turn"),
            ("calls", lifecycle, "call"),
        ):
            windows[name] = summarize(window(probe, drive), unit) | {"failures": failures.get(name, 0)}
            print(f"stores: {count} instance(s), {name}: {_brief(windows[name])}", flush=True)
        if capture:
            extra = capture_sample(stores, bases, probe)
        probe.loop.run(probe.bench.close())
        probe.bench, probe.bot_pids = None, []
    return windows, extra


def prime(probe: Probe, bases: list[str], scripts: list[Path]) -> int:
    """The open loop's calls and every call of the ``wrk`` scripts created (a call's
    first turn costs more: the measured turns are the calls' later ones). One ``wrk``
    run: each new run starts its calls' utterances over, and repeating them drives some
    calls off the workload's path (to a transfer)."""
    assert probe.bench is not None
    asyncio.run(instances.open_loop(bases, LIGHT_RATE_PER_SECOND, RATE_SECONDS))
    instances.wrk_together(bases, scripts, PRIME_WRK_SECONDS)
    created = probe.loop.run(probe.bench.fetchval("SELECT count(*) FROM calls WHERE call_id LIKE 'bench-%'"))
    if created < CALLS_PER_SCRIPT * len(scripts):
        print(
            f"stores: {created} of the {CALLS_PER_SCRIPT * len(scripts)} calls exist after priming",
            flush=True,
        )
    return 0


def _brief(figures: dict[str, Any]) -> str:
    unit = next(key for key in figures if key.startswith("per_"))
    per = figures[unit]
    if "error" in per:
        return str(per)
    return (
        f"{figures['turns_per_second']:.0f} turns/s; {unit}: Redis {per['redis']['commands']} commands, "
        f"{per['redis']['cpu_us']} µs CPU; PostgreSQL {per['postgres']['transactions']} transactions, "
        f"{per['postgres']['wal_bytes']:.0f} WAL bytes, {per['postgres']['cpu_us']} µs CPU"
    )


def capture_sample(stores: Stores, bases: list[str], probe: Probe) -> dict[str, Any]:
    """The commands of ``CAPTURE_TURNS`` turns (``MONITOR``), a real state, and rows of
    the ``calls`` and ``turns`` tables for the replays."""
    parts = urlsplit(stores.redis_url)
    with monitored(parts.hostname or "127.0.0.1", parts.port or 6379) as lines:
        turns = asyncio.run(sample_turns(bases, CAPTURE_TURNS, "bench-" if len(bases) == 1 else "bench-a-"))
    entries = [e for e in (parse_monitor_line(line) for line in lines) if e is not None]
    found, inside = shapes(entries, turns, int(parts.path.strip("/") or 0))
    assert probe.bench is not None
    calls = probe.loop.run(
        probe.bench.fetch(
            "SELECT telnum, flow, flow_version, started_at, ended_at, outcome, end_reason, grade, score, "
            "grade_reason, variables::text AS variables, test, direction, campaign FROM calls "
            "WHERE call_id LIKE 'bench-%' AND outcome = 'in_progress' LIMIT 50"
        )
    )
    turn_rows = probe.loop.run(
        probe.bench.fetch(
            "SELECT data::text AS data FROM turns WHERE call_id LIKE 'bench-%' ORDER BY id DESC LIMIT 200"
        )
    )
    return {
        "shapes": found,
        "inside_scripts": inside,
        "call_rows": [tuple(r.values()) for r in calls],
        "turn_data": [r["data"] for r in turn_rows],
    }


# --- capacity: Redis ---


def redis_benchmark(stores: Stores, args: tuple[bytes, ...], requests: int) -> None:
    """One ``redis-benchmark`` run of one command; fails on an error reply."""
    port = urlsplit(stores.redis_url).port or 6379
    command = [
        b"redis-benchmark",
        *(s.encode() for s in ("-h", "127.0.0.1", "-p", str(port), "--dbnum", str(REDIS_DB))),
        *(s.encode() for s in ("-c", str(REDIS_CLIENTS), "-n", str(requests), "-r", str(REDIS_KEYSPACE))),
        *(s.encode() for s in ("--threads", str(REDIS_BENCHMARK_THREADS))),
        b"--csv",
        *args,
    ]
    out = subprocess.run(command, capture_output=True, check=False, timeout=300)
    text = out.stdout.decode(errors="replace") + out.stderr.decode(errors="replace")
    if out.returncode != 0 or "Error from server" in text:
        raise RuntimeError(f"redis-benchmark failed ({out.returncode}): {text[-2000:]}")


def replay_redis(stores: Stores, found: list[Shape], probe: Probe) -> dict[str, Any]:
    """Each command of a turn alone under ``redis-benchmark``: Redis's CPU per command,
    and per turn (weighted by how many a turn sends); then again with the append-only
    file on (``appendonly yes``, fsync every second), as ``compose.yaml`` runs Redis."""
    replayed = [s for s in found if s.per_turn >= REDIS_MIN_PER_TURN]
    results: dict[str, Any] = {
        "clients": REDIS_CLIENTS,
        "keyspace": REDIS_KEYSPACE,
        "not_replayed": {s.name: round(s.per_turn, 3) for s in found if s.per_turn < REDIS_MIN_PER_TURN},
    }
    with emptied_redis(stores.redis_url):
        for shape in replayed:  # a first pass fills the keyspace (the states the reads get)
            redis_benchmark(stores, shape.args, 5 * REDIS_KEYSPACE)
        for aof in (False, True):
            if aof:
                append_only(probe.redis_client, on=True)
            try:
                by_shape = {shape.name: replay_command(stores, shape, probe) for shape in replayed}
            finally:
                if aof:
                    append_only(probe.redis_client, on=False)
            cpu_us = sum(f["per_turn"] * f["cpu_us"] for f in by_shape.values())
            exec_us = sum(f["per_turn"] * f["exec_us"] for f in by_shape.values())
            results["append_only" if aof else "in_memory"] = {
                "commands": by_shape,
                "exec_us_per_turn": round(exec_us, 1),
                "cpu_us_per_turn": round(cpu_us, 1),
                "turns_per_second_per_core": round(1e6 / cpu_us) if cpu_us else None,
            }
    return results


def append_only(client: redis.Redis, *, on: bool) -> None:
    """``CONFIG SET appendonly``; turning it on waits for the first rewrite to end."""
    client.config_set("appendonly", "yes" if on else "no")
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while on and time.monotonic() < deadline:
        raw = client.execute_command("INFO", "persistence")  # type: ignore[no-untyped-call]
        info = raw if isinstance(raw, dict) else parse_info(raw.decode())  # parsed, unless told not to
        if str(info.get("aof_rewrite_in_progress")) == "0" and str(info.get("aof_rewrite_scheduled")) == "0":
            return
        time.sleep(0.1)


def replay_command(stores: Stores, shape: Shape, probe: Probe) -> dict[str, Any]:
    """One command under ``redis-benchmark`` for about ``REDIS_REPLAY_SECONDS``."""
    began = time.perf_counter()
    redis_benchmark(stores, shape.args, 5 * REDIS_KEYSPACE)  # to size the measured run
    rate = 5 * REDIS_KEYSPACE / (time.perf_counter() - began)
    requests = max(10_000, int(rate * REDIS_REPLAY_SECONDS))
    info_before = probe.info()
    began, cpu = time.perf_counter(), cpu_by_pid([stores.redis_pid])
    redis_benchmark(stores, shape.args, requests)
    wall, used = time.perf_counter() - began, cpu_delta(cpu, cpu_by_pid([stores.redis_pid]))
    executed = command_delta(
        command_stats(parse_info(info_before.decode())), command_stats(parse_info(probe.info().decode()))
    )
    own = executed.get(
        shape.args[0].decode().lower(), CommandStat(0, 0)
    )  # a script's counts its commands too
    figures = {
        "per_turn": round(shape.per_turn, 3),
        "argument_bytes": sum(len(a) for a in shape.args),
        "requests": requests,
        "per_second": round(requests / wall),
        "redis_cores": round(used / wall, 2),
        "cpu_us": round(used * 1e6 / requests, 2),
        "exec_us": round(own.usec / requests, 2),
        "executed_per_request": {
            n: round(c.calls / requests, 2) for n, c in executed.items() if c.calls >= requests / 100
        },
    }
    print(f"stores: Redis replay {shape.name}: {figures}", flush=True)
    return figures


# --- capacity: PostgreSQL ---


@dataclass(frozen=True)
class PgReplay:
    writers: int
    batch: int  # turns per transaction
    pool_reset: bool = False  # after each transaction, the query asyncpg's pool resets a connection with


class _PgWriter:
    """One connection writing batches of ``replay.batch`` turns with the transcripts' own
    statements, one transaction at a time, as an instance's transcript writer does."""

    def __init__(
        self, conn: asyncpg.Connection, writer: int, replay: PgReplay, sample: dict[str, Any]
    ) -> None:
        self.conn, self.replay = conn, replay
        self.reset = conn.get_reset_query() if replay.pool_reset else ""
        self.call_rows, self.turn_data = sample["call_rows"], sample["turn_data"]
        self.ids = [f"replay-{writer}-{k:04d}" for k in range(PG_CALLS_PER_WRITER)]
        self.position = 0

    async def one(self) -> None:
        from bot.store.pg_transcripts import INSERT_TURNS, UPSERT_CALLS  # noqa: PLC0415

        batch, ids = self.replay.batch, self.ids
        turn_ids = [ids[(self.position + j) % len(ids)] for j in range(batch)]
        calls = [
            (cid, *self.call_rows[k % len(self.call_rows)]) for k, cid in enumerate(sorted(set(turn_ids)))
        ]
        turns = [self.turn_data[(self.position + j) % len(self.turn_data)] for j in range(batch)]
        async with self.conn.transaction():
            await self.conn.execute(UPSERT_CALLS, *(list(column) for column in zip(*calls, strict=True)))
            await self.conn.execute(INSERT_TURNS, turn_ids, turns)
        if self.reset:
            await self.conn.execute(self.reset)
        self.position += batch

    async def warm(self) -> None:
        """A pass over its calls (their rows created: later turns update them), its
        counters reported at once."""
        for _ in range(math.ceil(len(self.ids) / self.replay.batch)):
            await self.one()
        await self.conn.execute("SELECT pg_stat_force_next_flush()")

    async def run(self, go: asyncio.Event) -> int:
        """Turns written while ``go`` is set."""
        turns = 0
        while go.is_set():
            await self.one()
            turns += self.replay.batch
        return turns


async def replay_postgres_one(
    admin_dsn: str, dsn: str, postgres_pid: int, replay: PgReplay, sample: dict[str, Any]
) -> dict[str, Any]:
    """``replay.writers`` writers at ``replay.batch`` turns per transaction in the empty
    database ``dsn``, for ``PG_REPLAY_SECONDS``."""
    from bot.store.postgres import migrate  # noqa: PLC0415

    database = urlsplit(dsn).path.strip("/")
    setup = await asyncpg.connect(dsn)
    try:
        await migrate(setup)
    finally:
        await setup.close()
    admin = await asyncpg.connect(admin_dsn)
    writers = [_PgWriter(await asyncpg.connect(dsn), w, replay, sample) for w in range(replay.writers)]
    try:
        await asyncio.gather(*(writer.warm() for writer in writers))
        counters, position = await pg_counters(admin, database), await pg_position(admin)
        cpu, client_cpu, began = cpu_by_pid([postgres_pid]), time.process_time(), time.perf_counter()
        go = asyncio.Event()
        go.set()
        running = [asyncio.create_task(writer.run(go)) for writer in writers]
        await asyncio.sleep(PG_REPLAY_SECONDS)
        go.clear()
        turns = sum(await asyncio.gather(*running))
        wall = time.perf_counter() - began
        used, client = cpu_delta(cpu, cpu_by_pid([postgres_pid])), time.process_time() - client_cpu
        position_after = await pg_position(admin)
        for writer in writers:
            await writer.conn.execute("SELECT pg_stat_force_next_flush()")  # their counters reported now
        await asyncio.sleep(0.5)  # the WAL writer's
        after = await pg_counters(admin, database)
    finally:
        for writer in writers:
            await writer.conn.close()
        await admin.close()
    commits = after["xact_commit"] - counters["xact_commit"] - replay.writers  # less the flushes
    syncs = after["wal_sync"] - counters["wal_sync"]
    writes = position_after["next_xid"] - position["next_xid"]
    wal = position_after["wal_lsn"] - position["wal_lsn"]
    return {
        "writers": replay.writers,
        "turns_per_transaction": replay.batch,
        "pool_reset": replay.pool_reset,
        "turns_per_second": round(turns / wall),
        "write_transactions_per_second": round(writes / wall),
        "transactions_per_second": round(commits / wall),
        "wal_syncs_per_second": round(syncs / wall),
        "wal_mb_per_second": round(wal / wall / 1e6, 2),
        "postgres_cores": round(used / wall, 2),
        "client_cores": round(client / wall, 2),
        "cpu_us_per_turn": round(used * 1e6 / turns, 1) if turns else None,
        "wal_bytes_per_turn": round(wal / turns, 1) if turns else None,
        "wal_syncs_per_turn": round(syncs / turns, 4) if turns else None,
    }


def replay_postgres(stores: Stores, sample: dict[str, Any], saturation_batch: float) -> list[dict[str, Any]]:
    """Each of ``PG_REPLAY`` in a database of its own (created empty, dropped after)."""
    results = []
    for round_number in range(1, PG_REPLAY_ROUNDS + 1):  # rounds: a slow moment of the machine shows
        for writers, batch, pool_reset in PG_REPLAY:
            replay = PgReplay(writers, batch or max(1, round(saturation_batch)), pool_reset)
            with fresh_database(stores.postgres_dsn, "voicebot_replay_", START_TIMEOUT_SECONDS) as dsn:
                figures = asyncio.run(
                    replay_postgres_one(stores.postgres_dsn, dsn, stores.postgres_pid, replay, sample)
                )
            figures = {"round": round_number, **figures}
            print(f"stores: PostgreSQL replay {figures}", flush=True)
            results.append(figures)
    return results


# --- the model ---


def saturating_instances(capacity_turns_per_second: float, per_instance: float) -> float | None:
    """How many instances at ``per_instance`` turns/s a store of that capacity serves."""
    if per_instance <= 0 or capacity_turns_per_second <= 0:
        return None
    return round(capacity_turns_per_second / per_instance, 1)


def _per_core(cpu_us_per_turn: float | None) -> float:
    return 1e6 / cpu_us_per_turn if cpu_us_per_turn else 0.0


def model(results: dict[str, Any]) -> dict[str, Any]:
    """N instances on N machines, each at the one-instance saturation measured here (X):
    what each store must do per second, and the N at which it saturates.

    Redis: N·X·(CPU per turn) cores, on one thread: it saturates at N = 1 core / (X·CPU
    per turn), with the CPU per turn of the replay with the append-only file on (as
    ``compose.yaml`` runs Redis) or, without a replay, of the bot's run. PostgreSQL:
    N·X·(CPU per turn) cores over as many cores as it has, at the batch each instance's
    writer reaches at X; and at one turn per transaction (a lightly loaded instance),
    the dearest case."""
    one = results["instances_1"]
    per_turn = one["saturation"]["per_turn"]
    light = one["rate"]["per_turn"]
    x = one["saturation"]["turns_per_second"]
    replay = (results.get("redis_replay") or {}).get("append_only") or {}
    redis_cpu_us = replay.get("cpu_us_per_turn") or per_turn["redis"]["cpu_us"]
    pg_cpu_us = per_turn["postgres"]["cpu_us"]
    pg_light_cpu_us = light["postgres"]["cpu_us"]
    redis_per_core, pg_per_core, pg_light_per_core = map(
        _per_core, (redis_cpu_us, pg_cpu_us, pg_light_cpu_us)
    )
    rows = []
    for n in MODEL_INSTANCES:
        turns = n * x
        rows.append(
            {
                "instances": n,
                "turns_per_second": round(turns),
                "redis_commands_per_second": round(turns * per_turn["redis"]["commands"]),
                "redis_cores": round(turns * redis_cpu_us / 1e6, 2),
                "redis_mbit_per_second_in": round(turns * per_turn["redis"]["bytes_in"] * 8 / 1e6, 1),
                "redis_mbit_per_second_out": round(turns * per_turn["redis"]["bytes_out"] * 8 / 1e6, 1),
                "postgres_commits_per_second": round(turns * per_turn["postgres"]["write_transactions"]),
                "postgres_cores": round(turns * pg_cpu_us / 1e6, 2),
                "postgres_cores_one_turn_per_transaction": round(turns * pg_light_cpu_us / 1e6, 2),
                "wal_mb_per_second": round(turns * per_turn["postgres"]["wal_bytes"] / 1e6, 2),
            }
        )
    cores = STORE_MACHINE_CORES
    # What one instance would do with a core of its own: here it shares two with the rest.
    x_own_core = 1e6 / per_turn["bot_cpu_us"] if per_turn["bot_cpu_us"] else 0.0
    return {
        "turns_per_second_per_instance": x,
        "turns_per_second_per_instance_on_a_core_of_its_own": round(x_own_core),
        "at_that_rate_redis_saturates_at_instances": saturating_instances(redis_per_core, x_own_core),
        "at_that_rate_postgres_saturates_at_instances_one_core": saturating_instances(
            pg_per_core, x_own_core
        ),
        "redis_cpu_us_per_turn": redis_cpu_us,
        "redis_turns_per_second_per_core": round(redis_per_core),
        "redis_saturates_at_instances": saturating_instances(redis_per_core, x),
        "postgres_cpu_us_per_turn": pg_cpu_us,
        "postgres_turns_per_second_per_core": round(pg_per_core),
        "postgres_saturates_at_instances_one_core": saturating_instances(pg_per_core, x),
        f"postgres_saturates_at_instances_{cores}_cores": saturating_instances(pg_per_core * cores, x),
        "postgres_cpu_us_per_turn_one_turn_per_transaction": pg_light_cpu_us,
        f"postgres_saturates_at_instances_{cores}_cores_one_turn_per_transaction": saturating_instances(
            pg_light_per_core * cores, x
        ),
        "rows": rows,
    }


# --- the run ---


def postgres_settings(loop: _Loop, admin: asyncpg.Connection) -> dict[str, str]:
    rows = loop.run(
        admin.fetch("SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)", list(PG_SETTINGS))
    )
    return {r["name"]: f"{r['setting']}{' ' + r['unit'] if r['unit'] else ''}" for r in rows}


def run(counts: tuple[int, ...] = (1, 2), replay: bool = True) -> dict[str, Any]:
    """Every figure of the module's docstring; printed as it is measured, and returned."""
    for tool in ("wrk", "redis-benchmark"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (`make bench` installs it)")
    cpus = os.cpu_count() or 0
    print(f"stores: {CORES_NOTE.format(cpus=cpus)}", flush=True)
    results: dict[str, Any] = {"note": CORES_NOTE.format(cpus=cpus)}
    workdir = Path(tempfile.mkdtemp(prefix="voicebot-bench-stores-"))
    loop = _Loop()
    try:
        (workdir / "redis").mkdir()
        with (
            private_redis(workdir / "redis", START_TIMEOUT_SECONDS, STOP_TIMEOUT_SECONDS) as private_r,
            private_postgres(
                start_timeout=START_TIMEOUT_SECONDS, stop_timeout=STOP_TIMEOUT_SECONDS
            ) as private_p,
        ):
            stores = Stores(
                redis_database_url(private_r.url, REDIS_DB), private_r.pid, private_p.url, private_p.pid
            )
            client = redis.Redis.from_url(stores.redis_url)
            client.set_response_callback("INFO", lambda response, **_: response)
            admin = loop.run(asyncpg.connect(stores.postgres_dsn))
            try:
                probe = Probe(client, private_r.pid, private_p.pid, loop, admin)
                results["postgres_settings"] = postgres_settings(loop, admin)
                info = parse_info(probe.info().decode())
                results["redis_settings"] = {
                    k: info.get(k, "") for k in ("redis_version", "io_threads_active")
                }
                extra: dict[str, Any] = {}
                for count in counts:
                    windows, sample = measure_configuration(
                        stores, probe, count, workdir / f"instances-{count}", capture=replay and not extra
                    )
                    results[f"instances_{count}"] = windows
                    extra = extra or sample
                if replay and extra:
                    results["redis_per_turn_from_monitor"] = {
                        "sent_by_clients": {s.name: round(s.per_turn, 3) for s in extra["shapes"]},
                        "run_inside_scripts": extra["inside_scripts"],
                    }
                    results["redis_replay"] = replay_redis(stores, extra["shapes"], probe)
                    batch = (
                        results[f"instances_{counts[0]}"]["saturation"]["turns_per_write_transaction"] or 1
                    )
                    results["postgres_replay"] = replay_postgres(stores, extra, batch)
            finally:
                loop.run(admin.close())
                client.close()
    finally:
        loop.close()
        shutil.rmtree(workdir, ignore_errors=True)
    if "instances_1" in results:
        results["model"] = model(results)
    print(summary(results), flush=True)
    return results


def summary(results: dict[str, Any]) -> str:
    """The per-turn table, the capacities and the model, as text."""
    lines = [f"stores ({results['note']}):", _window_header()]
    for key in (k for k in results if k.startswith("instances_")):
        lines += [_window_line(key, name, figures) for name, figures in results[key].items()]
    if replay := results.get("redis_replay"):
        for mode in ("in_memory", "append_only"):
            r = replay[mode]
            lines.append(
                f"  Redis replay, {mode.replace('_', ' ')} ({replay['clients']} connections): "
                f"{r['cpu_us_per_turn']} µs of Redis CPU per turn ({r['exec_us_per_turn']} µs executing "
                f"commands): {r['turns_per_second_per_core']} turns/s per core"
            )
    for f in results.get("postgres_replay", []):
        reset = ", pool reset" if f["pool_reset"] else ""
        lines.append(
            f"  PostgreSQL replay {f['round']}, {f['writers']} writer(s) × "
            f"{f['turns_per_transaction']} turns/xact{reset}: {f['turns_per_second']} turns/s, "
            f"{f['write_transactions_per_second']} commits/s, "
            f"{f['wal_syncs_per_second']} syncs/s, {f['postgres_cores']} cores, "
            f"{f['cpu_us_per_turn']} µs/turn, {f['wal_bytes_per_turn']} WAL B/turn"
        )
    if m := results.get("model"):
        lines += _model_lines(m)
    return "\n".join(lines)


def _window_header() -> str:
    return (
        f"  {'instances × window':<20} {'unit':<6} {'turns/s':>7} {'Redis cmd':>9} {'B in':>6} {'B out':>6} "
        f"{'Redis µs':>8} {'PG write xact':>13} {'WAL B':>6} {'syncs':>6} {'PG µs':>7} {'bot µs':>7}"
    )


def _window_line(key: str, name: str, figures: dict[str, Any]) -> str:
    unit = next(k for k in figures if k.startswith("per_"))
    per = figures[unit]
    label = f"{key.removeprefix('instances_')} × {name}"
    if "error" in per:
        return f"  {label:<20} {per['error']}"
    r, p = per["redis"], per["postgres"]
    return (
        f"  {label:<20} {unit.removeprefix('per_'):<6} {figures['turns_per_second']:>7.0f} "
        f"{r['commands']:>9.2f} {r['bytes_in']:>6.0f} {r['bytes_out']:>6.0f} {r['cpu_us']:>8.1f} "
        f"{p['write_transactions']:>13.3f} {p['wal_bytes']:>6.0f} {p['wal_syncs']:>6.3f} {p['cpu_us']:>7.1f} "
        f"{per['bot_cpu_us']:>7.0f}"
    )


def _model_lines(m: dict[str, Any]) -> list[str]:
    cores = STORE_MACHINE_CORES
    lines = [
        f"  model, X = {m['turns_per_second_per_instance']:.0f} turns/s per instance: Redis "
        f"{m['redis_cpu_us_per_turn']} µs/turn saturates one core at N = "
        f"{m['redis_saturates_at_instances']}; "
        f"PostgreSQL {m['postgres_cpu_us_per_turn']} µs/turn at N = "
        f"{m['postgres_saturates_at_instances_one_core']} (one core), "
        f"{m[f'postgres_saturates_at_instances_{cores}_cores']} ({cores} cores; "
        f"{m[f'postgres_saturates_at_instances_{cores}_cores_one_turn_per_transaction']} at one turn per "
        "transaction)",
        f"    with a core of its own an instance would do about "
        f"{m['turns_per_second_per_instance_on_a_core_of_its_own']} turns/s (1 s / its CPU per turn): Redis "
        f"then saturates at N = {m['at_that_rate_redis_saturates_at_instances']}, PostgreSQL's core at N = "
        f"{m['at_that_rate_postgres_saturates_at_instances_one_core']}",
        f"    {'N':>3} {'turns/s':>8} {'Redis cmd/s':>11} {'Redis cores':>11} {'Mbit/s in/out':>14} "
        f"{'PG commits/s':>12} {'PG cores':>8} {'(1 turn/xact)':>13} {'WAL MB/s':>8}",
    ]
    for row in m["rows"]:
        mbit = f"{row['redis_mbit_per_second_in']:.0f}/{row['redis_mbit_per_second_out']:.0f}"
        lines.append(
            f"    {row['instances']:>3} {row['turns_per_second']:>8} {row['redis_commands_per_second']:>11} "
            f"{row['redis_cores']:>11.2f} {mbit:>14} {row['postgres_commits_per_second']:>12} "
            f"{row['postgres_cores']:>8.2f} {row['postgres_cores_one_turn_per_transaction']:>13.2f} "
            f"{row['wal_mb_per_second']:>8.2f}"
        )
    return lines


def _jsonable(value: Any) -> Any:
    if isinstance(value, CommandStat):
        return vars(value)
    if isinstance(value, Shape):
        return {"name": value.name, "per_turn": value.per_turn}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--instances", type=int, nargs="+", choices=(1, 2), default=[1, 2])
    parser.add_argument("--no-replay", action="store_true", help="skip the stores' capacity replays")
    args = parser.parse_args()
    results = run(tuple(args.instances), replay=not args.no_replay)
    print(json.dumps(_jsonable(results), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
