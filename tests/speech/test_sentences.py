"""Long texts said sentence by sentence (bot/speech/sentences.py), with the real espeak-ng:
the cut, the pieces asked at the same time, reused, joined, and made again from recipes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from bot.speech.cache import AudioCache
from bot.speech.espeak import EspeakTTS
from bot.speech.normalize import normalize_for_speech
from bot.speech.sentences import MIN_SPLIT_CHARS, say_all, sentence_pieces
from bot.speech.synthesizer import SpeechSynthesizer

from .conftest import CountingBackend

FIRST = "您好，您的报销申请已经审核通过了。"
SECOND = "款项会在五个工作日内打到您的社保卡上。"
THIRD = "请问还有什么可以帮您？"
ANSWER = FIRST + SECOND + THIRD


class TextsBackend(CountingBackend):
    """Counts, and records each text it was asked to say; a vendor's stand-in (``remote``)."""

    remote = True

    def __init__(self, inner: EspeakTTS) -> None:
        super().__init__(inner)
        self.texts: list[str] = []

    async def synthesize(self, text: str) -> bytes:
        self.texts.append(text)
        return await super().synthesize(text)


@dataclass(frozen=True)
class Said:
    text: str
    audio: str | None = None


@pytest.fixture
def texts(espeak: EspeakTTS) -> TextsBackend:
    return TextsBackend(espeak)


@pytest.fixture
def speech(texts: TextsBackend, cache: AudioCache) -> SpeechSynthesizer:
    return SpeechSynthesizer(texts, cache, concurrency=2)


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        (ANSWER, [FIRST, SECOND, THIRD]),
        ("好的。" * 3 + "x" * MIN_SPLIT_CHARS, ["好的。", "好的。", "好的。", "x" * MIN_SPLIT_CHARS]),
        ("请稍等。", ["请稍等。"]),  # short: whole
        ("没有句号的一段很长很长很长很长很长很长很长很长很长的文字，只有逗号", None),  # one sentence
        (
            "他说：“您好！”然后挂断了电话，再也没有打回来。我们稍后会联系他。",
            ["他说：“您好！”", "然后挂断了电话，再也没有打回来。", "我们稍后会联系他。"],  # quotes kept
        ),
        ("……" + FIRST + SECOND, ["……" + FIRST, SECOND]),  # marks alone join the next piece
        (FIRST + SECOND + "。。！", [FIRST, SECOND + "。。！"]),  # or the one before
        (FIRST + "  " + SECOND, [FIRST, SECOND]),
    ],
)
def test_a_text_is_cut_after_each_sentence_end(text: str, pieces: list[str] | None) -> None:
    cut = sentence_pieces(text)

    assert cut == (pieces or [text])
    assert "".join(cut) == text.replace("  ", "")


def test_a_text_is_not_cut_below_the_threshold_or_without_one() -> None:
    assert sentence_pieces(ANSWER, min_chars=len(ANSWER) + 1) == [ANSWER]
    assert sentence_pieces(ANSWER, min_chars=None) == [ANSWER]
    assert sentence_pieces("好的。再见。", min_chars=1) == ["好的。", "再见。"]


async def test_say_all_asks_the_longest_first_and_answers_in_order() -> None:
    asked: list[str] = []

    async def say(piece: str) -> str:
        asked.append(piece)
        await asyncio.sleep(0)
        return piece.upper()

    assert await say_all(["bb", "a", "cccc", "ddd"], say) == ["BB", "A", "CCCC", "DDD"]
    assert asked == ["cccc", "ddd", "bb", "a"]


async def test_a_long_text_is_said_sentence_by_sentence_and_joined(
    speech: SpeechSynthesizer, texts: TextsBackend
) -> None:
    clip = await speech.render(ANSWER)

    pieces = [normalize_for_speech(piece) for piece in (FIRST, SECOND, THIRD)]
    assert sorted(texts.texts) == sorted(pieces)
    assert texts.max_running == 2  # at the same time, within the synthesis slots
    parts = [await speech.render(piece) for piece in (FIRST, SECOND, THIRD)]
    assert texts.calls == 3  # each sentence is a clip of its own, reused
    assert clip == await speech.join(parts)
    assert clip.duration_seconds == pytest.approx(
        sum(p.duration_seconds for p in parts) + 2 * 0.150, abs=0.001
    )
    assert clip.backend == "espeak-ng"
    assert await speech.render(ANSWER) == clip
    assert texts.calls == 3


async def test_a_sentence_said_before_is_not_synthesized_again(
    speech: SpeechSynthesizer, texts: TextsBackend
) -> None:
    await speech.render(FIRST + SECOND)
    await speech.render("您好，您的报销申请还在审核中。" + SECOND)

    assert texts.calls == 3
    assert texts.texts.count(normalize_for_speech(SECOND)) == 1


async def test_static_prompts_and_short_texts_are_said_whole(
    speech: SpeechSynthesizer, texts: TextsBackend
) -> None:
    await speech.render_prompts([Said(ANSWER)])
    await speech.render("好的。再见。")

    assert texts.texts == [normalize_for_speech(ANSWER), "好的。再见。"]
    await speech.render(ANSWER)  # said whole at start: the same clip, nothing synthesized
    assert texts.calls == 2


async def test_cutting_can_be_switched_off(texts: TextsBackend, cache: AudioCache) -> None:
    whole = SpeechSynthesizer(texts, cache, split_min_chars=None)

    await whole.render(ANSWER)

    assert texts.texts == [normalize_for_speech(ANSWER)]


async def test_a_local_engine_says_a_long_text_whole(espeak: EspeakTTS, cache: AudioCache) -> None:
    local = TextsBackend(espeak)
    local.remote = False  # espeak-ng and sherpa-onnx: busy on this machine's cores anyway
    chain = SpeechSynthesizer([local, TextsBackend(espeak)], cache)

    await chain.render(ANSWER)

    assert local.texts == [normalize_for_speech(ANSWER)]


async def test_a_chain_led_by_a_remote_backend_cuts(
    texts: TextsBackend, espeak: EspeakTTS, cache: AudioCache
) -> None:
    fallback = TextsBackend(espeak)
    fallback.remote = False
    chain = SpeechSynthesizer([texts, fallback], cache)

    await chain.render(ANSWER)

    assert len(texts.texts) == 3
    assert fallback.texts == []


async def test_a_clip_of_sentences_is_made_again_from_its_recipe(
    speech: SpeechSynthesizer, texts: TextsBackend, cache: AudioCache
) -> None:
    clip = await speech.render(ANSWER)
    for wav in cache.directory.glob("*.wav"):  # evicted, or made by another instance
        wav.unlink()
        speech.forget(wav.stem)

    again = await speech.serve(clip.key)

    assert again == clip
    assert again.path.exists()
    assert texts.calls == 6  # each sentence said again, by the backend that said it
