"""Asking back, and understanding the answer.

A clarification lists its choices in the protocol's own shape,
``请问您是想咨询[转诊转院],[异地安置]还是[异地急诊]?``, and the caller answers by
position (第二个, 最后一个), by name (异地安置), by part of a name or its sound
(安置那个, 按置), or, to a single choice, with yes.

Sounds are weak evidence, so they only count where they can tell the choices apart:
a syllable of the question that produced the clarification never picks a choice. The
choices were all close to that question, so its sounds are in several of them or in
none by chance; a caller who says the question again (请问异地就医如何备案: its 案 sounds
like 安置's 安) is asking it again, not answering.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.text.pinyin import word_syllables
from knowledge.entries import Entry
from knowledge.text import Analyzer

_NUMERALS = {"一": 1, "头": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_ORDINAL = re.compile(r"第([一二两三四五六1-6])|([一二两三四五六1-6头])(?:个|项|种|条)")
_LAST = re.compile(r"最后|末尾|后面那|后一个|最后面")
_MIDDLE = re.compile(r"中间")
_YES = re.compile(r"(?:嗯|恩)?(?:是|对|好|没错|就是)(?:的|啊|呀|呢|这个|那个|对|是)*")
_NO = re.compile(r"(?:嗯|恩)?都?(?:不是|不对|没有|不用|不要)(?:的|啊|呀|吧|了)*")


def clarification(choices: Sequence[Entry]) -> str:
    """``请问您是想咨询[A],[B]还是[C]?``; with one choice, ``请问您是想咨询[A]吗?``."""
    names = [f"[{entry.title}]" for entry in choices]
    if len(names) == 1:
        return f"请问您是想咨询{names[0]}吗?"
    return f"请问您是想咨询{','.join(names[:-1])}还是{names[-1]}?"


def resolve(
    message: str, choices: Sequence[Entry], analyzer: Analyzer, *, asked: str = ""
) -> Entry | bool | None:
    """Which choice ``message`` picks.

    Args:
        message: What the caller said after the clarification.
        choices: The entries it offered, in order.
        analyzer: The knowledge base's analyzer.
        asked: The message that the clarification answered; its syllables never pick
            a choice by sound (see the module docstring).

    Returns:
        The entry picked; ``False`` when the caller declines every choice ("都不是");
        None when the message does not answer the clarification (a new question).
    """
    text = analyzer.normalize(message)
    if not text or not choices:
        return None
    by_position = _by_position(text, len(choices))
    if by_position is not None:
        return choices[by_position]
    named = [entry for entry in choices if analyzer.normalize(entry.title) in text]
    if named:
        return max(named, key=lambda entry: len(entry.title))
    if _NO.fullmatch(text):
        return False
    if len(choices) == 1 and _YES.fullmatch(text):
        return choices[0]
    return _by_sound(text, choices, analyzer, _syllables(analyzer, asked))


def _by_position(text: str, count: int) -> int | None:
    if _LAST.search(text):
        return count - 1
    if count == 3 and _MIDDLE.search(text):
        return 1
    match = _ORDINAL.search(text)
    if match is None:
        return None
    numeral = match.group(1) or match.group(2)
    position = int(numeral) if numeral.isdigit() else _NUMERALS[numeral]
    return position - 1 if position <= count else None


def _syllables(analyzer: Analyzer, text: str) -> set[str]:
    """The folded syllables of the topic words of ``text``."""
    return set(word_syllables("".join(analyzer.content(text))))


def _by_sound(text: str, choices: Sequence[Entry], analyzer: Analyzer, asked: set[str]) -> Entry | None:
    """The one choice whose own syllables (in no other choice's name) the message says
    most of, not counting those of the question asked; None on a tie or when it says none."""
    said = _syllables(analyzer, text) - asked
    names = [set(word_syllables(analyzer.normalize(entry.title))) for entry in choices]
    overlaps = []
    for i, name in enumerate(names):
        others = set().union(*(other for j, other in enumerate(names) if j != i))
        overlaps.append(len((name - others) & said))
    best = max(overlaps)
    if best == 0 or overlaps.count(best) > 1:
        return None
    return choices[overlaps.index(best)]
