"""Settings: typed, validated, readable from the environment."""

from __future__ import annotations

import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError


def test_word_lists_accept_commas_of_both_widths() -> None:
    settings = Settings(backchannels="嗯, 好的，对", fillers="呃")
    assert settings.backchannels == ("嗯", "好的", "对")
    assert settings.fillers == ("呃",)


def test_invalid_values_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="VOICEBOT_TTS_RATE_WPM"):
        load_settings(tts_rate_wpm=5)


def test_public_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="VOICEBOT_PUBLIC_URL"):
        load_settings(public_url="ftp://x")


@pytest.mark.parametrize(
    ("tts", "concurrency", "slots"),
    [
        ("espeak", None, 2),
        ("sherpa,espeak", None, 2),
        ("aliyun,espeak", None, 8),
        ("http", None, 8),
        ("aliyun,espeak", 20, 20),
        ("espeak", 1, 1),
    ],
)
def test_synthesis_slots_follow_the_first_backend_unless_set(
    tts: str, concurrency: int | None, slots: int
) -> None:
    assert Settings(tts=tts, tts_concurrency=concurrency).tts_slots == slots
