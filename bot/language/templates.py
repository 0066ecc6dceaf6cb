"""Prompt templates: ``{{name}}`` placeholders filled in and said the way an agent would.

A prompt such as ``您的订单{{ order.id }}将于{{date}}送达`` is compiled once when
its flow loads (:func:`compile_template`) and rendered on every turn
(:meth:`Template.render`). A placeholder holds one variable name or dotted name,
with optional spaces; there are no expressions inside braces: compute a value
under ``set:`` and name it here.

A value is written for the ear according to its slot type (``kinds``):

=========  ======================  ==========================================
kind       value                   said as
=========  ======================  ==========================================
phone      ``13812345678``         幺三八，幺二三四，五六七八 (3-4-4; area code
                                   first for landlines; the writer's groups kept)
id_card    ``11010519491231002X``  six-eight-four groups, X read 叉
digits     ``123456``              digit by digit in groups of three or four
number     ``105``, ``1.5``        一百零五, 一点五 (two decimals at most)
amount     ``1234.56``             一千二百三十四元五角六分
date       ``2026-03-05``          3月5日 (the year is not said)
time       ``15:30``               下午三点半
=========  ======================  ==========================================

Whatever the kind, ``true``/``false`` are 是/否 and an unset value is said as
nothing. A value a kind cannot read (``amount`` = "面议") is written as text,
as are values without a kind (see :func:`bot.language.expressions.to_text`); the
speech normalizer then spells long digit runs. :meth:`Template.render` never
raises.

Dates keep Arabic digits: espeak-ng 1.51 reads "3月5日" with the numbers right
(the hanzi form 三月五日 hits its Mandarin dictionary bug for first-tone
syllables such as 三), and every other Mandarin engine reads both.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from types import MappingProxyType

from bot.errors import FlowTextError
from bot.language.expressions import is_variable_name, lookup, to_text
from bot.speech.chinese_numbers import (
    amount_to_chinese,
    decimal_to_chinese,
    digits_to_chinese,
    integer_to_chinese,
)
from bot.speech.reading_ids import even_groups

logger = logging.getLogger(__name__)

_NO_KINDS: Mapping[str, str] = MappingProxyType({})
_PAUSE = "，"  # between digit groups, as in bot.speech.normalize

# A well-formed placeholder, or a brace that is not part of one (reported).
_BRACES = re.compile(r"\{\{(?P<inner>[^{}]*)\}\}|(?P<stray>\{\{|\}\}|[{}｛｝])")


class TemplateError(FlowTextError):
    """A prompt template cannot be used; says where (column) and how to fix it."""


@dataclass(frozen=True)
class _Placeholder:
    name: str


class Template:
    """A checked prompt, ready to render any number of times.

    Attributes:
        text: The template as written.
        names: The variables its placeholders name (dotted names as written).
    """

    __slots__ = ("_pieces", "names", "text")

    def __init__(self, text: str, pieces: tuple[str | _Placeholder, ...]) -> None:
        self.text = text
        self._pieces = pieces
        self.names = frozenset(p.name for p in pieces if isinstance(p, _Placeholder))

    def __repr__(self) -> str:
        return f"Template({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Template) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    @property
    def is_static(self) -> bool:
        """Whether the template has no placeholders (its text can be synthesized at start-up)."""
        return not self.names

    def render(
        self,
        variables: Mapping[str, object],
        kinds: Mapping[str, str] = _NO_KINDS,
        *,
        escape: Callable[[str], str] | None = None,
    ) -> str:
        """Fill in the placeholders; never raises.

        Args:
            variables: The call's variables and slots; nested mappings are reached
                with dotted names.
            kinds: The slot type of a (dotted) name, such as ``phone`` or
                ``amount``, deciding how its value is said. Names without a kind,
                or with a kind not listed in the module docstring, are plain text.
            escape: Applied to each rendered placeholder value, never to the
                literal text around it: an ``http:`` step percent-encodes values so
                that an ID card or a Chinese name cannot break its URL.

        Returns:
            The prompt text.
        """
        if self.is_static:
            return self.text
        return "".join(
            piece if isinstance(piece, str) else _render_placeholder(piece.name, variables, kinds, escape)
            for piece in self._pieces
        )


def compile_template(text: str) -> Template:
    """Parse and check a prompt template once, when its flow loads.

    Args:
        text: The prompt as written in the flow.

    Returns:
        The compiled template.

    Raises:
        TemplateError: A brace does not belong to a ``{{name}}`` placeholder, or a
            placeholder does not hold a variable name.
    """
    pieces: list[str | _Placeholder] = []
    position = 0
    for match in _BRACES.finditer(text):
        if match.group("stray") is not None:
            raise _stray_brace_error(text, match)
        pieces.append(text[position : match.start()])
        pieces.append(_Placeholder(_placeholder_name(match)))
        position = match.end()
    pieces.append(text[position:])
    return Template(text, tuple(piece for piece in pieces if piece != ""))


def _placeholder_name(match: re.Match[str]) -> str:
    inner = match.group("inner")
    name = inner.strip()
    column = match.start("inner") + len(inner) - len(inner.lstrip()) + 1
    if not name:
        raise TemplateError(
            "the placeholder {{ }} is empty", match.start() + 1, "put a name inside: {{phone}}"
        )
    if is_variable_name(name):
        return name
    if re.fullmatch(r"[\w.]+", name) and not name.isascii():
        fix = "variable names use English letters, digits and _, such as {{customer_name}}"
    elif re.fullmatch(r"[\w.]+", name):
        fix = "a name cannot start with a digit or __, nor be a word such as true, null or and; rename it"
    else:
        fix = "only a variable name goes inside {{ }}; compute other values under `set:` and name them here"
    raise TemplateError(f"{name} is not a variable name", column, fix)


def _stray_brace_error(text: str, match: re.Match[str]) -> TemplateError:
    stray, column = match.group("stray"), match.start() + 1
    if stray in "｛｝":
        return TemplateError(
            f"the full-width brace {stray} is not understood", column, "type {{name}} in English mode"
        )
    if stray == "{{" and text.startswith("{{{", match.start()):
        return TemplateError("{{{ has one brace too many", column, "write the placeholder as {{name}}")
    if stray == "{{":
        return TemplateError("{{ is not closed", column, "end the placeholder with }}: {{name}}")
    if stray == "}}":
        return TemplateError("}} has no {{ before it", column, "write the placeholder as {{name}}")
    return TemplateError(
        f"a single {stray} is not a placeholder", column, "write placeholders with two braces: {{name}}"
    )


def _render_placeholder(
    name: str,
    variables: Mapping[str, object],
    kinds: Mapping[str, str],
    escape: Callable[[str], str] | None,
) -> str:
    try:
        value = say_value(lookup(variables, name), kinds.get(name))
        return value if escape is None else escape(value)
    except Exception:  # the last guard: a prompt with a gap beats a dropped call
        logger.warning("placeholder {{%s}} could not be rendered; said as nothing", name, exc_info=True)
        return ""


def say_value(value: object, kind: str | None = None) -> str:
    """A value as it should be said in a prompt, for its slot type; never raises.

    Args:
        value: The variable's value; ``None`` when unset.
        kind: Its slot type (``phone``, ``amount``…); ``None`` or an unknown kind
            writes the value as plain text.

    Returns:
        The text to put in the prompt.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if type(value) is str:  # a number read back on every confirmation: said once
        return _say_text(value, kind)
    return _say(value, kind)


@lru_cache(maxsize=1024)
def _say_text(value: str, kind: str | None) -> str:
    return _say(value, kind)


def _say(value: object, kind: str | None) -> str:
    formatter = _FORMATTERS.get(kind or "")
    try:
        spoken = formatter(value) if formatter is not None else None
    except Exception:  # a formatter bug must not cost the prompt: say the value as text
        logger.warning("a %s value could not be said; said as text", kind, exc_info=True)
        spoken = None
    return spoken if spoken is not None else to_text(value)


# --- Digits ---------------------------------------------------------------------

_WRITTEN_DIGITS = re.compile(r"[0-9](?:[ \-]*[0-9])*")
_GROUP_SEPARATOR = re.compile(r"[ \-]+")
_COUNTRY_CODE = re.compile(r"(?:\+|00)86[ \-]*")
_MOBILE = re.compile(r"1[0-9]{10}")
_ID_NUMBER = re.compile(r"(?P<id18>[0-9]{17}[0-9Xx])|(?P<id15>[0-9]{15})")
_MAX_IDENTIFIER = 10**30  # no phone or card number is longer; str() of huge ints fails


def _say_phone(value: object) -> str | None:
    written = _digit_text(value)
    if written is None:
        return None
    written = _COUNTRY_CODE.sub("", written.strip(), count=1)
    if _WRITTEN_DIGITS.fullmatch(written) is None:
        return None
    groups = _GROUP_SEPARATOR.split(written)
    return _say_groups(_regroup(groups) if len(groups) > 1 else _phone_groups(written))


def _phone_groups(digits: str) -> list[str]:
    """How agents group a phone number: 138-1234-5678, 010-8888-8888, 0571-8888-8888, 400-123-4567."""
    if _MOBILE.fullmatch(digits):
        return [digits[:3], digits[3:7], digits[7:]]
    if digits.startswith("0") and len(digits) >= 10:
        area = 3 if digits[1] in "12" else 4  # 010 and 02x are the three-digit area codes
        return [digits[:area], *even_groups(digits[area:])]
    if len(digits) == 10 and digits[:3] in ("400", "800"):
        return [digits[:3], digits[3:6], digits[6:]]
    return even_groups(digits)


def _say_id_card(value: object) -> str | None:
    written = _digit_text(value)
    if written is None:
        return None
    compact = _GROUP_SEPARATOR.sub("", written.strip())
    match = _ID_NUMBER.fullmatch(compact)
    if match is None:
        return _say_digits(written)
    if match.group("id18"):
        return _say_groups([compact[:6], compact[6:14], compact[14:]])  # region, birth date, sequence
    return _say_groups([compact[:6], compact[6:12], compact[12:]])


def _say_digits(value: object) -> str | None:
    written = _digit_text(value)
    if written is None:
        return None
    written = written.strip()
    if _WRITTEN_DIGITS.fullmatch(written) is None:
        return None
    return _say_groups(_regroup(_GROUP_SEPARATOR.split(written)))


def _digit_text(value: object) -> str | None:
    """The text of an identifier; an int is its digits (leading zeros are lost in ints)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MAX_IDENTIFIER:
        return str(value)
    return None


def _regroup(written_groups: list[str]) -> list[str]:
    """The writer's grouping (0571-88888888), with long groups split for breath."""
    return [group for written in written_groups for group in even_groups(written)]


def _say_groups(groups: list[str]) -> str:
    return _PAUSE.join(digits_to_chinese(group) for group in groups)


# --- Quantities -----------------------------------------------------------------

_CURRENCY_MARKS = re.compile(r"^[¥￥]|元$")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，－", "0123456789.,-")
_HUNDREDTH = Decimal("0.01")
_MAX_DECIMAL_TEXT = 40


def _say_number(value: object) -> str | None:
    number = _to_decimal(value)
    if number is None:
        return None
    # Two decimals at most: 3.14159 is said 三点一四; trailing zeros are not said.
    return decimal_to_chinese(number.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP))


def _say_amount(value: object) -> str | None:
    number = _to_decimal(value)
    return None if number is None else amount_to_chinese(number)


def _to_decimal(value: object) -> Decimal | None:
    """A number within reading range from an int, float, Decimal or text ("3,500", "¥12.5")."""
    number: Decimal | None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    elif isinstance(value, str):
        number = _parse_decimal(value)
    else:
        return None
    if number is None or not number.is_finite() or abs(number) >= 10**16:
        return None
    return number


def _parse_decimal(text: str) -> Decimal | None:
    cleaned = _CURRENCY_MARKS.sub("", text.strip().translate(_FULL_WIDTH)).replace(",", "").strip()
    if len(cleaned) > _MAX_DECIMAL_TEXT or _DECIMAL_TEXT.fullmatch(cleaned) is None:
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


# --- Dates and times ------------------------------------------------------------

_DATE_TEXT = re.compile(
    r"(?:(?P<year>[0-9]{4})[-/.年]?)?(?P<month>[0-9]{1,2})[-/.月](?P<day>[0-9]{1,2})[日号]?"
    r"|(?P<compact_year>[0-9]{4})(?P<compact_month>[0-9]{2})(?P<compact_day>[0-9]{2})"
)
_TIME_TEXT = re.compile(r"(?P<hour>[0-9]{1,2})[:：](?P<minute>[0-9]{2})(?:[:：][0-9]{2}(?:\.[0-9]+)?)?")
_DATE_TIME_SPLIT = re.compile(r"[T ]")
_LAST_DAY = 31
_LAST_MONTH = 12


def _say_date(value: object) -> str | None:
    if isinstance(value, dt.date):  # a datetime is a date too
        return f"{value.month}月{value.day}日"
    if not isinstance(value, str):
        return None
    date_part = _DATE_TIME_SPLIT.split(value.strip(), maxsplit=1)[0]
    match = _DATE_TEXT.fullmatch(date_part)
    if match is None:
        return None
    year, month, day = (
        (match["year"], match["month"], match["day"])
        if match["month"]
        else (match["compact_year"], match["compact_month"], match["compact_day"])
    )
    if not _is_date(int(year) if year else None, int(month), int(day)):
        return None
    return f"{int(month)}月{int(day)}日"


def _is_date(year: int | None, month: int, day: int) -> bool:
    if year is None:
        return 1 <= month <= _LAST_MONTH and 1 <= day <= _LAST_DAY
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _say_time(value: object) -> str | None:
    if isinstance(value, dt.datetime):
        return _clock_reading(value.hour, value.minute)
    if isinstance(value, dt.time):
        return _clock_reading(value.hour, value.minute)
    if not isinstance(value, str):
        return None
    time_part = _DATE_TIME_SPLIT.split(value.strip())[-1]
    match = _TIME_TEXT.fullmatch(time_part)
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        return None
    return _clock_reading(hour, minute)


def _clock_reading(hour: int, minute: int) -> str:
    """15:30 → 下午三点半, 09:05 → 上午九点零五分, 12:00 → 中午十二点, 00:30 → 凌晨零点半."""
    return _period(hour) + _hour_reading(hour) + "点" + _minute_reading(minute)


def _period(hour: int) -> str:
    if hour < 6:
        return "凌晨"
    if hour < 12:
        return "上午"
    if hour < 13:
        return "中午"
    if hour < 18:
        return "下午"
    return "晚上"


def _hour_reading(hour: int) -> str:
    twelve_hour = hour if hour <= 12 else hour - 12
    return "两" if twelve_hour == 2 else integer_to_chinese(twelve_hour)  # 两点, never 二点


def _minute_reading(minute: int) -> str:
    if minute == 0:
        return ""
    if minute == 30:
        return "半"
    prefix = "零" if minute < 10 else ""
    return prefix + integer_to_chinese(minute) + "分"


_FORMATTERS: Mapping[str, Callable[[object], str | None]] = {
    "phone": _say_phone,
    "id_card": _say_id_card,
    "digits": _say_digits,
    "number": _say_number,
    "amount": _say_amount,
    "date": _say_date,
    "time": _say_time,
}

SPOKEN_KINDS = frozenset(_FORMATTERS)
"""The slot types :meth:`Template.render` says in a special way; others are plain text."""
