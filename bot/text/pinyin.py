"""Toneless pinyin, folded so that the sounds phone ASR and accents confuse meet.

The one fold table: intents (``bot.text.features``), knowledge retrieval
(``knowledge.text``) and clarification answers (``knowledge.clarify``) all compare
sounds through ``fold``, so 专人工 meets 转人工 and 被案 meets 备案 everywhere alike.
"""

from __future__ import annotations

import functools
import re

from pypinyin import Style, lazy_pinyin

FOLDED_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"), ("r", "n"), ("f", "h"))
"""Initials folded into one: retroflex and flat (zh/z…), n/l, r/l and f/h, which
southern and south-western accents merge and phone ASR then writes either way. n, l
and r fold to n, not l: 嗯 reads plain "n", and a bare "l" would meet the latin l of
"hello" in the intents' pinyin features (where latin letters stand for themselves)."""
FOLDED_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))
"""Finals folded into one: back and front nasals (-iang and -uang fold with -ang)."""

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Character -> folded syllable. Bounded by the number of Han characters; a dict write
# is atomic, so concurrent classifiers may fill it from several threads.
_by_char: dict[str, str] = {}


def fold(syllable: str) -> str:
    """``zhuang`` → ``zuan``: one form for the sounds callers and ASR mix up."""
    for initial, folded in FOLDED_INITIALS:
        if syllable.startswith(initial):
            syllable = folded + syllable[len(initial) :]
            break
    for final, folded in FOLDED_FINALS:
        if syllable.endswith(final):
            return syllable[: -len(final)] + folded
    return syllable


def char_syllable(char: str) -> str:
    """The folded syllable of one character (anything but a Han character is itself).

    Cached per character: pypinyin is slow per call, and an utterance is read
    character by character on the hot path of every call turn.
    """
    cached = _by_char.get(char)
    if cached is None:
        cached = fold(lazy_pinyin(char)[0]) if _HAN.match(char) else char
        _by_char[char] = cached
    return cached


def char_syllables(text: str) -> list[str]:
    """``char_syllable`` of each character of ``text``."""
    try:  # mapped in C while every character has been seen before, as usual
        return list(map(_by_char.__getitem__, text))
    except KeyError:
        return list(map(char_syllable, text))


@functools.lru_cache(maxsize=65536)
def word_syllables(word: str) -> tuple[str, ...]:
    """A word's folded syllables, read as a word (pypinyin's phrases pick the reading
    of a character with several: 银行 is yin hang, not yin xing); not a Han character,
    an item of its own.

    Cached per word: pypinyin is most of the cost of indexing a knowledge base, which
    has a few thousand distinct words.
    """
    return tuple(fold(s) for s in lazy_pinyin(word, style=Style.NORMAL, errors="default"))
