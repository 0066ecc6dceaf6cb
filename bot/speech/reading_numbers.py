"""Every number in a text, rewritten in the hanzi it is said with.

One scanner (:data:`_SCANNER`, one compiled regular expression) finds each
written number and hands it to its reader. The alternatives are tried in this
order, so the first that fits a number decides how it is read:

======================  ===============================  ==============================
kind                    written                          said
======================  ===============================  ==============================
date                    2024-03-05, 2024/3/5             二零二四年三月五日
year range, year        2023-2024年, 2024年               二零二三到二零二四年, 二零二四年
time                    14:30, 8:05                      十四点三十分, 八点零五分
version                 1.2.3                            一点二点三
identifier (≥7 digits)  13812345678, 0571-88888888       幺三八，幺二三四，五六七八 …
fraction                1/3                              三分之一
ratio                   3:2                              三比二
number                  3500元, 3.5元, 50%, 5km, 第2, -3   三千五百元, 三元五角, 百分之五十,
                                                         五公里, 第二, 负三
======================  ===============================  ==============================

A number (the last kind) is read, in this order of precedence:

1. after 第, as an ordinal: 第二, never 第两;
2. with ``¥``/``$`` before it or 元 after it, as money: ¥1,500.50 → 一千五百元五角,
   0.5元 → 五角, 2元 → 两元, $20 → 二十美元 (more than two decimals: 三点五五五元);
   with 万/亿 after it: 1,500万元 → 一千五百万元;
3. with ``%`` or ``‰``: 百分之十二点五, 千分之五;
4. with a unit symbol (:mod:`bot.speech.reading_units`): 五公里, 零下五摄氏度;
5. as an identifier, digit by digit (:func:`bot.speech.reading_ids.spelled_in_context`:
   service numbers, leading zeros, after 验证码/工号/拨打 …; three or more digits
   touching Latin letters, as in G1234 or A301), when no measure word follows;
6. else as a quantity: 105 → 一百零五, 1,500 → 一千五百, -3 → 负三, ±0.5 → 正负零点五;
   a lone 2 is 两 before a counting measure word (两个, 两天), else 二.

Two numbers joined by ``-``, ``~``, ``–`` or ``—`` (or 至/到) form a range: the
joiner is said 到 and the first number is read like the second (3-5天 → 三到五天,
2-3天 → 两到三天, 10%-20% and 10-20% → 百分之十到百分之二十, 9:00-17:00 →
九点到十七点).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from bot.speech.chinese_numbers import (
    MAX_INTEGER,
    amount_to_chinese,
    decimal_to_chinese,
    integer_to_chinese,
)
from bot.speech.reading_dates import (
    DATE_PATTERN,
    TIME_PATTERN,
    YEAR_PATTERN,
    YEAR_RANGE_PATTERN,
    read_date,
    read_time,
    read_year,
    read_year_range,
)
from bot.speech.reading_ids import IDENTIFIER_PATTERN, read_identifier, spell, spelled_in_context
from bot.speech.reading_units import DEGREE_UNITS, UNIT_PATTERN, UNIT_WORDS, takes_liang, unit_takes_liang

_VERSION_PATTERN = r"(?<![0-9.])(?P<version>[0-9]+(?:\.[0-9]+){2,})(?![0-9])"
_FRACTION_PATTERN = r"(?<![0-9/.])(?P<frac_a>[0-9]+)/(?P<frac_b>[0-9]+)(?![0-9/]|\.[0-9])"
_RATIO_PATTERN = r"(?<![0-9.:：])(?P<ratio_a>[0-9]+)[:：](?P<ratio_b>[0-9]+)(?![0-9])"
_NUMBER_PATTERN = (
    r"(?:(?<![0-9A-Za-z.%‰日号月点分秒天年])(?P<sign>[-±]))?(?:(?P<cur>[¥$€£])\s?)?"
    r"(?<![0-9])(?P<num>[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.(?P<dec>[0-9]+))?"
    r"(?P<big>万亿|万|亿)?"
    rf"(?:\s?(?P<pct>[%‰])|\s?(?P<unit>{UNIT_PATTERN})(?![A-Za-z])|\s?(?P<yuan>元))?"
)
_SCANNER = re.compile(
    "|".join(
        f"(?P<{kind}>{pattern})"
        for kind, pattern in (
            ("date", DATE_PATTERN),
            ("years", YEAR_RANGE_PATTERN),
            ("yearonly", YEAR_PATTERN),
            ("time", TIME_PATTERN),
            ("versions", _VERSION_PATTERN),
            ("identifier", IDENTIFIER_PATTERN),
            ("fraction", _FRACTION_PATTERN),
            ("ratio", _RATIO_PATTERN),
            ("number", _NUMBER_PATTERN),
        )
    )
)
_RANGE_JOINER = re.compile(r"\s*(?:[-~～–—]|(?P<word>[至到]))\s*")
_RANGE_KINDS = frozenset({"date", "time", "number"})
_LATIN = re.compile(r"[A-Za-z]")
_CURRENCY_WORDS = {"$": "美元", "€": "欧元", "£": "英镑"}
_MIN_SPELLED_BY_LETTERS = 3  # G1234 and A301 are codes; 4S and 5G are counts
_MONEY_DECIMALS = 2  # 元角分: more decimals than that are read as a plain decimal


def read_numbers(text: str) -> str:
    """``text`` with every written number replaced by its reading (see the module docstring).

    Args:
        text: Text whose full-width digits are already ASCII.

    Returns:
        The text without ASCII digits.
    """
    tokens = list(_SCANNER.finditer(text))
    if not tokens:
        return text
    out: list[str] = []
    done = 0
    for index, token in enumerate(tokens):
        if token.start() < done:  # already read as the second half of a range
            continue
        out.append(text[done : token.start()])
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        joiner = _range_joiner(text, token, following)
        if following is not None and joiner is not None:
            out.append(_read(token, text, following) + (joiner["word"] or "到"))
            out.append(_read(following, text, following) + _range_currency(token, following))
            done = following.end()
        else:
            out.append(_read(token, text, None))
            done = token.end()
    out.append(text[done:])
    return "".join(out)


def _range_joiner(text: str, first: re.Match[str], second: re.Match[str] | None) -> re.Match[str] | None:
    """The joiner between two numbers that make a range, if they do."""
    if second is None or first.lastgroup not in _RANGE_KINDS or second.lastgroup not in _RANGE_KINDS:
        return None
    if second["sign"] or (first["pct"] and not second["pct"]):
        return None
    return _RANGE_JOINER.fullmatch(text, first.end(), second.start())


def _range_currency(first: re.Match[str], second: re.Match[str]) -> str:
    """¥100-200 is 一百到二百元: the first number's currency, said after the second."""
    if first["cur"] and second.lastgroup == "number" and not (second["cur"] or second["yuan"]):
        return _CURRENCY_WORDS.get(first["cur"], "元")
    return ""


def _read(token: re.Match[str], text: str, range_end: re.Match[str] | None) -> str:
    """One token's reading; ``range_end`` is the second number of the range the token
    is an end of (the token itself for the second end), whose unit, 元 or % both share."""
    if token.lastgroup == "number":
        return _read_number(token, text, range_end)
    return _READERS[token.lastgroup or ""](token)


def _read_version(token: re.Match[str]) -> str:
    """一点二点三 for 1.2.3: each part a number, the dots said 点."""
    return "点".join(_quantity(part) for part in token["version"].split("."))


def _read_ratio(token: re.Match[str]) -> str:
    """三比二 for 3:2."""
    return _quantity(token["ratio_a"]) + "比" + _quantity(token["ratio_b"])


def _read_number(token: re.Match[str], text: str, range_end: re.Match[str] | None) -> str:
    """A number with what is written around it (see the module docstring)."""
    digits = token["num"].replace(",", "")
    try:
        value = Decimal(digits + ("." + token["dec"] if token["dec"] else ""))
        reading = _number_words(token, text, value, range_end)
    except (InvalidOperation, ValueError):
        # Too large to say as a quantity (over 16 digits): say the digits instead.
        return spell(digits) + ("点" + spell(token["dec"]) if token["dec"] else "")
    sign = {"-": "负", "±": "正负"}.get(token["sign"] or "", "")
    return _with_sign(sign, reading, token, range_end)


def _number_words(token: re.Match[str], text: str, value: Decimal, range_end: re.Match[str] | None) -> str:
    """The words for a number's magnitude and its suffix (unit, %, 元), without its sign."""
    style = range_end or token
    end = style.end()
    if text[token.start() - 1 : token.start()] == "第" and not token["cur"]:
        return decimal_to_chinese(value)
    if style["pct"]:
        return ("百分之" if style["pct"] == "%" else "千分之") + decimal_to_chinese(value)
    if token["cur"] or token["yuan"]:
        return _money(token, value, range_end)
    if style["unit"] or style["yuan"] or style["big"] or style["cur"]:
        liang = not style["unit"] or unit_takes_liang(style["unit"])
        unit = UNIT_WORDS[token["unit"]] if token["unit"] else ""
        return _count(value, liang=liang) + (token["big"] or "") + unit
    if not token["dec"] and "," not in token["num"] and _is_identifier(token, text, end):
        return spell(token["num"])
    return _count(value, liang=takes_liang(text, end))


def _money(token: re.Match[str], value: Decimal, range_end: re.Match[str] | None) -> str:
    """¥1,500.50 → 一千五百元五角, 3.5元 → 三元五角, 2万元 → 两万元, $20 → 二十美元."""
    currency = _CURRENCY_WORDS.get(token["cur"] or "", "元")
    big = token["big"] or ""
    exact_cents = len(token["dec"] or "") <= _MONEY_DECIMALS
    if currency == "元" and not big and range_end is None and exact_cents:
        return amount_to_chinese(value)
    first_of_range = range_end is not None and range_end is not token
    said_currency = currency if (token["cur"] or token["yuan"]) and not first_of_range else ""
    return _count(value, liang=True) + big + said_currency


def _with_sign(sign: str, reading: str, token: re.Match[str], range_end: re.Match[str] | None) -> str:
    """负三, 正负零点五; a temperature below zero is 零下五摄氏度."""
    style = range_end or token
    if sign == "负" and (style["unit"] in DEGREE_UNITS or style.string.startswith("度", style.end())):
        return "零下" + reading
    return sign + reading


def _count(value: Decimal, *, liang: bool) -> str:
    """A quantity; a lone 2 is 两 when ``liang`` (两个), else 二."""
    if value == 2 and liang and value.as_tuple().exponent == 0:
        return "两"
    if value == value.to_integral_value() and value.as_tuple().exponent == 0:
        return integer_to_chinese(int(value))
    return decimal_to_chinese(value)


def _quantity(digits: str) -> str:
    value = int(digits)
    return integer_to_chinese(value) if value <= MAX_INTEGER else spell(digits)


def _read_fraction(token: re.Match[str]) -> str:
    """三分之一 for 1/3; a zero denominator is no fraction, so its slash is said 斜杠."""
    numerator, denominator = token["frac_a"], token["frac_b"]
    if int(denominator) == 0:
        return _quantity(numerator) + "斜杠" + _quantity(denominator)
    return _quantity(denominator) + "分之" + _quantity(numerator)


def _is_identifier(token: re.Match[str], text: str, measure_at: int) -> bool:
    """Whether a bare integer is a code rather than a quantity.

    Three or more digits touching Latin letters are a code (G1234次, A301); else a
    number before a counting measure word is a quantity (验证码是6位), and one in
    context an identifier (尾号1234, 95588, 1203室).
    """
    start, end = token.start("num"), token.end("num")
    if len(token["num"]) >= _MIN_SPELLED_BY_LETTERS:
        before = text[max(0, start - 2) : start].replace("-", "")
        if _LATIN.fullmatch(before[-1:]) or _LATIN.match(text, end):
            return True
    if takes_liang(text, measure_at):
        return False
    return spelled_in_context(token["num"], text, start, end)


_READERS: dict[str, Callable[[re.Match[str]], str]] = {
    "date": read_date,
    "years": read_year_range,
    "yearonly": read_year,
    "time": read_time,
    "versions": _read_version,
    "identifier": read_identifier,
    "fraction": _read_fraction,
    "ratio": _read_ratio,
}
