"""Numerals whose own shape says they are no value: 七七八八, 四六级, 4G, A4, MP3.

Two tests on the characters of a numeral the number and amount slots found, with no
dictionary:

* Chinese digits with no unit (十百千万) that no caller says for a number: doubled
  pairs (七七八八, 三三两两) and two digits that are not neighbours (四六级, 五五开,
  三七开). A caller says 46 as 四十六; digit by digit (幺三八) is the ``digits`` slot's
  business. Two neighbours (三四个, 七八百) are an approximate number and stay.
* Arabic digits in a code with Latin letters: after a letter (A4, MP3, PM2.5), one
  digit before a letter (4G, 5G, 3D, 4S, 2B), or more digits before a letter that is
  no unit (1080P, 24H). More digits before a unit are a quantity (30G, 100M, 500ml,
  5L), and so is anything after 人民币's RMB.
"""

from __future__ import annotations

_DIGIT_VALUES = {c: i for i, c in enumerate("一二三四五六七八九", start=1)} | {"两": 2}
_PAIR = 2
_DOUBLED_PAIRS = 4
_MONEY_PREFIX = "rmb"
_UNIT_LETTERS = frozenset("gmktbwval")
"""Letters that begin a unit after a number (30G, 100M, 2K, 1T, 64GB, 65W, 220V, 5A,
500ml, 5L): the number is a quantity."""


def is_unpaired_digits(numeral: str) -> bool:
    """Whether ``numeral`` is unit-less Chinese digits no one says for a number: 七七八八, 四六."""
    values = [_DIGIT_VALUES.get(char) for char in numeral]
    if None in values or len(values) not in (_PAIR, _DOUBLED_PAIRS):
        return False
    if len(values) == _DOUBLED_PAIRS:
        return values[0] == values[1] and values[2] == values[3]
    first, second = values
    return first is not None and second is not None and abs(first - second) != 1


def _is_latin(char: str) -> bool:
    return char.isascii() and char.isalpha()


def is_latin_code(text: str, start: int, end: int) -> bool:
    """Whether the Arabic numeral ``text[start:end]`` is part of a code: A4, MP3, 4G, 3D."""
    if start > 0 and _is_latin(text[start - 1]):
        letters = start
        while letters > 0 and _is_latin(text[letters - 1]):
            letters -= 1
        return text[letters:start].lower() != _MONEY_PREFIX
    if end >= len(text) or not _is_latin(text[end]):
        return False
    return end - start == 1 or text[end].lower() not in _UNIT_LETTERS
