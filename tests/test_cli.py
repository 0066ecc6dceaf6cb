"""The `voicebot` command's tools for flow authors, run in-process."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.language.loader import flow_files, load_flow
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
        (
            "  id_card: {type: id_card}",
            "  id_card: {type: idcard}",
            "{type: idcard}",
            "unknown slot type 'idcard'",
        ),
        (
            "  phone: {type: phone}",
            "  phone: {type: digits, min_length: six}",
            "{type: digits",
            "'min_length' must be a whole number",
        ),
        ("      slot: phone\n", "      slot: mobile\n", "slot: mobile", "unknown slot 'mobile'"),
        (
            "      then: register_loss\n",
            "",
            "    collect:\n      slot: phone",
            "the required key 'then' is missing",
        ),
        ("      table: claims", "      table: claim", "table: claim", "no table 'claim'"),
        (
            "      match: {id_card: id_card}",
            "      match: {idcard: id_card}",
            "{idcard",
            "has no column 'idcard'",
        ),
        (
            '      - when: claim.status == "已到账"',
            '      - when: claim.status = "已到账"',
            'claim.status = "',
            "when:",
        ),
        ("已为您办理医保卡临时挂失，受理编号是{{reference}}", "受理编号是{{reference}", "受理编号", "say:"),
        ("    return: true", "    return: true\n    goto: menu", "  hours:", "exactly one action"),
    ],
    ids=[
        "yaml-syntax",
        "unknown-step",
        "misspelt-key",
        "missing-required-field",
        "bad-slot-type",
        "bad-slot-option",
        "unknown-slot",
        "collect-without-then",
        "unknown-table",
        "unknown-column",
        "bad-expression",
        "bad-template",
        "two-actions",
    ],
)
def test_a_broken_copy_is_reported_at_its_line(
    tmp_path: Path, old: str, new: str, marker: str, expected: str
) -> None:
    assert old in SAMPLE, "the sample changed; update the test"
    broken = SAMPLE.replace(old, new, 1)
    shutil.copytree(FLOWS_DIR / "data", tmp_path / "data")
    path = tmp_path / "yibao.yaml"
    path.write_text(broken, encoding="utf-8")
    status, lines = check(path)
    assert status == 1
    found = [line for line in lines if expected in line]
    assert found, lines
    assert re.match(rf"{re.escape(str(path))}:(\d+):\d+: .+ — .+", found[0])
    assert int(found[0].split(":")[1]) == line_of(broken, marker)


def test_an_expression_error_points_at_its_column(tmp_path: Path) -> None:
    broken = SAMPLE.replace('claim.status == "已到账"', 'claim.status === "已到账"', 1)
    path = tmp_path / "yibao.yaml"
    path.write_text(broken, encoding="utf-8")
    status, lines = check(path)
    assert status == 1
    line = line_of(broken, "claim.status ===")
    column = broken.splitlines()[line - 1].index("=== ") + 1
    assert any(
        f"{path}:{line}:{column}: " in entry or f"{path}:{line}:{column + 1}: " in entry for entry in lines
    ), (
        lines,
        column,
    )


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


def test_an_example_its_intent_excludes_is_a_warning(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    text = SAMPLE.replace("      - 查报销\n", "      - 查报销\n      - 报销比例查一下\n")
    assert text != SAMPLE
    (flows / "yibao.yaml").write_text(text, encoding="utf-8")
    status, lines = check(flows)
    assert status == 1
    line = line_of(text, "报销比例查一下")
    expected = "'报销比例查一下' holds '比例', which intent 'query_progress' excludes, so it can never match"
    assert any(f"yibao.yaml:{line}:" in entry and expected in entry for entry in lines), lines


def test_an_llm_switch_on_a_step_that_never_waits_is_a_warning(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    text = SAMPLE.replace("  goodbye:\n    say:", "  goodbye:\n    llm: false\n    say:", 1)
    assert text != SAMPLE
    (flows / "yibao.yaml").write_text(text, encoding="utf-8")
    status, lines = check(flows)
    assert status == 1
    warning = "step 'goodbye' never waits for the caller, so its `llm: false` does nothing"
    assert any(warning in line for line in lines), lines


def test_graph_draws_a_flow_by_name_or_path(tmp_path: Path) -> None:
    runner = CliRunner()
    mermaid = runner.invoke(main, ["flows", "graph", "yibao", "--flows-dir", str(FLOWS_DIR)])
    assert mermaid.exit_code == 0, mermaid.output
    assert mermaid.stdout.startswith('---\ntitle: "医保服务热线"')
    svg = tmp_path / "survey.svg"
    drawn = runner.invoke(
        main, ["flows", "graph", str(FLOWS_DIR / "survey.yaml"), "--format", "svg", "-o", str(svg)]
    )
    assert drawn.exit_code == 0, drawn.output
    assert b"<svg" in svg.read_bytes()
    unknown = runner.invoke(main, ["flows", "graph", "nope", "--flows-dir", str(FLOWS_DIR)])
    assert unknown.exit_code == 2
    assert "no flow 'nope'" in unknown.output


def test_the_committed_schema_is_current_and_the_samples_follow_it() -> None:
    result = CliRunner().invoke(main, ["flows", "schema"])
    assert result.exit_code == 0
    committed = (FLOWS_DIR / "flow.schema.json").read_text(encoding="utf-8")
    assert result.stdout == committed, "run `voicebot flows schema -o flows/flow.schema.json`"
    schema = json.loads(committed)
    validator = jsonschema.Draft202012Validator(schema)
    for path in flow_files(FLOWS_DIR):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# yaml-language-server: $schema=flow.schema.json\n")
        errors = list(validator.iter_errors(yaml.safe_load(text)))
        assert not errors, [e.message for e in errors]
    broken = yaml.safe_load(SAMPLE.replace("    goto: menu\n", "    goot: menu\n", 1))
    assert any("goot" in e.message for e in validator.iter_errors(broken))
