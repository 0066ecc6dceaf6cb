"""AudioCache: keys, path validation, atomic writes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.speech.cache import AudioCache
from bot.speech.espeak import EspeakTTS


def test_directory_is_created(tmp_path: Path) -> None:
    AudioCache(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()


def test_key_is_stable_hex(cache: AudioCache) -> None:
    key = cache.key_for("您好", EspeakTTS())
    assert key == cache.key_for("您好", EspeakTTS(binary="/usr/bin/espeak-ng"))
    assert len(key) == 64
    assert int(key, 16) >= 0
    assert key == key.lower()


@pytest.mark.parametrize(
    "other",
    [EspeakTTS(voice="yue"), EspeakTTS(rate_wpm=150)],
    ids=["voice", "rate"],
)
def test_key_changes_with_backend_identity(cache: AudioCache, other: EspeakTTS) -> None:
    assert cache.key_for("您好", EspeakTTS()) != cache.key_for("您好", other)


def test_key_changes_with_text(cache: AudioCache) -> None:
    assert cache.key_for("您好", EspeakTTS()) != cache.key_for("您好。", EspeakTTS())


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "", "A" * 64, "g" * 64, "a" * 63, "a" * 65, "a" * 64 + "\n", "../" + "a" * 61],
    ids=["traversal", "empty", "uppercase", "non-hex", "short", "long", "newline", "dotdot-prefix"],
)
def test_path_rejects_malformed_keys(cache: AudioCache, key: str) -> None:
    with pytest.raises(ValueError, match="malformed"):
        cache.path(key)


async def test_put_is_atomic_and_leaves_no_temp_files(cache: AudioCache) -> None:
    key = "ab" * 32
    assert not cache.exists(key)
    payloads = [bytes([i]) * 200_000 for i in range(8)]

    paths = await asyncio.gather(*(cache.put(key, p) for p in payloads))

    assert set(paths) == {cache.path(key)}
    assert cache.exists(key)
    assert cache.path(key).read_bytes() in payloads  # one whole payload, never a mix
    assert [p.name for p in cache.directory.iterdir()] == [f"{key}.wav"]


async def test_put_replaces_existing_file(cache: AudioCache) -> None:
    key = "cd" * 32
    await cache.put(key, b"old")
    path = await cache.put(key, b"new")
    assert path.read_bytes() == b"new"
    assert len(list(cache.directory.iterdir())) == 1
