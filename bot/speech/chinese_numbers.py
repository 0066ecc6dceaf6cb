"""Numbers written out in Mandarin hanzi, the way a call-center agent says them.

Four readings, used by prompt templates (:mod:`bot.language.templates`) and by the
text normalizer (:mod:`bot.speech.normalize`):

* :func:`integer_to_chinese` and :func:`decimal_to_chinese` read a quantity:
  105 → 一百零五, 23000 → 两万三千, 1.5 → 一点五. Zeros inside a number are read
  once (一千零五), a leading 一十 is shortened to 十 (十五, 十万), and a 2 in the
  thousands place or alone before 万/亿 is 两 (两千, 两万), as people say it.
* :func:`amount_to_chinese` reads money in 元/角/分: 1234.56 → 一千二百三十四元五角六分.
* :func:`digits_to_chinese` spells an identifier digit by digit: 1 → 幺 (not 一,
  easily misheard as 七 on a phone line) and the ID-card check letter X → 叉.
* :func:`year_to_chinese` reads a year digit by digit as people say years:
  2024 → 二零二四, 1998 → 一九九八 (一, not 幺: a year is not an identifier).

The slot parsers read numerals with `cn2an`, but its writing side says 二千 and
二万三千 where people say 两千 and 两万三千, and writes money in the financial
characters (壹仟贰佰…); these few rules say numbers the way an agent does.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MAX_INTEGER = 10**16 - 1
"""The largest magnitude read as a quantity: up to 九千九百九十九万…亿 (10^16 - 1)."""

_DIGITS = "零一二三四五六七八九"
_PLACE_UNITS = ("", "十", "百", "千")  # within a four-digit section, right to left
_SPELLED = str.maketrans("0123456789Xx", "零幺二三四五六七八九叉叉")
_YEAR_DIGITS = str.maketrans("0123456789", _DIGITS)
_CENT = Decimal("0.01")


def integer_to_chinese(number: int) -> str:
    """Read an integer as a quantity: 105 → 一百零五, 23000 → 两万三千, -3 → 负三.

    Args:
        number: Any integer whose magnitude is at most :data:`MAX_INTEGER`.

    Returns:
        The reading in hanzi.

    Raises:
        ValueError: ``number`` is too large to read as a quantity.
    """
    if number < 0:
        return "负" + integer_to_chinese(-number)
    if number > MAX_INTEGER:
        raise ValueError(f"{number} is too large to read as a quantity")
    if number == 0:
        return _DIGITS[0]
    text = _sections_to_chinese(number)
    # 一十五 and 一十万 are said 十五 and 十万; 一百一十 keeps its inner 一.
    return text[1:] if text.startswith("一十") else text


def decimal_to_chinese(number: Decimal) -> str:
    """Read a decimal number: 1.5 → 一点五, 0.25 → 零点二五, 2 → 二.

    Trailing zeros of the fraction are not read (1.50 → 一点五). Round the number
    first if it has more decimals than should be spoken.

    Args:
        number: A finite decimal whose integer part is at most :data:`MAX_INTEGER`.

    Returns:
        The reading in hanzi.

    Raises:
        ValueError: ``number`` is not finite or too large.
    """
    if not number.is_finite() or abs(number) > MAX_INTEGER:
        raise ValueError(f"{number} is not a number that can be read")
    sign = "负" if number < 0 else ""
    whole, _, fraction = f"{abs(number):f}".partition(".")
    fraction = fraction.rstrip("0")
    text = integer_to_chinese(int(whole))
    if fraction:
        text += "点" + "".join(_DIGITS[int(d)] for d in fraction)
    return sign + text


def amount_to_chinese(amount: Decimal) -> str:
    """Read a sum of money in 元, 角 and 分, rounded half up to the 分.

    3500 → 三千五百元, 23000 → 两万三千元, 1234.56 → 一千二百三十四元五角六分,
    0.5 → 五角, 100.05 → 一百元零五分, 2 → 两元, 0 → 零元.

    Args:
        amount: A finite decimal whose integer part is at most :data:`MAX_INTEGER`.

    Returns:
        The reading in hanzi.

    Raises:
        ValueError: ``amount`` is not finite or too large.
    """
    if not amount.is_finite() or abs(amount) > MAX_INTEGER:
        raise ValueError(f"{amount} is not an amount that can be read")
    cents = int(abs(amount).quantize(_CENT, rounding=ROUND_HALF_UP) * 100)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    parts = []
    if yuan:
        parts.append(_count(yuan) + "元")
    if jiao:
        parts.append(_count(jiao) + "角")
    elif yuan and fen:
        parts.append("零")  # 一百元零五分: the missing 角 is heard as 零
    if fen:
        parts.append(_count(fen) + "分")
    if not parts:
        return "零元"
    return ("负" if amount < 0 else "") + "".join(parts)


def digits_to_chinese(digits: str) -> str:
    """Spell digits one by one the way agents read identifiers: 138 → 幺三八, X → 叉.

    Args:
        digits: ASCII digits, possibly ending in the ID-card check letter ``X``.
            Other characters are kept as they are.

    Returns:
        The spelled digits.
    """
    return digits.translate(_SPELLED)


def year_to_chinese(digits: str) -> str:
    """Read a year the way it is said, digit by digit with 一 and 零: 2008 → 二零零八.

    Args:
        digits: The year's ASCII digits.

    Returns:
        The year in hanzi; characters other than digits are kept as they are.
    """
    return digits.translate(_YEAR_DIGITS)


def _count(number: int) -> str:
    """A quantity before a measure word: 2 is 两 (两元, 两角), everything else as read."""
    return "两" if number == 2 else integer_to_chinese(number)


def _sections_to_chinese(number: int) -> str:
    """Read 1 ≤ number < 10^16: the part above 亿 is itself read with 万 (一万零二十亿)."""
    above, below = divmod(number, 10**8)
    if not above:
        return _below_yi_to_chinese(below, before_unit=False)
    # A lone 2 before 亿 is 两 (两亿), but 两万零二亿 keeps its 二.
    text = _below_yi_to_chinese(above, before_unit=above < 10_000) + "亿"
    if below:
        text += ("零" if below < 10**7 else "") + _below_yi_to_chinese(below, before_unit=False)
    return text


def _below_yi_to_chinese(number: int, *, before_unit: bool) -> str:
    """Read 1 ≤ number < 10^8; ``before_unit`` says a 亿 follows."""
    above, below = divmod(number, 10_000)
    if not above:
        return _section_to_chinese(below, has_unit=before_unit)
    text = _section_to_chinese(above, has_unit=True) + "万"
    if below:
        # A gap of zeros between two spoken parts is read once as 零 (一万零五).
        text += ("零" if below < 1000 else "") + _section_to_chinese(below, has_unit=before_unit)
    return text


def _section_to_chinese(section: int, *, has_unit: bool) -> str:
    """Read 1–9999; ``has_unit`` says a 万/亿 follows, so a lone 2 is 两 (两万)."""
    parts: list[str] = []
    pending_zero = False
    for place, char in zip(range(3, -1, -1), f"{section:04d}", strict=True):
        digit = int(char)
        if digit == 0:
            pending_zero = bool(parts)
            continue
        if pending_zero:
            parts.append(_DIGITS[0])
            pending_zero = False
        two_as_liang = digit == 2 and (place == 3 or (section == 2 and has_unit))
        parts.append(("两" if two_as_liang else _DIGITS[digit]) + _PLACE_UNITS[place])
    return "".join(parts)
