"""Reading an expression: parsing, checking against the whitelist, compiling to closures.

Python's parser builds the tree (``ast.parse(source, mode="eval")``); :class:`_Compiler`
accepts only the node types of the language and turns each into a closure over
the operators of :mod:`bot.language.expressions.values` and the functions of
:data:`~bot.language.expressions.functions.FUNCTIONS`. Everything it rejects, and
every syntax error, becomes an :class:`ExpressionError` with the column and a fix
in the author's terms.
"""

from __future__ import annotations

import ast
import difflib
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from bot.errors import FlowTextError
from bot.language.expressions.functions import FUNCTIONS, Function
from bot.language.expressions.values import (
    IDENTIFIER,
    LITERAL_WORDS,
    Variables,
    add,
    contains,
    divide,
    equal,
    greater,
    greater_equal,
    less,
    less_equal,
    lookup_parts,
    modulo,
    multiply,
    negate,
    not_equal,
    plus,
    subtract,
    truthy,
)

MAX_SOURCE_LENGTH = 500
"""Longest accepted expression, in characters."""
MAX_DEPTH = 30
"""Deepest accepted nesting of operations, calls and lists."""

Evaluator = Callable[[Variables], object]


class ExpressionError(FlowTextError):
    """An expression cannot be used; says where (column) and how to fix it."""


def compile_evaluator(source: str) -> tuple[Evaluator, frozenset[str]]:
    """Parse and check an expression; the work of :func:`~bot.language.expressions.compile_expression`.

    Args:
        source: The expression as written in the flow. Line breaks count as spaces.

    Returns:
        The closure that computes it (it may raise on odd data; the caller guards
        it), and the (dotted) variable names it reads.

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
    return evaluator, frozenset(compiler.names)


# --- Operators ------------------------------------------------------------------


def _in(item: object, container: object) -> bool:
    return contains(container, item)


def _not_in(item: object, container: object) -> bool:
    return not contains(container, item)


def _overflow_is_null(operation: Callable[[object, object], object]) -> Callable[[object, object], object]:
    """Wrap an operator so that an int too large for a float (10**400 * 1.5) gives ``None``."""

    def run(left: object, right: object) -> object:
        try:
            return operation(left, right)
        except OverflowError:
            return None

    return run


_BINARY: dict[type[ast.operator], Callable[[object, object], object]] = {
    ast.Add: _overflow_is_null(add),
    ast.Sub: _overflow_is_null(subtract),
    ast.Mult: _overflow_is_null(multiply),
    ast.Div: _overflow_is_null(divide),
    ast.Mod: _overflow_is_null(modulo),
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
    ast.Eq: equal,
    ast.NotEq: not_equal,
    ast.Lt: less,
    ast.LtE: less_equal,
    ast.Gt: greater,
    ast.GtE: greater_equal,
    ast.In: _in,
    ast.NotIn: _not_in,
}


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
        if len(parts) == 1 and parts[0] in LITERAL_WORDS:
            return _constant_evaluator(LITERAL_WORDS[parts[0]])
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
            if len(parts) == 1 and parts[0] in LITERAL_WORDS:
                raise self._error(start, f"{parts[0]} has no parts", f"remove .{raw}")
            self._check_identifier(raw, start)
            return [*parts, raw]
        raw = self._text(node)
        self._check_identifier(raw, node.col_offset)
        return [raw]

    def _check_identifier(self, raw: str, byte_offset: int) -> None:
        # The parser accepts any Unicode identifier and NFKC-folds it (ａ becomes a);
        # the raw text is checked so that what the author wrote is what is looked up.
        if IDENTIFIER.fullmatch(raw) is None:
            raise self._error(
                byte_offset,
                f"{raw} is not a variable name",
                f'put text in quotes: "{raw}" (in YAML, quote the whole expression too: '
                f"""'text == "{raw}"'); variable names use English letters, digits and _""",
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
            return lambda variables: negate(operand(variables))
        if isinstance(node.op, ast.UAdd):
            return lambda variables: plus(operand(variables))
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

    def _function(self, node: ast.Call) -> Function:
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

    def _is_set_argument(self, argument: ast.expr, function: Function) -> Evaluator:
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
    return lambda variables: lookup_parts(variables, parts)


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
