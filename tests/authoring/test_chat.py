"""``voicebot chat``: a flow author's conversation in the terminal, run in-process with piped input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.authoring.chat import HELP, chat_command
from tests.conftest import FLOWS_DIR

DATE = "2026-11-21"

# A small flow with a menu, a slot collected with confirmation, a global intent,
# ladders and grading (one rule depends on the call's date, to see --date arrive).
PHONE_FLOW = """\
title: 改号
start: menu
intents:
  phone_change:
    examples: [改手机号, 我要改手机号, 换个手机号码]
  agent:
    examples: [转人工, 人工客服, 我要找人工]
  affirm:
    examples: [是的, 对]
  deny:
    examples: [不是, 不对]
slots:
  phone:
    type: phone
global:
  agent: agent
defaults:
  silence:
    prompts: [还在吗？]
    then: bye
  no_match:
    prompts: [没听清。]
    then: agent
steps:
  menu:
    say: 请问办理什么业务？
    ask:
      phone_change: get_phone
  get_phone:
    collect:
      slot: phone
      prompt: 请说新的手机号。
      invalid: [号码不对，请说十一位手机号。]
      attempts: 2
      confirm: 您的手机号是{{phone}}，对吗？
      then: done
      fail: agent
  done:
    say: 已登记。
    hangup: true
  agent:
    say:
      text: 正在转接。
      interruptible: false
    transfer: "8001"
  bye:
    say: 再见。
    hangup: true
grading:
  - grade: A
    score: 90
    when: is_set(phone)
    reason: 登记了手机号
  - grade: C
    score: 40
    when: today == "2026-11-21"
    reason: 没有登记
"""


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "flows"
    directory.mkdir()
    (directory / "main.yaml").write_text(PHONE_FLOW, encoding="utf-8")
    return directory


def chat(flows_dir: Path, flow: str, lines: list[str], *options: str) -> Result:
    """Run ``voicebot chat`` with ``lines`` piped in (not echoed: the output is the bot's
    alone); the result, with output split by stream."""
    text = "".join(f"{line}\n" for line in lines)
    args = ["--flows-dir", str(flows_dir), "--flow", flow, "--date", DATE, "--no-echo", *options]
    return CliRunner().invoke(chat_command, args, input=text)


def main_flow(flows_dir: Path, *lines: str) -> list[str]:
    result = chat(flows_dir, "main", list(lines))
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def after(lines: list[str], first: str) -> list[str]:
    """The lines from the first that starts with ``first`` on."""
    return lines[next(i for i, line in enumerate(lines) if line.startswith(first)) :]


# --- the sample flow -------------------------------------------------------------------


def test_greets_at_once_and_quits_at_the_end_of_input() -> None:
    result = chat(FLOWS_DIR, "yibao", [])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].startswith("── call chat-1: flow yibao (version ")
    assert lines[1].endswith(f"telnum 13800000000, date {DATE}")
    assert lines[2].startswith("bot> 您好，欢迎致电医保服务热线。")
    assert lines[3] == "   [step=greeting slots={}]"
    assert "you>" not in result.output  # no prompt when stdin is not a terminal
    assert "\x1b[" not in result.output  # no colours when stdout is not a terminal


def test_a_caller_line_is_recognized_and_the_transfer_ends_the_call() -> None:
    result = chat(FLOWS_DIR, "yibao", ["我要转人工"], "--telnum", "13912345678")
    assert result.exit_code == 0, result.output
    lines = after(result.stdout.splitlines(), "bot> 好的，正在为您转接人工客服")
    assert lines[1].startswith("   [step=transfer intent=transfer_agent (")
    assert lines[2:4] == ["   [transfer → 8001]", "   [not interruptible]"]
    assert lines[4].startswith("call ended: transferred — intent 'transfer_agent' at step 'greeting'")
    assert "telnum 13912345678" in result.stdout


# --- a flow of its own -------------------------------------------------------------------


def test_the_collected_slot_is_pending_then_filled(flows_dir: Path) -> None:
    lines = after(main_flow(flows_dir, "我要改手机号", "13812345678", "对的"), "bot> 请说新的手机号。")
    assert lines[1] == "   [step=get_phone intent=phone_change (1.00) slots={}]"
    assert lines[2] == "bot> 您的手机号是幺三八，幺二三四，五六七八，对吗？"
    assert lines[3].startswith("   [step=get_phone intent=")
    assert lines[3].endswith(' slots={} pending=phone="13812345678"]')
    assert lines[4] == "bot> 已登记。"
    assert lines[5].endswith(' slots={"phone": "13812345678"}]')
    assert lines[6] == "   [hang up]"
    assert lines[7].startswith("call ended: hung_up_by_bot — ")
    assert lines[8] == "grade: A (90) — 登记了手机号"


def test_a_line_of_no_intent_shows_the_best_score(flows_dir: Path) -> None:
    lines = after(main_flow(flows_dir, "今天天气怎么样"), "bot> 没听清。")
    assert lines[1].startswith("   [step=menu intent=(none)")


def test_silence_climbs_the_ladder(flows_dir: Path) -> None:
    lines = after(main_flow(flows_dir, "/silence", ""), "bot> 还在吗？")
    assert lines[1] == "   [step=menu slots={}]"  # a silence has no intent
    assert lines[2] == "bot> 再见。"
    assert lines[3:5] == ["   [step=bye slots={}]", "   [hang up]"]
    assert lines[5].startswith("call ended: hung_up_by_bot")
    assert lines[6] == "grade: C (40) — 没有登记"  # the rule that needs --date's day


def test_barge_in_with_a_backchannel_continues_playing(flows_dir: Path) -> None:
    lines = after(main_flow(flows_dir, "/barge 嗯", "/barge 转人工"), "bot> (continues playing)")
    assert lines[1] == "bot> 正在转接。"
    assert lines[2].startswith("   [step=agent intent=agent (")
    assert lines[3:5] == ["   [transfer → 8001]", "   [not interruptible]"]
    assert lines[5].startswith("call ended: transferred")


def test_barge_needs_words(flows_dir: Path) -> None:
    assert "error: /barge needs what the caller says, e.g. /barge 转人工" in main_flow(flows_dir, "/barge")


def test_hangup_ends_the_call_and_the_next_line_starts_a_new_one(flows_dir: Path) -> None:
    lines = after(main_flow(flows_dir, "/hangup", "/hangup", "改手机号"), "call ended:")
    assert lines[0] == "call ended: hung_up_by_caller — caller hung up at step 'menu'"
    assert lines[1] == "grade: C (40) — 没有登记"
    assert lines[2] == "(the next line starts a new call: the caller's first words, or silence)"
    assert lines[3] == "   [the call has ended already; an empty line starts a new one]"
    assert lines[4].startswith("── call chat-2: flow main ")
    # The line is the new call's first event: the caller speaks first, and is answered.
    assert lines[5] == "bot> 您好，请说新的手机号。"
    assert lines[6].startswith("   [step=get_phone intent=phone_change (")


def test_an_empty_line_after_the_end_greets_a_new_call(flows_dir: Path) -> None:
    lines = after(main_flow(flows_dir, "/hangup", ""), "── call chat-2")
    assert lines[1:3] == ["bot> 请问办理什么业务？", "   [step=menu slots={}]"]


def test_state_shows_the_call(flows_dir: Path) -> None:
    lines = after(main_flow(flows_dir, "改手机号 13812345678", "/state"), "call:")
    assert lines[0] == "call:      chat-1, telnum 13800000000, 2 turns, in_progress"
    assert lines[1].startswith("step:      get_phone (flow main, version ")
    assert lines[2:7] == [
        "variables: {}",
        'pending:   phone="13812345678"',
        "stack:     (empty)",
        "intents:   phone_change",
        "counts:    silence 0, no match 0",
    ]


def test_new_starts_another_call_that_waits_for_its_first_event(flows_dir: Path) -> None:
    lines = after(main_flow(flows_dir, "改手机号", "/new", "/state", "喂，你好"), "bot> 请说新的手机号。")
    assert lines[2].startswith("── call chat-2: flow main (version ")
    assert lines[3] == "call:      chat-2, telnum 13800000000, 0 turns, in_progress"  # not greeted yet
    assert "intents:   (none)" in lines[3:]
    # The caller speaks first with a greeting: the bot greets as for a silence.
    greeted = after(lines, "counts:")[1:]
    assert greeted[0] == "bot> 请问办理什么业务？"
    assert greeted[1].startswith("   [step=menu intent=(none) (")


def test_an_unknown_command_prints_the_help(flows_dir: Path) -> None:
    result = chat(flows_dir, "main", ["/nope", "/help", "/quit", "改手机号"])
    assert result.exit_code == 0, result.output
    assert "error: unknown command /nope" in result.stdout
    assert result.stdout.count(HELP) == 2
    assert "请说新的手机号" not in result.stdout  # /quit stopped it


# --- it cannot start ------------------------------------------------------------------------


def test_invalid_flows_are_located_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("steps:\n  a:\n    goto: b\n", encoding="utf-8")
    result = chat(tmp_path, "broken", [])
    assert result.exit_code == 2
    assert f"{tmp_path / 'broken.yaml'}:3:" in result.stderr
    assert "unknown step 'b'" in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_flows_dir_exits_2(tmp_path: Path) -> None:
    result = chat(tmp_path / "absent", "main", [])
    assert result.exit_code == 2
    assert "the flows directory does not exist" in result.stderr


def test_an_unknown_flow_lists_the_known_ones_and_exits_2(flows_dir: Path) -> None:
    result = chat(flows_dir, "nope", [])
    assert result.exit_code == 2
    assert f"no flow 'nope' in {flows_dir}; the flows there: main" in result.stderr
    assert "bot>" not in result.stdout


def test_a_malformed_date_is_a_usage_error(flows_dir: Path) -> None:
    result = CliRunner().invoke(chat_command, ["--flows-dir", str(flows_dir), "--date", "21.11.2026"])
    assert result.exit_code == 2
    assert "Invalid value for '--date'" in result.stderr


# --- speech ----------------------------------------------------------------------------------


def test_audio_saves_each_reply_as_a_wav(flows_dir: Path, tmp_path: Path) -> None:
    """Real espeak-ng (the Debian package) through the service's synthesizer and cache."""
    audio = tmp_path / "audio"
    result = chat(flows_dir, "main", ["/barge 嗯", "改手机号"], "--audio", str(audio))
    assert result.exit_code == 0, result.output
    saved = [line for line in result.stdout.splitlines() if line.startswith("   [audio: ")]
    assert saved == [f"   [audio: {audio / '001.wav'}]", f"   [audio: {audio / '002.wav'}]"]
    assert sorted(p.name for p in audio.glob("*.wav")) == ["001.wav", "002.wav"]  # none for barge-in
    for name in ("001.wav", "002.wav"):
        data = (audio / name).read_bytes()
        assert data[:4] == b"RIFF"
        assert data[8:12] == b"WAVE"
        assert len(data) > 1000
    assert (audio / ".cache").is_dir()
