"""The one pinyin fold table, as intents and knowledge both read sounds."""

from __future__ import annotations

import pytest

from bot.text.pinyin import char_syllable, char_syllables, fold, word_syllables


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("zhuang", "zuan"),  # zh/z, and -uang/-uan
        ("shi", "si"),
        ("chen", "cen"),
        ("ning", "lin"),  # n/l, and -ing/-in
        ("ren", "len"),  # r/l
        ("fei", "hei"),  # f/h
        ("an", "ang"),  # 安 and 昂
        ("sheng", "sen"),
    ],
    ids=["zh-z", "sh-s", "ch-c", "n-l-ing", "r-l", "f-h", "ang-an", "eng-en"],
)
def test_what_callers_confuse_folds_together(one: str, other: str) -> None:
    assert fold(one) == fold(other)


@pytest.mark.parametrize(("one", "other"), [("bei", "pei"), ("zhu", "zhe"), ("ji", "qi"), ("an", "en")])
def test_what_callers_tell_apart_stays_apart(one: str, other: str) -> None:
    assert fold(one) != fold(other)


def test_characters_read_one_folded_syllable_each() -> None:
    # 嗯 reads "n": n/l fold to n, so that it never meets the latin l of "hello".
    assert char_syllable("嗯") == "n"
    assert char_syllables("专人工") == char_syllables("转人工")
    assert char_syllables("ok吧") == ["o", "k", "ba"]


def test_words_are_read_as_words() -> None:
    assert word_syllables("银行") == ("yin", "han")  # hang, not xing, folded
    assert word_syllables("被案") == word_syllables("备案")
