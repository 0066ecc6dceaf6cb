"""The functions an expression may call (:data:`FUNCTIONS`) and what they do.

Like the operators, each function gives ``None`` for values it does not fit and
never raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from bot.language.expressions.values import cap_text, checked_number, contains, is_number, to_text

_MAX_NUMBER_TEXT = 40  # characters of text int()/float() will read as a number
_MAX_ROUND_DIGITS = 12

_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９．－＋", "0123456789.-+")


def _length(value: object) -> int | None:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple | Mapping):
        return len(value)
    return None


def _is_set(value: object) -> bool:
    return value is not None and value != ""


def _lower(value: object) -> object:
    return cap_text(value.lower()) if isinstance(value, str) else value


def _upper(value: object) -> object:
    return cap_text(value.upper()) if isinstance(value, str) else value


def _startswith(text: object, prefix: object) -> bool:
    return isinstance(text, str) and isinstance(prefix, str) and text.startswith(prefix)


def _digits(value: object) -> str | None:
    """The digits of a text or number ("2026-11-21" → "20261121")."""
    if value is None or isinstance(value, bool):
        return None
    text = value if isinstance(value, str) else to_text(value)
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


def _left(value: object, count: object) -> str | None:
    if not isinstance(value, str) or isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return None
    return value[:count]


def _right(value: object, count: object) -> str | None:
    if not isinstance(value, str) or isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return None
    return value[len(value) - count :] if count else ""


def _to_int(value: object) -> int | None:
    if isinstance(value, str):
        number = _parse_number(value)
        return None if number is None else _to_int(number)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)  # toward zero, like Python: int(2.7) is 2
    return None


def _to_float(value: object) -> float | None:
    if isinstance(value, str):
        value = _parse_number(value)
    if isinstance(value, bool | int | float):
        try:
            result = float(value)
        except OverflowError:
            return None
        return result if math.isfinite(result) else None
    return None


def _parse_number(text: str) -> int | float | None:
    """A number written as text ("12", " 3.5 ", "１２", "1,000"), or ``None``."""
    cleaned = text.strip().translate(_FULL_WIDTH_DIGITS).replace(",", "")
    if len(cleaned) > _MAX_NUMBER_TEXT or _NUMBER_TEXT.fullmatch(cleaned) is None:
        return None
    return float(cleaned) if "." in cleaned else int(cleaned)


def _round(value: object, digits: object = 0) -> int | float | None:
    """Round half up (round(2.5) is 3), as people expect; Python's round() does not."""
    if not is_number(value) or not isinstance(digits, int) or isinstance(digits, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if abs(digits) > _MAX_ROUND_DIGITS:
        return None
    try:
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        rounded = exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than Decimal keeps: leave it unknown
        return None
    return checked_number(int(rounded) if digits <= 0 else float(rounded))


@dataclass(frozen=True)
class Function:
    """A function an expression may call: how it is written, how many values it takes, what it does."""

    usage: str
    min_args: int
    max_args: int
    call: Callable[..., object]
    takes_name: bool = False  # is_set(x) looks at a variable, not at a computed value


FUNCTIONS: Mapping[str, Function] = {
    "len": Function("len(x)", 1, 1, _length),
    "is_set": Function("is_set(name)", 1, 1, _is_set, takes_name=True),
    "lower": Function("lower(text)", 1, 1, _lower),
    "upper": Function("upper(text)", 1, 1, _upper),
    "contains": Function("contains(list_or_text, item)", 2, 2, contains),
    "startswith": Function("startswith(text, prefix)", 2, 2, _startswith),
    "digits": Function("digits(text)", 1, 1, _digits),
    "left": Function("left(text, n)", 2, 2, _left),
    "right": Function("right(text, n)", 2, 2, _right),
    "int": Function("int(x)", 1, 1, _to_int),
    "float": Function("float(x)", 1, 1, _to_float),
    "str": Function("str(x)", 1, 1, to_text),
    "round": Function("round(x) or round(x, 2)", 1, 2, _round),
}
"""The functions an expression may call, by name."""
