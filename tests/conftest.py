"""Shared fixtures: a started app per test (real espeak-ng, real SQLite, LogPBX)."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from quart import Quart
from quart.testing import QuartClient as QuartTestClient
from quart.testing.app import TestApp
from quart.typing import TestAppProtocol as QuartTestApp
from quart.typing import TestClientProtocol as QuartClient
from quart.wrappers import Response as QuartResponse

from bot.app import create_app
from bot.config import Settings
from bot.logs import install_record_factory
from bot.pbx.log import LogPBX
from bot.services import EXTENSION_KEY, Services
from bot.text.segmenter import Segmenter
from bot.web.auth import EXTENSION_KEY as ACCESS_EXTENSION
from tests import log_scan
from tests.outcome.receiver import OutcomeReceiver

if TYPE_CHECKING:
    from tests.fakepbx import FakePBX

pytest_plugins = ["tests.servers"]  # redis_server, redis_url, postgres_server, database_url

ROOT = Path(__file__).resolve().parent.parent
FLOWS_DIR = ROOT / "flows"
# The admin bearer token of every app and server the tests start (Settings read it from
# the environment, and servers inherit it); their test clients send it (AdminClient).
ADMIN_TOKEN = "test-admin-token"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
os.environ["VOICEBOT_ADMIN_TOKEN"] = ADMIN_TOKEN
# With the token, tests may change knowledge entries: every app and server that is not
# given a knowledge directory of its own gets this copy of the sample, never the
# repository's (which the session checks is left as it was: pytest_sessionfinish).
SAMPLE_KB_DIR = ROOT / "knowledge" / "data"
_KB_COPY = Path(tempfile.mkdtemp(prefix="voicebot-test-kb-"))
os.environ["VOICEBOT_KB_DIR"] = str(shutil.copytree(SAMPLE_KB_DIR, _KB_COPY / "data"))
# Removed at exit: a pytest session's, or that of a process that imports the tests'
# helpers without one (the benchmarks, bench/).
atexit.register(shutil.rmtree, _KB_COPY, ignore_errors=True)


# Quart's test app gives the app's start-up 6 s. A start with no audio cache renders every
# prompt with espeak-ng first, and on a busy 2-core machine took longer: a fresh clone's
# run failed there, and the start-up it cancelled then hung the run. A bound for slow
# machines, never a timing assertion.
APP_BOUND_SECONDS = 60


class _BoundedTestApp(TestApp):
    def __init__(
        self, app: Quart, startup_timeout: int = APP_BOUND_SECONDS, shutdown_timeout: int = APP_BOUND_SECONDS
    ) -> None:
        super().__init__(app, startup_timeout, shutdown_timeout)


Quart.test_app_class = _BoundedTestApp


def _sample_kb_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(SAMPLE_KB_DIR.iterdir())}


_SAMPLE_KB = _sample_kb_files()


_OWN_LOG = pytest.StashKey[Path]()
_SCAN_RESULT = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Every run writes its whole log, at DEBUG, to a file: ``--log-file`` (``make test``:
    ``var/test-run.log``), else one of this process's own in the temporary directory
    (removed when the scan passes). The session ends with a scan of it, and of the test
    servers' logs, for unmasked numbers (``pytest_sessionfinish``)."""
    install_record_factory()  # as every entry point of the service does (bot/logs.py)
    # httpcore's DEBUG wire trace quotes header values (tokens) verbatim; the service keeps
    # it at WARNING (bot/logs.py), the run's log at INFO.
    logging.getLogger("httpcore").setLevel(logging.INFO)
    if not config.pluginmanager.has_plugin("logging"):  # -p no:logging: nothing to scan
        return
    if not config.getoption("log_file") and not config.getini("log_file"):
        own = Path(tempfile.gettempdir()) / f"voicebot-test-run-{os.getpid()}.log"
        config.option.log_file = str(own)
        config.stash[_OWN_LOG] = own
    if not config.getoption("log_file_level") and not config.getini("log_file_level"):
        config.option.log_file_level = "DEBUG"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run when its log shows an unmasked phone or ID number (tests/log_scan.py),
    or when a test changed the repository's sample knowledge base."""
    if _sample_kb_files() != _SAMPLE_KB:
        session.config.stash[_SCAN_RESULT] = (
            f"a test changed the repository's {SAMPLE_KB_DIR}: give it a copy (a kb_dir of its own)"
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    if session.config.pluginmanager.get_plugin("logging-plugin") is None:  # -p no:logging
        return
    log_file = session.config.getoption("log_file") or session.config.getini("log_file")
    if not log_file or session.config.getoption("collectonly"):
        return
    if not Path(log_file).is_file():  # a scan of nothing must not pass
        session.config.stash[_SCAN_RESULT] = f"unmasked numbers not searched: {log_file} was not written"
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    processes = log_scan.process_logs(factory.getbasetemp()) if factory is not None else []
    findings = log_scan.scan([Path(log_file), *processes])
    if findings:
        session.config.stash[_SCAN_RESULT] = log_scan.report(findings)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        session.config.stash[_SCAN_RESULT] = (
            f"log scan: no unmasked number in the run's log and {len(processes)} test servers' logs"
        )
        own = session.config.stash.get(_OWN_LOG, None)
        if own is not None:
            own.unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    result = config.stash.get(_SCAN_RESULT, None)
    if result is not None:
        terminalreporter.write_line(result, red=not result.startswith("log scan"))


class AdminClient(QuartTestClient):
    """The test client of a program holding the admin token: every request to voicebot's
    apps carries it, unless the test sends an Authorization header of its own."""

    async def open(  # type: ignore[override]  # the same call, headers narrowed to what tests pass
        self, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> QuartResponse:
        if ACCESS_EXTENSION not in self.app.extensions:  # not voicebot's (the fake PBX): as it is
            return await super().open(path, headers=headers, **kwargs)
        return await super().open(path, headers={**ADMIN_HEADERS, **(headers or {})}, **kwargs)


# Every app's test_client() is a program's with the token; a test of what others may do
# makes a plain QuartTestClient(app).
Quart.test_client_class = AdminClient  # type: ignore[assignment]


@pytest.fixture(scope="session")
def segmenter() -> Segmenter:
    """jieba's dictionary takes a second to load: once per test session."""
    shared = Segmenter()
    shared.initialize()
    return shared


@pytest.fixture
def retry_window_ms() -> int:
    """Tests play a call's callbacks back to back, faster than any CTI sends them, so
    the same callback twice is a new turn here; tests/calls/test_retries.py sets the
    production window."""
    return 0


@pytest.fixture
def settings(tmp_path: Path, retry_window_ms: int) -> Settings:
    # A copy of the knowledge base: the test client holds the admin token, so a test may
    # change entries, never the repository's.
    kb_dir = Path(shutil.copytree(ROOT / "knowledge" / "data", tmp_path / "kb"))
    return Settings(
        data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, kb_dir=kb_dir, retry_window_ms=retry_window_ms
    )


@pytest.fixture
def pbx() -> LogPBX:
    return LogPBX()


@pytest.fixture
def quart_app(settings: Settings, pbx: LogPBX, segmenter: Segmenter) -> Quart:
    return create_app(settings, pbx=pbx, segmenter=segmenter)


@pytest.fixture
async def app(quart_app: Quart) -> AsyncIterator[QuartTestApp]:
    async with quart_app.test_app() as started:
        yield started


@pytest.fixture
def services(app: QuartTestApp, quart_app: Quart) -> Services:
    """The started app's services, for the few checks no HTTP request can make."""
    return quart_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


@pytest.fixture
def client(app: QuartTestApp) -> QuartClient:
    return app.test_client()


class CTI:
    """Plays the CTI's part against the test client: one method per callback kind."""

    def __init__(self, client: QuartClient) -> None:
        self.client = client

    async def send(
        self,
        call_id: str,
        txt: str,
        *,
        playing: bool = False,
        telnum: str = "13800138000",
        flow: str | None = None,
    ) -> tuple[int, str]:
        query = f"telnum={telnum}&txt={quote(txt)}&callid={quote(call_id)}"
        if playing:
            query += "&playing=true"
        if flow:
            query += f"&flow={flow}"
        response = await self.client.get(f"/cti/ai?{query}")
        return response.status_code, (await response.get_data(as_text=True))

    async def say(self, call_id: str, txt: str, **kwargs: object) -> str:
        status, body = await self.send(call_id, txt, **kwargs)  # type: ignore[arg-type]
        assert status == 200, body
        return body

    async def call(self, call_id: str) -> dict[str, Any]:
        """The call as ``GET /calls/<callid>`` shows it, with its turns."""
        response = await self.client.get(f"/calls/{quote(call_id)}")
        assert response.status_code == 200
        return await response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def cti(client: QuartClient) -> CTI:
    return CTI(client)


@pytest.fixture
async def receiver() -> AsyncIterator[OutcomeReceiver]:
    """The outcome push's receiver on loopback (``VOICEBOT_OUTCOME_URL``), stopped after."""
    server = OutcomeReceiver()
    await server.start()
    yield server
    await server.close()


@pytest.fixture(scope="module")
def fake_pbx_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakePBX]:
    """A real ``voicebot fake-pbx`` process, one per test module."""
    from tests.fakepbx import FakePBX, run_fake_pbx  # noqa: PLC0415 (it imports this module)
    from tests.test_serve import stop  # noqa: PLC0415

    process, base = run_fake_pbx(tmp_path_factory.mktemp("fake-pbx"))
    fake = FakePBX(base)
    try:
        yield fake
    finally:
        fake.http.close()
        stop(process)


@pytest.fixture
def fake_pbx(fake_pbx_process: FakePBX) -> FakePBX:
    """The module's fake PBX, with no failures armed and no requests recorded."""
    fake_pbx_process.reset()
    return fake_pbx_process
