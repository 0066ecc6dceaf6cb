"""The bounded audio cache: least recently used rendered clips go, pinned prompts and
clips used within the grace period stay, and an evicted clip is made again when asked
for (real espeak-ng, a clock the tests move)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.language.flow import Prompt
from bot.speech.cache import AudioCache, CacheUsage
from bot.speech.espeak import EspeakTTS
from bot.speech.synthesizer import SpeechSynthesizer

from .conftest import CountingBackend

GRACE_SECONDS = 600.0
STATIC = "您好，这里是医保服务热线。"
OLD = "您的转诊申请已经受理。"
SERVED = "请问还有其他问题吗？"
NEW = "异地安置需要先办理备案。"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(time.time())


@pytest.fixture
def bounded(tmp_path: Path, clock: Clock) -> AudioCache:
    # Tracked from the start; the tests lower the limit once they know the clips' sizes.
    return AudioCache(tmp_path / "audio", limit_bytes=10**9, grace_seconds=GRACE_SECONDS, clock=clock)


@pytest.fixture
def synth(backend: CountingBackend, bounded: AudioCache) -> SpeechSynthesizer:
    return SpeechSynthesizer(backend, bounded)


async def test_the_least_recently_used_clip_goes_not_a_pinned_nor_a_recent_one(
    synth: SpeechSynthesizer, bounded: AudioCache, clock: Clock, backend: CountingBackend
) -> None:
    [static] = await synth.render_prompts([Prompt(text=STATIC)])
    old = await synth.render(OLD)
    served = await synth.render(SERVED)
    clock.now += GRACE_SECONDS + 100
    assert await synth.clip(served.key) == served  # the PBX fetched it: used now
    clock.now += 100
    sizes = {c.key: c.path.stat().st_size for c in (old, served)}
    old_wav = old.path.read_bytes()
    bounded.usage.limit_bytes = sum(sizes.values())  # the next clip is one too many

    new = await synth.render(NEW)
    await synth.aclose()  # the eviction, in a worker thread, is over

    assert not old.path.exists()
    assert static.path.exists()  # pinned, though older than everything
    assert served.path.exists()  # over the limit, but served within the grace period
    assert new.path.exists()
    assert bounded.usage.total_bytes == sizes[served.key] + new.path.stat().st_size

    calls = backend.calls
    again = await synth.clip(old.key)  # an old URL fetched again: made from its recipe
    assert again is not None
    assert again.path.exists()
    assert again.path.read_bytes() == old_wav
    assert backend.calls == calls + 1


async def test_an_evicted_text_is_rendered_again(
    synth: SpeechSynthesizer, bounded: AudioCache, clock: Clock, backend: CountingBackend
) -> None:
    old = await synth.render(OLD)
    joined = await synth.join([old, await synth.silence()])
    clock.now += GRACE_SECONDS + 1
    bounded.usage.limit_bytes = 1

    await synth.render(NEW)  # made now: over the limit, the others go
    await synth.aclose()
    assert not old.path.exists()
    assert not joined.path.exists()

    assert (await synth.render(OLD)).path.exists()  # remembered by text, but not trusted
    rejoined = await synth.join([await synth.render(OLD), await synth.silence()])
    assert rejoined.key == joined.key
    assert rejoined.path.exists()
    assert backend.calls == 3


async def test_the_start_up_scan_counts_the_files_of_earlier_runs(
    tmp_path: Path, espeak: EspeakTTS, clock: Clock
) -> None:
    directory = tmp_path / "audio"
    earlier = SpeechSynthesizer(espeak, AudioCache(directory))  # no bound
    old = await earlier.render(OLD)
    static = await earlier.render(STATIC)
    clock.now += GRACE_SECONDS + 1  # the earlier run's files are older than the grace period

    restarted = SpeechSynthesizer(
        espeak, AudioCache(directory, limit_bytes=1, grace_seconds=GRACE_SECONDS, clock=clock)
    )
    await restarted.render_prompts([Prompt(text=STATIC)])  # found on disk and pinned
    assert await restarted.scan_cache() == 1
    await restarted.aclose()

    assert not old.path.exists()
    assert static.path.exists()


async def test_without_a_bound_nothing_is_tracked_or_deleted(
    synth: SpeechSynthesizer, tmp_path: Path, espeak: EspeakTTS
) -> None:
    unbounded = SpeechSynthesizer(espeak, AudioCache(tmp_path / "free"))
    clip = await unbounded.render(OLD)
    assert await unbounded.scan_cache() == 0
    assert len(unbounded.cache.usage) == 0
    assert unbounded.cache.usage.touch(clip.key)


def test_usage_victims_keep_the_grace_period() -> None:
    clock = Clock(1000.0)
    usage = CacheUsage(100, grace_seconds=10, clock=clock)
    usage.add("a", 60)
    clock.now += 5
    usage.add("b", 60)
    assert usage.over_limit
    assert usage.victims() == []  # both used within 10 s
    clock.now += 6
    assert usage.victims() == ["a"]
    assert usage.total_bytes == 60
    assert not usage.touch("a")  # evicted: memories of it are not trusted
    usage.pin("b")
    assert usage.total_bytes == 0
    assert usage.touch("b")
