"""Shared fixtures: a started app per test (real espeak-ng, real SQLite, LogPBX)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from quart import Quart
from quart.typing import TestAppProtocol as QuartTestApp
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.pbx.log import LogPBX
from bot.services import EXTENSION_KEY, Services
from bot.text.segmenter import Segmenter

if TYPE_CHECKING:
    from tests.fakepbx import FakePBX

pytest_plugins = ["tests.servers"]  # redis_server, redis_url, postgres_server, database_url

ROOT = Path(__file__).resolve().parent.parent
FLOWS_DIR = ROOT / "flows"


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
    return Settings(data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, retry_window_ms=retry_window_ms)


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


@pytest.fixture
def cti(client: QuartClient) -> CTI:
    return CTI(client)


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
