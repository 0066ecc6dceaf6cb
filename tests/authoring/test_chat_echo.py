"""``voicebot chat`` with piped input echoes the caller's lines, so that its output reads
as the conversation it was."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from bot.authoring.chat import chat_command
from tests.authoring.test_chat import DATE, PHONE_FLOW
from tests.conftest import FLOWS_DIR


def chat(flows_dir: Path, flow: str, lines: list[str], *options: str) -> Result:
    text = "".join(f"{line}\n" for line in lines)
    args = ["--flows-dir", str(flows_dir), "--flow", flow, "--date", DATE, *options]
    return CliRunner().invoke(chat_command, args, input=text)


def conversation(output: str) -> list[str]:
    """The caller's and the bot's lines, without the dim details."""
    return [line for line in output.splitlines() if line.startswith(("you> ", "bot> "))]


def test_piped_lines_are_echoed_between_the_answers(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(PHONE_FLOW, encoding="utf-8")
    result = chat(tmp_path, "main", ["我要改手机号", "", "/barge 嗯", "/quit"])
    assert result.exit_code == 0, result.output
    assert conversation(result.stdout) == [
        "bot> 请问办理什么业务？",
        "you> 我要改手机号",
        "bot> 请说新的手机号。",
        "you> (silence)",
        "bot> 请说新的手机号。",
        "you> /barge 嗯",
        "bot> (continues playing)",
        "you> /quit",
    ]
    assert "\x1b[" not in result.output  # no colours off a terminal


def test_the_echo_of_the_sample_flow_reads_as_a_call() -> None:
    result = chat(FLOWS_DIR, "yibao", ["我要转人工"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    said = lines.index("you> 我要转人工")
    assert lines[said - 2].startswith("bot> 您好，欢迎致电医保服务热线。")
    assert lines[said + 1] == "bot> 好的，正在为您转接人工客服，请稍候。"


def test_no_echo_leaves_the_lines_out() -> None:
    result = chat(FLOWS_DIR, "yibao", ["我要转人工"], "--no-echo")
    assert result.exit_code == 0, result.output
    assert "you>" not in result.stdout
    assert "bot> 好的，正在为您转接人工客服，请稍候。" in result.stdout
