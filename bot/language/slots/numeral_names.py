"""Numbers that name or exaggerate rather than count: 双十一, 几十遍, 说了一百遍, 三元桥, 95588.

``numeral_context`` reads the grammar of counting around a numeral; this module the
few shapes in which a number that looks counted, or bare, is no quantity a caller
gives, for the ``number`` and ``amount`` slots:

* **A festival** (``双`` before the numeral): 双十一, 双12. 双 counts pairs after a
  number (两双鞋), never before one. And the June sale, 618 (六一八, 六幺八), but before
  money (618块).
* **A vague count** (``几`` next to the numeral, or 好几 after it): 几十个, 十几年,
  二十几块, 好几百, 五十好几; and a vague span, 一年半载, 十天半个月. The caller says no
  number; nothing can be stored.
* **A number with a leading zero** (03, 007): a code or a model, never a count.
* **Hyperbole**: a round number of a hundred or more (一百, 八百, 一千, 一万, 500) before
  a verb's count of times (遍, 回, 次, 趟) or years (说了一百遍, 等了一万年, 八百年不用),
  or any number of a hundred or more before 个 and a negation (一万个不放心, 一百二十个
  不同意), or a round one before 个 and a verb or an adjective (一万个放心不下, 一百个
  满意), or before 个, a short noun and 都 or 也 and a negation (一千个理由都没用, read by
  ``numeral_context.exaggerates``, which knows "not even"): no call center counts a
  thousand tellings. A real count of times or years is small (三次, 十五年), and counts
  of things (一百个口罩, 三百个大的) stay.
* **A name with 元**: one Chinese digit, 元 and a noun rather than 钱 (三元桥, 两元店,
  三元牛奶). Callers say 块 for money; 元 before a noun names a place, a shop or a brand.
  And a village's name with 里: a Chinese numeral of one or two characters, 里 and a
  word of a settlement (三里屯, 五里河, 十里铺, 八里庄, 十八里铺); 三里路, 五里地 are
  distances and count.
* **A decade or a generation**: a numeral before 年代 (五十年代, 90年代), two digits
  before 后 (八零后, 九五后, 90后): when people were born or lived, no quantity.
  (三天后 is a date's, and 十后 no generation: the digits are said one by one.)
* **A service number** (``is_service_number``): five Arabic digits of China's numbering
  plan for service lines: 95xxx and 96xxx (banks, insurers, utilities: 95588), 100xx
  (carriers: 10086), 11xxx (the post: 11185, 11183) and 12xxx (public hotlines: 12345,
  12306, 12123), not ending in 00
  (10000 and 12300 are also sums of money). And a short number dialled: three Arabic
  digits 11x or 12x after a verb of calling (打了120, 拨110, 报了110, 叫了120). Either
  may be read one by one in Chinese digits, as numbers to dial are (九六幺幺六, 打了幺幺零).
* **A year** (``_is_year``): four digits from 1900 to 2099 before 年, Arabic or Chinese
  read one by one (2024年的, 1998年生的, 二零二四年): no count of years.
* **A site or an app** (``_is_site``): Arabic digits after 在 with 上 right after them
  or after a name of up to three characters (在12306上, 在1688上, 在58同城上): a count is
  no place to be on. 上下 after a number is "about" (在2000上下) and counts.
"""

from __future__ import annotations

import re

from bot.language.slots.base import is_han
from bot.language.slots.numeral_words import lexicon
from bot.text.digits import digits_value

_FESTIVAL_MARK = "双"
_JUNE_SALE = "618"
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
_OF_OR_END = frozenset({"的", ""})
_NEGATIONS = frozenset("不没")
_YUAN = "元"
_NOT_A_NAME_AFTER_YUAN = frozenset("钱人零一二两三四五六七八九十百千万整左多")
"""After 元, what keeps it money: 钱, 人民币, a number (三元五), 整, approximators."""
_SINGLE_DIGITS = frozenset("一二两三四五六七八九十")
_SERVICE_NUMBER = re.compile(r"(?:9[56][0-9]{3}|1(?:00|1[0-9]|2[0-9])[0-9]{2})")
_SHORT_NUMBER = re.compile(r"1[12][0-9]")
_READ_ONE_BY_ONE = re.compile("[幺〇零一二三四五六七八九]{3,}")
"""Chinese digits read one by one, as numbers to dial are (幺幺零, 九五五八八), with no
十, 百 or 千 in them."""
"""Three digits of the plan's short numbers: 110, 119, 120, 122, 114."""
_CALLING = ("拨打", "呼叫", "拨", "打", "叫", "报")
"""Verbs of calling, before a short number (打120), perhaps with 了 or 过 between."""
_ASPECT = frozenset("了过")
_YEAR = re.compile(r"(?:19|20)[0-9]{2}|(?:一九|二[零〇])[零〇一二三四五六七八九]{2}")
"""A year of four digits, Arabic or Chinese read one by one (2024, 二零二四, 一九九八)."""
_YEAR_MARK = "年"
_AT = "在"
_ON = "上"
_ABOUT = "下"
"""After 上, 下 makes 上下, "about" (在2000上下): the number counts."""
_SITE_NAME_REACH = 3
_SERVICE_NUMBER_LENGTH = 5
_NOT_SERVICE_TAIL = "00"
_MONEY_UNITS = frozenset("块元")
_DECADE = "年代"
_GENERATION = "后"
_DIGITS_SAID_ONE_BY_ONE = re.compile(r"[0-9]{2}|[〇零一二三四五六七八九]{2}")
"""A generation's two digits (八零, 九五, 90), not a number said with 十 (八十)."""
_LI = "里"
_SETTLEMENTS = frozenset("屯河庄铺桥堡店营沟坡村台坪亭湾岗塘洼")
"""After a digit and 里, the last character of a village's name (三里屯, 十里铺)."""
_VAGUE_SPANS = ("年半载", "天半个月", "天半月")
"""After a numeral, idioms of "or so" (一年半载, 十天半个月): a vague span of time."""
_TELLING_AFTER = frozenset(
    {_VAGUE, _QUITE_A_FEW[0], _YUAN, _LI, _ONE_OF, _GENERATION, *_TIMES, *(span[0] for span in _VAGUE_SPANS)}
)
"""After a numeral, the characters that start one of the tests below."""


def is_service_number(numeral: str) -> bool:
    """Whether the Arabic ``numeral`` has the shape of a service line: 95588, 10086, 12345."""
    return (
        len(numeral) == _SERVICE_NUMBER_LENGTH
        and _SERVICE_NUMBER.fullmatch(numeral) is not None
        and not numeral.endswith(_NOT_SERVICE_TAIL)
    )


def _is_dialled(text: str, start: int, numeral: str) -> bool:
    """Whether the short number ``numeral`` at ``start`` (110, 120, 幺幺零 read as 110)
    follows a verb of calling."""
    if _SHORT_NUMBER.fullmatch(numeral) is None:
        return False
    before = start - 1 if start > 0 and text[start - 1] in _ASPECT else start
    return any(text.startswith(verb, before - len(verb)) for verb in _CALLING)


def _is_year(text: str, start: int, end: int) -> bool:
    """Whether four digits (2024, 二零二四) are a year: before 年, not 年代."""
    if text[end : end + 1] != _YEAR_MARK or text[end : end + 2] == _DECADE:
        return False
    return _YEAR.fullmatch(text, start, end) is not None


def _is_site(text: str, start: int, end: int) -> bool:
    """Whether Arabic digits after 在 name a site (在12306上, 在58同城上); see the module doc."""
    if start == 0 or text[start - 1] != _AT:
        return False
    for at in range(end, min(end + _SITE_NAME_REACH + 1, len(text))):
        if text[at] == _ON:
            return text[at + 1 : at + 2] != _ABOUT
        if not is_han(text[at]):
            return False
    return False


def _is_hyperbole(numeral: str, text: str, end: int) -> bool:
    after = text[end] if end < len(text) else ""
    if after in _TIMES:
        return _ROUND.fullmatch(numeral) is not None
    if after != _ONE_OF:
        return False
    following = text[end + 1 : end + 2]
    if following in _NEGATIONS:
        return _AT_LEAST_A_HUNDRED.fullmatch(numeral) is not None
    words = lexicon()
    if following in words.verbs or following in words.adjectives:
        # 一万个放心不下; but 三百个大的 counts big ones
        return text[end + 2 : end + 3] not in _OF_OR_END and is_round(numeral)
    return False  # a noun and 都没 after 个 (一千个理由都没用): numeral_context.exaggerates


def is_round(numeral: str) -> bool:
    """Whether ``numeral`` is a round number of a hundred or more (一百, 一万, 500)."""
    return _ROUND.fullmatch(numeral) is not None


def _is_yuan_name(numeral: str, text: str, end: int) -> bool:
    """One Chinese digit, 元 and a noun: 三元桥, 两元店."""
    following = text[end + 1 : end + 2]
    return numeral in _SINGLE_DIGITS and is_han(following) and following not in _NOT_A_NAME_AFTER_YUAN


def _is_li_name(numeral: str, text: str, end: int) -> bool:
    """A Chinese numeral of one or two characters, 里 and a settlement: 三里屯, 十里河,
    十八里铺."""
    short = numeral in _SINGLE_DIGITS or (len(numeral) == 2 and numeral[0] in _SINGLE_DIGITS)
    return short and text[end + 1 : end + 2] in _SETTLEMENTS


def is_figure_or_name(text: str, start: int, end: int) -> bool:
    """Whether the numeral ``text[start:end]`` names a festival, is vague, exaggerates,
    names a place with 元, a decade or a generation, has a leading zero, is the June
    sale, a service line or a short number dialled, a year or a site (see the module doc).
    On the callback path: the characters around the numeral decide which tests apply."""
    if start > 0 and text[start - 1] in _BEFORE_NAMES:
        return True  # 双十一, 几十
    after = text[end : end + 1]
    if after in _TELLING_AFTER:
        return _told_by_what_follows(text, start, end)
    numeral = text[start:end]
    if not text[start].isascii():
        # Digits read one by one (幺幺零, 九五五八八): the number they spell.
        spelt = digits_value(numeral) if _READ_ONE_BY_ONE.fullmatch(numeral) else None
        if spelt is None:
            return False
        numeral = spelt
    elif len(numeral) > 1 and numeral[0] == _ZERO and numeral[1].isdigit():
        return True  # 领克03
    if after in _MONEY_UNITS:
        return False
    return (
        numeral == _JUNE_SALE
        or is_service_number(numeral)
        or _is_dialled(text, start, numeral)
        or _is_site(text, start, end)
    )


def _told_by_what_follows(text: str, start: int, end: int) -> bool:
    """几 or 好几 (十几, 五十好几), 元 and a noun (三元桥), 里 and a settlement (三里屯), a
    decade or a generation (五十年代, 八零后), a year (2024年), a vague span (一年半载),
    hyperbole (一百遍)."""
    after = text[end]
    if after == _VAGUE or text[end : end + 2] in (_QUITE_A_FEW, _DECADE) or _is_year(text, start, end):
        return True
    if text.startswith(_VAGUE_SPANS, end):
        return True  # 一年半载, 十天半个月
    if after == _GENERATION:
        return _DIGITS_SAID_ONE_BY_ONE.fullmatch(text, start, end) is not None
    if after == _YUAN:
        return _is_yuan_name(text[start:end], text, end)
    if after == _LI:
        return _is_li_name(text[start:end], text, end)
    return after != _QUITE_A_FEW[0] and _is_hyperbole(text[start:end], text, end)
