"""The console's parts alone: users and passwords, the login throttle, the dashboard's
figures, the knowledge misses, the PBX split of test calls, ``voicebot users``."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.console.access import LoginThrottle, safe_next
from bot.console.calls import audio_path, shown
from bot.console.dashboard import summarize
from bot.console.users import UserError, UsersFile, hash_password, verify_password
from bot.pbx.base import CallRef, Exchange, TransferTarget
from bot.pbx.log import LogPBX
from bot.pbx.split import RECORDED_ONLY, SplitPBX
from knowledge.misses import Misses

# --- users -------------------------------------------------------------------------------


def test_a_password_hash_is_salted_and_checked() -> None:
    first, second = hash_password("same password"), hash_password("same password")
    assert first != second  # a salt of its own
    assert verify_password("same password", first)
    assert not verify_password("same passwor", first)
    assert not verify_password("same password", "md5$whatever")
    assert not verify_password("same password", "not a hash at all")


def test_the_users_file_adds_replaces_removes_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    users = UsersFile(path)
    assert users.users() == {}
    assert users.add("wang", "viewer", "first password")
    assert not users.add("wang", "admin", "second password")  # replaced
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "second password" not in path.read_text()
    other = UsersFile(path)  # another process, e.g. the service while the CLI writes
    assert other.authenticate("wang", "second password") is not None
    assert other.authenticate("wang", "first password") is None
    assert other.authenticate("li", "second password") is None
    assert other.get("wang").role == "admin"  # type: ignore[union-attr]
    assert users.remove("wang")
    assert not users.remove("wang")
    assert other.get("wang") is None  # read again: the file changed


@pytest.mark.parametrize(
    ("name", "role", "password"),
    [("bad name", "admin", "long enough"), ("wang", "root", "long enough"), ("wang", "viewer", "short")],
)
def test_bad_users_are_refused(tmp_path: Path, name: str, role: str, password: str) -> None:
    with pytest.raises(UserError):
        UsersFile(tmp_path / "users.json").add(name, role, password)


def test_a_broken_users_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": [{"name": "x", "role": "god", "password": "p"}]}))
    with pytest.raises(UserError, match=r"users\.json"):
        UsersFile(path).users()


def test_voicebot_users_add_list_remove(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEBOT_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    added = runner.invoke(main, ["users", "add", "wang", "--role", "admin"], input="a good password\n")
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["users", "list"])
    assert listed.output == "wang\tadmin\n"
    assert UsersFile(tmp_path / "console_users.json").authenticate("wang", "a good password") is not None
    short = runner.invoke(main, ["users", "add", "li"], input="short\n")
    assert short.exit_code == 1
    assert "8 to 1024 characters" in short.output
    assert runner.invoke(main, ["users", "remove", "wang"]).exit_code == 0
    assert runner.invoke(main, ["users", "remove", "wang"]).exit_code == 1


# --- access ----------------------------------------------------------------------------------


def test_the_login_throttle_counts_failures_in_a_window() -> None:
    now = [0.0]
    throttle = LoginThrottle(max_failures=3, window_seconds=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.wait_seconds("name:wang", "address:1") == 0
        throttle.failed("name:wang", "address:1")
    assert throttle.wait_seconds("name:wang") == 60
    assert throttle.wait_seconds("name:li", "address:1") == 60  # the address too
    assert throttle.wait_seconds("name:li", "address:2") == 0
    now[0] = 61
    assert throttle.wait_seconds("name:wang", "address:1") == 0
    throttle.failed("name:wang")
    throttle.succeeded("name:wang")
    assert throttle.wait_seconds("name:wang") == 0


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console/calls", "/console/calls"),
        ("//evil.example/console", "/console"),
        ("https://evil.example/", "/console"),
        ("/kb/entries", "/console"),
        (None, "/console"),
    ],
)
def test_after_login_only_console_paths(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


# --- calls as shown ------------------------------------------------------------------------------


def test_a_call_is_shown_masked_with_audio_on_this_origin() -> None:
    call: dict[str, Any] = {
        "callid": "c1",
        "telnum": "13912345678",
        "started_at": "2026-01-01T00:00:00.000Z",
        "ended_at": "2026-01-01T00:01:05.000Z",
        "variables": {"id_card": "320102199001011232"},
        "end_reason": "caller hung up",
        "turns": [
            {
                "event": "text",
                "text": "我的号码是13912345678",
                "audio_url": "http://10.0.0.5:8080/audio/13912345678123.wav?canbeinterrupted=true",
            }
        ],
    }
    masked = shown(call, reveal=False)
    assert masked["telnum"] == "139****5678"
    assert masked["variables"] == {"id_card": "320***********1232"}
    assert masked["turns"][0]["text"] == "我的号码是139****5678"
    assert masked["turns"][0]["audio_url"] == "/audio/13912345678123.wav"  # a key is never masked
    assert masked["duration_seconds"] == 65.0
    assert shown(call, reveal=True)["telnum"] == "13912345678"
    assert audio_path("http://elsewhere.example/x.wav") is None


# --- dashboard -----------------------------------------------------------------------------------


def test_the_dashboard_counts_calls_turns_and_latency() -> None:
    def call(callid: str, hour: int, outcome: str, *, test: bool = False, grade: str | None = None) -> Any:
        return {
            "callid": callid,
            "started_at": f"2026-01-01T{hour:02d}:10:00.000Z",
            "outcome": outcome,
            "grade": grade,
            "flow": "yibao",
            "test": test,
            "turns": [
                {"event": "ready2speak", "ms": 10.0},
                {"event": "text", "intent": None, "ms": 300.0},
                {"event": "text", "intent": "transfer_agent", "ms": 20.0},
                {"event": "text", "continued": True, "ms": 1.0},
                {"event": "pbx", "ms": 9999.0},
            ],
        }

    since = 1767225600.0  # 2026-01-01T00:00:00Z
    calls = [
        call("a", 0, "transferred", grade="A"),
        call("b", 2, "hung_up_by_caller"),
        call("t", 2, "x", test=True),
    ]
    figures = summarize(calls, since=since, hours=3, timezone="UTC")
    assert figures["calls"] == 2
    assert figures["test_calls_left_out"] == 1
    assert [h["calls"] for h in figures["per_hour"]] == [1, 0, 1, 0]
    assert figures["outcomes"] == [
        {"name": "transferred", "count": 1},
        {"name": "hung_up_by_caller", "count": 1},
    ]
    assert figures["grades"] == [{"name": "A", "count": 1}, {"name": "ungraded", "count": 1}]
    assert (figures["utterances"], figures["no_match"], figures["no_match_rate"]) == (4, 2, 0.5)
    latency = figures["latency_ms"]
    assert latency["turns"] == 8  # the PBX's turns are not the bot's latency
    assert (latency["p50"], latency["max"]) == (10.0, 300.0)
    assert summarize(calls, since=since, hours=3, timezone="UTC", include_test=True)["calls"] == 3
    assert summarize([], since=since, hours=1, timezone="UTC")["no_match_rate"] is None


def test_the_misses_keep_the_most_frequent_questions() -> None:
    misses = Misses(max_questions=2)
    for question in ("医保能报销牙齿吗", "医保能报销牙齿吗 ", "宠物医保", "  "):
        misses.add(question)
    misses.add("火星就医")  # the rarest makes room
    assert misses.top(5) == [("医保能报销牙齿吗", 2), ("火星就医", 1)]


# --- the PBX split -------------------------------------------------------------------------------


async def test_test_calls_reach_no_pbx_and_others_reach_it() -> None:
    real = LogPBX()
    split = SplitPBX(real)
    journal: list[Exchange] = []
    test_call = CallRef("t1", "138", test=True)
    await split.transfer(test_call, TransferTarget.parse("8001"), journal=journal)
    await split.hangup(test_call, journal=journal)
    await split.play(test_call, "/audio/x.wav", journal=journal)
    assert real.requests == []
    assert [(e.action, e.answer) for e in journal] == [
        ("transfer", RECORDED_ONLY),
        ("hangup", RECORDED_ONLY),
        ("play", RECORDED_ONLY),
    ]
    await split.transfer(CallRef("c1", "138"), TransferTarget.parse("8001"))
    await split.hangup(CallRef("c1", "138"))
    assert [r.action for r in real.requests] == ["transfer", "hangup"]
