"""The knowledge data directory: where entries are read from and changes written to.

Every ``*.yaml``/``*.yml`` and ``*.csv`` file of the directory is read, in name order.
A changed entry is written back into the file it came from, in that file's format; a
new entry goes into ``added.yaml``. Writes replace a file whole (a temporary file
renamed over it), so a crash never leaves half a file.

Several processes may share the directory (instances behind a load balancer, on a shared
volume). A writer holds an exclusive ``flock`` on ``LOCK_FILE`` while it re-reads, changes
and writes the files, so two writers never lose each other's changes; a reader holds a
shared one, so it never sees half of another's change. Each process notices the others'
changes by the files' ``identity`` (name, mtime, size, inode: one ``stat`` per file).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from bot.errors import KnowledgeDataError, KnowledgeStorageError
from knowledge.entries import DataFile, Entry, dump_csv, dump_yaml, parse_csv, parse_yaml

ADDED_FILE = "added.yaml"
LOCK_FILE = ".knowledge.lock"
"""Locked by whoever reads or writes the data files; never a data file itself."""
_ADDED_HEADER = "# Entries added through the admin API (docs/knowledge.md). Edit freely.\n"


def data_files(directory: Path) -> list[Path]:
    """The data files of ``directory``, in name order."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml", ".csv") and p.is_file())


def read_directory(directory: Path) -> dict[Path, DataFile]:
    """Every data file of ``directory``; an absent directory is an empty knowledge base.

    Raises:
        KnowledgeDataError: every problem of every file, or an id used by two files.
    """
    files: dict[Path, DataFile] = {}
    problems: list[str] = []
    for path in data_files(directory):
        try:
            text = path.read_text(encoding="utf-8")
            files[path] = parse_csv(text, str(path)) if path.suffix == ".csv" else parse_yaml(text, str(path))
        except (KnowledgeDataError, UnicodeDecodeError, OSError) as exc:
            problems.append(str(exc))
    seen: dict[str, Path] = {}
    for path, data in files.items():
        for entry in data.entries:
            if entry.id in seen:
                problems.append(f"{path}: id {entry.id!r} is also used in {seen[entry.id]}")
            seen.setdefault(entry.id, path)
    if problems:
        raise KnowledgeDataError("\n".join(problems))
    return files


Identity = tuple[tuple[str, int, int, int], ...]
"""(name, mtime_ns, size, inode) of each data file, in name order."""


def identity(directory: Path) -> Identity:
    """What the data files of ``directory`` are now: it differs once any of them is
    written, added, removed or renamed over; blocking (a ``stat`` per file)."""
    result = []
    for path in data_files(directory):
        try:
            status = path.stat()
        except FileNotFoundError:  # replaced or removed since it was listed
            continue
        result.append((path.name, status.st_mtime_ns, status.st_size, status.st_ino))
    return tuple(result)


@contextlib.contextmanager
def locked(directory: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold the directory's lock: ``exclusive`` to write, shared to read; blocking.

    A writer creates ``LOCK_FILE``. A reader locks it only when it exists (a read-only
    directory, or one never written through the service, has none), and reads unlocked
    otherwise: a change it half sees changes the files' identity again, and is read again.

    Raises:
        KnowledgeStorageError: an exclusive lock cannot be had (the directory is not
            writable, or missing and cannot be created).
    """
    path = directory / LOCK_FILE
    fd: int | None = None
    try:
        if exclusive:
            directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        else:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        if exclusive:
            raise storage_error(directory, exc) from exc
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


def merged_synonyms(files: Iterable[DataFile]) -> dict[str, tuple[str, ...]]:
    """The synonyms of every file; a word in two files gets the variants of both."""
    merged: dict[str, tuple[str, ...]] = {}
    for data in files:
        for word, variants in data.synonyms.items():
            merged[word] = tuple(dict.fromkeys((*merged.get(word, ()), *variants)))
    return merged


def write_files(files: Mapping[Path, DataFile]) -> None:
    """Write each file whole, atomically; blocking.

    Raises:
        KnowledgeStorageError: a file cannot be written (the directory is not writable,
            the disk is full); the files written before it stay written.
    """
    for path, data in files.items():
        text = dump_csv(data.entries) if path.suffix == ".csv" else dump_yaml(data)
        try:
            write_atomically(path, text)
        except OSError as exc:
            raise storage_error(path.parent, exc) from exc


def write_atomically(path: Path, text: str) -> None:
    """Write ``path`` through a temporary file renamed over it, so a crash never leaves
    half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def storage_error(directory: Path, exc: OSError) -> KnowledgeStorageError:
    """The error an operator can act on, for an ``OSError`` writing into ``directory``."""
    if isinstance(exc, PermissionError):
        message = f"the knowledge data directory {directory} is not writable by this user (uid {os.getuid()})"
    else:
        message = f"cannot write into the knowledge data directory {directory}: {exc.strerror or exc}"
    return KnowledgeStorageError(message, directory=directory)


def added_file(directory: Path) -> tuple[Path, DataFile]:
    """Where new entries go, and its header for a file not yet written."""
    return directory / ADDED_FILE, DataFile(header=_ADDED_HEADER)


def upsert(files: Mapping[Path, DataFile], directory: Path, entries: Iterable[Entry]) -> dict[Path, DataFile]:
    """The files with ``entries`` replacing those of the same id in place, the others
    appended to ``added.yaml``; only the files that change are returned."""
    owner = {entry.id: path for path, data in files.items() for entry in data.entries}
    changed: dict[Path, DataFile] = {}
    new_path, new_file = added_file(directory)
    for entry in entries:
        path = owner.get(entry.id, new_path)
        data = changed.get(path) or _copy(files.get(path) or new_file)
        position = next((i for i, e in enumerate(data.entries) if e.id == entry.id), None)
        if position is None:
            data.entries.append(entry)
            owner[entry.id] = path
        else:
            data.entries[position] = entry
        changed[path] = data
    return changed


def remove(files: Mapping[Path, DataFile], entry_id: str) -> dict[Path, DataFile]:
    """The one file that loses ``entry_id``, without it (empty when no file has it)."""
    for path, data in files.items():
        if any(entry.id == entry_id for entry in data.entries):
            copy = _copy(data)
            copy.entries = [entry for entry in data.entries if entry.id != entry_id]
            return {path: copy}
    return {}


def _copy(data: DataFile) -> DataFile:
    return DataFile(entries=list(data.entries), synonyms=dict(data.synonyms), header=data.header)
