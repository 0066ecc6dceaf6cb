"""Opening one of our SQLite files: the directory, WAL, the durability asked for, the schema.

Each store (transcripts, the outcome outbox, the knowledge service's customer
history) owns one file and one worker thread that runs every statement, and keeps
its own schema; what they share is how the file is opened. This module imports only
the standard library, so that ``knowledge/`` can use it without the bot's runtime.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

Synchronous = Literal["NORMAL", "FULL"]
"""SQLite's ``synchronous`` level: with WAL, ``NORMAL`` never corrupts the file but a
power cut may lose the last transactions; ``FULL`` loses none, at an fsync per commit."""


def open_sqlite(path: Path, *, schema: str, synchronous: Synchronous) -> sqlite3.Connection:
    """Open (creating it and its directory if needed) the SQLite file ``path``.

    The connection is in WAL mode (readers do not wait for the writer), in autocommit
    (``isolation_level=None``: a store that needs a transaction says ``BEGIN``), returns
    :class:`sqlite3.Row` rows, and may be used from a thread other than the one that
    opened it (each store has exactly one worker thread using it).

    Args:
        path: The database file.
        schema: ``CREATE … IF NOT EXISTS`` statements, run on every open.
        synchronous: How hard each commit is pushed to the disk (:data:`Synchronous`).

    Returns:
        The open connection; the caller closes it.

    Raises:
        OSError: The directory cannot be created.
        sqlite3.Error: The file cannot be opened or the schema applied (the
            connection is closed first).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.executescript(schema)
    except BaseException:
        db.close()
        raise
    return db
