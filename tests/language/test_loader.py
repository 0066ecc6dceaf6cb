"""Flow files: the sample loads; every broken file is reported at the right line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.errors import FlowValidationError
from bot.language.loader import load_flow, load_flows
from tests.conftest import FLOWS_DIR

SAMPLE = (FLOWS_DIR / "yibao.yaml").read_text(encoding="utf-8")


def test_sample_flow_is_valid() -> None:
    sources = load_flows(FLOWS_DIR)
    yibao = sources["yibao"].flow
    assert yibao.entry == "greeting"
    assert set(yibao.intents) >= {
        "transfer_agent",
        "goodbye",
        "affirm",
        "deny",
        "query_progress",
        "card_loss",
    }
    assert all(len(i.examples) >= 15 for i in yibao.intents.values())
    assert re.fullmatch(r"[0-9a-f]{12}", sources["yibao"].version)


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FlowValidationError) as caught:
        load_flow(path)
    lines = str(caught.value).splitlines()
    assert all(re.match(rf"{re.escape(str(path))}:\d+:\d+: .+ — .+", line) for line in lines), lines
    return lines


@pytest.mark.parametrize(
    ("old", "new", "marker", "expected"),
    [
        (
            "      goodbye: goodbye\n      query_progress: query_progress\n      card_loss: card_loss\n"
            "      affirm: ask_business",
            "      goodbye: goodbye\n      query_progress: query_progress\n      card_loss: card_loss\n"
            "      affirm: ask_busines",
            "ask_busines",
            "unknown step 'ask_busines'",
        ),
        (
            "      transfer_agent: transfer\n      goodbye: goodbye\n      query_progress: query_progress\n"
            "      card_loss: card_loss\n      affirm: ask_business",
            "      transfer_agnet: transfer\n      goodbye: goodbye\n      query_progress: query_progress\n"
            "      card_loss: card_loss\n      affirm: ask_business",
            "transfer_agnet",
            "unknown intent 'transfer_agnet'",
        ),
        ("    goto: menu\n\n  hours:", "    goot: menu\n\n  hours:", "goot", "unknown key 'goot'"),
        ('    transfer: "8001"', "    transfer: [8001]", "[8001]", "expected text"),
        (
            "      interruptible: false\n    transfer",
            "      interruptible: sometimes\n    transfer",
            "sometimes",
            "expected true or false",
        ),
        (
            "  goodbye:\n    say: 感谢您的来电，祝您生活愉快，再见。\n    hangup: true",
            "  goodbye:\n    say: 感谢您的来电，祝您生活愉快，再见。",
            "  goodbye:\n    say: 感谢",
            "a step needs exactly one action (found: none)",
        ),
        ("    then: silence_goodbye", "    then: silence_bye", "silence_bye", "unknown step 'silence_bye'"),
        (
            "      - 不是的\n",
            "      - 不是的\n  \tbad\n",
            "\tbad",
            "YAML syntax error: a tab indents this line",
        ),
        ("title: 医保服务热线", "title: 医保服务热线\ntitle: again", "title: again", "appears twice"),
        (
            "    examples:\n      - 我要转人工",
            '    examples: "我要转人工"\n    examples2:\n      - 我要转人工',
            "examples2",
            "unknown key 'examples2'",
        ),
    ],
    ids=[
        "unknown-step",
        "unknown-intent",
        "misspelt-key",
        "wrong-type",
        "bad-bool",
        "no-action",
        "ladder-target",
        "yaml-syntax",
        "duplicate-key",
        "extra-key",
    ],
)
def test_broken_sample_reports_the_right_line(
    tmp_path: Path, old: str, new: str, marker: str, expected: str
) -> None:
    assert old in SAMPLE, "the sample changed; update the test"
    broken = SAMPLE.replace(old, new, 1)
    problems = problems_of(tmp_path, broken)
    match = [p for p in problems if expected in p]
    assert match, problems
    line = int(match[0].split(":")[1])
    assert line == line_of(broken, marker), match[0]


def test_missing_ladders_are_reported_with_the_fix(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "intents:\n  a: {examples: [好]}\nsteps:\n  s:\n    ask: {a: s}\n")
    assert any("no silence ladder" in p and "defaults: silence:" in p for p in problems)
    assert any("no no_match ladder" in p for p in problems)


def test_goto_rings_are_reported_once(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "steps:\n  a: {goto: b}\n  b: {goto: a}\n  c: {hangup: true}\n")
    assert problems == [
        f"{tmp_path / 'broken.yaml'}:2:7: steps.a.goto: these steps only go to each other: "
        "a → b → a — let one of them `ask`, `transfer` or `hangup`"
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "the file is empty"), (b"\xff\xfe", "not UTF-8"), (b"steps: {}\n", "steps")],
    ids=["empty", "not-utf8", "no-steps"],
)
def test_unusable_files(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(content)
    with pytest.raises(FlowValidationError, match=expected):
        load_flow(path)


def test_all_problems_of_a_directory_are_reported_together(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("steps:\n  s: {say: hi}\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("steps:\n  s: {gotoo: s}\n", encoding="utf-8")
    with pytest.raises(FlowValidationError) as caught:
        load_flows(tmp_path)
    assert [p.flow_file for p in caught.value.problems] == [
        str(tmp_path / "a.yaml"),
        str(tmp_path / "b.yaml"),
    ]


LADDERS = "defaults: {silence: {then: bye}, no_match: {then: bye}}\n"


def test_yaml_spellings_keep_what_the_author_wrote(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(
        "intents:\n  yes: {examples: [是的]}\n  no: {examples: [不是]}\n" + LADDERS + "steps:\n"
        "  1: {say: 12345, ask: {yes: 2, no: bye}}\n"
        "  2: {transfer: 0101}\n"
        "  bye: {say: 再见, hangup: true}\n",
        encoding="utf-8",
    )
    flow = load_flow(path).flow
    assert set(flow.intents) == {"yes", "no"}
    assert flow.steps["1"].say is not None
    assert flow.steps["1"].say.text == "12345"
    assert flow.steps["1"].ask == {"yes": "2", "no": "bye"}
    assert flow.steps["2"].transfer == "0101"  # not 65, YAML 1.1's octal


def test_merge_keys_and_aliases_work(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(
        "intents: {a: {examples: [好]}}\n"
        "defaults:\n  silence: &ladder {prompts: [在吗？], then: bye}\n  no_match: *ladder\n"
        "menu: &menu {a: bye}\n"
        "steps:\n  s: {<<: {say: 你好}, ask: *menu}\n  bye: {say: 再见, hangup: true}\n",
        encoding="utf-8",
    )
    with pytest.raises(FlowValidationError, match="unknown key 'menu'"):
        load_flow(path)
    path.write_text(
        path.read_text(encoding="utf-8")
        .replace("menu: &menu {a: bye}\n", "")
        .replace("ask: *menu", "ask: {a: bye}"),
        encoding="utf-8",
    )
    flow = load_flow(path).flow
    assert flow.steps["s"].say is not None
    assert flow.steps["s"].say.text == "你好"
    assert flow.defaults.no_match == flow.defaults.silence


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("steps:\n  ? [a, b]\n  : {hangup: true}\n", "a key must be plain text"),
        ("steps: &a\n  x: *a\n", "refers to something that contains it"),
        ("steps:\n" + "".join("  " * n + f"k{n}:\n" for n in range(1, 1500)), "nested too deeply"),
        ("steps:\n  s: {<<: [1, 2], hangup: true}\n", "YAML error"),
    ],
    ids=["list-key", "alias-cycle", "deep", "bad-merge"],
)
def test_odd_yaml_is_a_located_problem(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FlowValidationError, match=expected):
        load_flow(path)


def test_alias_bombs_are_built_once(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]" for n in range(1, 9)]
    path = tmp_path / "f.yaml"
    path.write_text("\n".join(levels) + "\nsteps: {s: {hangup: true}}\n", encoding="utf-8")
    with pytest.raises(FlowValidationError, match="unknown key 'a0'"):
        load_flow(path)  # 10**9 leaves if expanded; built once per alias, it is instant


def test_a_directory_named_like_a_flow(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").mkdir()
    with pytest.raises(FlowValidationError, match="cannot read the file"):
        load_flows(tmp_path)


def test_variables_nobody_sets_are_warnings_at_their_line(tmp_path: Path) -> None:
    text = """\
slots:
  phone: {type: phone}
defaults:
  silence: {prompts: ["{{phnoe}}还在吗？"], then: bye}
grading:
  - {grade: A, score: 90, when: scroe > 3}
steps:
  fetch:
    http:
      url: http://127.0.0.1:9/orders/{{order_id}}
      save: {status: data.status}
      on_error: bye
    say: 您的订单{{status}}，号码{{phone}}。
    goto: bye
  bye:
    say: 再见。
    hangup: true
"""
    path = tmp_path / "typos.yaml"
    path.write_text(text, encoding="utf-8")
    warnings = [str(w) for w in load_flow(path).warnings]
    assert len(warnings) == 3, warnings
    for name, line in (("phnoe", 4), ("scroe", 6), ("order_id", 10)):
        assert any(f":{line}:" in w and f"provides {name!r}" in w for w in warnings), (name, warnings)


@pytest.mark.parametrize("moment", ["wait", "caller_first", "transfer_failed"], ids=str)
def test_placeholders_nobody_sets_in_the_defaults_moments_are_warnings(tmp_path: Path, moment: str) -> None:
    text = f"""\
defaults:
  {moment}: 抱歉，{{{{nobody}}}}暂时无法接通。
steps:
  bye:
    say: 再见。
    hangup: true
"""
    path = tmp_path / "moments.yaml"
    path.write_text(text, encoding="utf-8")
    warnings = [str(w) for w in load_flow(path).warnings]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"{path}:2:"), warnings
    assert f"warning: defaults.{moment}: no slot, set:, lookup or http step provides 'nobody'" in warnings[0]


def test_a_flow_says_who_places_its_calls(tmp_path: Path) -> None:
    steps = "steps:\n  s:\n    say: 您好\n    hangup: true\n"
    path = tmp_path / "flow.yaml"
    path.write_text(steps, encoding="utf-8")
    assert load_flow(path).flow.direction == "inbound"
    assert load_flow(FLOWS_DIR / "survey.yaml").flow.direction == "outbound"
    problems = problems_of(tmp_path, "direction: outgoing\n" + steps)
    assert problems == [
        f"{tmp_path / 'broken.yaml'}:1:1: direction: Input should be 'inbound' or 'outbound' — "
        "see docs/flows.md for this key"
    ]
