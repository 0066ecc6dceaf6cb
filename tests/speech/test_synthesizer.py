"""SpeechSynthesizer with the real espeak-ng: caching, single flight, joins, lookups."""

from __future__ import annotations

import asyncio
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.errors import TTSError
from bot.speech.cache import AudioCache
from bot.speech.espeak import EspeakTTS
from bot.speech.synthesizer import AudioClip, SpeechSynthesizer

from .conftest import CountingBackend

SENTENCE = "请问您是想咨询转诊转院、异地安置还是异地急诊？"


async def test_render_makes_telephone_wav(synth: SpeechSynthesizer) -> None:
    clip = await synth.render(SENTENCE)

    with wave.open(str(clip.path), "rb") as reader:
        params = reader.getparams()
    assert (params.framerate, params.nchannels, params.sampwidth) == (8000, 1, 2)
    assert clip.duration_seconds > 0.3
    assert clip.duration_seconds == pytest.approx(params.nframes / 8000)
    assert clip.path.name == f"{clip.key}.wav"


async def test_second_render_does_not_run_espeak(synth: SpeechSynthesizer, backend: CountingBackend) -> None:
    first = await synth.render(SENTENCE)
    second = await synth.render(SENTENCE)
    # A text that normalises to the same words shares the clip too.
    bracketed = await synth.render("请问您是想咨询[转诊转院]、[异地安置]还是【异地急诊】？")

    assert first == second == bracketed
    assert backend.calls == 1


async def test_files_on_disk_are_reused_after_restart(
    synth: SpeechSynthesizer, cache: AudioCache, espeak: EspeakTTS
) -> None:
    clip = await synth.render(SENTENCE)
    fresh_backend = CountingBackend(espeak)
    restarted = SpeechSynthesizer(fresh_backend, AudioCache(cache.directory))

    assert await restarted.render(SENTENCE) == clip
    assert await restarted.clip(clip.key) == clip
    assert fresh_backend.calls == 0


@pytest.mark.parametrize("other", [EspeakTTS(voice="yue"), EspeakTTS(rate_wpm=140)], ids=["voice", "rate"])
async def test_other_voice_or_rate_gives_other_clip(
    synth: SpeechSynthesizer, cache: AudioCache, other: EspeakTTS
) -> None:
    clip = await synth.render("您好")
    other_clip = await SpeechSynthesizer(other, cache).render("您好")
    assert other_clip.key != clip.key
    assert other_clip.path.read_bytes() != clip.path.read_bytes()


async def test_concurrent_renders_of_new_text_synthesize_once(
    synth: SpeechSynthesizer, backend: CountingBackend
) -> None:
    clips = await asyncio.gather(*(synth.render("您好，这是一条新的提示。") for _ in range(10)))
    assert len(set(clips)) == 1
    assert backend.calls == 1


async def test_cancelled_waiter_does_not_cancel_shared_synthesis(
    synth: SpeechSynthesizer, backend: CountingBackend
) -> None:
    quitter = asyncio.create_task(synth.render(SENTENCE))
    stayer = asyncio.create_task(synth.render(SENTENCE))
    await asyncio.sleep(0)
    quitter.cancel()

    clip = await stayer

    assert quitter.cancelled()
    assert clip.path.is_file()
    assert backend.calls == 1


async def test_concurrency_is_limited(cache: AudioCache, backend: CountingBackend) -> None:
    synth = SpeechSynthesizer(backend, cache, concurrency=2)
    texts = [f"第{n}条提示" for n in "一二三四五六"]
    await asyncio.gather(*(synth.render(text) for text in texts))
    assert backend.calls == 6
    assert backend.max_running == 2


@dataclass(frozen=True)
class Said:
    text: str
    audio: str | None = None


async def test_render_prompts_renders_each_distinct_prompt_once_in_first_seen_order(
    synth: SpeechSynthesizer, backend: CountingBackend
) -> None:
    clips = await synth.render_prompts([Said("您好"), Said("再见"), Said("您好")])
    assert clips == [await synth.render("您好"), await synth.render("再见")]
    assert backend.calls == 2


async def test_failed_render_is_retried_next_time(cache: AudioCache) -> None:
    broken = SpeechSynthesizer(EspeakTTS(binary="/nonexistent/espeak-ng"), cache)
    for _ in range(2):
        with pytest.raises(TTSError, match="not found"):
            await broken.render("您好")


async def test_text_with_nothing_to_say_raises(synth: SpeechSynthesizer) -> None:
    with pytest.raises(TTSError, match="empty"):
        await synth.render(" 【】 ")


async def test_join_duration_is_sum_plus_gaps(synth: SpeechSynthesizer, backend: CountingBackend) -> None:
    parts = [await synth.render(text) for text in ["您好。", "这里是医保服务热线。", "请问有什么可以帮您？"]]

    joined = await synth.join(parts)

    expected = sum(c.duration_seconds for c in parts) + 2 * 0.150
    assert joined.duration_seconds == pytest.approx(expected, abs=0.001)
    with wave.open(str(joined.path), "rb") as reader:
        assert reader.getnframes() / reader.getframerate() == pytest.approx(expected, abs=0.001)
    assert await synth.join(parts) == joined
    assert await synth.clip(joined.key) == joined
    assert await synth.join(parts[::-1]) != joined
    assert backend.calls == 3


async def test_join_of_one_clip_is_that_clip(synth: SpeechSynthesizer) -> None:
    clip = await synth.render("您好")
    assert await synth.join([clip]) is clip
    with pytest.raises(ValueError, match="at least one"):
        await synth.join([])


async def test_clip_lookup(synth: SpeechSynthesizer, cache: AudioCache) -> None:
    clip = await synth.render("您好")
    assert await synth.clip(clip.key) == clip
    assert await synth.clip("0" * 64) is None
    assert await SpeechSynthesizer(EspeakTTS(), cache).clip(clip.key) == clip


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "not-hex", "G" * 64, "", "../" + "a" * 61, "a" * 64 + "/../x"],
    ids=["traversal", "non-hex", "uppercase", "empty", "dotdot-prefix", "suffix"],
)
async def test_clip_rejects_malformed_keys(synth: SpeechSynthesizer, key: str) -> None:
    assert await synth.clip(key) is None


async def test_corrupt_cached_file_is_synthesized_again(
    synth: SpeechSynthesizer, cache: AudioCache, espeak: EspeakTTS
) -> None:
    clip = await synth.render("您好")
    clip.path.write_bytes(b"garbage")
    restarted = SpeechSynthesizer(espeak, AudioCache(cache.directory))
    assert await restarted.clip(clip.key) is None
    again = await restarted.render("您好")
    assert again.key == clip.key
    assert again.duration_seconds == pytest.approx(clip.duration_seconds)


def test_audio_clip_is_hashable_value() -> None:
    a = AudioClip("a" * 64, Path("x.wav"), 1.0)
    assert a == AudioClip("a" * 64, Path("x.wav"), 1.0)
    assert len({a, AudioClip("a" * 64, Path("x.wav"), 1.0)}) == 1


async def test_silence_is_a_cached_telephone_clip(synth: SpeechSynthesizer) -> None:
    clip = await synth.silence(300)
    assert clip == await synth.silence(300)
    assert clip.duration_seconds == pytest.approx(0.3)
    with wave.open(str(clip.path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getnframes()) == (8000, 1, 2400)
        assert set(wav.readframes(2400)) == {0}
    assert await synth.clip(clip.key) == clip
