"""A chain of speech backends: order, fallthrough on slowness and errors, cooldown and
recovery, cached audio per backend and voice, and the error when nothing can speak."""

from __future__ import annotations

import asyncio
import logging
import wave

import pytest

from bot.errors import SpeechUnavailableError, TTSError
from bot.speech.cache import AudioCache
from bot.speech.espeak import EspeakTTS
from bot.speech.synthesizer import SpeechSynthesizer
from bot.speech.tts import IdentityValue
from tests.loopback import LoopbackServer

from .conftest import CountingBackend, HttpFactory

TEXT = "您好，这里是医保服务热线。"
OTHER = "请问还有什么可以帮您？"
CALLER_NUMBER = "13812345678"


async def test_the_first_backend_speaks_when_it_works(
    http_tts: HttpFactory, backend: CountingBackend, cache: AudioCache
) -> None:
    synth = SpeechSynthesizer([http_tts(), backend], cache)

    clip = await synth.render(TEXT)

    assert clip.backend == "http"
    assert backend.calls == 0
    with wave.open(str(clip.path)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)


async def test_a_backend_that_never_answers_falls_through_within_the_budget(
    http_tts: HttpFactory, backend: CountingBackend, cache: AudioCache, vendor: LoopbackServer
) -> None:
    # The vendor's own timeout is long: the synthesizer's budget (which espeak-ng, too,
    # must keep on a busy machine) is what cuts it off.
    synth = SpeechSynthesizer(
        [http_tts("/slow", timeout_seconds=30), backend], cache, attempt_timeout_seconds=1.0
    )

    clip = await synth.render(TEXT)

    assert clip.backend == "espeak-ng"
    assert (vendor.hits["/slow"], backend.calls) == (1, 1)


async def test_a_failing_backend_falls_through_and_is_logged_without_the_text(
    http_tts: HttpFactory, backend: CountingBackend, cache: AudioCache, caplog: pytest.LogCaptureFixture
) -> None:
    synth = SpeechSynthesizer([http_tts("/missing"), backend], cache)

    with caplog.at_level(logging.WARNING, logger="bot.speech"):
        clip = await synth.render(f"您的号码是{CALLER_NUMBER}")

    assert clip.backend == "espeak-ng"
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    message = record.getMessage()
    assert "speech backend http failed" in message
    assert "HTTP 404" in message
    assert "falling back to espeak-ng" in message
    assert CALLER_NUMBER not in message


async def test_a_failed_backend_is_skipped_during_its_cooldown(
    http_tts: HttpFactory, backend: CountingBackend, cache: AudioCache, vendor: LoopbackServer
) -> None:
    vendor.tts_status = 503
    synth = SpeechSynthesizer([http_tts(), backend], cache, cooldown_seconds=3600)

    clips = [await synth.render(text) for text in (TEXT, OTHER, TEXT)]

    assert [c.backend for c in clips] == ["espeak-ng"] * 3
    assert vendor.hits["/tts/wav"] == 1  # only the first text paid for asking it
    assert backend.calls == 2


async def test_the_preferred_backend_takes_over_again_after_its_cooldown(
    http_tts: HttpFactory, backend: CountingBackend, cache: AudioCache, vendor: LoopbackServer
) -> None:
    synth = SpeechSynthesizer([http_tts(), backend], cache, cooldown_seconds=0)
    vendor.tts_status = 503
    fallback = await synth.render(TEXT)

    vendor.tts_status = 200
    preferred = await synth.render(TEXT)
    again = await synth.render(TEXT)

    assert (fallback.backend, preferred.backend) == ("espeak-ng", "http")
    assert preferred.key != fallback.key
    assert preferred.path.read_bytes() != fallback.path.read_bytes()
    assert again == preferred
    assert vendor.hits["/tts/wav"] == 2  # the preferred clip is remembered; the fallback's was not


async def test_audio_cached_by_a_cooling_backend_is_still_used(
    http_tts: HttpFactory, espeak: EspeakTTS, cache: AudioCache, vendor: LoopbackServer
) -> None:
    cached = await SpeechSynthesizer(http_tts(), cache).render(TEXT)
    vendor.tts_status = 503
    fallback = CountingBackend(espeak)
    restarted = SpeechSynthesizer([http_tts(), fallback], AudioCache(cache.directory), cooldown_seconds=3600)

    assert (await restarted.render(OTHER)).backend == "espeak-ng"  # the vendor fails: cooldown
    clip = await restarted.render(TEXT)

    assert clip == cached
    assert clip.backend == "http"
    assert fallback.calls == 1
    assert vendor.hits["/tts/wav"] == 2  # the first synthesis and the failure; not this lookup


async def test_concurrent_renders_share_the_failure_and_the_fallback(
    http_tts: HttpFactory, backend: CountingBackend, cache: AudioCache, vendor: LoopbackServer
) -> None:
    vendor.tts_status = 500
    synth = SpeechSynthesizer([http_tts(), backend], cache, cooldown_seconds=0)

    clips = await asyncio.gather(*(synth.render(TEXT) for _ in range(8)))

    assert len(set(clips)) == 1
    assert (vendor.hits["/tts/wav"], backend.calls) == (1, 1)


async def test_texts_queued_behind_a_failure_skip_the_failed_backend(
    http_tts: HttpFactory, backend: CountingBackend, cache: AudioCache, vendor: LoopbackServer
) -> None:
    """The start-up render queues every prompt at once: one failure is enough to learn from."""
    vendor.tts_status = 503
    synth = SpeechSynthesizer([http_tts(), backend], cache, concurrency=1, cooldown_seconds=3600)

    clips = await asyncio.gather(*(synth.render(f"第{n}条提示") for n in "一二三四五六"))

    assert {c.backend for c in clips} == {"espeak-ng"}
    assert vendor.hits["/tts/wav"] == 1


async def test_when_every_backend_fails_the_error_says_why_for_each(
    http_tts: HttpFactory, cache: AudioCache
) -> None:
    synth = SpeechSynthesizer([http_tts("/missing"), EspeakTTS(binary="/nonexistent/espeak-ng")], cache)

    with pytest.raises(SpeechUnavailableError) as info:
        await synth.render(TEXT)

    assert isinstance(info.value, TTSError)
    assert [name for name, _ in info.value.failures] == ["http", "espeak-ng"]
    assert "HTTP 404" in info.value.failures[0][1]
    assert "not found" in info.value.failures[1][1]


async def test_the_last_backend_is_tried_even_during_its_cooldown(
    http_tts: HttpFactory, vendor: LoopbackServer, cache: AudioCache
) -> None:
    vendor.tts_status = 503
    synth = SpeechSynthesizer(
        [EspeakTTS(binary="/nonexistent/espeak-ng"), http_tts()], cache, cooldown_seconds=3600
    )
    with pytest.raises(SpeechUnavailableError):
        await synth.render(TEXT)

    vendor.tts_status = 200
    assert (await synth.render(TEXT)).backend == "http"
    with pytest.raises(SpeechUnavailableError) as info:
        await SpeechSynthesizer([EspeakTTS(binary="/nonexistent/espeak-ng")], cache).render(OTHER)
    assert "not found" in str(info.value)


async def test_switching_voice_or_backend_never_serves_old_audio(
    http_tts: HttpFactory, espeak: EspeakTTS, cache: AudioCache, vendor: LoopbackServer
) -> None:
    first = await SpeechSynthesizer(http_tts(voice="xiaoyan"), cache).render(TEXT)
    other_voice = await SpeechSynthesizer(http_tts(voice="xiaofeng"), AudioCache(cache.directory)).render(
        TEXT
    )
    other_backend = await SpeechSynthesizer(espeak, AudioCache(cache.directory)).render(TEXT)
    same_again = await SpeechSynthesizer(http_tts(voice="xiaoyan"), AudioCache(cache.directory)).render(TEXT)

    assert len({first.key, other_voice.key, other_backend.key}) == 3
    assert first.path.read_bytes() != other_voice.path.read_bytes()
    assert vendor.hits["/tts/wav"] == 2  # the second voice was synthesized, not taken from the cache
    assert same_again == first  # and the first voice's clip is still found on disk


async def test_clips_say_which_backend_made_them(
    http_tts: HttpFactory, backend: CountingBackend, cache: AudioCache, vendor: LoopbackServer
) -> None:
    synth = SpeechSynthesizer([http_tts(), backend], cache, cooldown_seconds=3600)
    preferred = await synth.render(TEXT)
    vendor.tts_status = 503
    fallback = await synth.render(OTHER)

    joined = await synth.join([preferred, fallback])

    assert joined.backend == "http+espeak-ng"
    assert (await synth.silence()).backend == "silence"
    served = await SpeechSynthesizer(backend, AudioCache(cache.directory)).clip(preferred.key)
    assert served == preferred  # the label is not part of a clip's identity


class BuggyBackend:
    """A backend with a bug: it lets an error of its own escape instead of a TTSError."""

    name = "buggy"

    def identity(self) -> dict[str, IdentityValue]:
        return {}

    async def synthesize(self, text: str) -> bytes:
        raise RuntimeError("a bug")


async def test_a_backend_bug_falls_through_too(
    backend: CountingBackend, cache: AudioCache, caplog: pytest.LogCaptureFixture
) -> None:
    synth = SpeechSynthesizer([BuggyBackend(), backend], cache)
    with caplog.at_level(logging.WARNING, logger="bot.speech"):
        clip = await synth.render(TEXT)
    assert clip.backend == "espeak-ng"
    assert any(
        r.levelno == logging.ERROR and "buggy raised RuntimeError" in r.getMessage() for r in caplog.records
    )
