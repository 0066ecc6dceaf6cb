"""Tables derived from installed packages' data, built once and kept between runs.

jieba's and pypinyin's dictionaries ship as text (``dict.txt``, JSON) that takes
seconds to turn into Python objects. What ``bot.text`` makes of them is written once to
a cache directory as ``marshal`` data (no code runs when it is read back, unlike a
pickle) and read from there by every later process:

- ``$XDG_CACHE_HOME/voicebot``, else ``~/.cache/voicebot``, else
  ``<tmp>/voicebot-<uid>`` (a service user without a home directory): the first of
  them that is a directory of this user's, or of root's that only root can write (a
  cache built into an image, read-only for the service);
- a file's name holds a digest of its sources' paths, sizes and modification times, of
  the format's version and of Python's: a package upgrade, or another virtualenv,
  writes a new file instead of reading a stale one.

A table missing from a cache directory that cannot be written is no error: it is
built in memory at every start instead (slower, the same results).
``python -m bot.text`` builds them ahead of time (an image build, a deployment step)
and prints where.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import marshal
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

logger = logging.getLogger(__name__)

T = TypeVar("T")
_DIR_MODE = 0o755  # nothing secret (public packages' data); readable by a service user


def _candidates() -> list[Path]:
    found = []
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        found.append(Path(xdg) / "voicebot")
    with contextlib.suppress(RuntimeError):  # no home directory to expand ~ to
        found.append(Path.home() / ".cache" / "voicebot")
    found.append(Path(tempfile.gettempdir()) / f"voicebot-{os.getuid()}")
    return found


def _trusted(path: Path) -> bool:
    """``path`` exists (made if it can be) as a directory, not a symlink, whose files
    only this user or root can have written: this user's, or root's and writable by
    root alone (a cache built into an image). Not a directory someone else made in /tmp."""
    with contextlib.suppress(OSError):
        path.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    try:
        info = path.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or not os.access(path, os.R_OK | os.X_OK):
        return False
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):  # others could plant a file to be read
        return False
    return info.st_uid in (os.getuid(), 0)


def cache_dir() -> Path | None:
    """Where the tables are kept (it may be read-only: they are then built in memory
    when missing), or None when no candidate is trusted."""
    return next((path for path in _candidates() if _trusted(path)), None)


def source_digest(sources: Sequence[Path], version: int) -> str:
    """What a table is made of: its sources' identities, the format and Python."""
    parts = [f"v{version}", f"py{sys.version_info[0]}.{sys.version_info[1]}", f"marshal{marshal.version}"]
    for source in sources:
        info = source.stat()
        parts.append(f"{source.resolve()}:{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def cached_path(name: str, sources: Sequence[Path], version: int) -> Path | None:
    """The cache file of table ``name`` built from ``sources`` (None: no cache directory)."""
    directory = cache_dir()
    return None if directory is None else directory / f"{name}-{source_digest(sources, version)}.marshal"


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` at ``path``, whole or not at all (several processes, or containers sharing
    the directory, may build at once); on the disk before it is named."""
    temporary: Path | None = None  # none made yet
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        temporary = Path(name)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        logger.info("could not keep %s (%s): it is built again at the next start", path, exc.strerror)
        if temporary is not None:
            with contextlib.suppress(OSError):
                temporary.unlink()


@contextlib.contextmanager
def _uncollected() -> Iterator[None]:
    """The garbage collector paused: a table of tens of thousands of lists read at once
    would otherwise start collections that walk every object of the process so far (at
    start-up, hundreds of thousands), none of which the table can free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_or_build(name: str, sources: Sequence[Path], build: Callable[[], T], *, version: int) -> T:
    """Table ``name``: read from the cache, else built by ``build`` and kept there.

    ``build`` must return what ``marshal`` stores (dicts, lists, tuples, strings,
    numbers, sets); shared objects stay shared when read back.
    """
    path = cached_path(name, sources, version)
    if path is not None:
        with contextlib.suppress(OSError, EOFError, ValueError, TypeError), _uncollected():
            value: T = marshal.loads(path.read_bytes())
            return value
    value = build()
    if path is not None:
        write_atomically(path, marshal.dumps(cast(Any, value)))  # build's promise: see above
    return value
