"""`voicebot flows check` checks the hook files of a flows directory too."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from tests.conftest import FLOWS_DIR
from tests.hooks.flows import write_flows


def check(*paths: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["flows", "check", *map(str, paths)])
    return result.exit_code, result.stdout.splitlines()


def test_the_sample_hooks_pass() -> None:
    assert check(FLOWS_DIR / "hooks" / "ivr.yaml", FLOWS_DIR / "hooks" / "routing.yaml") == (0, [])


def test_a_broken_hook_file_is_reported_at_its_line(tmp_path: Path) -> None:
    flows = write_flows(
        tmp_path,
        {
            "hooks/ivr.yaml": "queries:\n  hours:\n    answr: 九点开门。\n",
            "hooks/routing.yaml": "rules:\n  - {prefixes: ['010'], to: 8101}\n",
        },
    )
    status, lines = check(flows)
    assert status == 1
    ivr = str(flows / "hooks" / "ivr.yaml")
    assert any(re.match(rf"{re.escape(ivr)}:3:\d+: .*unknown key 'answr'", line) for line in lines), lines
    assert any(re.match(rf"{re.escape(ivr)}:2:\d+: .*'answer' is missing", line) for line in lines), lines
    assert len(lines) == 2  # routing.yaml is fine


def test_a_hook_file_given_by_path_is_checked_as_one(tmp_path: Path) -> None:
    flows = write_flows(tmp_path, {"hooks/routing.yaml": "rules:\n  - {to: 8101}\n"})
    status, lines = check(flows / "hooks" / "routing.yaml")
    assert status == 1
    assert [line for line in lines if "a rule without conditions" in line], lines


def test_a_misnamed_hook_file_is_a_warning(tmp_path: Path) -> None:
    flows = write_flows(tmp_path, {"hooks/route.yaml": "rules: []\n"})
    status, lines = check(flows)
    assert status == 1
    path = flows / "hooks" / "route.yaml"
    assert lines == [f"{path}:1:1: warning: no hook reads this file — name it ivr.yaml or routing.yaml"]
