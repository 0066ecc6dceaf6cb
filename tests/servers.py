"""Real Redis and PostgreSQL servers for the tests that need them (a pytest plugin).

``tests/conftest.py`` loads it (``pytest_plugins``). Each server is either the one an
environment variable names or a private one started for the session on a free port,
in a temporary directory, and stopped at its end even when tests fail:

- ``VOICEBOT_TEST_REDIS_URL`` (``redis://host:port`` or ``redis://host:port/N``): a Redis
  to use instead of a private ``redis-server``; the tests empty its database N (15 when
  the URL names none) before each test.
- ``VOICEBOT_TEST_DATABASE_URL`` (``postgresql://user@host:port/db``): a PostgreSQL to use
  instead of a private cluster; its user must be allowed to create databases, and each
  test gets a database of its own, dropped after it.

Without them, ``redis-server`` and PostgreSQL's ``initdb`` must be installed (``make test``
installs the Debian packages); a test asking for a server that is missing is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis

REDIS_URL_ENV = "VOICEBOT_TEST_REDIS_URL"
DATABASE_URL_ENV = "VOICEBOT_TEST_DATABASE_URL"
DEFAULT_REDIS_DB = 15  # the database the tests empty and use, unless the URL names one
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
POSTGRES_USER = "postgres"  # the superuser of a private cluster (initdb -U)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process``, killing it if it has not exited within the stop timeout."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- Redis ---


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (``redis://127.0.0.1:PORT``, or the environment's URL) of a Redis
    running for the whole session."""
    if url := os.environ.get(REDIS_URL_ENV):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (`make test` installs the Debian package redis-server)")
    workdir = tmp_path_factory.mktemp("redis")
    port = free_port()
    with (workdir / "redis.log").open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_redis(process, port, workdir / "redis.log")
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop_process(process)


def _wait_for_redis(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited ({process.returncode}): {log.read_text()[-2000:]}")
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer within {START_TIMEOUT_SECONDS} s")
            time.sleep(0.02)
    finally:
        client.close()


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """``redis://…/N``: a Redis database that is empty when the test starts."""
    parts = urlsplit(redis_server)
    db = int(parts.path.strip("/") or DEFAULT_REDIS_DB)
    url = urlunsplit(parts._replace(path=f"/{db}"))
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
        yield url
        client.flushdb()  # nothing a test stored outlives it
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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The DSN (``postgresql://postgres@127.0.0.1:PORT/postgres``, or the environment's
    URL) of a PostgreSQL server running for the whole session, with trust authentication."""
    if url := os.environ.get(DATABASE_URL_ENV):
        yield url
        return
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (`make test` installs the Debian package postgresql)")
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        try:
            owner = pwd.getpwnam(POSTGRES_USER)
        except KeyError:
            pytest.skip("running as root without a `postgres` user to run PostgreSQL as")
        as_postgres = ["runuser", "-u", POSTGRES_USER, "--"]
    workdir = Path(tempfile.mkdtemp(prefix="voicebot-pg-"))
    data = workdir / "data"
    try:
        if as_postgres:
            os.chown(workdir, owner.pw_uid, owner.pw_gid)
        port = free_port()
        _run(
            [
                *as_postgres,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                POSTGRES_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        pg_ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data)]
        try:
            _run(
                [
                    *pg_ctl,
                    "-l",
                    str(workdir / "postgres.log"),
                    "-w",
                    "-t",
                    str(int(START_TIMEOUT_SECONDS)),
                    "-o",
                    options,
                    "start",
                ]
            )
            yield f"postgresql://{POSTGRES_USER}@127.0.0.1:{port}/postgres"
        finally:
            _stop_postgres(pg_ctl, data)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr[-2000:]}")


def _stop_postgres(pg_ctl: list[str], data: Path) -> None:
    """``pg_ctl stop -m fast``; the postmaster is killed if that fails (a cluster that never
    started has no postmaster.pid, and nothing to stop)."""
    pidfile = data / "postmaster.pid"
    if not pidfile.exists():
        return
    try:
        _run([*pg_ctl, "-w", "-t", str(int(STOP_TIMEOUT_SECONDS)), "-m", "fast", "stop"])
    except (RuntimeError, subprocess.TimeoutExpired):
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int(pidfile.read_text().split()[0]), 9)


def admin(dsn: str, statement: str) -> None:
    """Run one statement on ``dsn``, outside any test's event loop (a loop of its own,
    never made the thread's current one)."""

    async def execute() -> None:
        conn = await asyncpg.connect(dsn, timeout=START_TIMEOUT_SECONDS)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(execute())
    finally:
        loop.close()


@pytest.fixture
def database_url(postgres_server: str) -> Iterator[str]:
    """``postgresql://…/<name>``: a database created empty for the test, dropped after it
    (with its connections)."""
    name = f"voicebot_test_{uuid.uuid4().hex[:12]}"
    admin(postgres_server, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(postgres_server)._replace(path=f"/{name}"))
    finally:
        admin(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
