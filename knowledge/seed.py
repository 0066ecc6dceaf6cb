"""Seeding the knowledge data directory from a read-only copy.

A container image carries the sample knowledge base read-only, while the admin API must
write into ``VOICEBOT_KB_DIR``, which therefore lives on the data volume. At start, a
data directory with no data files gets a copy of the seed's (``VOICEBOT_KB_SEED_DIR``);
one with data files is left alone, so edits made through the admin API survive restarts
and image upgrades.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.errors import ConfigError
from knowledge import store

logger = logging.getLogger(__name__)


def seed_directory(directory: Path, seed: Path) -> list[Path]:
    """Copy the data files of ``seed`` into ``directory`` (created if missing) when
    ``directory`` has no data files; blocking.

    Returns:
        The files written, in name order; empty when ``directory`` already had data.

    Raises:
        ConfigError: ``seed`` is not a directory, or ``directory`` cannot be written;
            either way the service should not start with an empty knowledge base.
    """
    if store.data_files(directory):
        return []
    if not seed.is_dir():
        raise ConfigError(f"VOICEBOT_KB_SEED_DIR={seed}: no such directory")
    written = []
    try:
        for source in store.data_files(seed):
            # A temporary file renamed into place: a crash mid-copy must not leave a
            # half file, which would count as data and stop the next start's seeding.
            target = directory / source.name
            store.write_atomically(target, source.read_text(encoding="utf-8"))
            written.append(target)
    except OSError as exc:
        raise ConfigError(f"VOICEBOT_KB_DIR: {store.storage_error(directory, exc)}") from exc
    logger.info("knowledge base: seeded %s with %d files from %s", directory, len(written), seed)
    return written
