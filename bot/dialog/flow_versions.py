"""Flow versions shared between instances, so that every instance serves a call the
version of its flows it is pinned to.

A call is pinned to the version of its flow it started on (``CallState.flow_version``,
the versions of a ``call:``/``link:`` target and of every frame of its stack). With
several instances (``VOICEBOT_REDIS_URL``), a callback may reach an instance that never
loaded that version: one still on the previous release during a rolling update, or one
whose flows directory was not edited when another instance hot-reloaded a flow.

So every instance *publishes* each version it installs (at start and, through the
watcher's ``prepare``, before a reloaded version goes live) to a :class:`FlowArchive`:
the flow file's bytes and the bytes of the lookup tables it names, with their file
names. Before a turn, :meth:`SharedFlows.ensure` checks that every version the call is
pinned to is kept by the registry (a few dictionary lookups); a missing one is
*fetched*: its files are written to a private directory of the data directory
(``<data dir>/flow_versions/<name>-<version>/``, tables in ``data/``), loaded there, and
kept as an older version (``FlowRegistry.keep_version``), never made current.

A version is accepted only if the version computed from the bytes read back equals
the one asked for, so damaged or tampered bytes are refused. Recordings (``audio:``)
are not archived: a rebuilt version is loaded without the recording check, and its
prompts play the recordings of this instance's flows directory, a missing one being
replaced by its synthesized text (``SpeechSynthesizer.render_prompt``).

When a version cannot be had (Redis down, not in the archive, not loadable here), a
warning is logged once per version and the call goes on with the current version of
its flow, as ``FlowRegistry.get`` does for a version it does not keep.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import re
import time
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.dialog.registry import FlowRegistry
from bot.dialog.state import CallState
from bot.errors import FlowValidationError, VoicebotError
from bot.language.loader import DATA_DIR, FlowSource, load_flow
from bot.language.tables import TABLE_SUFFIXES

if TYPE_CHECKING:  # redis is imported only where it is configured (≈ 10 MB)
    import redis.asyncio as redis_asyncio

logger = logging.getLogger(__name__)

REDIS_PREFIX = "voicebot:flow:"
"""A version is the hash ``voicebot:flow:<name>:<version>``."""
ARCHIVE_TTL_SECONDS = 7 * 24 * 3600
"""How long Redis keeps a version after it was last published (by any instance's start
or reload); far longer than any call lasts."""
DEFAULT_TIMEOUT_SECONDS = 2.0
"""Longest one read or write of the archive may take."""
RETRY_SECONDS = 30.0
"""After a version could not be had, how long calls pinned to it use the current
version without asking the archive again."""
CACHE_DIR_NAME = "flow_versions"
"""The directory of the data directory where fetched versions are written."""
MAX_FAILED_REMEMBERED = 1024

FLOW_SUFFIXES = (".yaml", ".yml")
_VERSION = re.compile(r"[0-9a-f]{12}")
_FILE_FIELD = b"file"
_FLOW_FIELD = b"flow"
_TABLE_FIELD = b"table:"

Pin = tuple[str, str]  # a flow's name and version


class FlowArchiveError(VoicebotError):
    """The shared archive of flow versions cannot be read or written."""


@dataclass(frozen=True)
class FlowFiles:
    """What rebuilds one version of a flow: its file and the tables it looks up."""

    name: str
    version: str
    file: str  # the flow file's name, e.g. yibao.yaml
    flow: bytes
    tables: Mapping[str, bytes]  # table file name (claims.csv) → its bytes


class FlowArchive(Protocol):
    """Where the versions of the flows are kept for every instance."""

    async def publish(self, source: FlowSource) -> None:
        """Store what rebuilds ``source``'s exact version.

        Raises:
            FlowArchiveError: the files or the archive cannot be read or written, or
                the files changed since ``source`` was loaded.
        """

    async def fetch(self, name: str, version: str, *, flow_names: Collection[str] = ()) -> FlowSource | None:
        """Version ``version`` of flow ``name`` rebuilt, or None when it is not archived
        or its rebuilt version differs (logged at ERROR).

        Args:
            name: The flow.
            version: Its version.
            flow_names: The flows its ``call:`` and ``link:`` may name (besides itself).

        Raises:
            FlowArchiveError: the archive cannot be read.
        """


class LocalFlowArchive:
    """One instance: nothing is shared, nothing can be fetched."""

    async def publish(self, source: FlowSource) -> None:
        return None

    async def fetch(self, name: str, version: str, *, flow_names: Collection[str] = ()) -> FlowSource | None:
        return None


class RedisFlowArchive:
    """Versions in Redis, one hash per version (``voicebot:flow:<name>:<version>``): the
    field ``file`` holds the flow file's name, ``flow`` its bytes, and
    ``table:<file name>`` the bytes of each table it looks up. It expires
    :data:`ARCHIVE_TTL_SECONDS` after it was last published.

    Args:
        client: An asyncio Redis client (``decode_responses`` either way).
        cache_dir: Where fetched versions are written, one directory each.
        prefix: Prepended to ``<name>:<version>``.
        ttl_seconds: How long a version is kept after it was last published.
        timeout_seconds: Longest one read or write may take.
    """

    def __init__(
        self,
        client: redis_asyncio.Redis,
        cache_dir: Path,
        *,
        prefix: str = REDIS_PREFIX,
        ttl_seconds: int = ARCHIVE_TTL_SECONDS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be >= 1, not {ttl_seconds}")
        self._client = client
        self.cache_dir = cache_dir
        self._prefix = prefix
        self.ttl_seconds = ttl_seconds
        self._timeout_seconds = timeout_seconds
        from redis.exceptions import RedisError  # noqa: PLC0415  (see the imports)

        self._failures = (RedisError, OSError, TimeoutError)

    def __repr__(self) -> str:
        return f"RedisFlowArchive(prefix={self._prefix!r}, cache_dir={str(self.cache_dir)!r})"

    def key(self, name: str, version: str) -> str:
        return f"{self._prefix}{name}:{version}"

    async def publish(self, source: FlowSource) -> None:
        """Write the version's hash (replacing it whole) and its expiry.

        Raises:
            FlowArchiveError: see :meth:`FlowArchive.publish`.
        """
        files = await asyncio.to_thread(read_files, source)
        fields: dict[bytes, bytes] = {_FILE_FIELD: files.file.encode(), _FLOW_FIELD: files.flow}
        fields |= {_TABLE_FIELD + name.encode(): raw for name, raw in files.tables.items()}
        key = self.key(source.name, source.version)
        try:
            async with (
                asyncio.timeout(self._timeout_seconds),
                self._client.pipeline(transaction=True) as pipe,
            ):
                pipe.delete(key)
                pipe.hset(key, mapping=fields)  # type: ignore[arg-type]  # bytes keys are fine
                pipe.expire(key, self.ttl_seconds)
                await pipe.execute()
        except self._failures as exc:
            raise FlowArchiveError(f"cannot store {key}: {_reason(exc)}") from exc

    async def fetch(self, name: str, version: str, *, flow_names: Collection[str] = ()) -> FlowSource | None:
        """See :meth:`FlowArchive.fetch`; the files are written under ``cache_dir``."""
        if not _is_plain_name(name) or not _VERSION.fullmatch(version):
            logger.error("not fetching flow %r version %r: not a flow name and version", name, version)
            return None
        key = self.key(name, version)
        try:
            async with asyncio.timeout(self._timeout_seconds):
                stored = await self._client.hgetall(key)
        except self._failures as exc:
            raise FlowArchiveError(f"cannot read {key}: {_reason(exc)}") from exc
        if not stored:
            return None
        files = files_from_fields(name, version, stored)
        if files is None:
            return None
        return await asyncio.to_thread(rebuild, files, self.cache_dir, {*flow_names, name})


def flow_archive(client: redis_asyncio.Redis | None, data_dir: Path) -> FlowArchive:
    """The archive of an instance: Redis when it is configured, else none (one instance).

    Args:
        client: The shared Redis client, or None.
        data_dir: The data directory; fetched versions go to its ``flow_versions/``.
    """
    if client is None:
        return LocalFlowArchive()
    return RedisFlowArchive(client, data_dir / CACHE_DIR_NAME)


# --- the files of a version ------------------------------------------------------------


def read_files(source: FlowSource) -> FlowFiles:
    """The files ``source`` was loaded from, read again (blocking: use a thread).

    Raises:
        FlowArchiveError: a file cannot be read, or the bytes read are no longer those
            of ``source``'s version (the file was edited since: its new version is
            published by its own reload).
    """
    try:
        raw = source.path.read_bytes()
        tables = {table.path.name: table.path.read_bytes() for table in source.tables.values()}
    except OSError as exc:
        raise FlowArchiveError(f"cannot read the files of flow {source.name!r}: {exc}") from exc
    # The loader hashes the flow file, then each table once, in the order the flow's
    # lookups first name them: the order of ``source.tables``.
    if _version(raw, tables.values()) != source.version:
        raise FlowArchiveError(
            f"the files of flow {source.name!r} changed since version {source.version} was loaded"
        )
    return FlowFiles(source.name, source.version, source.path.name, raw, tables)


def files_from_fields(name: str, version: str, fields: Mapping[bytes | str, bytes | str]) -> FlowFiles | None:
    """The files stored in one version's hash; None (logged at ERROR) when malformed."""
    as_bytes = {_bytes(k): _bytes(v) for k, v in fields.items()}
    file = as_bytes.get(_FILE_FIELD, b"").decode("utf-8", "replace")
    flow = as_bytes.get(_FLOW_FIELD)
    tables = {
        k.removeprefix(_TABLE_FIELD).decode("utf-8", "replace"): v
        for k, v in as_bytes.items()
        if k.startswith(_TABLE_FIELD)
    }
    bad = [
        *([] if Path(file).stem == name and Path(file).suffix in FLOW_SUFFIXES else [file]),
        *[t for t in tables if not (_is_plain_name(t) and Path(t).suffix in TABLE_SUFFIXES)],
    ]
    if flow is None or bad or not _is_plain_name(file):
        logger.error("flow %r version %s: the archive holds no usable files (%s)", name, version, bad)
        return None
    return FlowFiles(name, version, file, flow, tables)


def rebuild(files: FlowFiles, cache_dir: Path, flow_names: Collection[str]) -> FlowSource | None:
    """Write ``files`` to ``<cache_dir>/<name>-<version>/`` and load the flow there
    (blocking: use a thread). None (logged at ERROR) when it does not load, or loads as
    another version.

    Each file is written whole and renamed into place, so instances sharing a data
    directory never read a half-written file; and whatever is read is checked by the
    version it hashes to.
    """
    home = cache_dir / f"{files.name}-{files.version}"
    path = home / files.file
    try:
        _write(path, files.flow)
        for name, raw in files.tables.items():
            _write(home / DATA_DIR / name, raw)
        source = load_flow(path, flow_names=set(flow_names), check_audio=False)
    except OSError as exc:
        logger.error("flow %r version %s cannot be written to %s: %s", files.name, files.version, home, exc)
        return None
    except FlowValidationError as exc:
        problems = "; ".join(str(p) for p in exc.problems[:3])
        logger.error("flow %r version %s does not load here: %s", files.name, files.version, problems)
        return None
    if source.version != files.version:
        logger.error(
            "flow %r version %s: the archived files are version %s; refused",
            files.name,
            files.version,
            source.version,
        )
        return None
    return source


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _version(flow: bytes, tables: Iterable[bytes]) -> str:
    digest = hashlib.sha256(flow)
    for raw in tables:
        digest.update(raw)
    return digest.hexdigest()[:12]


def _is_plain_name(name: str) -> bool:
    """A file or flow name that stays in its directory."""
    return (
        bool(name)
        and name not in (".", "..")
        and not name.startswith(".")
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
    )


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _reason(exc: BaseException) -> str:
    return "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"


# --- what the turns use ----------------------------------------------------------------


def pins(state: CallState) -> Iterator[Pin]:
    """Every flow version ``state`` may run: its flow's, the active one's, its stack's."""
    yield state.flow, state.flow_version
    if state.active_flow is not None and state.active_version is not None:
        yield state.active_flow, state.active_version
    for frame in state.stack:
        yield frame.flow, frame.version


class SharedFlows:
    """Publishes this instance's versions and fetches those its calls are pinned to.

    Args:
        registry: The flows of this instance.
        archive: Where versions are shared.
        retry_seconds: After a version could not be had, how long before it is asked
            for again.
    """

    def __init__(
        self, registry: FlowRegistry, archive: FlowArchive, *, retry_seconds: float = RETRY_SECONDS
    ) -> None:
        self._registry = registry
        self.archive = archive
        self._retry_seconds = retry_seconds
        self._pending: dict[Pin, asyncio.Task[None]] = {}
        self._failed: dict[Pin, float] = {}  # monotonic time of the last failure
        self._warned: set[Pin] = set()

    async def publish(self, sources: Iterable[FlowSource]) -> None:
        """Share each version; one that cannot be shared is logged at WARNING (calls on
        it that reach another instance go on with that instance's current version)."""
        for source in sources:
            try:
                await self.archive.publish(source)
            except FlowArchiveError as exc:
                logger.warning("flow %r version %s not shared with other instances: %s", *_pin(source), exc)

    async def ensure(self, state: CallState) -> None:
        """Have every version ``state`` is pinned to kept by the registry, fetched from
        the archive if need be. Never raises: a version that cannot be had is left to
        the registry's fallback to the current version."""
        has = self._registry.has
        missing = [pin for pin in pins(state) if not has(*pin)]
        if missing:
            await self.ensure_pins(missing)

    async def ensure_pins(self, wanted: Iterable[Pin]) -> None:
        """As :meth:`ensure`, for (flow name, version) pairs."""
        for pin in dict.fromkeys(wanted):
            if self._registry.has(*pin):
                continue
            failed_at = self._failed.get(pin)
            if failed_at is not None and time.monotonic() - failed_at < self._retry_seconds:
                continue
            task = self._pending.get(pin)
            if task is None:  # the first turn to miss it fetches it; the others wait for it
                task = asyncio.create_task(self._obtain(pin))
                self._pending[pin] = task
                task.add_done_callback(functools.partial(self._forget, pin))
            await asyncio.shield(task)  # a cancelled turn does not cancel the others' fetch

    def _forget(self, pin: Pin, _: asyncio.Task[None]) -> None:
        self._pending.pop(pin, None)

    async def _obtain(self, pin: Pin) -> None:
        name, version = pin
        try:
            known = self._registry.names()
            if name not in known:
                self._fail(pin, "no flow of that name is installed here")
                return
            source = await self.archive.fetch(name, version, flow_names=known)
            if source is None:
                self._fail(pin, "it is not in the shared archive, or does not load here")
                return
            started = time.perf_counter()
            await asyncio.to_thread(self._registry.keep_version, source)
        except Exception as exc:  # never fails the turn: the current version serves it
            self._fail(pin, f"{type(exc).__name__}: {exc}")
            return
        self._failed.pop(pin, None)
        self._warned.discard(pin)
        logger.info(
            "flow %r version %s fetched from the shared archive and kept (built in %.0f ms)",
            name,
            version,
            (time.perf_counter() - started) * 1000,
        )

    def _fail(self, pin: Pin, reason: str) -> None:
        if len(self._failed) >= MAX_FAILED_REMEMBERED:
            self._failed.clear()
        self._failed[pin] = time.monotonic()
        if pin in self._warned:
            return
        if len(self._warned) >= MAX_FAILED_REMEMBERED:
            self._warned.clear()
        self._warned.add(pin)
        logger.warning(
            "flow %r version %s cannot be had (%s): its calls go on with the current version",
            *pin,
            reason,
        )


def _pin(source: FlowSource) -> Pin:
    return source.name, source.version
