"""Numbers that name or exaggerate rather than count: 双十一, 几十遍, 说了一百遍, 三元桥, 95588.

``numeral_context`` reads the grammar of counting around a numeral; this module the
few shapes in which a number that looks counted, or bare, is no quantity a caller
gives, for the ``number`` and ``amount`` slots:

* **A festival** (``双`` before the numeral): 双十一, 双12. 双 counts pairs after a
  number (两双鞋), never before one.
* **A vague count** (``几`` next to the numeral, or 好几 after it): 几十个, 十几年,
  二十几块, 好几百, 五十好几. The caller says no number; nothing can be stored.
* **A number with a leading zero** (03, 007): a code or a model, never a count.
* **Hyperbole**: a round number of a hundred or more (一百, 八百, 一千, 一万, 500) before
  a verb's count of times (遍, 回, 次, 趟) or years (说了一百遍, 等了一万年, 八百年不用),
  or any number of a hundred or more before 个 and a negation (一万个不放心, 一百二十个
  不同意): no call center counts a thousand tellings. A real count of times or years
  is small (三次, 十五年), and counts of things (一百个口罩) stay.
* **A name with 元**: one Chinese digit, 元 and a noun rather than 钱 (三元桥, 两元店,
  三元牛奶). Callers say 块 for money; 元 before a noun names a place, a shop or a brand.
* **A decade or a generation**: a numeral before 年代 (五十年代, 90年代), two digits
  before 后 (八零后, 九五后, 90后): when people were born or lived, no quantity.
  (三天后 is a date's, and 十后 no generation: the digits are said one by one.)
* **A service number** (``is_service_number``): five Arabic digits of China's numbering
  plan for service lines: 95xxx and 96xxx (banks, insurers, utilities: 95588), 100xx
  (carriers: 10086) and 123xx (government hotlines: 12345), not ending in 00 (10000
  and 12300 are also sums of money).
"""

from __future__ import annotations

import re

from bot.language.slots.base import is_han

_FESTIVAL_MARK = "双"
_VAGUE = "几"
_BEFORE_NAMES = frozenset({_FESTIVAL_MARK, _VAGUE})
_QUITE_A_FEW = "好几"
_ZERO = "0"
_ROUND = re.compile(r"(?:[一二两三四五六七八九]?(?:百|千|万|十万|百万|千万)|[1-9]00+)")
"""A round number of a hundred or more: one digit and a unit (一百, 八百, 一万), or 500."""
_AT_LEAST_A_HUNDRED = re.compile(
    r"[一二两三四五六七八九十]*[百千万亿][一二两三四五六七八九十百千万零]*|[1-9][0-9]{2,}"
)
_TIMES = frozenset("遍回次趟年")
"""A verb's count of times, and years: after a round hundred or more, hyperbole."""
_ONE_OF = "个"
_NEGATIONS = frozenset("不没")
_YUAN = "元"
_NOT_A_NAME_AFTER_YUAN = frozenset("钱人零一二两三四五六七八九十百千万整左多")
"""After 元, what keeps it money: 钱, 人民币, a number (三元五), 整, approximators."""
_SINGLE_DIGITS = frozenset("一二两三四五六七八九十")
_SERVICE_NUMBER = re.compile(r"(?:9[56][0-9]{3}|1(?:00|23)[0-9]{2})")
_SERVICE_NUMBER_LENGTH = 5
_NOT_SERVICE_TAIL = "00"
_MONEY_UNITS = frozenset("块元")
_DECADE = "年代"
_GENERATION = "后"
_DIGITS_SAID_ONE_BY_ONE = re.compile(r"[0-9]{2}|[〇零一二三四五六七八九]{2}")
"""A generation's two digits (八零, 九五, 90), not a number said with 十 (八十)."""
_TELLING_AFTER = frozenset({_VAGUE, _QUITE_A_FEW[0], _YUAN, _ONE_OF, _GENERATION, *_TIMES})
"""After a numeral, the characters that start one of the tests below."""


def is_service_number(numeral: str) -> bool:
    """Whether the Arabic ``numeral`` has the shape of a service line: 95588, 10086, 12345."""
    return (
        len(numeral) == _SERVICE_NUMBER_LENGTH
        and _SERVICE_NUMBER.fullmatch(numeral) is not None
        and not numeral.endswith(_NOT_SERVICE_TAIL)
    )


def _is_hyperbole(numeral: str, text: str, end: int) -> bool:
    after = text[end] if end < len(text) else ""
    if after in _TIMES:
        return _ROUND.fullmatch(numeral) is not None
    if after == _ONE_OF and text[end + 1 : end + 2] in _NEGATIONS:
        return _AT_LEAST_A_HUNDRED.fullmatch(numeral) is not None
    return False


def _is_yuan_name(numeral: str, text: str, end: int) -> bool:
    """One Chinese digit, 元 and a noun: 三元桥, 两元店."""
    following = text[end + 1 : end + 2]
    return numeral in _SINGLE_DIGITS and is_han(following) and following not in _NOT_A_NAME_AFTER_YUAN


def is_figure_or_name(text: str, start: int, end: int) -> bool:
    """Whether the numeral ``text[start:end]`` names a festival, is vague, exaggerates,
    names a place with 元, a decade or a generation, has a leading zero or is a service
    line (see the module doc).
    On the callback path: the characters around the numeral decide which tests apply."""
    if start > 0 and text[start - 1] in _BEFORE_NAMES:
        return True  # 双十一, 几十
    after = text[end : end + 1]
    if after in _TELLING_AFTER:
        return _told_by_what_follows(text, start, end)
    if not text[start].isascii():
        return False
    numeral = text[start:end]
    if len(numeral) > 1 and numeral[0] == _ZERO and numeral[1].isdigit():
        return True  # 领克03
    return after not in _MONEY_UNITS and is_service_number(numeral)


def _told_by_what_follows(text: str, start: int, end: int) -> bool:
    """几 or 好几 (十几, 五十好几), 元 and a noun (三元桥), a decade or a generation
    (五十年代, 八零后), hyperbole (一百遍)."""
    after = text[end]
    if after == _VAGUE or text[end : end + 2] in (_QUITE_A_FEW, _DECADE):
        return True
    if after == _GENERATION:
        return _DIGITS_SAID_ONE_BY_ONE.fullmatch(text, start, end) is not None
    if after == _YUAN:
        return _is_yuan_name(text[start:end], text, end)
    return after != _QUITE_A_FEW[0] and _is_hyperbole(text[start:end], text, end)
