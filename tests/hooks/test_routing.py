"""Routing rules: loading with located problems, and the decision for any caller at any time.

``Router.route`` takes the moment of the call, so every case here names its own
"now" and none depends on the clock.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.errors import FlowValidationError
from bot.hooks.routing import Router, load_router
from tests.hooks.flows import write_flows

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
WEDNESDAY_10 = dt.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)

RULES = """
    default: 1000
    holidays:
      - {date: 2026-10-01, note: 国庆节}
      - 2026-10-02
    workdays: [2026-10-10]
    rules:
      - name: vip
        callers: [13800138000, "+86 139 1234 5678"]
        callers_table: {table: vip_callers, column: phone}
        to: 8001
      - name: holiday
        holiday: true
        to: 9000
      - name: weekend
        workday: false
        to: 9001
      - name: night
        hours: ["18:00-08:30"]
        to: 9002
      - name: beijing-mornings
        prefixes: ["010"]
        weekdays: [mon-wed, fri]
        hours: ["08:30-12:00"]
        to: 8101
      - prefixes: ["021", "139"]
        to: 8102
"""
VIP_TABLE = "phone,name\n02168880000,某某公司\n+86 135 0000 0000,王先生\n"


@pytest.fixture
def router(tmp_path: Path) -> Router:
    flows = write_flows(tmp_path, {"hooks/routing.yaml": RULES, "data/vip_callers.csv": VIP_TABLE})
    return load_router(flows, default="7777", timezone="Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("caller", "now", "target", "rule"),
    [
        ("13800138000", WEDNESDAY_10, "8001", "vip"),
        ("+8613800138000", at(1, 3, month=10), "8001", "vip"),  # before the holiday rule
        ("13912345678", WEDNESDAY_10, "8001", "vip"),
        ("021 6888 0000", WEDNESDAY_10, "8001", "vip"),  # from the table
        ("13500000000", WEDNESDAY_10, "8001", "vip"),
        ("01088886666", at(1, 10, month=10), "9000", "holiday"),
        ("01088886666", at(2, 10, month=10), "9000", "holiday"),
        ("01088886666", at(7, 10), "9001", "weekend"),  # a Saturday
        ("01088886666", at(10, 10, month=10), "1000", None),  # a make-up Saturday is no weekend
        ("01088886666", at(11, 10, month=10), "9001", "weekend"),
        ("01088886666", at(4, 18), "9002", "night"),  # the window's start is in it
        ("01088886666", at(4, 23, 59), "9002", "night"),
        ("01088886666", at(4, 0, 0), "9002", "night"),  # past midnight
        ("01088886666", at(4, 8, 29), "9002", "night"),
        ("01088886666", at(4, 8, 30), "8101", "beijing-mornings"),  # its end is not
        ("01088886666", at(4, 11, 59), "8101", "beijing-mornings"),
        ("01088886666", at(4, 12, 0), "1000", None),
        ("01088886666", at(5, 10), "1000", None),  # a Thursday
        ("01088886666", at(6, 10), "8101", "beijing-mornings"),  # a Friday
        ("02112345678", WEDNESDAY_10, "8102", "rule 6"),
        ("13912340000", WEDNESDAY_10, "8102", "rule 6"),
        ("13712345678", WEDNESDAY_10, "1000", None),
        ("", WEDNESDAY_10, "1000", None),
        (None, WEDNESDAY_10, "1000", None),
        ("anonymous", WEDNESDAY_10, "1000", None),
        (None, at(4, 20), "9002", "night"),  # time rules hold for hidden numbers too
        (None, at(7, 10), "9001", "weekend"),
    ],
    ids=lambda value: value.isoformat() if isinstance(value, dt.datetime) else repr(value),
)
def test_the_first_matching_rule_wins(
    router: Router, caller: str | None, now: dt.datetime, target: str, rule: str | None
) -> None:
    route = router.route(caller, now)
    assert (route.target, route.rule) == (target, rule)


def test_days_and_hours_are_the_call_centers(router: Router) -> None:
    utc_friday_night = dt.datetime(2026, 3, 6, 23, 0, tzinfo=dt.UTC)  # Saturday 07:00 in Shanghai
    assert router.route("01088886666", utc_friday_night).rule == "weekend"
    naive_local = dt.datetime(2026, 3, 4, 10, 0)  # taken as the call center's own time
    assert router.route("01088886666", naive_local).rule == "beijing-mornings"


def test_the_route_tells_the_normalized_caller(router: Router) -> None:
    assert router.route("+86 139 1234 5678", WEDNESDAY_10).caller == "13912345678"


def test_without_a_file_every_call_goes_to_the_configured_default(tmp_path: Path) -> None:
    router = load_router(write_flows(tmp_path, {}), default="7777", timezone="Asia/Shanghai")
    assert router.route("13800138000", WEDNESDAY_10).target == "7777"
    assert router.rules == ()


def test_the_files_default_wins_over_the_setting(tmp_path: Path) -> None:
    flows = write_flows(tmp_path, {"hooks/routing.yaml": "default: 0800\nrules: []\n"})
    assert load_router(flows, default="7777", timezone="UTC").route("1", WEDNESDAY_10).target == "0800"


def test_without_a_default_the_setting_is_used(tmp_path: Path) -> None:
    flows = write_flows(tmp_path, {"hooks/routing.yaml": "rules:\n  - {prefixes: ['010'], to: 8101}\n"})
    router = load_router(flows, default="7777", timezone="UTC")
    assert router.route("01012345678", WEDNESDAY_10).target == "8101"
    assert router.route("02112345678", WEDNESDAY_10).target == "7777"


def _problems(tmp_path: Path, text: str, table: str = VIP_TABLE) -> list[str]:
    flows = write_flows(tmp_path, {"hooks/routing.yaml": text, "data/vip_callers.csv": table})
    with pytest.raises(FlowValidationError) as raised:
        load_router(flows, default="1000", timezone="UTC")
    return [str(problem) for problem in raised.value.problems]


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("default: 10a0\n", 1, "'10a0' is not an extension or group number — write digits only"),
        ("rules:\n  - prefixes: ['010']\n    to: 8 001\n", 3, "'8 001' is not an extension"),
        ("rules:\n  - prefixes: ['010']\n", 2, "the required key 'to' is missing"),
        ("rules:\n  - to: 8001\n", 2, "a rule without conditions takes every call"),
        (
            "rules:\n  - {to: 8001, prefix: ['010']}\n",
            2,
            "unknown key 'prefix' — check the spelling; docs/hooks.md",
        ),
        (
            "rules:\n  - to: 8001\n    callers:\n      - 138\n      - 电话\n",
            5,
            "'电话' is not a phone number",
        ),
        ("rules:\n  - to: 8001\n    prefixes: ['01x']\n", 3, "'01x' is not a number prefix"),
        (
            "rules:\n  - to: 8001\n    hours: ['9-18']\n",
            3,
            "'9-18' is not a time window — write it as HH:MM-HH:MM",
        ),
        ("rules:\n  - to: 8001\n    hours: ['09:00-25:00']\n", 3, "is not a time of day"),
        ("rules:\n  - to: 8001\n    hours: ['09:00-09:00']\n", 3, "is empty — use 00:00-24:00"),
        ("rules:\n  - to: 8001\n    weekdays: [monday]\n", 3, "'monday' is not a weekday — use mon, tue"),
        ("holidays:\n  - 2026-02-30\n", 2, "day value is outside expected range"),
        ("holidays:\n  - {date: 明天, note: 放假}\n", 2, "holidays.0.date: "),
        ("rules:\n  - to: 8001\n    callers_table: {table: nosuch, column: phone}\n", 3, "no table 'nosuch'"),
        (
            "rules:\n  - to: 8001\n    callers_table: {table: vip_callers, column: mobile}\n",
            3,
            "table 'vip_callers' has no column 'mobile' — use one of: phone, name",
        ),
        ("rules: [\n", 1, "the bracket [ opened here is never closed"),  # where it opened
        ("# nothing yet\n", 1, "the file is empty — add `rules:`"),
    ],
    ids=[
        "bad-default",
        "bad-target",
        "no-target",
        "no-condition",
        "unknown-key",
        "bad-caller",
        "bad-prefix",
        "bad-window",
        "bad-hour",
        "empty-window",
        "bad-weekday",
        "bad-date",
        "not-a-date",
        "no-table",
        "no-column",
        "yaml-syntax",
        "empty-file",
    ],
)
def test_problems_are_located_and_say_the_fix(tmp_path: Path, text: str, line: int, expected: str) -> None:
    problems = _problems(tmp_path, text)
    path = re.escape(str(tmp_path / "hooks" / "routing.yaml"))
    assert len(problems) == 1, problems
    assert re.match(rf"{path}:{line}:\d+: .+ — .+", problems[0]), problems
    assert expected in problems[0]


def test_a_bad_number_in_the_callers_table_names_its_line(tmp_path: Path) -> None:
    text = "rules:\n  - to: 8001\n    callers_table: {table: vip_callers, column: phone}\n"
    problems = _problems(tmp_path, text, "phone\n13800138000\n未知\n")
    assert len(problems) == 1
    assert ":3:" in problems[0]
    assert "table 'vip_callers', line 3: '未知' is not a phone number" in problems[0]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = "rules:\n  - to: 8a\n    prefixes: ['010']\n  - to: 8001\n    weekdays: [someday]\n"
    assert len(_problems(tmp_path, text)) == 2
