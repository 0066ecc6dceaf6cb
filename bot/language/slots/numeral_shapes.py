"""Numerals whose own shape says they are no value: 七七八八, 四六级, 4G, A4, MP3.

Two tests on the characters of a numeral the number and amount slots found, with no
dictionary:

* Chinese digits with no unit (十百千万) that no caller says for a number: doubled
  pairs (七七八八, 三三两两), two digits side by side (四六级, 五五开, 三七开: a name or a
  share; 三四个, 两三个月: an approximate count, which the slots leave unread as they
  leave 几个 and 十几个, rather than read 34), and a digit next to 洞 (0) or 拐 (7),
  said only in digit strings, with another digit beyond (G幺洞拐三). A caller says 46
  as 四十六; digit by digit (幺三八) is the ``digits`` slot's business. Longer digit
  strings (三零二, 幺幺零) stay numbers with nothing counted after them, so *unsure*: a
  ``number`` slot asked "which room?" takes 三零二, and asks back one heard in words
  said for something else.
* Digits in a code with Latin letters: digits after a letter, or after a letter and a
  dash (A4, MP3, PM2.5, KFR-35GW, 5W-30, CA幺五幺幺, G幺洞拐三: a flight, a train), or
  after a word of letters and a space with nothing counted after them (Model 3, iPhone
  14); one digit before a letter (4G, 5G, 3D, 4S, 2B, 四G, 二G, 四S店), or more digits
  before a letter that is no unit (1080P, 24H, 十四Pro, 国六B). More digits before a
  unit are a quantity (30G, 三十G, 100M, 500ml, 5L), and so is anything after 人民币's
  RMB.
* Digits in a chain of three or more joined by dashes (15-15-15, a fertiliser's ratio;
  010-8888-6666, a number written in groups): a formula or a code. Two (5-10个) are a
  range, and count.
"""

from __future__ import annotations

import re

_DIGIT_VALUES = {c: i for i, c in enumerate("一二三四五六七八九", start=1)} | {"两": 2}
_PAIR = 2
_DOUBLED_PAIRS = 4
_CHINESE_DIGITS = frozenset("零〇一二两三四五六七八九幺")
_DASH = "-"
_SPACE = " "
_WORD = 2
"""The fewest letters of a word that a space may part from its number (Model 3)."""
_DIGIT_WORDS = frozenset("洞拐")
"""0 and 7 as said only in digit strings (幺洞拐三): a numeral next to them is a digit."""
_SAID_DIGITS = _CHINESE_DIGITS | _DIGIT_WORDS
_MONEY_PREFIX = "rmb"
_UNIT_LETTERS = frozenset("gmktbwval")
"""Letters that begin a unit after a number (30G, 100M, 2K, 1T, 64GB, 65W, 220V, 5A,
500ml, 5L): the number is a quantity."""


def is_unpaired_digits(numeral: str) -> bool:
    """Whether ``numeral`` is unit-less Chinese digits no one says for a number: 七七八八,
    四六, and 三四 (an approximate count, "three or four")."""
    values = [_DIGIT_VALUES.get(char) for char in numeral]
    if None in values or len(values) not in (_PAIR, _DOUBLED_PAIRS):
        return False
    if len(values) == _DOUBLED_PAIRS:
        return values[0] == values[1] and values[2] == values[3]
    return True


def next_to_digit_words(text: str, start: int, end: int) -> bool:
    """Whether the numeral ``text[start:end]`` is read one by one with 洞 or 拐 beside
    it, and another digit beyond them (G幺洞拐三, 三拐洞; not 三拐弯)."""
    if text[start - 1 : start] in _DIGIT_WORDS and start > 1 and text[start - 2] in _SAID_DIGITS:
        return True
    return text[end : end + 1] in _DIGIT_WORDS and text[end + 1 : end + 2] in _SAID_DIGITS


def _is_latin(char: str) -> bool:
    return char.isascii() and char.isalpha()


def after_latin_letter(text: str, start: int, *, spaced: bool = False) -> bool:
    """Whether a Latin letter, perhaps and a dash, stands right before ``start`` (A4,
    KFR-35, CA幺五幺幺), other than 人民币's RMB; with ``spaced``, a word of two letters or
    more and a space too (Model 3, iPhone 14)."""
    letters = start - 1 if text[start - 1 : start] == _DASH else start
    words_apart = spaced and letters == start and text[start - 1 : start] == _SPACE
    if words_apart:
        letters -= 1
    if letters == 0 or not _is_latin(text[letters - 1]):
        return False
    first = letters
    while first > 0 and _is_latin(text[first - 1]):
        first -= 1
    if words_apart and letters - first < _WORD:
        return False
    return text[first:letters].lower() != _MONEY_PREFIX


_DASHED_CHAIN = re.compile(r"[0-9]+(?:-[0-9]+){2,}")


def in_dashed_chain(text: str, start: int, end: int) -> bool:
    """Whether the Arabic digits ``text[start:end]`` are a link of a chain of three or
    more joined by dashes: 15-15-15 (see the module doc)."""
    if not (text[start - 1 : start] == _DASH or text[end : end + 1] == _DASH):
        return False  # on the callback path: most numerals have no dash beside them
    begin = start
    while begin > 0 and (text[begin - 1].isdigit() or text[begin - 1] == _DASH):
        begin -= 1
    chain = _DASHED_CHAIN.match(text, begin)
    return chain is not None and chain.end() >= end


def is_latin_code(text: str, start: int, end: int) -> bool:
    """Whether the numeral ``text[start:end]``, Arabic or Chinese, is part of a code with
    Latin letters: A4, MP3, CA幺五幺幺 after one; 4G, 四G, 十四Pro before one (see the
    module doc; 30G and 三十G are quantities)."""
    if start > 0 and after_latin_letter(text, start):
        return True
    if end >= len(text) or not _is_latin(text[end]):
        return False
    return end - start == 1 or text[end].lower() not in _UNIT_LETTERS
