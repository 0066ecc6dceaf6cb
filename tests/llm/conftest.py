"""The app with a language model: the fake OpenAI-compatible server on loopback, and the
settings that point the bot at it (``llm_overrides`` changes them per test)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from tests.conftest import FLOWS_DIR, ROOT
from tests.llm.fake_openai import KEY, MODEL, FakeOpenAI
from tests.speech.vendors.serving import serve_asgi


@pytest.fixture
def fake() -> FakeOpenAI:
    return FakeOpenAI()


@pytest.fixture
async def llm_url(fake: FakeOpenAI) -> AsyncIterator[str]:
    async with serve_asgi(fake.app) as base_url:
        yield f"{base_url}/v1"
        if fake.hold is not None:
            fake.hold.set()  # answers still held end before the server stops


@pytest.fixture
def llm_overrides() -> dict[str, Any]:
    """Settings a test module or test changes (a shorter timeout, no cooldown…)."""
    return {}


@pytest.fixture
def settings(tmp_path: Path, retry_window_ms: int, llm_url: str, llm_overrides: dict[str, Any]) -> Settings:
    kb_dir = Path(shutil.copytree(ROOT / "knowledge" / "data", tmp_path / "kb"))
    values: dict[str, Any] = {
        "llm_url": llm_url,
        "llm_model": MODEL,
        "llm_key": KEY,
        "llm_cooldown_seconds": 0,
        **llm_overrides,
    }
    return Settings(
        data_dir=tmp_path / "var",
        flows_dir=FLOWS_DIR,
        kb_dir=kb_dir,
        retry_window_ms=retry_window_ms,
        **values,
    )
