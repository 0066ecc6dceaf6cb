"""``voicebot backup``: a consistent copy of what the service keeps, taken while it runs.

SQLite's online backup API copies each database page by page inside read
transactions, so the copy is consistent even while the service writes (a plain file
copy of a WAL database can tear). The knowledge base's data files, which its admin API
edits, are copied too. The audio cache is not: every clip in it is rendered again on
demand. PostgreSQL deployments back up with ``pg_dump`` (docs/deployment.md).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from bot.config import Settings
from bot.errors import ConfigError


def databases(settings: Settings) -> list[Path]:
    """The SQLite files of the service: transcripts, the outcome outbox, the knowledge
    base's customer history."""
    return [settings.database_path, settings.sessions_path, settings.outbox_path, settings.kb_history_path]


def backup(settings: Settings, destination: Path) -> list[Path]:
    """Copy the service's databases and knowledge data into ``destination`` (a new or
    empty directory). Returns what was written; a database not created yet is skipped.

    Raises:
        ConfigError: ``destination`` holds files already (nothing is overwritten).
    """
    if destination.exists() and any(destination.iterdir()):
        raise ConfigError(f"{destination}: not empty; back up into a new directory")
    destination.mkdir(parents=True, exist_ok=True)
    written = [_copy_database(source, destination / source.name) for source in databases(settings)]
    copied = [path for path in written if path is not None]
    if settings.kb_dir.is_dir():
        knowledge = destination / "knowledge"
        shutil.copytree(settings.kb_dir, knowledge)
        copied.append(knowledge)
    return copied


def _copy_database(source: Path, target: Path) -> Path | None:
    if not source.exists():
        return None
    # Read-only: a backup never creates, migrates or locks the service's files for writing.
    with sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    live.close()
    copy.close()
    return target
