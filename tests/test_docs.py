"""The documentation says what the code does."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings

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
