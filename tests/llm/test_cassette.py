"""Recorded answers: ``voicebot flows test`` and ``voicebot chat`` with ``--cassette``
replay the model's answers recorded from a server, so flow tests stay deterministic."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml
from click.testing import CliRunner

from bot.authoring.chat import chat_command
from bot.authoring.flowtest import flows_test_command, run_files
from bot.config import Settings
from bot.llm.cassette import Cassette
from bot.llm.openai_chat import OpenAIChat
from bot.text.segmenter import Segmenter
from tests.conftest import FLOWS_DIR
from tests.llm.fake_openai import KEY, MODEL, FakeOpenAI

VAGUE = "我家那口子让我打个电话问问"  # no intent of yibao reaches the threshold
TEST_FILE = f"""\
flow: yibao
conversations:
  - name: the model reads the vague words as a lost card
    turns:
      - silence: true
      - caller: {VAGUE}
        intent: card_loss
        step: card_loss
"""


def write_test(tmp_path: Path) -> Path:
    path = tmp_path / "vague.yaml"
    path.write_text(TEST_FILE, encoding="utf-8")
    return path


async def test_a_recorded_cassette_replays_without_the_server(
    tmp_path: Path, llm_url: str, fake: FakeOpenAI, settings: Settings, segmenter: Segmenter
) -> None:
    fake.answer = lambda body: '{"intent": "card_loss"}'
    test_file, cassette = write_test(tmp_path), tmp_path / "answers.yaml"
    recorder = Cassette(cassette, OpenAIChat(url=llm_url, model=MODEL, key=KEY))
    recorded = await run_files([test_file], FLOWS_DIR, settings, segmenter=segmenter, model=recorder)
    assert [r.passed for r in recorded.results] == [True]
    (entry,) = yaml.safe_load(cassette.read_text(encoding="utf-8"))
    assert (entry["use"], entry["answer"]) == ("intent", '{"intent": "card_loss"}')
    assert VAGUE in entry["asked"]

    def replay(*arguments: str) -> tuple[int, str]:
        result = CliRunner().invoke(
            flows_test_command,
            ["--flows-dir", str(FLOWS_DIR), *arguments, str(test_file)],
            obj=segmenter,
            env={"VOICEBOT_LLM_URL": None, "VOICEBOT_KB_DIR": str(settings.kb_dir)},
        )
        return result.exit_code, result.output

    code, output = await asyncio.to_thread(replay, "--verbose", "--cassette", str(cassette))
    assert code == 0, output
    assert "intent=card_loss (model, best score 0.23)" in output
    assert len(fake.requests) == 1  # replayed, not asked again

    def chat() -> str:
        result = CliRunner().invoke(
            chat_command,
            ["--flow", "yibao", "--flows-dir", str(FLOWS_DIR), "--cassette", str(cassette)],
            input=f"{VAGUE}\n/quit\n",  # the chat greets the call itself
            env={"VOICEBOT_LLM_URL": None, "VOICEBOT_KB_DIR": str(settings.kb_dir)},
        )
        assert result.exit_code == 0, result.output
        return result.output

    assert "intent=card_loss (model, best score 0.23)" in await asyncio.to_thread(chat)

    code, output = await asyncio.to_thread(replay)  # no cassette: no model at all
    assert code == 1
    assert "intent=none" in output

    cassette.write_text("[]\n", encoding="utf-8")
    code, output = await asyncio.to_thread(replay, "--cassette", str(cassette))
    assert code == 1
    assert "not in" in output
    assert "--record" in output


def test_record_needs_a_cassette(tmp_path: Path, segmenter: Segmenter) -> None:
    result = CliRunner().invoke(
        flows_test_command,
        ["--record", "--flows-dir", str(FLOWS_DIR), str(write_test(tmp_path))],
        obj=segmenter,
    )
    assert result.exit_code == 2
    assert "--cassette FILE" in result.output


def test_a_file_that_is_no_cassette_is_named(tmp_path: Path, segmenter: Segmenter) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("- just a string\n", encoding="utf-8")
    result = CliRunner().invoke(
        flows_test_command,
        ["--cassette", str(broken), "--flows-dir", str(FLOWS_DIR), str(write_test(tmp_path))],
        obj=segmenter,
    )
    assert result.exit_code == 2
    assert "not a cassette" in result.output


async def test_recording_counts_the_answers_the_server_did_not_give(
    tmp_path: Path, llm_url: str, fake: FakeOpenAI, settings: Settings, segmenter: Segmenter
) -> None:
    fake.status = 503
    cassette = tmp_path / "answers.yaml"
    recorder = Cassette(cassette, OpenAIChat(url=llm_url, model=MODEL, key=KEY))
    run = await run_files([write_test(tmp_path)], FLOWS_DIR, settings, segmenter=segmenter, model=recorder)
    assert run.cassette_unrecorded >= 1
    assert not cassette.exists()  # nothing was recorded, so nothing was written
