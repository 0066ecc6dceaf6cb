"""Real Redis and PostgreSQL servers for the tests that need them (a pytest plugin).

``tests/conftest.py`` loads it (``pytest_plugins``). Each server is either the one an
environment variable names or a private one started for the session (by
``bench/servers.py``) on a free port, in a temporary directory, and stopped at its end
even when tests fail:

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

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack

import pytest

from bench import servers as bench_servers

free_port = bench_servers.free_port  # for the tests that want a port nothing listens on

REDIS_URL_ENV = "VOICEBOT_TEST_REDIS_URL"
DATABASE_URL_ENV = "VOICEBOT_TEST_DATABASE_URL"
DEFAULT_REDIS_DB = 15  # the database the tests empty and use, unless the URL names one
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


def _start_or_skip(
    stack: ExitStack, server: AbstractContextManager[bench_servers.PrivateServer]
) -> bench_servers.PrivateServer:
    """``server`` started (and stopped with ``stack``), or the test skipped if it cannot be."""
    try:
        return stack.enter_context(server)
    except bench_servers.ServerMissingError as missing:
        if missing.package is None:
            pytest.skip(str(missing))
        pytest.skip(f"{missing} (`make test` installs the Debian package {missing.package})")


# --- Redis ---


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (``redis://127.0.0.1:PORT``, or the environment's URL) of a Redis
    running for the whole session."""
    if url := os.environ.get(REDIS_URL_ENV):
        yield url
        return
    with ExitStack() as stack:
        workdir = tmp_path_factory.mktemp("redis")
        yield _start_or_skip(
            stack, bench_servers.private_redis(workdir, START_TIMEOUT_SECONDS, STOP_TIMEOUT_SECONDS)
        ).url


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """``redis://…/N``: a Redis database that is empty when the test starts (and emptied
    after it)."""
    url = bench_servers.redis_database_url(redis_server, DEFAULT_REDIS_DB)
    with bench_servers.emptied_redis(url):
        yield url


# --- PostgreSQL ---


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The DSN (``postgresql://postgres@127.0.0.1:PORT/postgres``, or the environment's
    URL) of a PostgreSQL server running for the whole session, with trust authentication
    (and fsync off, when private)."""
    if url := os.environ.get(DATABASE_URL_ENV):
        yield url
        return
    with ExitStack() as stack:
        started = bench_servers.private_postgres(
            fsync=False, start_timeout=START_TIMEOUT_SECONDS, stop_timeout=STOP_TIMEOUT_SECONDS
        )
        yield _start_or_skip(stack, started).url


@pytest.fixture
def database_url(postgres_server: str) -> Iterator[str]:
    """``postgresql://…/<name>``: a database created empty for the test, dropped after it
    (with its connections)."""
    with bench_servers.fresh_database(postgres_server, "voicebot_test_", START_TIMEOUT_SECONDS) as url:
        yield url
