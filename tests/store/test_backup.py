"""``voicebot backup``: consistent copies of the databases and the knowledge data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.config import Settings
from bot.dialog.state import CallState
from bot.store.backup import backup
from bot.store.transcripts import TranscriptStore
from tests.conftest import FLOWS_DIR, ROOT


async def test_a_backup_taken_while_the_service_writes_holds_its_calls(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, kb_dir=ROOT / "knowledge" / "data")
    settings.data_dir.mkdir()
    store = TranscriptStore(settings.database_path)
    await store.open()  # open, as a running service holds it
    try:
        store.record(CallState(call_id="c1", telnum="1", flow="yibao", flow_version="v"))
        await store.flush()
        copied = backup(settings, tmp_path / "backup")
    finally:
        await store.close()
    assert [p.name for p in copied] == ["voicebot.sqlite3", "knowledge"]  # no outbox, no history yet
    with sqlite3.connect(tmp_path / "backup" / "voicebot.sqlite3") as copy:
        assert copy.execute("SELECT call_id FROM calls").fetchall() == [("c1",)]
    assert (tmp_path / "backup" / "knowledge" / "yibao.yaml").read_bytes() == (
        ROOT / "knowledge" / "data" / "yibao.yaml"
    ).read_bytes()


def test_the_command_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "full"
    target.mkdir()
    (target / "voicebot.sqlite3").write_text("an older backup")
    env = {"VOICEBOT_DATA_DIR": str(tmp_path / "var"), "VOICEBOT_FLOWS_DIR": str(FLOWS_DIR)}
    result = CliRunner().invoke(main, ["backup", str(target)], env=env)
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert (target / "voicebot.sqlite3").read_text() == "an older backup"
