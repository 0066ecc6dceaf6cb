"""``voicebot flows test --coverage``: which steps and branches the conversations reach.

Each conversation below is played alone, and exactly the steps and branches it takes
must be counted: no fewer (a branch taken and not seen) and no more (a branch credited
that was not taken)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.authoring import coverage, flowtest
from bot.config import Settings
from bot.language.loader import load_flow
from bot.text.segmenter import Segmenter

MAIN = """\
title: 覆盖
intents:
  phone_change: {examples: [改手机号, 我要改手机号, 换个手机号]}
  address: {examples: [我要改地址, 修改地址, 换个地址]}
  agent: {examples: [转人工, 人工客服, 我要找人工]}
  hours: {examples: [几点上班, 营业时间, 你们几点下班]}
slots:
  phone: {type: phone}
global:
  hours: hours
defaults:
  silence: {prompts: [您还在吗？], then: bye}
  no_match: {prompts: [没听清。], then: agent}
steps:
  greeting:
    say: 请问办理什么业务？
    ask:
      phone_change: get_phone
      address: update_address
      agent: agent
  get_phone:
    collect: {slot: phone, prompt: 请说新的手机号。, attempts: 2, then: check, fail: agent}
  check:
    if:
      - when: phone == "13800000000"
        goto: same
    say: 已登记。
    hangup: true
  same:
    say: 号码没有变。
    hangup: true
  update_address:
    call: {flow: address, then: thanks}
  thanks:
    say: 谢谢。
    hangup: true
  hours:
    say: 九点到五点。
    return: true
  agent:
    say: {text: 正在转接。, interruptible: false}
    transfer: "8001"
  bye:
    say: 再见。
    hangup: true
"""

ADDRESS = """\
title: 地址
intents:
  affirm: {examples: [是的, 对, 没错]}
defaults:
  silence: {prompts: [还在吗？], then: done}
  no_match: {prompts: [没听清。], then: done}
steps:
  confirm:
    say: 地址没有变吗？
    ask: {affirm: done}
  done:
    return: true
"""

# Each conversation, and what of the flow `main` it reaches besides the step greeting.
CONVERSATIONS: dict[str, tuple[str, set[str]]] = {
    "silence": (
        "- silence: true\n- silence: true\n- silence: true\n  action: hangup",
        {"defaults: silence re-prompt 1/1", "defaults: silence → bye", "step bye"},
    ),
    "no-match": (
        "- silence: true\n- caller: 今天天气怎么样\n- caller: 今天天气怎么样\n  action: transfer",
        {"defaults: no-match re-prompt 1/1", "defaults: no-match → agent", "step agent"},
    ),
    "collect-digression-if": (
        "- silence: true\n- caller: 我要改手机号\n- caller: 你们几点下班\n  step: get_phone\n"
        "- caller: 幺三八零零零零零零零零\n  bot: 号码没有变",
        {
            "greeting: intent phone_change → get_phone",
            "step get_phone",
            "global intent hours → hours",
            "step hours",
            "get_phone: phone filled → check",
            "step check",
            'check: if phone == "13800000000" → same',
            "step same",
        },
    ),
    "collect-else": (
        "- silence: true\n- caller: 我要改手机号\n- caller: 幺三九幺二三四五六七八\n  bot: 已登记",
        {
            "greeting: intent phone_change → get_phone",
            "step get_phone",
            "get_phone: phone filled → check",
            "step check",
            "check: no condition held",
        },
    ),
    "collect-fail": (
        "- silence: true\n- caller: 我要改手机号\n- caller: 不知道\n- caller: 不知道\n  action: transfer",
        {
            "greeting: intent phone_change → get_phone",
            "step get_phone",
            "get_phone: phone failed → agent",
            "step agent",
        },
    ),
    "call-return": (
        "- silence: true\n- caller: 我要改地址\n  bot: 地址没有变吗\n- caller: 是的\n  action: hangup",
        {
            "greeting: intent address → update_address",
            "step update_address",
            "update_address: returned from address → thanks",
            "step thanks",
        },
    ),
    "caller-first": (
        "- caller: 我要改手机号\n  step: get_phone",
        {"greeting: intent phone_change → get_phone", "step get_phone"},
    ),
    "caller-first-greets": ("- caller: 喂\n  step: greeting", set()),
    "barge-in-ignored": (
        "- silence: true\n- caller: 转人工\n- caller: 嗯\n  playing: true\n  continue: true",
        {"greeting: intent agent → agent", "step agent"},
    ),
}


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "flows"
    (directory / "tests").mkdir(parents=True)
    (directory / "main.yaml").write_text(MAIN, encoding="utf-8")
    (directory / "address.yaml").write_text(ADDRESS, encoding="utf-8")
    return directory


def file_of(conversations: list[str]) -> str:
    lines = ["flow: main", "conversations:"]
    for name in conversations:
        turns, _ = CONVERSATIONS[name]
        lines += [f"  - name: {name}", "    turns:", *(f"      {line}" for line in turns.splitlines())]
    return "\n".join(lines) + "\n"


def reached_labels(run: flowtest.TestRun, flows_dir: Path, flow: str) -> set[str]:
    assert run.coverage is not None
    items = coverage.items_of(load_flow(flows_dir / f"{flow}.yaml").flow)
    return {item.label for item in items if (flow, item.loc) in run.coverage.reached}


@pytest.mark.parametrize("name", list(CONVERSATIONS))
async def test_a_conversation_reaches_exactly_what_it_takes(
    name: str, flows_dir: Path, segmenter: Segmenter
) -> None:
    path = flows_dir / "tests" / "main.yaml"
    path.write_text(file_of([name]), encoding="utf-8")
    run = await flowtest.run_files(
        [path], flows_dir, Settings(flows_dir=flows_dir), segmenter=segmenter, coverage=True
    )
    assert [r.passed for r in run.results] == [True], flowtest.report(run.results)
    _, expected = CONVERSATIONS[name]
    assert reached_labels(run, flows_dir, "main") == {"step greeting", *expected}
    called = (
        {"step confirm", "confirm: intent affirm → done", "step done"} if name == "call-return" else set()
    )
    assert reached_labels(run, flows_dir, "address") == called


def invoke(segmenter: Segmenter, *args: str) -> Result:
    return CliRunner().invoke(flowtest.flows_test_command, list(args), obj=segmenter)


def test_the_report_lists_what_no_conversation_reached(flows_dir: Path, segmenter: Segmenter) -> None:
    (flows_dir / "tests" / "main.yaml").write_text(file_of(["collect-else", "call-return"]), encoding="utf-8")
    result = invoke(segmenter, "--flows-dir", str(flows_dir), "--coverage")
    assert result.exit_code == 0, result.output
    report = result.stdout.split("2 passed, 0 failed\n\n")[1].splitlines()
    main, address = flows_dir / "main.yaml", flows_dir / "address.yaml"
    assert report == [
        f"coverage of flow address ({address}): 3/7 steps and branches (42%); not reached:",
        f"  {address}:5: defaults: silence re-prompt 1/1",
        f"  {address}:5: defaults: silence → done",
        f"  {address}:6: defaults: no-match re-prompt 1/1",
        f"  {address}:6: defaults: no-match → done",
        f"coverage of flow main ({main}): 10/22 steps and branches (45%); not reached:",
        f"  {main}:10: global intent hours → hours",
        f"  {main}:12: defaults: silence re-prompt 1/1",
        f"  {main}:12: defaults: silence → bye",
        f"  {main}:13: defaults: no-match re-prompt 1/1",
        f"  {main}:13: defaults: no-match → agent",
        f"  {main}:20: greeting: intent agent → agent",
        f"  {main}:22: get_phone: phone failed → agent",
        f'  {main}:25: check: if phone == "13800000000" → same',
        f"  {main}:29: step same",
        f"  {main}:37: step hours",
        f"  {main}:40: step agent",
        f"  {main}:43: step bye",
    ]


def test_every_step_and_branch_reached(flows_dir: Path, segmenter: Segmenter) -> None:
    every = [name for name in CONVERSATIONS if not name.startswith("caller-first")]
    (flows_dir / "tests" / "main.yaml").write_text(file_of(every), encoding="utf-8")
    (flows_dir / "tests" / "address.yaml").write_text(
        "flow: address\nconversations:\n"
        "  - name: 不说话\n    turns: [{silence: true}, {silence: true}, {silence: true}]\n"
        "  - name: 听不懂\n    turns: [{silence: true}, {caller: 今天天气}, {caller: 今天天气}]\n",
        encoding="utf-8",
    )
    result = invoke(segmenter, "--flows-dir", str(flows_dir), "--coverage")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-2:] == [
        f"coverage of flow address ({flows_dir / 'address.yaml'}): 7/7 steps and branches (100%)",
        f"coverage of flow main ({flows_dir / 'main.yaml'}): 22/22 steps and branches (100%)",
    ]


def test_a_flow_no_test_reaches_and_the_branches_of_steps_not_reached(
    flows_dir: Path, segmenter: Segmenter
) -> None:
    (flows_dir / "tests" / "main.yaml").write_text(file_of(["silence"]), encoding="utf-8")
    result = invoke(segmenter, "--flows-dir", str(flows_dir), "--coverage")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    address = f"coverage of flow address ({flows_dir / 'address.yaml'}): 0/7 steps and branches (0%)"
    assert f"{address} — no test reaches it" in lines
    # get_phone: filled and failed; check: its if and no condition; update_address: returned
    assert "  (and 5 branches of the steps not reached)" in lines
    assert not [line for line in lines if "get_phone: " in line]  # shown by its step alone


def test_without_coverage_there_is_no_report(flows_dir: Path, segmenter: Segmenter) -> None:
    (flows_dir / "tests" / "main.yaml").write_text(file_of(["silence"]), encoding="utf-8")
    result = invoke(segmenter, "--flows-dir", str(flows_dir))
    assert result.exit_code == 0, result.output
    assert "coverage of flow" not in result.stdout
    assert result.stdout.splitlines()[-1] == "1 passed, 0 failed"
