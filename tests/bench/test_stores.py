"""The counting helpers of ``bench/stores.py``: what it reads from Redis's ``INFO`` and
``MONITOR``, how it turns a recorded turn into commands to replay, and the model's
arithmetic. No server is started; nothing is timed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bench import stores
from bench.stores import CommandStat, MonitorEntry

INFO = (
    "# Stats\r\n"
    "total_net_input_bytes:1000\r\n"
    "total_net_output_bytes:5000\r\n"
    "\r\n"
    "# Commandstats\r\n"
    "cmdstat_set:calls=10,usec=50,usec_per_call=5.00,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_evalsha:calls=4,usec=80,usec_per_call=20.00,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_client|setinfo:calls=2,usec=3,usec_per_call=1.50,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_info:calls=7,usec=700,usec_per_call=100.00,rejected_calls=0,failed_calls=0\r\n"
)


def test_info_fields_and_command_stats() -> None:
    info = stores.parse_info(INFO)
    assert info["total_net_output_bytes"] == "5000"
    assert "# Stats" not in info
    assert stores.command_stats(info) == {
        "set": CommandStat(10, 50),
        "evalsha": CommandStat(4, 80),
        "client|setinfo": CommandStat(2, 3),
        "info": CommandStat(7, 700),
    }


def test_command_delta_leaves_out_the_snapshots_own_and_unchanged_commands() -> None:
    before = {"set": CommandStat(10, 50), "evalsha": CommandStat(4, 80), "info": CommandStat(7, 700)}
    after = {
        "set": CommandStat(13, 65),
        "evalsha": CommandStat(4, 80),
        "info": CommandStat(8, 800),
        "hget": CommandStat(5, 10),
    }
    delta = stores.command_delta(before, after)
    assert delta == {"hget": CommandStat(5, 10), "set": CommandStat(3, 15)}
    assert list(delta) == ["hget", "set"]  # most frequent first


def test_info_reply_bytes_is_the_bulk_string_on_the_wire() -> None:
    assert stores.info_reply_bytes(b"abc") == len(b"$3\r\nabc\r\n")
    assert stores.info_reply_bytes(b"x" * 1234) == len(b"$1234\r\n") + 1234 + 2


def test_monitor_lines_are_unescaped_to_the_bytes_sent() -> None:
    line = b'+1796540709.149754 [14 127.0.0.1:50434] "SET" "bench-12" "x\\n\\"y\\" \\xe4\\xb8\\xad\\\\"\r\n'
    entry = stores.parse_monitor_line(line)
    assert entry == MonitorEntry(14, "127.0.0.1:50434", (b"SET", b"bench-12", 'x\n"y" 中\\'.encode()))
    script = stores.parse_monitor_line(b'+1796540709.149993 [14 lua] "GET" "k"\r\n')
    assert script == MonitorEntry(14, "lua", (b"GET", b"k"))
    assert stores.parse_monitor_line(b"+OK\r\n") is None


def test_a_recorded_turn_becomes_commands_per_turn_with_random_call_ids() -> None:
    sha = b"a" * 40
    put = (
        b"EVALSHA",
        sha,
        b"5",
        b"voicebot:call:bench-7",
        b"voicebot:fence:bench-7",
        b"calls",
        b"live",
        b"due",
    )
    put_argv = (b"bench-7", b"{}", b"57", b"1.5", b"1", b"", b"1000")
    entries = [
        MonitorEntry(14, "c:1", (b"SET", b"voicebot:lock:bench-7", b"token", b"NX", b"PX", b"5000")),
        MonitorEntry(14, "c:1", (*put, *put_argv)),
        MonitorEntry(14, "lua", (b"GET", b"voicebot:fence:bench-7")),
        MonitorEntry(14, "c:2", (b"SET", b"voicebot:lock:bench-a-8", b"token", b"NX", b"PX", b"5000")),
        MonitorEntry(0, "c:3", (b"PING",)),  # another database: not the bots'
    ]
    found, inside = stores.shapes(entries, turns=2, db=14)
    assert [(s.name, s.per_turn) for s in found] == [("SET", 1.0), ("EVALSHA aaaaaaaa (5 keys)", 0.5)]
    assert found[0].args[1] == b"voicebot:lock:bench-__rand_int__"
    replayed_put = found[1].args
    assert replayed_put[3] == b"voicebot:call:bench-__rand_int__"
    assert replayed_put[8] == b"bench-__rand_int__"
    assert replayed_put[10] == b"0"  # the fencing token: unfenced, never refused as stale
    assert replayed_put[9:] == (b"{}", b"0", b"1.5", b"1", b"", b"1000")
    assert inside == {"get": 0.5}


def test_a_script_of_another_shape_keeps_its_arguments() -> None:
    release = (b"EVALSHA", b"b" * 40, b"1", b"voicebot:lock:bench-3", b"token")
    assert stores.replayable(release) == (
        b"EVALSHA",
        b"b" * 40,
        b"1",
        b"voicebot:lock:bench-__rand_int__",
        b"token",
    )


def test_cpu_delta_counts_new_processes_from_zero() -> None:
    before = {1: 10.0, 2: 5.0, 3: 1.0}
    after = {1: 10.5, 2: 5.0, 4: 0.25}  # 3 exited, 4 started
    assert stores.cpu_delta(before, after) == pytest.approx(0.75)


def test_wal_locations_are_byte_offsets() -> None:
    assert stores.lsn_bytes("0/16B3748") == 0x16B3748
    assert stores.lsn_bytes("1/0") == 1 << 32
    assert stores.lsn_bytes("2/A") - stores.lsn_bytes("1/FFFFFFFA") == 16  # across a 4 GiB boundary


def _per_turn(redis_cpu_us: float, pg_cpu_us: float, transactions: float) -> dict[str, Any]:
    return {
        "redis": {"commands": 6.0, "bytes_in": 2500.0, "bytes_out": 2000.0, "cpu_us": redis_cpu_us},
        "postgres": {"write_transactions": transactions, "wal_bytes": 1500.0, "cpu_us": pg_cpu_us},
        "bot_cpu_us": 1000.0,
    }


def test_the_model_scales_one_instances_costs_by_n() -> None:
    results = {
        "instances_1": {
            "saturation": {"turns_per_second": 500.0, "per_turn": _per_turn(40.0, 100.0, 0.1)},
            "rate": {"turns_per_second": 200.0, "per_turn": _per_turn(60.0, 250.0, 1.0)},
        },
        "redis_replay": {"in_memory": {"cpu_us_per_turn": 15.0}, "append_only": {"cpu_us_per_turn": 20.0}},
    }
    m = stores.model(results)
    assert m["redis_cpu_us_per_turn"] == 20.0  # the replay's, with the append-only file on
    assert m["redis_turns_per_second_per_core"] == 50_000
    assert m["redis_saturates_at_instances"] == 100.0
    assert m["turns_per_second_per_instance_on_a_core_of_its_own"] == 1000
    assert m["at_that_rate_redis_saturates_at_instances"] == 50.0
    assert m["postgres_saturates_at_instances_one_core"] == 20.0
    assert m["postgres_saturates_at_instances_8_cores"] == 160.0
    eight = next(row for row in m["rows"] if row["instances"] == 8)
    assert eight["turns_per_second"] == 4000
    assert eight["redis_commands_per_second"] == 24_000
    assert eight["redis_cores"] == 0.08
    assert eight["postgres_commits_per_second"] == 400
    assert eight["postgres_cores"] == 0.4
    assert eight["postgres_cores_one_turn_per_transaction"] == 1.0
    assert eight["wal_mb_per_second"] == 6.0


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="no /proc")
def test_cpu_seconds_are_read_from_schedstat() -> None:
    seconds = stores.schedstat_seconds(os.getpid())
    assert seconds is not None
    assert seconds > 0  # this process has run
    assert stores.schedstat_seconds(-1) is None
