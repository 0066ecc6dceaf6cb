"""What expression values mean: truth, names, text and the operators.

Values are ``None``, bools, ints, floats, texts, lists and mappings (from business
lookups). Every operation here never raises for a value it does not fit: it gives
``None`` (``null`` to a flow author), or ``False`` for a comparison; the module
docstring of :mod:`bot.language.expressions` explains these decisions.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TypeGuard

MAX_TEXT_LENGTH = 10_000
"""Text made by ``+`` and ``*`` is cut to this many characters."""
MAX_LIST_LENGTH = 1_000
"""Lists joined by ``+`` are cut to this many items."""

_MAX_MAGNITUDE = 10**24  # beyond any amount or identifier a call handles

Variables = Mapping[str, object]

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""One part of a variable name, as written."""
LITERAL_WORDS: Mapping[str, object] = {"true": True, "false": False, "null": None}
"""The words that are values, not variables."""


def truthy(value: object) -> bool:
    """Whether a value counts as "yes" in a ``when:`` condition; never raises.

    ``null``, ``false``, 0, NaN, empty text, empty lists and empty mappings are
    false; everything else is true.
    """
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) > 0
    try:
        return bool(value)
    except Exception:  # an odd object from a business lookup is simply not "yes"
        return False


def lookup(variables: Variables, name: str) -> object:
    """The value of a (dotted) variable name, ``None`` when unset; never raises.

    Args:
        variables: The call's variables.
        name: A name such as ``phone`` or ``order.status``.

    Returns:
        The value; a :class:`~decimal.Decimal` becomes an int or float.
    """
    try:
        return lookup_parts(variables, tuple(name.split(".")))
    except Exception:  # a broken mapping from a lookup is an unset variable
        return None


def is_variable_name(text: str) -> bool:
    """Whether ``text`` is a valid (dotted) variable name, like ``phone`` or ``order.status``.

    Names use ASCII letters, digits and ``_``, do not start with a digit or ``__``,
    and are not words of the language (``and``, ``true``, ``null``…).
    """
    parts = text.split(".")
    if any(IDENTIFIER.fullmatch(p) is None or keyword.iskeyword(p) or p.startswith("__") for p in parts):
        return False
    return parts[0] not in LITERAL_WORDS


def to_text(value: object) -> str:
    """A value written as text, as ``+`` with text and ``str()`` do; never raises.

    ``null`` is empty, booleans are 是/否 (as prompts say them), whole floats lose
    their ``.0``, lists are joined with 、 and mappings are empty.
    """
    try:
        return _to_text(value, depth=0)[:MAX_TEXT_LENGTH]
    except Exception:  # e.g. an int too long to print: nothing to say
        return ""


# --- Names and values -----------------------------------------------------------


def lookup_parts(variables: Variables, parts: tuple[str, ...]) -> object:
    value: object = variables
    for part in parts:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    if isinstance(value, Decimal):
        # Business lookups may return Decimal amounts; the operators know int and float.
        return _from_decimal(value)
    return value


def _from_decimal(value: Decimal) -> int | float | None:
    if not value.is_finite():
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def is_number(value: object) -> TypeGuard[int | float]:
    # bool is an int subclass in Python, but true + 1 is not arithmetic for an author.
    return isinstance(value, int | float) and not isinstance(value, bool)


def checked_number(value: int | float) -> int | float | None:
    """A result within bounds, or ``None`` for infinities, NaN and huge numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if abs(value) <= _MAX_MAGNITUDE else None


def _to_text(value: object, *, depth: int) -> str:
    if value is None or isinstance(value, Mapping):
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, list | tuple):
        return _list_text(value, depth=depth)
    return str(value)


def _list_text(items: list[object] | tuple[object, ...], *, depth: int) -> str:
    if depth > 2:  # a list inside a list inside a list says nothing a caller can follow
        return ""
    return "、".join(_to_text(item, depth=depth + 1) for item in items[:MAX_LIST_LENGTH])


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        return ""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def cap_text(text: str) -> str:
    return text[:MAX_TEXT_LENGTH]


# --- Operators ------------------------------------------------------------------


def add(left: object, right: object) -> object:
    if is_number(left) and is_number(right):
        return checked_number(left + right)
    if left is None and is_number(right):
        return right
    if is_number(left) and right is None:
        return left
    if isinstance(left, str) or isinstance(right, str):
        return cap_text(to_text(left) + to_text(right))
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return [*left[:MAX_LIST_LENGTH], *right[:MAX_LIST_LENGTH]][:MAX_LIST_LENGTH]
    return None


def subtract(left: object, right: object) -> object:
    left = 0 if left is None and is_number(right) else left
    right = 0 if right is None and is_number(left) else right
    if is_number(left) and is_number(right):
        return checked_number(left - right)
    return None


def multiply(left: object, right: object) -> object:
    if is_number(left) and is_number(right):
        return checked_number(left * right)
    if isinstance(left, str) and isinstance(right, int) and not isinstance(right, bool):
        return _repeat(left, right)
    if isinstance(right, str) and isinstance(left, int) and not isinstance(left, bool):
        return _repeat(right, left)
    return None


def _repeat(text: str, times: int) -> str:
    # Never build "a" * 10**9 first: repeat only as often as the cap allows.
    if times <= 0 or not text:
        return ""
    return cap_text(text * min(times, MAX_TEXT_LENGTH // len(text) + 1))


def divide(left: object, right: object) -> object:
    if not (is_number(left) and is_number(right)) or right == 0:
        return None
    return checked_number(left / right)


def modulo(left: object, right: object) -> object:
    # Only numbers: "%" on text would be Python's string formatting.
    if not (is_number(left) and is_number(right)) or right == 0:
        return None
    return checked_number(left % right)


def negate(value: object) -> object:
    return checked_number(-value) if is_number(value) else None


def plus(value: object) -> object:
    return value if is_number(value) else None


def equal(left: object, right: object) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if is_number(left) and is_number(right):
        return left == right
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left == right
    return left is None and right is None


def not_equal(left: object, right: object) -> bool:
    return not equal(left, right)


def _order(left: object, right: object) -> int | None:
    """-1, 0 or 1 for two numbers or two texts; ``None`` when they do not compare."""
    if is_number(left) and is_number(right):
        if _is_nan(left) or _is_nan(right):
            return None  # NaN is neither less, equal nor greater
        return (left > right) - (left < right)
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    return None


def _is_nan(value: int | float) -> bool:
    return isinstance(value, float) and math.isnan(value)


def less(left: object, right: object) -> bool:
    return _order(left, right) == -1


def less_equal(left: object, right: object) -> bool:
    return _order(left, right) in (-1, 0)


def greater(left: object, right: object) -> bool:
    return _order(left, right) == 1


def greater_equal(left: object, right: object) -> bool:
    return _order(left, right) in (0, 1)


def contains(container: object, item: object) -> bool:
    """``item in container``: an item of a list, a part of a text, a key of a mapping."""
    if isinstance(container, list | tuple):
        return any(equal(item, element) for element in container)
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    if isinstance(container, Mapping):
        return isinstance(item, str) and item in container
    return False
