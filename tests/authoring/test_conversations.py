"""Conversation tests, run as flow authors run them: the sample flows' own tests, and
one flow exercising every feature of the language (against a real loopback server
standing in for the business API)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.authoring import flowtest
from bot.config import Settings
from bot.text.segmenter import Segmenter
from tests.loopback import LoopbackServer, unused_port

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "flows"
LANGUAGE = Path(__file__).parent / "language"


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    server = LoopbackServer()
    await server.start()
    yield server
    await server.close()


def settings() -> Settings:
    return Settings(flows_dir=SAMPLES)


async def played(path: Path, flows_dir: Path, segmenter: Segmenter) -> list[flowtest.ConversationResult]:
    results = await flowtest.run_file(path, flows_dir, settings(), segmenter=segmenter)
    assert results, f"{path} has no conversations"
    failed = [r for r in results if not r.passed]
    assert not failed, flowtest.report(results)
    return results


@pytest.mark.parametrize("path", flowtest.test_files([SAMPLES / "tests"]), ids=lambda p: p.name)
async def test_sample_flow_conversations(path: Path, segmenter: Segmenter) -> None:
    await played(path, SAMPLES, segmenter)


def test_every_sample_flow_has_tests() -> None:
    tested = {flowtest.load_test_file(p).spec.flow for p in flowtest.test_files([SAMPLES / "tests"])}
    assert tested == {p.stem for p in SAMPLES.glob("*.yaml")}


def language_flows(tmp_path: Path, business_api: str) -> Path:
    flows = tmp_path / "flows"
    shutil.copytree(LANGUAGE, flows)
    main = flows / "main.yaml"
    main.write_text(main.read_text(encoding="utf-8").replace("BUSINESS_API", business_api), encoding="utf-8")
    return flows


@pytest.mark.parametrize("name", ["language.yaml", "vip.yaml"])
async def test_language_features(
    name: str, tmp_path: Path, server: LoopbackServer, segmenter: Segmenter
) -> None:
    flows = language_flows(tmp_path, server.base_url)
    await played(flows / "tests" / name, flows, segmenter)
    assert server.hits  # the http step really called the server


async def test_a_failing_business_api_takes_on_error(tmp_path: Path, segmenter: Segmenter) -> None:
    flows = language_flows(tmp_path, f"http://127.0.0.1:{unused_port()}")
    await played(flows / "tests" / "down.yaml", flows, segmenter)
