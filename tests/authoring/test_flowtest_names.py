"""Conversation tests: each conversation's own telnum, dotted names in ``slots:``, and
the file of each result — through the ``voicebot flows test`` command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.authoring import flowtest
from bot.text.segmenter import Segmenter

# The caller's number picks a customer from a YAML table: a mapping with a nested
# mapping (`address`) and a column whose name holds a dot (`vip.level`).
FLOW = """\
title: 客户热线
intents:
  agent: {examples: [转人工, 人工客服, 我要找人工]}
defaults:
  silence: {prompts: [您还在吗？], then: bye}
  no_match: {prompts: [没听清。], then: bye}
steps:
  greeting:
    set: {caller_number: telnum}
    lookup:
      table: customers
      match: {telnum: telnum}
      as: customer
      not_found: stranger
    say: 您好，{{customer.name}}。
    ask: {agent: agent}
  stranger:
    say: 您好。
    ask: {agent: agent}
  agent:
    say: 正在转接。
    transfer: "8001"
  bye:
    say: 再见。
    hangup: true
"""

CUSTOMERS = """\
- telnum: "13900000000"
  name: 张三
  address: {city: 北京, district: 海淀}
  vip.level: gold
- telnum: "13712345678"
  name: 李四
  address: {city: 上海}
  vip.level: silver
"""

TESTS = """\
flow: hotline
telnum: "13900000000"
conversations:
  - name: 文件的号码
    turns:
      - silence: true
        bot: 张三
        slots:
          caller_number: "13900000000"
          telnum: "13900000000"
          customer.name: 张三
          customer.address.city: 北京
          customer.vip.level: gold
  - name: 自己的号码
    telnum: 13712345678
    turns:
      - silence: true
        bot: 李四
        slots: {caller_number: "13712345678", customer.address.city: 上海, customer.address.district: null}
  - name: 陌生号码
    telnum: "13600000000"
    turns:
      - silence: true
        bot: 您好。
        step: stranger
        slots: {customer: null, customer.name: null}
"""


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "flows"
    (directory / "tests").mkdir(parents=True)
    (directory / "data").mkdir()
    (directory / "hotline.yaml").write_text(FLOW, encoding="utf-8")
    (directory / "data" / "customers.yaml").write_text(CUSTOMERS, encoding="utf-8")
    return directory


def write(flows_dir: Path, body: str, name: str = "hotline.yaml") -> Path:
    path = flows_dir / "tests" / name
    path.write_text(body, encoding="utf-8")
    return path


def invoke(segmenter: Segmenter, *args: str) -> Result:
    return CliRunner().invoke(flowtest.flows_test_command, list(args), obj=segmenter)


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def test_each_conversation_may_call_from_its_own_number(flows_dir: Path, segmenter: Segmenter) -> None:
    path = write(flows_dir, TESTS)
    result = invoke(segmenter, "--flows-dir", str(flows_dir))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        f"PASS 文件的号码 — {path}:{line_of(TESTS, '- name: 文件的号码')}",
        f"PASS 自己的号码 — {path}:{line_of(TESTS, '- name: 自己的号码')}",
        f"PASS 陌生号码 — {path}:{line_of(TESTS, '- name: 陌生号码')}",
    ]


def test_without_any_telnum_the_default_number_calls(flows_dir: Path, segmenter: Segmenter) -> None:
    body = TESTS.replace('telnum: "13900000000"\n', "", 1)
    write(flows_dir, body)
    result = invoke(segmenter, "--flows-dir", str(flows_dir))
    assert result.exit_code == 1
    assert f'slots.caller_number: expected "13900000000" / got "{flowtest.DEFAULT_TELNUM}"' in result.stdout
    assert "2 passed, 1 failed" in result.stdout


NAME = "customer.name: 张三"
LEVEL = "customer.vip.level: gold"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (NAME, "customer.name: 李四", 'slots.customer.name: expected "李四" / got "张三"'),
        (
            NAME,
            "customer.nmae: 张三",
            "slots.customer.nmae: expected \"张三\" / got nothing: customer has no 'nmae' — "
            "did you mean 'name'? (it has: telnum, name, address, vip.level)",
        ),
        (
            NAME,
            "customer.address.town: 北京",
            "slots.customer.address.town: expected \"北京\" / got nothing: customer.address has no 'town' "
            "(it has: city, district)",
        ),
        (
            NAME,
            "customer.name.first: 张",
            "slots.customer.name.first: expected \"张\" / got nothing: customer.name is '张三', "
            "not a mapping with 'first' in it",
        ),
        (LEVEL, "customer.vip.level: silver", 'slots.customer.vip.level: expected "silver" / got "gold"'),
        (
            LEVEL,
            "customer.vip: gold",
            "slots.customer.vip: expected \"gold\" / got nothing: customer has no 'vip' (it has: ",
        ),
    ],
    ids=["wrong-value", "misspelt-key", "nested-key", "not-a-mapping", "dotted-column", "half-a-column"],
)
def test_dotted_names_read_into_mappings(
    flows_dir: Path, segmenter: Segmenter, old: str, new: str, message: str
) -> None:
    body = TESTS.replace(old, new, 1)
    path = write(flows_dir, body)
    result = invoke(segmenter, "--flows-dir", str(flows_dir))
    assert result.exit_code == 1
    assert f"FAIL 文件的号码 — {path}:{line_of(body, '- name: 文件的号码')}" in result.stdout
    assert f"  {message}" in result.stdout


def test_a_missing_key_expected_null_is_not_set(flows_dir: Path, segmenter: Segmenter) -> None:
    """As in expressions (`order.refund == null`): a key an answer leaves out is null."""
    write(flows_dir, TESTS.replace("customer.name: 张三", "customer.refund: null", 1))
    result = invoke(segmenter, "--flows-dir", str(flows_dir))
    assert result.exit_code == 0, result.output


NEVER_PASSES = (
    "this check could never pass — {hint}"
    "name a slot, or a variable of a `set:`, lookup, http or knowledge step"
)
ALWAYS_PASSES = (
    "warning: {where}expecting null of it always passes — {hint}check the spelling, or remove the check"
)


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("custmer.name", "张三", "did you mean 'customer'? "),
        ("caller_nubmer", '"1"', "did you mean 'caller_number'? "),
        ("xyz", "1", ""),
    ],
    ids=["dotted", "plain", "nothing-close"],
)
def test_a_name_no_flow_sets_is_an_error_when_a_value_is_expected(
    flows_dir: Path, segmenter: Segmenter, name: str, value: str, hint: str
) -> None:
    body = TESTS.replace("customer.name: 张三", f"{name}: {value}", 1)
    path = write(flows_dir, body)
    result = invoke(segmenter, "--flows-dir", str(flows_dir))
    assert result.exit_code == 1
    where = f"{path}:{line_of(body, f'{name}: {value}')}:11: conversations.0.turns.0.slots.{name}"
    message = f"no flow sets {name!r}: " + NEVER_PASSES.format(hint=hint)
    assert result.stdout.splitlines() == [f"{where}: {message}"]  # no conversation of the file is played
    assert "1 invalid test file" in result.stderr


def test_a_name_no_flow_sets_expected_null_is_a_warning(flows_dir: Path, segmenter: Segmenter) -> None:
    body = TESTS.replace("customer.name: 张三", "custmer: null", 1)
    path = write(flows_dir, body)
    result = invoke(segmenter, "--flows-dir", str(flows_dir))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    at = f"{path}:{line_of(body, 'custmer: null')}:11: "
    where = "conversations.0.turns.0.slots.custmer: no flow sets 'custmer': "
    assert lines[0] == at + ALWAYS_PASSES.format(where=where, hint="did you mean 'customer'? ")
    assert lines[-1] == "3 passed, 0 failed"


def test_results_of_several_files_name_their_files(flows_dir: Path, segmenter: Segmenter) -> None:
    first = write(flows_dir, TESTS, "a.yaml")
    second = write(flows_dir, TESTS.replace("name: 文件的号码", "name: 同名的对话"), "b.yaml")
    result = invoke(segmenter, "--flows-dir", str(flows_dir))
    assert result.exit_code == 0, result.output
    summary = [line for line in result.stdout.splitlines() if line.startswith("PASS")]
    assert [line.rsplit(":", 1)[0].split(" — ")[1] for line in summary] == [str(first)] * 3 + [
        str(second)
    ] * 3
