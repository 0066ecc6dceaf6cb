"""The `voicebot` command's tools for flow authors, run in-process."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.dialog.loader import load_flow
from tests.conftest import FLOWS_DIR

SAMPLE = (FLOWS_DIR / "yibao.yaml").read_text(encoding="utf-8")


def check(*paths: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["flows", "check", *map(str, paths)])
    return result.exit_code, result.stdout.splitlines()


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def test_the_sample_flows_pass() -> None:
    assert check(FLOWS_DIR) == (0, [])


@pytest.mark.parametrize(
    ("old", "new", "marker", "expected"),
    [
        (
            "    say: 请问还有什么可以帮您？",
            "    say: 请问: 还有什么可以帮您？",
            "请问: 还有",
            "YAML syntax error",
        ),
        (
            "    goto: menu\n\n  hours:",
            "    goto: menuu\n\n  hours:",
            "menuu",
            "unknown step 'menuu'",
        ),
        ("  silence:\n    prompts:", "  silence:\n    promts:", "promts", "unknown key 'promts'"),
        (
            "defaults:\n  silence:\n    prompts:\n      - 您好，请问您还在吗？请问有什么可以帮您？\n"
            "      - 您好，如果需要帮助，请直接说出您的问题，比如查询报销进度。\n    then: silence_goodbye\n",
            "defaults:\n  silence:\n    prompts:\n      - 您好，请问您还在吗？请问有什么可以帮您？\n"
            "      - 您好，如果需要帮助，请直接说出您的问题，比如查询报销进度。\n",
            "  silence:\n    prompts",
            "the required key 'then' is missing",
        ),
    ],
    ids=["yaml-syntax", "unknown-step", "misspelt-key", "missing-required-field"],
)
def test_a_broken_copy_is_reported_at_its_line(
    tmp_path: Path, old: str, new: str, marker: str, expected: str
) -> None:
    assert old in SAMPLE, "the sample changed; update the test"
    broken = SAMPLE.replace(old, new, 1)
    path = tmp_path / "yibao.yaml"
    path.write_text(broken, encoding="utf-8")
    status, lines = check(path)
    assert status == 1
    found = [line for line in lines if expected in line]
    assert found, lines
    assert re.match(rf"{re.escape(str(path))}:(\d+):\d+: .+ — .+", found[0])
    assert int(found[0].split(":")[1]) == line_of(broken, marker)


def test_warnings_fail_the_check_but_not_the_load(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    path = flows / "yibao.yaml"
    text = SAMPLE.replace("      - 查报销\n", "      - 查报销\n      - 卡丢了\n")  # card_loss's example too
    text += "\n  orphan:\n    say: 没有人会到这里。\n    hangup: true\n"
    path.write_text(text, encoding="utf-8")
    status, lines = check(flows)
    assert status == 1
    assert any(": warning: " in line and "'卡丢了' is also under intent" in line for line in lines), lines
    assert any(": warning: " in line and "step 'orphan' is never reached" in line for line in lines), lines
    assert len(load_flow(path).warnings) == 3  # the service starts with it (卡丢了 is twice in card_loss)
