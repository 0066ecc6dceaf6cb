"""Conversation tests for flows: passing and failing conversations, located file problems, the command."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.authoring import flowtest
from bot.config import Settings
from bot.errors import FlowValidationError
from bot.text.segmenter import Segmenter

FLOW = """\
title: 测试热线
start: greeting

intents:
  change_phone:
    keywords: [改手机号, 换手机号]
    examples: [我要改手机号, 修改手机号码, 换个手机号, 更改联系电话]
  transfer_agent:
    keywords: [转人工, 人工客服]
    examples: [转人工, 我要找人工客服, 帮我接人工]
  goodbye:
    examples: [再见, 没有了谢谢, 拜拜]
  affirm:
    examples: [是的, 对, 没错, 对的]
  deny:
    examples: [不是, 不对, 错了]

slots:
  phone: {type: phone}

defaults:
  silence:
    prompts: [您还在吗？]
    then: bye
  no_match:
    prompts: [抱歉没听清，您可以说改手机号或者转人工。]
    then: agent

grading:
  - {grade: A, score: 90, when: "phone != null", reason: 登记了新号码}
  - {grade: B, score: 60, when: "outcome == 'transferred'"}
  - {grade: C, score: 10}

steps:
  greeting:
    set: {called_on: today}
    say: 您好，欢迎致电测试热线，请问办理什么业务？
    ask:
      change_phone: get_phone
      transfer_agent: agent
      goodbye: bye
  get_phone:
    collect:
      slot: phone
      prompt: 请说新的手机号。
      invalid: [号码不对，请说十一位手机号。]
      confirm: 您的新号码是{{phone}}，对吗？
      then: done
      fail: agent
  done:
    say: 已为您登记新号码。
    hangup: true
  agent:
    say: {text: 正在为您转接人工客服。, interruptible: false}
    transfer: "8001"
  bye:
    say: 感谢来电，再见。
    hangup: true
"""

HEADER = """\
flow: hotline
date: 2026-11-21
telnum: 13900000000
conversations:
"""

PASSING = """\
  - name: 改手机号
    turns:
      - silence: true
        bot: 欢迎致电
        bot_not: 转接
        step: greeting
        action: none
        interruptible: true
        slots: {called_on: 2026-11-21}
      - caller: 今天天气怎么样
        intent: null
        bot: [抱歉没听清, 改手机号]
        step: greeting
      - caller: 我要改手机号
        intent: change_phone
        bot: 请说新的手机号
        step: get_phone
      - caller: 幺三八幺二三四五六七八
        bot: [幺三八, 对吗]
        slots: {phone: null}
      - caller: 对的
        bot: 已为您登记新号码
        action: hangup
        outcome: hung_up_by_bot
        grade: A
        slots: {phone: "13812345678"}
    end:
      outcome: hung_up_by_bot
      grade: A
      score: 90
      slots: {phone: "13812345678", called_on: "2026-11-21", nothing: null}
"""


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "flows"
    (directory / "tests").mkdir(parents=True)
    (directory / "hotline.yaml").write_text(FLOW, encoding="utf-8")
    return directory


@pytest.fixture
def settings(tmp_path: Path, flows_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", flows_dir=flows_dir)


def write(flows_dir: Path, body: str, name: str = "hotline.yaml") -> Path:
    path = flows_dir / "tests" / name
    path.write_text(body, encoding="utf-8")
    return path


async def run(
    flows_dir: Path, settings: Settings, segmenter: Segmenter, body: str
) -> list[flowtest.ConversationResult]:
    path = write(flows_dir, body)
    return await flowtest.run_file(path, flows_dir, settings, segmenter=segmenter)


# --- running conversations --------------------------------------------------------------


async def test_a_conversation_that_goes_as_written_passes(
    flows_dir: Path, settings: Settings, segmenter: Segmenter
) -> None:
    body = HEADER + PASSING
    [result] = await run(flows_dir, settings, segmenter, body)
    assert result.passed, result.failure_text
    assert (result.name, result.line, result.failure) == ("改手机号", line_of(body, "- name: 改手机号"), None)
    assert result.file == str(flows_dir / "tests" / "hotline.yaml")
    transcript = list(result.transcript)
    assert transcript[0] == "caller: (silence)"
    assert transcript[1] == "bot: 您好，欢迎致电测试热线，请问办理什么业务？  [step=greeting]"
    assert re.fullmatch(r"bot: 抱歉没听清.*  \[step=greeting, intent=none( \d\.\d\d)?\]", transcript[3])
    assert re.fullmatch(
        r"bot: 请说新的手机号。  \[step=get_phone, intent=change_phone \d\.\d\d\]", transcript[5]
    )
    assert transcript[-1].startswith("bot: 已为您登记新号码。  [step=done")
    assert transcript[-1].endswith(", hangup]")
    text = flowtest.report([result])
    assert text.splitlines() == [f"PASS 改手机号 — {result.file}:{result.line}", "", "1 passed, 0 failed"]
    assert "transcript:" in flowtest.report([result], verbose=True)


async def test_each_conversation_is_a_fresh_call(
    flows_dir: Path, settings: Settings, segmenter: Segmenter
) -> None:
    second = PASSING.replace("name: 改手机号", "name: 再来一次")
    results = await run(flows_dir, settings, segmenter, HEADER + PASSING + second)
    assert [r.passed for r in results] == [True, True]


@pytest.mark.parametrize(
    ("expectation", "message"),
    [
        ("bot: [请说, 身份证]", 'bot: expected the answer to contain "身份证" / got "请说新的手机号。"'),
        ("bot_not: 手机号", 'bot_not: expected the answer not to contain "手机号" / got "请说新的手机号。"'),
        ("intent: goodbye", "intent: expected goodbye / got change_phone ("),
        ("intent: null", "intent: expected no intent / got change_phone ("),
        ("step: greeting", "step: expected greeting / got get_phone"),
        ("slots: {phone: '13800000000'}", 'slots.phone: expected "13800000000" / got null (not set)'),
        ("slots: {called_on: null}", 'slots.called_on: expected null (not set) / got "2026-11-21"'),
        ("continue: true", 'continue: expected the bot to let its prompt play on / got an answer: "请说新'),
        ("action: transfer", "action: expected transfer / got none"),
        ("transfer: 8001", "transfer: expected 8001 / got no transfer"),
        ("interruptible: false", "interruptible: expected false / got true"),
        ("outcome: transferred", "outcome: expected transferred / got in_progress"),
        ("grade: A", "grade: expected A / got no grade"),
    ],
)
async def test_a_failing_expectation_says_what_was_expected_and_what_happened(
    flows_dir: Path, settings: Settings, segmenter: Segmenter, expectation: str, message: str
) -> None:
    body = (
        f"{HEADER}  - name: 出错的对话\n    turns:\n      - silence: true\n"
        f"      - caller: 我要改手机号\n        {expectation}\n      - caller: 幺三八幺二三四五六七八\n"
    )
    [result] = await run(flows_dir, settings, segmenter, body)
    assert not result.passed
    assert result.failure is not None
    assert (result.failure.turn, result.failure.line) == (2, line_of(body, "- caller: 我要改手机号"))
    assert result.failure.event == "caller: 我要改手机号"
    assert [m for m in result.failure.mismatches if message in m], result.failure.mismatches
    assert len(result.transcript) == 4  # stopped at the failing turn: the third never ran
    text = flowtest.report([result])
    path = flows_dir / "tests" / "hotline.yaml"
    assert text.startswith(f"FAIL 出错的对话 — {path}:{result.line}\n")
    assert f"FAIL 出错的对话 — {path}:{result.failure.line}: turn 2 (caller: 我要改手机号)" in text
    assert "  transcript:\n    caller: (silence)\n" in text
    assert text.endswith("0 passed, 1 failed")


async def test_several_failing_expectations_of_one_turn_are_all_reported(
    flows_dir: Path, settings: Settings, segmenter: Segmenter
) -> None:
    body = HEADER + PASSING.replace(
        "        intent: change_phone\n", "        intent: goodbye\n        bot_not: 手机号\n"
    )
    [result] = await run(flows_dir, settings, segmenter, body)
    assert result.failure is not None
    assert result.failure.turn == 3
    assert [m.split(":")[0] for m in result.failure.mismatches] == ["bot_not", "intent"]


async def test_a_number_where_the_bot_holds_text_gets_a_hint(
    flows_dir: Path, settings: Settings, segmenter: Segmenter
) -> None:
    body = HEADER + PASSING.replace(
        'slots: {phone: "13812345678"}\n    end', "slots: {phone: 13812345678}\n    end"
    )
    [result] = await run(flows_dir, settings, segmenter, body)
    assert result.failure is not None
    assert result.failure.turn == 5
    [mismatch] = result.failure.mismatches
    assert mismatch.startswith('slots.phone: expected 13812345678 / got "13812345678"')
    assert 'quote the value in the test ("13812345678")' in mismatch


async def test_a_slot_awaiting_confirmation_is_shown(
    flows_dir: Path, settings: Settings, segmenter: Segmenter
) -> None:
    body = HEADER + PASSING.replace("slots: {phone: null}", "slots: {phone: '13812345678'}")
    [result] = await run(flows_dir, settings, segmenter, body)
    assert result.failure is not None
    assert result.failure.turn == 4
    assert '(still waiting for the caller to confirm "13812345678")' in result.failure.mismatches[0]


async def test_barge_in_continues_or_interrupts(
    flows_dir: Path, settings: Settings, segmenter: Segmenter
) -> None:
    body = HEADER + textwrap.indent(
        textwrap.dedent(
            """\
            - name: 插话
              turns:
                - silence: true
                - caller: 嗯
                  playing: true
                  continue: true
                - caller: 转人工
                  playing: true
                  continue: false
                  intent: transfer_agent
                  action: transfer
                  transfer: 8001
                  interruptible: false
                  outcome: transferred
                - caller: 我要改手机号
                  playing: true
                  continue: true
            """
        ),
        "  ",
    )
    [result] = await run(flows_dir, settings, segmenter, body)
    assert result.passed, result.failure_text
    assert result.transcript[2:4] == ("caller: 嗯  (while the bot spoke)", "bot: (lets its prompt play on)")
    assert result.transcript[5].endswith(", transfer 8001]")


async def test_continue_fails_when_the_bot_answers_a_backchannel_it_should_ignore(
    flows_dir: Path, settings: Settings, segmenter: Segmenter
) -> None:
    body = (
        HEADER
        + "  - name: 嗯\n    turns:\n      - silence: true\n      - caller: 嗯\n        playing: true\n"
    )
    body += "        continue: false\n        bot: 欢迎\n"
    [result] = await run(flows_dir, settings, segmenter, body)
    assert result.failure is not None
    assert result.failure.mismatches == (
        "continue: expected an answer / got none: the bot let its prompt play on",
        'bot: expected the answer to contain "欢迎" / got no answer (the bot let its prompt play on)',
    )


async def test_the_caller_hangs_up(flows_dir: Path, settings: Settings, segmenter: Segmenter) -> None:
    body = HEADER + textwrap.indent(
        textwrap.dedent(
            """\
            - name: 挂断
              turns:
                - silence: true
                - caller: 我要改手机号
                - hangup: true
                  outcome: hung_up_by_caller
                  step: get_phone
                  grade: C
              end:
                outcome: hung_up_by_caller
                grade: C
                score: 10
                slots: {phone: null}
            """
        ),
        "  ",
    )
    [result] = await run(flows_dir, settings, segmenter, body)
    assert result.passed, result.failure_text
    assert result.transcript[-1] == "caller: (hangs up)  [outcome=hung_up_by_caller]"


async def test_end_checks(flows_dir: Path, settings: Settings, segmenter: Segmenter) -> None:
    turns = "    turns:\n      - silence: true\n      - caller: 帮我转人工\n"
    passing = (
        f"  - name: 转人工\n{turns}    end: {{outcome: transferred, transfer: 8001, grade: B, score: 60}}\n"
    )
    failing = (
        f"  - name: 转人工但写错了\n{turns}"
        "    end:\n      outcome: hung_up_by_bot\n      transfer: '8002'\n      grade: A\n      score: 90\n"
        "      slots: {phone: '13812345678'}\n"
    )
    body = HEADER + passing + failing
    ok, wrong = await run(flows_dir, settings, segmenter, body)
    assert ok.passed, ok.failure_text
    assert wrong.failure is not None
    assert (wrong.failure.turn, wrong.failure.event) == (None, "end")
    assert wrong.failure.line == line_of(body, "    end:\n      outcome: hung_up_by_bot")
    assert wrong.failure.mismatches[0] == "transfer: expected 8002 / got 8001"
    assert wrong.failure.mismatches[1].startswith("outcome: expected hung_up_by_bot / got transferred (")
    assert wrong.failure.mismatches[2:] == (
        "grade: expected A / got B (rule 2: outcome == 'transferred')",
        'slots.phone: expected "13812345678" / got null (not set)',
        "score: expected 90 / got 60",
    )
    assert f"{wrong.file}:{wrong.failure.line}: the end checks" in flowtest.report([ok, wrong])
    summary = flowtest.report([ok, wrong]).splitlines()[:2]
    assert summary == [
        f"PASS 转人工 — {ok.file}:{ok.line}",
        f"FAIL 转人工但写错了 — {wrong.file}:{wrong.line}",
    ]


async def test_the_calls_date_is_the_files_date(
    flows_dir: Path, settings: Settings, segmenter: Segmenter
) -> None:
    body = HEADER.replace("2026-11-21", "2027-01-02") + PASSING.replace("2026-11-21", "2027-01-02")
    [result] = await run(flows_dir, settings, segmenter, body)
    assert result.passed, result.failure_text


# --- invalid test files -----------------------------------------------------------------


def problems_of(path: Path) -> list[str]:
    with pytest.raises(FlowValidationError) as caught:
        flowtest.load_test_file(path)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("old", "new", "marker", "expected"),
    [
        ("        bot_not: 转接\n", "        bot_nto: 转接\n", "bot_nto", "unknown key 'bot_nto'"),
        (
            "      - caller: 我要改手机号\n",
            "      - caller: 我要改手机号\n        silence: true\n",
            "- caller: 我要改手机号",
            "a turn needs exactly one event (found: silence, caller)",
        ),
        (
            "        step: get_phone\n",
            "        step: get_phone\n         bot: x\n",
            "bot: x",
            "YAML syntax error",
        ),
        ("flow: hotline\n", "", "date:", "the required key 'flow' is missing"),
        ("date: 2026-11-21", "date: 明天", "date: 明天", "expected a date such as 2026-11-21"),
        ("        action: none\n", "        action: stop\n", "action: stop", "unknown action 'stop'"),
        (
            "      - caller: 对的\n",
            "      - caller: 对的\n        playing: true\n        hangup: true\n",
            "- caller: 对的",
            "exactly one event (found: caller, hangup)",
        ),
        (
            "      - silence: true\n",
            "      - silence: false\n",
            "silence: false",
            "`silence: false` means nothing",
        ),
        (
            "        step: greeting\n",
            "        step: greeting\n        continue: true\n",
            "- silence",
            "`continue:`",
        ),
    ],
    ids=[
        "unknown-key",
        "two-events",
        "yaml-syntax",
        "missing-flow",
        "bad-date",
        "bad-action",
        "three-keys",
        "silence-false",
        "continue-on-silence",
    ],
)
def test_a_broken_test_file_is_reported_at_its_line(
    flows_dir: Path, old: str, new: str, marker: str, expected: str
) -> None:
    good = HEADER + PASSING
    assert old in good, "the sample changed; update the test"
    broken = good.replace(old, new, 1)
    path = write(flows_dir, broken)
    problems = problems_of(path)
    found = [p for p in problems if expected in p]
    assert found, problems
    match = re.match(rf"{re.escape(str(path))}:(\d+):\d+: .+ — .+", found[0])
    assert match, found[0]
    assert int(match[1]) == (1 if marker == "date:" else line_of(broken, marker))


def test_an_empty_test_file(flows_dir: Path) -> None:
    path = write(flows_dir, "# nothing yet\n")
    assert problems_of(path) == [f"{path}:1:1: the file is empty — add `flow:` and `conversations:`"]


def test_a_valid_file_loads(flows_dir: Path) -> None:
    loaded = flowtest.load_test_file(write(flows_dir, HEADER + PASSING))
    assert loaded.spec.telnum == "13900000000"  # a number in YAML, text for the call
    assert str(loaded.spec.date) == "2026-11-21"
    assert loaded.spec.conversations[0].turns[4].slots == {"phone": "13812345678"}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("flow: hotline", "flow: hotlien"), "flow: unknown flow 'hotlien' — "),
        (("intent: change_phone", "intent: change_phon"), "unknown intent 'change_phon'"),
        (("step: get_phone", "step: get_phon"), "unknown step 'get_phon' — "),
    ],
    ids=["flow", "intent", "step"],
)
async def test_names_the_flows_do_not_know_are_located(
    flows_dir: Path, settings: Settings, segmenter: Segmenter, edit: tuple[str, str], expected: str
) -> None:
    broken = (HEADER + PASSING).replace(*edit, 1)
    with pytest.raises(FlowValidationError) as caught:
        await run(flows_dir, settings, segmenter, broken)
    [problem] = caught.value.problems
    assert expected in str(problem)
    assert re.search(r"(use one of|name a flow file of the flows directory): \w+", problem.fix)
    assert problem.line == line_of(broken, edit[1])


async def test_invalid_flows_are_not_the_test_files_fault(
    flows_dir: Path, settings: Settings, segmenter: Segmenter
) -> None:
    (flows_dir / "hotline.yaml").write_text(FLOW.replace("then: done", "then: dnoe"), encoding="utf-8")
    with pytest.raises(flowtest.InvalidFlowsError) as caught:
        await run(flows_dir, settings, segmenter, HEADER + PASSING)
    assert "unknown step 'dnoe'" in str(caught.value)


# --- finding test files -------------------------------------------------------------------


def test_test_files_lists_directories_in_order_and_files_as_given(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    (tests / "nested").mkdir(parents=True)
    for name in ("b.yaml", "a.yml", "notes.txt", "nested/c.yaml"):
        (tests / name).write_text("", encoding="utf-8")
    single = tmp_path / "one.yaml"
    assert flowtest.test_files([tests, single]) == [tests / "a.yml", tests / "b.yaml", single]
    assert flowtest.test_files([tmp_path / "missing"]) == [tmp_path / "missing"]
    assert flowtest.test_files([]) == []


# --- the command ------------------------------------------------------------------------


def invoke(segmenter: Segmenter, *args: str) -> Result:
    return CliRunner().invoke(flowtest.flows_test_command, list(args), obj=segmenter)


def test_command_passes(flows_dir: Path, segmenter: Segmenter) -> None:
    write(flows_dir, HEADER + PASSING)
    result = invoke(segmenter, "--flows-dir", str(flows_dir))  # default paths: <flows dir>/tests
    assert result.exit_code == 0, result.output
    where = f"{flows_dir / 'tests' / 'hotline.yaml'}:{line_of(HEADER + PASSING, '- name: 改手机号')}"
    [warning, *lines] = result.stdout.splitlines()
    assert "warning: conversations.0.end.slots.nothing: no flow sets 'nothing'" in warning
    assert lines == [f"PASS 改手机号 — {where}", "", "1 passed, 0 failed"]
    verbose = invoke(segmenter, "--flows-dir", str(flows_dir), "-v")
    assert verbose.exit_code == 0
    assert "    caller: 我要改手机号" in verbose.stdout


def test_command_fails_on_a_failing_conversation(flows_dir: Path, segmenter: Segmenter) -> None:
    write(flows_dir, HEADER + PASSING)
    other = write(flows_dir, HEADER + PASSING.replace("intent: change_phone", "intent: goodbye"), "b.yaml")
    result = invoke(segmenter, "--flows-dir", str(flows_dir))
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if ": warning: " not in line]
    assert [line.split(" — ")[0] for line in lines[:2]] == ["FAIL 改手机号", "PASS 改手机号"]
    line = line_of(HEADER + PASSING, "- name: 改手机号")
    assert lines[0].endswith(f" — {other}:{line}")  # b.yaml, then hotline.yaml
    assert lines[1].endswith(f" — {flows_dir / 'tests' / 'hotline.yaml'}:{line}")
    assert f"{other}:" in result.stdout
    assert "intent: expected goodbye / got change_phone" in result.stdout
    assert lines[-1] == "1 passed, 1 failed"
    alone = invoke(segmenter, "--flows-dir", str(flows_dir), str(other))
    assert (alone.exit_code, alone.stdout.splitlines()[-1]) == (1, "0 passed, 1 failed")


def test_command_reports_invalid_test_files_and_runs_the_others(
    flows_dir: Path, segmenter: Segmenter
) -> None:
    write(flows_dir, HEADER + PASSING)
    broken = write(flows_dir, HEADER + PASSING.replace("bot_not:", "bot_nto:"), "b.yaml")
    result = invoke(segmenter, "--flows-dir", str(flows_dir))
    assert result.exit_code == 1
    assert re.search(rf"^{re.escape(str(broken))}:\d+:\d+: .*unknown key 'bot_nto'", result.stdout, re.M)
    assert "1 passed, 0 failed" in result.stdout
    assert "1 invalid test file: fix and run again" in result.stderr


def test_command_exits_2_on_invalid_flows(flows_dir: Path, segmenter: Segmenter) -> None:
    write(flows_dir, HEADER + PASSING)
    (flows_dir / "hotline.yaml").write_text(FLOW.replace("then: done", "then: dnoe"), encoding="utf-8")
    result = invoke(segmenter, "--flows-dir", str(flows_dir))
    assert result.exit_code == 2
    assert "unknown step 'dnoe'" in result.stdout
    assert "no conversation was played" in result.stderr


def test_command_without_tests(tmp_path: Path, segmenter: Segmenter) -> None:
    result = invoke(segmenter, "--flows-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "no conversation tests in" in result.stderr
