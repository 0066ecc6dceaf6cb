"""The documentation says what the code does."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.speech.backends import BACKEND_NAMES, build_backends, close_backends

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


def _examples(page: str, heading: str) -> list[dict[str, str]]:
    """The code blocks after each ``heading`` of ``docs/<page>`` (or within its one
    section named ``heading``), as the environment each sets."""
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    sections = text.split(f"\n{heading}")[1:]
    if len(sections) == 1:  # one section: all its blocks
        sections = sections[0].split("\n## ")[0].split("\n\n```")[1:]
    envs = []
    for section in sections:
        block = section.split("```")[1] if section.lstrip().startswith("```") else section.split("```")[0]
        lines = [line for line in block.strip().splitlines() if line.startswith("VOICEBOT_")]
        envs.append(dict(line.split("=", 1) for line in lines))
    return envs


SPEECH_EXAMPLES = _examples("speech.md", "### One example of each backend")
# hwd needs the PBX's API client (its tests build it), sherpa a model on disk (its tests make one).
BUILT_HERE = [env for env in SPEECH_EXAMPLES if env["VOICEBOT_TTS"].split(",")[0] not in ("hwd", "sherpa")]


@pytest.mark.parametrize("env", BUILT_HERE, ids=[env["VOICEBOT_TTS"] for env in BUILT_HERE])
async def test_every_backend_example_builds_its_chain(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The examples are settings the service takes; the vendors' tests speak through
    their fakes with the same settings."""
    chain = env["VOICEBOT_TTS"]
    monkeypatch.setenv("VOICEBOT_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    backends = build_backends(load_settings())
    try:
        assert [b.name for b in backends] == ["espeak-ng" if n == "espeak" else n for n in chain.split(",")]
    finally:
        await close_backends(backends)


def test_speech_md_has_an_example_of_every_backend_as_the_vendors_page_has_it() -> None:
    by_backend = {env["VOICEBOT_TTS"].split(",")[0]: env for env in SPEECH_EXAMPLES}
    assert set(by_backend) == set(BACKEND_NAMES)
    for env in _examples("speech-vendors.md", "### Example"):
        assert by_backend[env["VOICEBOT_TTS"].split(",")[0]] == env
