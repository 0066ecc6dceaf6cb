"""Seeding the knowledge data directory, and a data directory the service cannot write."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import ConfigError, KnowledgeStorageError
from bot.text.segmenter import Segmenter
from knowledge import store
from knowledge.app import create_kb_app, open_service
from knowledge.entries import DataFile
from knowledge.seed import seed_directory
from tests.knowledge.conftest import SAMPLE_DIR

TOKEN = "s3cret-token"
NEW = {"id": "seed-check", "title": "种子检查", "questions": ["种子检查"], "answer": "好的。"}


def test_a_missing_directory_is_created_and_seeded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    kb_dir = tmp_path / "var" / "knowledge"
    with caplog.at_level(logging.INFO, logger="knowledge.seed"):
        written = seed_directory(kb_dir, SAMPLE_DIR)
    assert written == [kb_dir / "yibao.yaml"]
    assert (kb_dir / "yibao.yaml").read_bytes() == (SAMPLE_DIR / "yibao.yaml").read_bytes()
    assert [r.getMessage() for r in caplog.records] == [
        f"knowledge base: seeded {kb_dir} with 1 files from {SAMPLE_DIR}"
    ]


def test_a_directory_without_data_files_is_seeded(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("not data", encoding="utf-8")
    assert seed_directory(tmp_path, SAMPLE_DIR) == [tmp_path / "yibao.yaml"]


def test_a_directory_with_data_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "own.yaml").write_text("entries: []\n", encoding="utf-8")
    assert seed_directory(tmp_path, SAMPLE_DIR) == []
    assert [p.name for p in tmp_path.iterdir()] == ["own.yaml"]


def test_a_missing_seed_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"VOICEBOT_KB_SEED_DIR=.*no such directory"):
        seed_directory(tmp_path / "kb", tmp_path / "nowhere")


def test_a_data_directory_that_cannot_be_made_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="VOICEBOT_KB_DIR: cannot write into the knowledge data directory"):
        seed_directory(tmp_path / "a-file" / "kb", SAMPLE_DIR)


def test_the_service_is_opened_on_the_seeded_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", kb_dir=tmp_path / "kb", kb_seed_dir=SAMPLE_DIR)
    service = open_service(settings)
    assert service.directory == tmp_path / "kb"
    assert (tmp_path / "kb" / "yibao.yaml").is_file()


def test_a_permission_error_names_the_directory_and_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As root every directory is writable: the operating system's refusal is stood in for.
    def refuse(**_: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(KnowledgeStorageError, match=r"is not writable by this user \(uid \d+\)") as caught:
        store.write_files({tmp_path / "added.yaml": DataFile()})
    assert caught.value.directory == tmp_path


async def test_the_admin_api_answers_503_when_it_cannot_write(tmp_path: Path, segmenter: Segmenter) -> None:
    # A data directory under a regular file cannot be created, even by root.
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    kb_dir = tmp_path / "a-file" / "kb"
    settings = Settings(data_dir=tmp_path / "var", kb_dir=kb_dir, admin_token=TOKEN)
    app = create_kb_app(settings, segmenter=segmenter)
    async with app.test_app() as started:
        client = started.test_client()
        response = await client.post("/kb/entries", json=NEW, headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 503
        error = (await response.get_json())["error"]
        assert error["code"] == "unavailable"
        assert error["message"].startswith(f"cannot write into the knowledge data directory {kb_dir}:")
        assert (await client.get("/kb/search", query_string={"q": "种子检查"})).status_code == 200
