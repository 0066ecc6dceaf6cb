"""The documentation says what the code does."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.speech.backends import VENDOR_BACKENDS, build_backends, close_backends

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("field", sorted(Settings.model_fields), ids=str)
def test_every_setting_is_documented(field: str) -> None:
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert f"`VOICEBOT_{field.upper()}`" in documented


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme[readme.index("## Quick start") :]
    assert quick_start.index("make serve") < quick_start.index("make test") < quick_start.index("\n## ")


def test_ci_runs_make_test() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _vendor_examples() -> list[tuple[str, dict[str, str]]]:
    """Each ``### Example`` block of docs/speech-vendors.md, as the environment it sets."""
    text = (ROOT / "docs" / "speech-vendors.md").read_text(encoding="utf-8")
    examples: list[tuple[str, dict[str, str]]] = []
    for section in text.split("\n### Example")[1:]:
        block = section.split("```")[1]
        env = dict(line.split("=", 1) for line in block.strip().splitlines() if line.startswith("VOICEBOT_"))
        examples.append((env["VOICEBOT_TTS"], env))
    return examples


@pytest.mark.parametrize(("chain", "env"), _vendor_examples(), ids=[c for c, _ in _vendor_examples()])
async def test_every_vendor_example_builds_its_chain(
    chain: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The examples are settings the service takes (the vendors' tests speak through
    their fakes with the same settings)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    backends = build_backends(load_settings())
    try:
        assert [b.name for b in backends] == [
            "espeak-ng" if name == "espeak" else name for name in chain.split(",")
        ]
    finally:
        await close_backends(backends)


def test_every_vendor_backend_has_an_example() -> None:
    documented = {chain.split(",")[0] for chain, _ in _vendor_examples()}
    assert documented == set(VENDOR_BACKENDS) - {"sherpa"}  # sherpa's needs a model on disk
