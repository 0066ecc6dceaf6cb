"""Numbers as phone-line ASR writes them: Chinese numerals.

Two different readings, used by different slot types:

* Digit strings (phone, ID card, digits): each character is one digit (幺三八 = 138).
  That reading is shared with the knowledge base: ``bot.text.digits``.
* Numerals (number, amount, date, time): positional Chinese numbers (三千五 = 3500,
  两万三 = 23000, 一百零五, 一点五) and Arabic ones ("3500", "1.5万"). The
  positional arithmetic, including the spoken elisions, is cn2an's; finding the
  numerals in a sentence and keeping their offsets is ours.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import cn2an  # type: ignore[import-untyped]

from bot.language.slots.base import Candidate, is_han
from bot.language.slots.numeral_context import not_counted
from bot.language.slots.numeral_shapes import (
    after_latin_letter,
    in_dashed_chain,
    is_latin_code,
    is_unpaired_digits,
    next_to_digit_words,
)
from bot.language.slots.numeral_words import (
    COUNTERS,
    in_numeral_idiom,
    inside_word,
    measure_end,
    numeral_words,
    yi_before_verb,
)
from bot.text.spacing import words_spaced

CN_DIGITS = "零〇一二两三四五六七八九幺"
CN_UNITS = "十百千万亿"
DIGIT_CLASS = f"0-9０-９{CN_DIGITS}"
NUMERAL_PATTERN = (
    r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,8})?[万亿]?"  # 3,500  1,500万  1,500.50
    rf"|[{DIGIT_CLASS}{CN_UNITS}]+"
    rf"(?:(?:点|(?<=[0-9])\.(?=[0-9]))[{DIGIT_CLASS}]{{1,8}}[万亿]?)?)"
)
"""A numeral: Chinese, Arabic or mixed, with an optional 点/. decimal part; Arabic
thousands separators (3,500) and a 万/亿 after them (1,500万)."""

# 一 before these is a word (一下, 一些, 一共, 一点儿), not the number 1; so is 一
# before a verb's measure of "a little, once" (说一遍, 问一句, 看一眼, 说一声).
_WORD_AFTER_YI = "下些样般直起定会切致旦边共同再向道律概并齐遍句眼声"
_NOT_NUMBER_YI = re.compile(rf"[一幺](?=[{_WORD_AFTER_YI}]|点(?![{DIGIT_CLASS}]))")
# 第一, 第三: an ordinal, a rank and not a quantity.
_ORDINAL_MARK = "第"


def is_word_yi(text: str, start: int, end: int) -> bool:
    """Tell whether ``text[start:end]`` is a lone 一 that belongs to a word (一下, 一点儿)."""
    return end - start == 1 and _NOT_NUMBER_YI.match(text, start) is not None


def is_not_quantity(text: str, start: int, end: int) -> bool:
    """Tell whether the numeral ``text[start:end]`` is part of a word, not a value: a
    lone 一 of a word (一下) or before a verb (一看就知道), an ordinal (第三), a code
    (4G, A4, CA幺五幺幺, 15-15-15), digits no one says for a number (七七八八, 四六级, G幺洞拐三;
    see ``numeral_shapes``),
    or a numeral inside a word that holds one (三国, 一心一意, 十万火急; see
    ``numeral_words``) or shaped like a numeral idiom (三番五次, 两室一厅; see
    ``in_numeral_idiom``)."""
    if is_word_yi(text, start, end) or (start > 0 and text[start - 1] == _ORDINAL_MARK):
        return True
    if not_counted(text, start, end):
        return True
    if is_latin_code(text, start, end) or _after_latin_word(text, start, end):
        return True  # 4G, 四G, CA幺五幺幺, Model 3
    if text[start].isascii():  # 15-15-15; 7天酒店, 360杀毒
        return in_dashed_chain(text, start, end) or inside_word(text, start, end, numeral_words())
    return (
        _is_digit_string(text, start, end)
        or yi_before_verb(text, start, end)
        or (inside_word(text, start, end, numeral_words()) and not _before_long_measure(text, start, end))
        or in_numeral_idiom(text, start, end)
    )


def _before_long_measure(text: str, start: int, end: int) -> bool:
    """Whether a measure noun of two characters or more starts at ``end``: 十分钟 counts,
    whatever word (十分, "very") the numeral and the measure's first character make;
    but not when the numeral and the measure are a word themselves (一辈子), or are cut
    by one (三分钟热度, a saying)."""
    after = measure_end(text, end)
    if after is None or after - end <= 1:
        return False
    words = numeral_words()
    return text[start:after] not in words and not inside_word(text, start, after, words)


def _is_digit_string(text: str, start: int, end: int) -> bool:
    """Whether the Chinese numeral ``text[start:end]``, no code with Latin letters, is
    digits rather than a number: digits no one says for a number (七七八八, 四六级, 三四),
    or digits next to 洞 or 拐 (G幺洞拐三)."""
    return is_unpaired_digits(text[start:end]) or next_to_digit_words(text, start, end)


def _after_latin_word(text: str, start: int, end: int) -> bool:
    """Whether the numeral ``text[start:end]`` follows a word of Latin letters and a
    space with nothing counted after it: a model (Model 3, iPhone 14; OK 3个 counts)."""
    return start > 1 and after_latin_letter(text, start, spaced=True) and measure_end(text, end) is None


# cn2an says "not a number" with ValueError, but some malformed input (十23 in
# smart mode) trips a KeyError inside it instead; both mean "not a number" here.
_CN2AN_REJECTS = (ValueError, KeyError, IndexError)
_FULL_WIDTH = str.maketrans({chr(0xFF10 + d): str(d) for d in range(10)})
_MULTIPLIER = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
_ASCII_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def parse_numeral(numeral: str) -> Decimal | None:
    """Convert one numeral as found by ``NUMERAL_PATTERN`` to its exact value.

    Args:
        numeral: "三千五", "两万三", "一百零五", "一点五", "1.5万", "3,500", "3千5"...

    Returns:
        The value, or None when the characters do not form a well-made number
        (五五百, 千万 as in 千万别).
    """
    text = numeral.replace(",", "").translate(_FULL_WIDTH)
    scale = Decimal(1)
    # "1.5万" and "一点五万": cn2an reads 万 after a decimal part only for Arabic digits.
    if text[-1] in _MULTIPLIER and ("点" in text or "." in text):
        scale = _MULTIPLIER[text[-1]]
        text = text[:-1]
    if _ASCII_NUMBER.fullmatch(text):
        return Decimal(text) * scale
    mode = "smart" if any(c.isascii() for c in text) else "normal"
    try:
        raw: object = cn2an.cn2an(text, mode)
    except _CN2AN_REJECTS:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    # str() of the float is the shortest repr, so 1.5 stays 1.5, not 1.4999…
    return Decimal(str(raw)) * scale


def small_int(numeral: str) -> int | None:
    """Convert a small numeral of a date or time (五, 二十, 12, 零五, 二零二六) to an int."""
    value = parse_numeral(numeral)
    if value is None or value != value.to_integral_value():
        return None
    return int(value)


_RIGHT = "对"
"""A pair, but after a number and a gap "right?" (两千八 对 吧): never joined to it."""


def squeeze_numerals(text: str) -> tuple[str, list[int]]:
    """Drop whitespace ASR put inside a Chinese numeral ("三千 五百") or between words
    ("301 医院", "打 11185": the ASR's word breaks), keeping offsets.

    A gap before a number goes after a Chinese character (是 301, 打 11185). Where the
    ASR writes every word apart (``bot.text.spacing``), so does every gap next to a Chinese
    character, but between a number and a word that a classifier starts (301 医院 names a
    hospital as 301医院 does; 两千八 对吧 and 两千八 对 吧 are no eight pairs, while 五 毛
    and 一 张, the classifier alone, are 五毛 and 一张); elsewhere a gap after a number is a pause
    that ends it (七十五 学生有没有优惠). Between two Arabic numbers ("3 5") or a letter
    and a number ("iPhone 15") the space may be the caller's own, so it stays.

    Returns:
        The squeezed text and, for each of its characters, its offset in ``text``.
    """
    numeral_chars = CN_DIGITS + CN_UNITS
    spaced = words_spaced(text)
    out: list[str] = []
    index: list[int] = []
    for i, char in enumerate(text):
        if char.isspace() and out and i + 1 < len(text):
            after = text[i + 1 :].lstrip()
            before, nxt = out[-1], after[:1]
            said_before = before in numeral_chars or before.isdigit()
            said_after = nxt in numeral_chars or nxt.isdigit()
            # 是 301, 打 11185; and where the ASR spaces its words, every word break next to
            # a Chinese character (301 医院, 5号 门), but not where it marks a pause (门票一张
            # 七十五 学生有没有优惠: 学生 is no count of 75; 一千八 包不包: no 8 bags).
            if said_after and is_han(before):
                continue
            # 两千八 对吧: the classifier starts a longer word (looked at only after a number).
            counted = said_before and nxt in COUNTERS
            counted = counted and (nxt == _RIGHT or len(after.split(maxsplit=1)[0]) > 1)
            if spaced and (is_han(before) or is_han(nxt)) and not counted:
                continue
            both = said_before and said_after
            if both and (before in numeral_chars or nxt in numeral_chars):
                continue
        out.append(char)
        index.append(i)
    return "".join(out), index


@dataclass(frozen=True)
class Span:
    """A piece of the original text: offsets and characters."""

    start: int
    end: int


def squeezed_candidates(text: str, find: Callable[[str], Iterable[Candidate]]) -> Iterator[Candidate]:
    """The candidates ``find`` reads in ``text`` squeezed (``squeeze_numerals``: 九号 电动车
    as 九号电动车), at their offsets in ``text``."""
    squeezed, index = squeeze_numerals(text)
    for candidate in find(squeezed):
        span = original_span(index, candidate.start, candidate.end)
        yield dataclasses.replace(candidate, start=span.start, end=span.end)


def original_span(index: list[int], start: int, end: int) -> Span:
    """Map a span of a normalized text back to the original through its index map."""
    return Span(index[start], index[end - 1] + 1)
