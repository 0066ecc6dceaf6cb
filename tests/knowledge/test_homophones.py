"""Putting back the knowledge base's words where ASR wrote a homophone."""

from __future__ import annotations

import pytest

from knowledge.homophones import Homophones

FREQUENCY = {"报效": 138, "意外": 2197, "以下": 7611, "显示": 6872}


@pytest.fixture(scope="module")
def homophones() -> Homophones:
    vocabulary = ["医保", "医保卡", "报销", "挂失", "以外", "起付线", "显示", "余额"]
    return Homophones(vocabulary, protected=["一下"], frequency=lambda word: FREQUENCY.get(word, 0))


@pytest.mark.parametrize(
    ("text", "words", "expected"),
    [
        ("以保卡挂使了", ["以", "保", "卡", "挂", "使", "了"], "医保卡挂失了"),
        ("报效怎么弄", ["报效", "怎么", "弄"], "报销怎么弄"),  # a rare word: misheard
        ("鱼鹅多少", ["鱼", "鹅", "多少"], "余额多少"),
    ],
    ids=["split", "rare-word", "same-sound"],
)
def test_a_misheard_word_is_put_back(
    homophones: Homophones, text: str, words: list[str], expected: str
) -> None:
    assert homophones.correct(text, words) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("意外摔伤", ["意外", "摔伤"]),  # a common word is taken as said (以外 is in the KB)
        ("我想问一下", ["我", "想", "问", "一下"]),  # protected: not 以下
        ("起付线是多少", ["起付线", "是", "多少"]),  # known words kept whole: no 显示 from 线是
        ("医保卡", ["医保卡"]),
    ],
    ids=["common-word", "protected", "known-word", "unchanged"],
)
def test_what_was_said_stays(homophones: Homophones, text: str, words: list[str]) -> None:
    assert homophones.correct(text, words) == text


def test_a_window_inside_a_word_is_never_rewritten() -> None:
    homophones = Homophones(["根据"])
    assert homophones.correct("跟居民", ["跟", "居民"]) == "跟居民"  # 跟居 is half of 居民
    assert homophones.correct("跟居", ["跟", "居"]) == "根据"


def test_a_sound_two_words_share_is_left_alone() -> None:
    homophones = Homophones(["公式", "公示"])
    assert homophones.correct("工事", ["工事"]) == "工事"
    assert len(homophones) == 0


def test_no_vocabulary_changes_nothing() -> None:
    assert Homophones([]).correct("以保", ["以", "保"]) == "以保"
