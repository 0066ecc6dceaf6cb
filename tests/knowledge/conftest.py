"""Knowledge services over the sample data: a shared read-only one, and copies to change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.text.segmenter import Segmenter
from knowledge.base import KnowledgeBase
from knowledge.service import KnowledgeService

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE_DIR = ROOT / "knowledge" / "data"


@pytest.fixture(scope="session")
def sample() -> KnowledgeService:
    """The sample knowledge base, loaded once, on a segmenter of its own (as `voicebot kb
    serve` has: the flows' words, which the session's shared segmenter learns, would cut
    some questions differently); tests use distinct senders and never change it."""
    service = KnowledgeService(SAMPLE_DIR, base=KnowledgeBase(Segmenter()))
    service.load()
    return service


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A copy of the sample data that a test may change."""
    return Path(shutil.copytree(SAMPLE_DIR, tmp_path / "kb"))
