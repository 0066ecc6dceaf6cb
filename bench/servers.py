"""Private Redis and PostgreSQL servers, started on free ports and stopped on the way out.

Shared by the tests (``tests/servers.py``, whose pytest fixtures use them unless an
environment variable names a server) and the benchmarks (``bench/instances.py``):

- ``private_redis(workdir)``: a ``redis-server`` without persistence;
- ``private_postgres()``: a cluster of its own (``initdb``, ``pg_ctl``) with trust
  authentication, run as the ``postgres`` user when this process is root;
- ``emptied_redis(url)`` and ``fresh_database(admin_dsn, prefix)``: a Redis database
  emptied before and after, and a PostgreSQL database created for a while, then dropped.

A server that cannot be started here (its binaries are not installed, or there is no
``postgres`` user to run PostgreSQL as root) raises ``ServerMissingError``; one that
starts and then fails raises ``RuntimeError``. Neither depends on pytest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
POSTGRES_USER = "postgres"  # the superuser of a private cluster (initdb -U), and who runs it as root


class ServerMissingError(RuntimeError):
    """A private server cannot be started on this machine. ``package`` names the Debian
    package that would provide it, or is None when installing one would not help."""

    def __init__(self, message: str, package: str | None = None) -> None:
        super().__init__(message)
        self.package = package


@dataclass(frozen=True)
class PrivateServer:
    url: str  # redis://127.0.0.1:PORT, or the admin DSN postgresql://postgres@127.0.0.1:PORT/postgres
    pid: int  # redis-server's, or the postmaster's (the parent of PostgreSQL's other processes)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """Terminate ``process``, killing it if it has not exited within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr[-2000:]}")


# --- Redis ---


@contextmanager
def private_redis(
    workdir: Path,
    start_timeout: float = START_TIMEOUT_SECONDS,
    stop_timeout: float = STOP_TIMEOUT_SECONDS,
) -> Iterator[PrivateServer]:
    """A ``redis-server`` on a free port of 127.0.0.1, without persistence, its files and
    log in ``workdir``, answering ``PING`` when yielded; its URL names no database."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerMissingError("redis-server is not installed", package="redis-server")
    port = free_port()
    log = workdir / "redis.log"
    options = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, *options, "--daemonize", "no", "--dir", str(workdir)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_redis(process, port, log, start_timeout)
        yield PrivateServer(f"redis://127.0.0.1:{port}", process.pid)
    finally:
        stop_process(process, stop_timeout)


def _wait_for_redis(process: subprocess.Popen[bytes], port: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited ({process.returncode}): {log.read_text()[-2000:]}")
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer within {timeout} s")
            time.sleep(0.02)
    finally:
        client.close()


def redis_database_url(url: str, default_db: int) -> str:
    """``url`` (``redis://host:port`` or ``redis://host:port/N``) naming database N, or
    ``default_db`` when it names none."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{int(parts.path.strip('/') or default_db)}"))


@contextmanager
def emptied_redis(url: str) -> Iterator[None]:
    """The Redis database of ``url`` emptied on the way in and again on the way out."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
        try:
            yield
        finally:
            client.flushdb()  # nothing stored in it outlives the block
    finally:
        client.close()


# --- PostgreSQL ---


def _postgres_bindir() -> Path | None:
    """The ``bin`` directory of the newest PostgreSQL installed (Debian keeps one per
    major version under /usr/lib/postgresql), or that of ``initdb`` on the PATH."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    found.sort(key=lambda b: int(b.parent.name) if b.parent.name.isdigit() else 0)
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextmanager
def private_postgres(
    fsync: bool = True,
    start_timeout: float = START_TIMEOUT_SECONDS,
    stop_timeout: float = STOP_TIMEOUT_SECONDS,
) -> Iterator[PrivateServer]:
    """A cluster of its own on a free port of 127.0.0.1, in a temporary directory removed
    on the way out, with trust authentication and default settings (``fsync=False`` turns
    fsync off); its URL is the admin DSN ``postgresql://postgres@127.0.0.1:PORT/postgres``.
    As root, ``initdb`` and the server run as the ``postgres`` user, through ``runuser``."""
    bindir = _postgres_bindir()
    if bindir is None:
        raise ServerMissingError("PostgreSQL is not installed", package="postgresql")
    as_postgres: list[str] = []
    owner = None
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        try:
            owner = pwd.getpwnam(POSTGRES_USER)
        except KeyError:
            raise ServerMissingError(
                f"running as root without a `{POSTGRES_USER}` user to run PostgreSQL as"
            ) from None
        as_postgres = ["runuser", "-u", POSTGRES_USER, "--"]
    workdir = Path(tempfile.mkdtemp(prefix="voicebot-pg-"))
    data = workdir / "data"
    try:
        if owner is not None:
            os.chown(workdir, owner.pw_uid, owner.pw_gid)
        port = free_port()
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", POSTGRES_USER, "-A", "trust", "-E", "UTF8"]
        _run([*as_postgres, *initdb, "--locale=C", "--no-sync"])
        options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1"
        if not fsync:
            options += " -c fsync=off"
        pg_ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data)]
        log = str(workdir / "postgres.log")
        try:
            _run([*pg_ctl, "-l", log, "-w", "-t", str(int(start_timeout)), "-o", options, "start"])
            pid = int((data / "postmaster.pid").read_text().split()[0])
            yield PrivateServer(f"postgresql://{POSTGRES_USER}@127.0.0.1:{port}/postgres", pid)
        finally:
            _stop_postgres(pg_ctl, data, stop_timeout)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _stop_postgres(pg_ctl: list[str], data: Path, timeout: float) -> None:
    """``pg_ctl stop -m fast``; the postmaster is killed if that fails (a cluster that never
    started has no postmaster.pid, and nothing to stop)."""
    pidfile = data / "postmaster.pid"
    if not pidfile.exists():
        return
    try:
        _run([*pg_ctl, "-w", "-t", str(int(timeout)), "-m", "fast", "stop"])
    except (RuntimeError, subprocess.TimeoutExpired):
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)


def admin(dsn: str, statement: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Run one statement on ``dsn`` in an event loop of its own, never made the thread's
    current one (so it can be called beside a test's loop, or where none runs)."""

    async def execute() -> None:
        conn = await asyncpg.connect(dsn, timeout=timeout)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(execute())
    finally:
        loop.close()


@contextmanager
def fresh_database(admin_dsn: str, prefix: str, timeout: float = START_TIMEOUT_SECONDS) -> Iterator[str]:
    """The DSN of a database created empty through ``admin_dsn`` (its user must be allowed
    to create databases), named ``prefix`` and 12 random hex digits, dropped on the way
    out with its connections."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin(admin_dsn, f'CREATE DATABASE "{name}"', timeout)
    try:
        yield urlunsplit(urlsplit(admin_dsn)._replace(path=f"/{name}"))
    finally:
        admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', timeout)
