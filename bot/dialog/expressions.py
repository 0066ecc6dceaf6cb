"""The small, safe expression language of ``when:`` conditions and ``set:`` values.

Flow authors write expressions such as ``intent == "affirm" and attempts < 3`` or
``"您好，" + name``. :func:`compile_expression` parses and checks one when a flow
loads; :meth:`Expression.evaluate` computes it during a call and never raises.

Why Python's parser: the language is a strict subset of Python's expression
syntax, so ``ast.parse(source, mode="eval")`` reads it with exact columns and
well-tested error messages, and nothing here is ever handed to ``eval``. The
parser only builds a tree; :class:`_Compiler` then accepts a whitelist of node
types (literals, names, dotted names, ``and``/``or``/``not``, comparisons,
``+ - * / %``, unary minus, lists and calls of the functions in
:data:`FUNCTIONS`) and turns each into a Python closure. Anything else — attribute
access such as ``x.__class__``, subscripts, lambdas, comprehensions, f-strings,
``:=``, ``*`` unpacking, conditional expressions — is rejected with its column.
A hand-written Pratt parser would be as long again and would need its own error
reporting; Python's tokenizer also already knows Chinese text in strings.

Decisions, as flow authors see them (docs/flows.md explains them for authors):

* An unset variable is ``null``. Dotted names (``order.status``) look into nested
  mappings; a missing key or a non-mapping on the way is ``null`` as well.
* ``and``, ``or`` and ``not`` always give ``true`` or ``false`` (so ``set: vip:
  amount > 5000 and city == "北京"`` stores a boolean). Both short-circuit.
* ``==`` never converts: ``"3500" == 3500`` is false, and ``true`` is not ``1``;
  use ``int(x)`` to turn text into a number. ``<``, ``<=``, ``>``, ``>=`` compare two
  numbers or two texts; any other pair (``null``, text against number) is false.
* ``+`` adds numbers, joins lists, and joins text when either side is text
  (numbers are written out, ``null`` as nothing). In ``+`` and ``-`` a ``null``
  next to a number counts as 0, so ``attempts + 1`` works before the first
  attempt. Every other operation on values it does not fit gives ``null``, as
  does division or ``%`` by zero.
* Text made by ``+`` or ``*`` is cut at :data:`MAX_TEXT_LENGTH` characters and
  lists at :data:`MAX_LIST_LENGTH` items; numbers beyond ±10^24, infinities and
  NaN become ``null``. Expressions are at most :data:`MAX_SOURCE_LENGTH`
  characters and :data:`MAX_DEPTH` levels deep. This bounds the work of any call.
* ``x[0]`` is not supported: business lookups return mappings (dotted names) and
  lists are tested with ``in``, ``contains`` and ``len``.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import logging
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeGuard

from bot.errors import FlowTextError

logger = logging.getLogger(__name__)

MAX_SOURCE_LENGTH = 500
"""Longest accepted expression, in characters."""
MAX_DEPTH = 30
"""Deepest accepted nesting of operations, calls and lists."""
MAX_TEXT_LENGTH = 10_000
"""Text made by ``+`` and ``*`` is cut to this many characters."""
MAX_LIST_LENGTH = 1_000
"""Lists joined by ``+`` are cut to this many items."""

_MAX_MAGNITUDE = 10**24  # beyond any amount or identifier a call handles
_MAX_NUMBER_TEXT = 40  # characters of text int()/float() will read as a number
_MAX_ROUND_DIGITS = 12

Variables = Mapping[str, object]
Evaluator = Callable[[Variables], object]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERAL_WORDS: Mapping[str, object] = {"true": True, "false": False, "null": None}
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９．－＋", "0123456789.-+")


class ExpressionError(FlowTextError):
    """An expression cannot be used; says where (column) and how to fix it."""


class Expression:
    """A checked expression, ready to evaluate any number of times.

    Attributes:
        source: The expression as written.
        names: The variables it reads, dotted names as written (``order.status``);
            the part before the first dot is the variable itself.
    """

    __slots__ = ("_evaluator", "names", "source")

    def __init__(self, source: str, names: frozenset[str], evaluator: Evaluator) -> None:
        self.source = source
        self.names = names
        self._evaluator = evaluator

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def evaluate(self, variables: Variables) -> object:
        """Compute the expression; never raises.

        Args:
            variables: The call's variables and slots; nested mappings are reached
                with dotted names.

        Returns:
            ``None``, a bool, int, float, str or list (or a value taken from
            ``variables`` as is).
        """
        try:
            return self._evaluator(variables)
        except Exception:  # the last guard: a phone call must go on whatever the data
            logger.warning("expression %r failed; its value is null", self.source, exc_info=True)
            return None


def compile_expression(source: str) -> Expression:
    """Parse and check an expression once, when its flow loads.

    Args:
        source: The expression as written in the flow. Line breaks count as spaces.

    Returns:
        The compiled expression.

    Raises:
        ExpressionError: The expression is empty, too long or too deep, cannot be
            parsed, or uses something the language does not have.
    """
    text = source.replace("\r", " ").replace("\n", " ")
    _check_size_and_characters(text)
    parsed = _Source(text)
    with warnings.catch_warnings():
        # Python warns about things like "\d" in strings; they are harmless here.
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(parsed.body, mode="eval")
        except SyntaxError as exc:
            raise _syntax_error(parsed, exc) from None
        except (ValueError, RecursionError, MemoryError) as exc:
            raise ExpressionError(
                "the expression cannot be read", 1, "simplify it; check its brackets and quotes"
            ) from exc
    compiler = _Compiler(parsed)
    evaluator = compiler.compile(tree.body, depth=1)
    return Expression(source, frozenset(compiler.names), evaluator)


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
        return _lookup_parts(variables, tuple(name.split(".")))
    except Exception:  # a broken mapping from a lookup is an unset variable
        return None


def is_variable_name(text: str) -> bool:
    """Whether ``text`` is a valid (dotted) variable name, like ``phone`` or ``order.status``.

    Names use ASCII letters, digits and ``_``, do not start with a digit or ``__``,
    and are not words of the language (``and``, ``true``, ``null``…).
    """
    parts = text.split(".")
    if any(_IDENTIFIER.fullmatch(p) is None or keyword.iskeyword(p) or p.startswith("__") for p in parts):
        return False
    return parts[0] not in _LITERAL_WORDS


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


def _lookup_parts(variables: Variables, parts: tuple[str, ...]) -> object:
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


def _is_number(value: object) -> TypeGuard[int | float]:
    # bool is an int subclass in Python, but true + 1 is not arithmetic for an author.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _checked_number(value: int | float) -> int | float | None:
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


def _cap_text(text: str) -> str:
    return text[:MAX_TEXT_LENGTH]


# --- Operators ------------------------------------------------------------------


def _add(left: object, right: object) -> object:
    if _is_number(left) and _is_number(right):
        return _checked_number(left + right)
    if left is None and _is_number(right):
        return right
    if _is_number(left) and right is None:
        return left
    if isinstance(left, str) or isinstance(right, str):
        return _cap_text(to_text(left) + to_text(right))
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return [*left[:MAX_LIST_LENGTH], *right[:MAX_LIST_LENGTH]][:MAX_LIST_LENGTH]
    return None


def _subtract(left: object, right: object) -> object:
    left = 0 if left is None and _is_number(right) else left
    right = 0 if right is None and _is_number(left) else right
    if _is_number(left) and _is_number(right):
        return _checked_number(left - right)
    return None


def _multiply(left: object, right: object) -> object:
    if _is_number(left) and _is_number(right):
        return _checked_number(left * right)
    if isinstance(left, str) and isinstance(right, int) and not isinstance(right, bool):
        return _repeat(left, right)
    if isinstance(right, str) and isinstance(left, int) and not isinstance(left, bool):
        return _repeat(right, left)
    return None


def _repeat(text: str, times: int) -> str:
    # Never build "a" * 10**9 first: repeat only as often as the cap allows.
    if times <= 0 or not text:
        return ""
    return _cap_text(text * min(times, MAX_TEXT_LENGTH // len(text) + 1))


def _divide(left: object, right: object) -> object:
    if not (_is_number(left) and _is_number(right)) or right == 0:
        return None
    return _checked_number(left / right)


def _modulo(left: object, right: object) -> object:
    # Only numbers: "%" on text would be Python's string formatting.
    if not (_is_number(left) and _is_number(right)) or right == 0:
        return None
    return _checked_number(left % right)


def _negate(value: object) -> object:
    return _checked_number(-value) if _is_number(value) else None


def _plus(value: object) -> object:
    return value if _is_number(value) else None


def _equal(left: object, right: object) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if _is_number(left) and _is_number(right):
        return left == right
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left == right
    return left is None and right is None


def _not_equal(left: object, right: object) -> bool:
    return not _equal(left, right)


def _order(left: object, right: object) -> int | None:
    """-1, 0 or 1 for two numbers or two texts; ``None`` when they do not compare."""
    if _is_number(left) and _is_number(right):
        if _is_nan(left) or _is_nan(right):
            return None  # NaN is neither less, equal nor greater
        return (left > right) - (left < right)
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    return None


def _is_nan(value: int | float) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _less(left: object, right: object) -> bool:
    return _order(left, right) == -1


def _less_equal(left: object, right: object) -> bool:
    return _order(left, right) in (-1, 0)


def _greater(left: object, right: object) -> bool:
    return _order(left, right) == 1


def _greater_equal(left: object, right: object) -> bool:
    return _order(left, right) in (0, 1)


def _contains(container: object, item: object) -> bool:
    """``item in container``: an item of a list, a part of a text, a key of a mapping."""
    if isinstance(container, list | tuple):
        return any(_equal(item, element) for element in container)
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    if isinstance(container, Mapping):
        return isinstance(item, str) and item in container
    return False


def _in(item: object, container: object) -> bool:
    return _contains(container, item)


def _not_in(item: object, container: object) -> bool:
    return not _contains(container, item)


def _overflow_is_null(operation: Callable[[object, object], object]) -> Callable[[object, object], object]:
    """Wrap an operator so that an int too large for a float (10**400 * 1.5) gives ``None``."""

    def run(left: object, right: object) -> object:
        try:
            return operation(left, right)
        except OverflowError:
            return None

    return run


_BINARY: dict[type[ast.operator], Callable[[object, object], object]] = {
    ast.Add: _overflow_is_null(_add),
    ast.Sub: _overflow_is_null(_subtract),
    ast.Mult: _overflow_is_null(_multiply),
    ast.Div: _overflow_is_null(_divide),
    ast.Mod: _overflow_is_null(_modulo),
}
_FORBIDDEN_BINARY: dict[type[ast.operator], tuple[str, str]] = {
    ast.Pow: ("**", "multiply instead, e.g. x * x"),
    ast.FloorDiv: ("//", "divide with / and round with int(x / y) or round(x / y)"),
    ast.BitAnd: ("&", "write `and`"),
    ast.BitOr: ("|", "write `or`"),
    ast.BitXor: ("^", "use +, -, *, / or %"),
    ast.LShift: ("<<", "use +, -, *, / or %"),
    ast.RShift: (">>", "use +, -, *, / or %"),
    ast.MatMult: ("@", "use +, -, *, / or %"),
}
_COMPARE: dict[type[ast.cmpop], Callable[[object, object], bool]] = {
    ast.Eq: _equal,
    ast.NotEq: _not_equal,
    ast.Lt: _less,
    ast.LtE: _less_equal,
    ast.Gt: _greater,
    ast.GtE: _greater_equal,
    ast.In: _in,
    ast.NotIn: _not_in,
}


# --- Functions ------------------------------------------------------------------


def _length(value: object) -> int | None:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple | Mapping):
        return len(value)
    return None


def _is_set(value: object) -> bool:
    return value is not None and value != ""


def _lower(value: object) -> object:
    return _cap_text(value.lower()) if isinstance(value, str) else value


def _upper(value: object) -> object:
    return _cap_text(value.upper()) if isinstance(value, str) else value


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
    if not _is_number(value) or not isinstance(digits, int) or isinstance(digits, bool):
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
    return _checked_number(int(rounded) if digits <= 0 else float(rounded))


@dataclass(frozen=True)
class _Function:
    usage: str
    min_args: int
    max_args: int
    call: Callable[..., object]
    takes_name: bool = False  # is_set(x) looks at a variable, not at a computed value


FUNCTIONS: Mapping[str, _Function] = {
    "len": _Function("len(x)", 1, 1, _length),
    "is_set": _Function("is_set(name)", 1, 1, _is_set, takes_name=True),
    "lower": _Function("lower(text)", 1, 1, _lower),
    "upper": _Function("upper(text)", 1, 1, _upper),
    "contains": _Function("contains(list_or_text, item)", 2, 2, _contains),
    "startswith": _Function("startswith(text, prefix)", 2, 2, _startswith),
    "digits": _Function("digits(text)", 1, 1, _digits),
    "left": _Function("left(text, n)", 2, 2, _left),
    "right": _Function("right(text, n)", 2, 2, _right),
    "int": _Function("int(x)", 1, 1, _to_int),
    "float": _Function("float(x)", 1, 1, _to_float),
    "str": _Function("str(x)", 1, 1, to_text),
    "round": _Function("round(x) or round(x, 2)", 1, 2, _round),
}
"""The functions an expression may call, by name."""


# --- Compiling ------------------------------------------------------------------


def _check_size_and_characters(text: str) -> None:
    if len(text) > MAX_SOURCE_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text)} characters long; at most {MAX_SOURCE_LENGTH} are allowed",
            MAX_SOURCE_LENGTH + 1,
            "split it: compute parts under `set:` and use their names here",
        )
    if not text.strip():
        raise ExpressionError("the expression is empty", 1, 'write a condition such as intent == "affirm"')
    for index, char in enumerate(text):
        if ord(char) < 0x20 and char != "\t":
            raise ExpressionError(
                f"invisible control character U+{ord(char):04X}", index + 1, "delete it and retype the text"
            )


class _Source:
    """The expression's text, and the conversion of the parser's byte offsets to columns."""

    def __init__(self, text: str) -> None:
        self.text = text
        # Python rejects leading spaces as an indent; the columns still count them.
        self.body = text.lstrip()
        self._indent = len(text) - len(self.body)
        self._bytes = self.body.encode()

    def column(self, byte_offset: int) -> int:
        """The 1-based column of a UTF-8 byte offset in the parsed body."""
        return self._indent + len(self._bytes[:byte_offset].decode(errors="ignore")) + 1

    def column_of_char(self, char_offset: int) -> int:
        """The 1-based column of a 1-based character offset in the parsed body."""
        return self._indent + char_offset

    def segment(self, start: int, end: int) -> str:
        return self._bytes[start:end].decode(errors="ignore")

    def find(self, token: str, start: int, end: int) -> int:
        """Byte offset of ``token`` between two offsets (an operator between operands)."""
        found = self._bytes.find(token.encode(), start, end)
        return start if found < 0 else found


def _end(node: ast.expr) -> int:
    return node.end_col_offset if node.end_col_offset is not None else node.col_offset


_FORBIDDEN_NODES: dict[type[ast.expr], tuple[str, str]] = {
    ast.Lambda: ("lambda is not allowed", "write the condition itself"),
    ast.ListComp: ("`for` inside brackets is not allowed", "test lists with `in`, contains() or len()"),
    ast.SetComp: ("`for` inside braces is not allowed", "test lists with `in`, contains() or len()"),
    ast.DictComp: ("`for` inside braces is not allowed", "test lists with `in`, contains() or len()"),
    ast.GeneratorExp: ("`for` inside brackets is not allowed", "test lists with `in`, contains() or len()"),
    ast.JoinedStr: ("f-strings are not allowed", 'join text with +, e.g. "您好，" + name'),
    ast.NamedExpr: (":= is not allowed", "assign values under `set:`"),
    ast.Starred: ("* before a value is not allowed", "write the items out"),
    ast.Subscript: ("indexing with [ ] is not allowed", "use a dotted name such as order.status"),
    ast.Slice: ("slices are not allowed", "use a dotted name such as order.status"),
    ast.Dict: ("{ } mappings are not allowed", 'write a list in square brackets, e.g. ["北京", "上海"]'),
    ast.Set: ("{ } sets are not allowed", 'write a list in square brackets, e.g. ["北京", "上海"]'),
    ast.Tuple: (
        "a comma outside brackets is not allowed",
        'write a list in square brackets, e.g. ["北京", "上海"], or join conditions with and/or',
    ),
    ast.IfExp: ("`… if … else …` is not allowed", "use an `if:` with `when:` branches"),
    ast.Await: ("await is not allowed", "remove it"),
    ast.Yield: ("yield is not allowed", "remove it"),
    ast.YieldFrom: ("yield is not allowed", "remove it"),
}


class _Compiler:
    """Checks a parsed tree against the whitelist and turns it into closures."""

    def __init__(self, source: _Source) -> None:
        self._source = source
        self.names: set[str] = set()

    def compile(self, node: ast.expr, depth: int) -> Evaluator:
        if depth > MAX_DEPTH:
            raise self._error(
                node.col_offset,
                f"the expression is nested more than {MAX_DEPTH} levels deep",
                "split it: compute parts under `set:` and use their names here",
            )
        handler = _HANDLERS.get(type(node))
        if handler is None:
            message, fix = _FORBIDDEN_NODES.get(
                type(node), (f"{type(node).__name__} is not allowed", "remove it")
            )
            raise self._error(node.col_offset, message, fix)
        return handler(self, node, depth + 1)  # depth + 1: the depth of the node's operands

    def _error(self, byte_offset: int, message: str, fix: str) -> ExpressionError:
        return ExpressionError(message, self._source.column(byte_offset), fix)

    def _constant(self, node: ast.Constant, _depth: int) -> Evaluator:
        value = node.value
        if isinstance(value, bytes):
            raise self._error(node.col_offset, "b'…' byte strings are not allowed", 'write plain text: "…"')
        if not (value is None or isinstance(value, bool | int | float | str)):
            raise self._error(node.col_offset, f"{self._text(node)} is not a value", "write a number or text")
        return _constant_evaluator(value)

    def _text(self, node: ast.expr) -> str:
        return self._source.segment(node.col_offset, _end(node))

    def _variable(self, node: ast.Name | ast.Attribute, _depth: int = 0) -> Evaluator:
        parts = self._name_parts(node)
        if len(parts) == 1 and parts[0] in _LITERAL_WORDS:
            return _constant_evaluator(_LITERAL_WORDS[parts[0]])
        self.names.add(".".join(parts))
        return _variable_evaluator(tuple(parts))

    def _name_parts(self, node: ast.expr) -> list[str]:
        """The parts of ``a`` or ``a.b.c``, each checked against its source text."""
        if isinstance(node, ast.Attribute):
            # The attribute as written: the text after the last dot before the node's end.
            raw = self._source.segment(_end(node.value), _end(node)).rpartition(".")[2].strip()
            start = _end(node) - len(raw.encode())
            if not isinstance(node.value, ast.Name | ast.Attribute):
                raise self._error(
                    start, f".{raw} is not allowed", "only variables have dotted parts, such as order.status"
                )
            parts = self._name_parts(node.value)
            if len(parts) == 1 and parts[0] in _LITERAL_WORDS:
                raise self._error(start, f"{parts[0]} has no parts", f"remove .{raw}")
            self._check_identifier(raw, start)
            return [*parts, raw]
        raw = self._text(node)
        self._check_identifier(raw, node.col_offset)
        return [raw]

    def _check_identifier(self, raw: str, byte_offset: int) -> None:
        # The parser accepts any Unicode identifier and NFKC-folds it (ａ becomes a);
        # the raw text is checked so that what the author wrote is what is looked up.
        if _IDENTIFIER.fullmatch(raw) is None:
            raise self._error(
                byte_offset,
                f"{raw} is not a variable name",
                f'put text in quotes: "{raw}"; variable names use English letters, digits and _',
            )
        if raw.startswith("__"):
            raise self._error(byte_offset, f"{raw} is not allowed", "names cannot start with __; rename it")

    def _bool_op(self, node: ast.BoolOp, depth: int) -> Evaluator:
        operands = tuple(self.compile(value, depth) for value in node.values)
        if isinstance(node.op, ast.And):
            return lambda variables: all(truthy(operand(variables)) for operand in operands)
        return lambda variables: any(truthy(operand(variables)) for operand in operands)

    def _unary_op(self, node: ast.UnaryOp, depth: int) -> Evaluator:
        operand = self.compile(node.operand, depth)
        if isinstance(node.op, ast.Not):
            return lambda variables: not truthy(operand(variables))
        if isinstance(node.op, ast.USub):
            return lambda variables: _negate(operand(variables))
        if isinstance(node.op, ast.UAdd):
            return lambda variables: _plus(operand(variables))
        raise self._error(
            node.col_offset, "~ is not allowed", "use - for a negative number, `not` for a condition"
        )

    def _bin_op(self, node: ast.BinOp, depth: int) -> Evaluator:
        operation = _BINARY.get(type(node.op))
        if operation is None:
            symbol, fix = _FORBIDDEN_BINARY.get(type(node.op), ("this operator", "use +, -, *, / or %"))
            offset = self._source.find(symbol, _end(node.left), node.right.col_offset)
            raise self._error(offset, f"{symbol} is not an operator here", fix)
        left, right = self.compile(node.left, depth), self.compile(node.right, depth)
        return lambda variables: operation(left(variables), right(variables))

    def _compare(self, node: ast.Compare, depth: int) -> Evaluator:
        tests = []
        previous = node.left
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            test = _COMPARE.get(type(op))
            if test is None:  # `is` / `is not`
                offset = self._source.find("is", _end(previous), comparator.col_offset)
                raise self._error(
                    offset, "`is` is not allowed", "compare with == or !=, e.g. x == null, or use is_set(x)"
                )
            tests.append((test, self.compile(comparator, depth)))
            previous = comparator
        first = self.compile(node.left, depth)
        return _chain(first, tuple(tests))

    def _call(self, node: ast.Call, depth: int) -> Evaluator:
        function = self._function(node)
        if node.keywords:
            raise self._error(
                node.keywords[0].col_offset,
                "named arguments are not allowed",
                f"pass the values in order: {function.usage}",
            )
        if not function.min_args <= len(node.args) <= function.max_args:
            raise self._error(
                node.col_offset,
                f"wrong number of values in {self._text(node.func)}()",
                f"write {function.usage}",
            )
        if function.takes_name:
            return self._is_set_argument(node.args[0], function)
        arguments = tuple(self.compile(argument, depth) for argument in node.args)
        call = function.call
        return lambda variables: call(*(argument(variables) for argument in arguments))

    def _function(self, node: ast.Call) -> _Function:
        func = node.func
        if isinstance(func, ast.Attribute):
            offset = _end(func) - len(func.attr.encode())
            fix = (
                f"write {FUNCTIONS[func.attr].usage} with the value inside the brackets"
                if func.attr in FUNCTIONS
                else f"the functions are: {', '.join(FUNCTIONS)}"
            )
            raise self._error(offset, f".{func.attr}() is not allowed", fix)
        if not isinstance(func, ast.Name):
            raise self._error(
                func.col_offset,
                "only the listed functions can be called",
                f"the functions are: {', '.join(FUNCTIONS)}",
            )
        name = self._text(func)
        function = FUNCTIONS.get(name)
        if function is None:
            close = difflib.get_close_matches(name, FUNCTIONS, n=1)
            hint = f"did you mean {close[0]}()? " if close else ""
            raise self._error(
                func.col_offset,
                f"unknown function {name}()",
                f"{hint}the functions are: {', '.join(FUNCTIONS)}",
            )
        return function

    def _is_set_argument(self, argument: ast.expr, function: _Function) -> Evaluator:
        if not isinstance(argument, ast.Name | ast.Attribute):
            raise self._error(
                argument.col_offset,
                "is_set() takes a variable name",
                "write the name without quotes: is_set(phone)",
            )
        value = self._variable(argument)
        call = function.call
        return lambda variables: call(value(variables))

    def _list(self, node: ast.List, depth: int) -> Evaluator:
        items = tuple(self.compile(element, depth) for element in node.elts)
        return lambda variables: [item(variables) for item in items]


# Each handler checks one node type and compiles its operands at the given depth.
_HANDLERS: dict[type[ast.expr], Callable[[_Compiler, Any, int], Evaluator]] = {
    ast.Constant: _Compiler._constant,
    ast.Name: _Compiler._variable,
    ast.Attribute: _Compiler._variable,
    ast.BoolOp: _Compiler._bool_op,
    ast.UnaryOp: _Compiler._unary_op,
    ast.BinOp: _Compiler._bin_op,
    ast.Compare: _Compiler._compare,
    ast.Call: _Compiler._call,
    ast.List: _Compiler._list,
}


def _constant_evaluator(value: object) -> Evaluator:
    return lambda _variables: value


def _variable_evaluator(parts: tuple[str, ...]) -> Evaluator:
    return lambda variables: _lookup_parts(variables, parts)


def _chain(
    first: Evaluator, tests: Sequence[tuple[Callable[[object, object], bool], Evaluator]]
) -> Evaluator:
    """``a < b <= c``: each operand computed once, stopping at the first false test."""

    def evaluate(variables: Variables) -> bool:
        left = first(variables)
        for test, operand in tests:
            right = operand(variables)
            if not test(left, right):
                return False
            left = right
        return True

    return evaluate


# --- Syntax errors --------------------------------------------------------------

_FULL_WIDTH_SYMBOLS = {
    "（": "(",
    "）": ")",
    "【": "[",
    "】": "]",
    "［": "[",
    "］": "]",
    "，": ",",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "＝": "=",
    "！": "!",
    "＜": "<",
    "＞": ">",
    "＋": "+",
    "－": "-",
    "＊": "*",
    "／": "/",
    "％": "%",
    "\u3000": "a space",
    "≠": "!=",
    "≥": ">=",
    "≤": "<=",
}


def _syntax_error(source: _Source, exc: SyntaxError) -> ExpressionError:
    """An author-friendly error for text the parser rejects."""
    mistake = _common_mistake(source.text)
    if mistake is not None:
        return mistake
    end = len(source.body) + 1
    offset = exc.offset if exc.offset is not None and 1 <= exc.offset <= end else end
    return ExpressionError(
        f"cannot read the expression: {exc.msg}", source.column_of_char(offset), _syntax_fix(exc.msg)
    )


def _syntax_fix(message: str) -> str:
    fixes = (
        ("never closed", "add the missing closing bracket"),
        ("unmatched", "remove the extra closing bracket or add the opening one"),
        ("does not match", "make the closing bracket match the opening one: ( ) or [ ]"),
        ("unterminated string", "end the text with the same quote it starts with"),
        ("forgot a comma", "separate list items and function values with commas"),
    )
    for fragment, fix in fixes:
        if fragment in message:
            return fix
    return 'check the words, quotes and operators here; for example: intent == "affirm" and attempts < 3'


def _common_mistake(text: str) -> ExpressionError | None:
    """The first typical author mistake outside quoted text, such as && or a full-width （."""
    quote = ""
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1  # the escaped character cannot end the text
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        else:
            mistake = _mistake_at(text, index)
            if mistake is not None:
                return mistake
        index += 1
    return None


def _mistake_at(text: str, index: int) -> ExpressionError | None:
    char, column = text[index], index + 1
    pair = text[index : index + 2]
    if pair in ("&&", "||"):
        word = "and" if pair == "&&" else "or"
        return ExpressionError(f"{pair} is not an operator here", column, f"write `{word}`")
    if text[index : index + 3] == "===":
        return ExpressionError("=== is not an operator here", column, "write ==")
    if char == "=" and text[index - 1 : index] not in ("=", "!", "<", ">", ":") and pair != "==":
        return ExpressionError(
            "a single = cannot compare",
            column,
            'write == to compare, e.g. intent == "affirm"; assign under `set:`',
        )
    if char == "!" and pair != "!=":
        return ExpressionError("! is not an operator here", column, "write `not`, or != for “not equal”")
    if char in _FULL_WIDTH_SYMBOLS:
        return ExpressionError(
            "a full-width space is not understood" if char == "\u3000" else f"{char} is not understood",
            column,
            f"type {_FULL_WIDTH_SYMBOLS[char]} instead (switch the input method to English)",
        )
    return None
