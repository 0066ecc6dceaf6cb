"""The expression language of `when:` and `set:`: grammar, semantics, errors and limits."""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal

import pytest

from bot.language.expressions import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LIST_LENGTH,
    MAX_SOURCE_LENGTH,
    MAX_TEXT_LENGTH,
    Expression,
    ExpressionError,
    compile_expression,
    is_variable_name,
    lookup,
    to_text,
    truthy,
)


def run(source: str, variables: Mapping[str, object] | None = None) -> object:
    return compile_expression(source).evaluate({} if variables is None else variables)


def error_of(source: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    return caught.value


class CountingMapping(Mapping[str, object]):
    """Variables that remember which names were looked up."""

    def __init__(self, values: dict[str, object]) -> None:
        self._values = values
        self.read: list[str] = []

    def __getitem__(self, key: str) -> object:
        self.read.append(key)
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


# --- Literals and names -----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("42", 42),
        ("-7", -7),
        ("2.5", 2.5),
        ('"北京"', "北京"),
        ("'上海'", "上海"),
        ('"it\'s"', "it's"),
        ("true", True),
        ("false", False),
        ("null", None),
        ("True", True),
        ("False", False),
        ("None", None),
        ('[1, "a", null, [true]]', [1, "a", None, [True]]),
        ("[]", []),
    ],
    ids=repr,
)
def test_literals(source: str, expected: object) -> None:
    assert run(source) == expected


def test_names_are_looked_up_and_reported() -> None:
    expression = compile_expression('intent == "affirm" and attempts < 3 or is_set(order.status)')
    assert expression.names == {"intent", "attempts", "order.status"}
    assert expression.evaluate({"intent": "affirm", "attempts": 1}) is True


def test_literal_words_and_functions_are_not_names() -> None:
    assert compile_expression("len(x) > 0 and true != null").names == {"x"}


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"order": {"status": "shipped"}}, "shipped"),
        ({"order": {"status": {"code": 1}}}, {"code": 1}),
        ({"order": {}}, None),
        ({"order": "shipped"}, None),
        ({"order": None}, None),
        ({}, None),
        ({"order.status": "flat keys are not dotted names"}, None),
    ],
    ids=["nested", "mapping-value", "missing-key", "not-a-mapping", "null-parent", "unset", "flat-key"],
)
def test_dotted_names_look_into_mappings(variables: dict[str, object], expected: object) -> None:
    assert run("order.status", variables) == expected


def test_decimals_from_lookups_become_numbers() -> None:
    variables = {"bill": {"amount": Decimal("12.50"), "count": Decimal("3"), "bad": Decimal("NaN")}}
    assert run("bill.amount * 2", variables) == 25.0
    assert run("bill.count", variables) == 3
    assert run("bill.bad", variables) is None


def test_unset_variable_is_null() -> None:
    assert run("missing") is None
    assert run("missing == null") is True
    assert run("missing != null") is False


# --- Operators ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2", 3),
        ("1.5 + 1", 2.5),
        ('"您好，" + "张三"', "您好，张三"),
        ('"第" + 3 + "次"', "第3次"),
        ('"共" + 2.50 + "元"', "共2.5元"),
        ('"金额" + 3.0', "金额3"),
        ('"vip: " + true', "vip: 是"),
        ('"x" + null', "x"),
        ("null + 1", 1),
        ("1 + null", 1),
        ("null + null", None),
        ("[1] + [2]", [1, 2]),
        ("true + 1", None),
        ("[1] + 1", None),
        ("5 - 3", 2),
        ("null - 1", -1),
        ('"a" - 1', None),
        ("3 * 4", 12),
        ('"哈" * 3', "哈哈哈"),
        ('2 * "ab"', "abab"),
        ('"a" * -1', ""),
        ('"a" * 1.5', None),
        ("[1] * 2", None),
        ("7 / 2", 3.5),
        ("6 / 3", 2.0),
        ("7 % 3", 1),
        ("-7 % 3", 2),
        ('"%s" % 1', None),
        ("-(2 + 3)", -5),
        ("+4", 4),
        ('-"a"', None),
        ("not true", False),
        ("not null", True),
        ('not ""', True),
        ("not [0]", False),
    ],
    ids=repr,
)
def test_arithmetic_and_not(source: str, expected: object) -> None:
    result = run(source)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "source",
    ["1 / 0", "1 % 0", "1.5 / 0.0", "x / 0", "x % y"],
    ids=["div", "mod", "float-div", "variable-div", "variable-mod"],
)
def test_division_by_zero_is_null(source: str) -> None:
    assert run(source, {"x": 5, "y": 0}) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 == 1", True),
        ("1 == 1.0", True),
        ('"a" == "a"', True),
        ('"3500" == 3500', False),
        ("true == 1", False),
        ("false == 0", False),
        ("true == true", True),
        ("null == null", True),
        ("null == 0", False),
        ('null == ""', False),
        ("[1, 2] == [1, 2]", True),
        ("[1, 2] != [2, 1]", True),
        ("[true] == [1]", False),
        ("1 != 2", True),
        ('"a" != 1', True),
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 2.5", True),
        ("2 >= 3", False),
        ('"a" < "b"', True),
        ('"b" >= "a"', True),
        ('"10" < 9', False),
        ('"10" > 9', False),
        ("null < 1", False),
        ("null >= 1", False),
        ("null <= null", False),
        ("true > false", False),
        ("[1] < [2]", False),
    ],
    ids=repr,
)
def test_comparisons(source: str, expected: bool) -> None:
    assert run(source) is expected


def test_comparisons_with_nan_are_false() -> None:
    for source in ("x < 1", "x <= x", "x >= 1", "x == x"):
        assert run(source, {"x": float("nan")}) is False


@pytest.mark.parametrize(
    ("x", "expected"),
    [(0, False), (1, True), (5, True), (9, True), (10, False), (None, False), ("5", False)],
    ids=repr,
)
def test_chained_comparison(x: object, expected: bool) -> None:
    assert run("1 <= x < 10", {"x": x}) is expected


def test_chained_comparison_reads_the_middle_once_and_stops_early() -> None:
    variables = CountingMapping({"x": 5, "y": 1})
    assert compile_expression("1 < x < 10 > y").evaluate(variables) is True
    assert variables.read == ["x", "y"]
    variables = CountingMapping({"x": 0, "y": 1})
    assert compile_expression("1 < x < y").evaluate(variables) is False
    assert variables.read == ["x"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('city in ["北京", "上海"]', True),
        ('city not in ["北京", "上海"]', False),
        ('"广州" in ["北京", "上海"]', False),
        ("1 in [1.0, 2]", True),
        ("true in [1]", False),
        ("null in [null]", True),
        ("[1] in [[1], [2]]", True),
        ('"北" in city', True),
        ('"" in city', True),
        ("1 in city", False),
        ('"status" in order', True),
        ('"price" in order', False),
        ('"x" in missing', False),
        ('"x" not in missing', True),
        ("1 in 1", False),
    ],
    ids=repr,
)
def test_in(source: str, expected: bool) -> None:
    assert run(source, {"city": "北京", "order": {"status": "ok"}}) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 2 - 3", 5),
        ("2 * 3 % 4", 2),
        ("12 / 2 / 3", 2.0),
        ("-2 * 3", -6),
        ("--2", 2),
        ("1 + 2 == 3", True),
        ("not 1 == 2", True),
        ("true or false and false", True),
        ("(true or false) and false", False),
        ("not true or true", True),
        ("not (true or true)", False),
        ('1 < 2 and "a" in "abc"', True),
        ("not 1 in [1]", False),
    ],
    ids=repr,
)
def test_precedence(source: str, expected: object) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("true and 1", True),
        ('1 and "x"', True),
        ("0 or null", False),
        ('"" or "x"', True),
        ("[] and true", False),
    ],
    ids=repr,
)
def test_and_or_give_booleans(source: str, expected: bool) -> None:
    assert run(source) is expected


def test_and_or_short_circuit() -> None:
    variables = CountingMapping({"a": False, "b": True, "boom": 1})
    assert compile_expression("a and boom").evaluate(variables) is False
    assert compile_expression("b or boom").evaluate(variables) is True
    assert "boom" not in variables.read


def test_assignment_example_from_the_docs() -> None:
    variables: dict[str, object] = {"amount": 6000, "name": "张三"}
    values = {
        name: compile_expression(source).evaluate(variables)
        for name, source in {
            "attempts": "attempts + 1",
            "vip": "amount > 5000",
            "greeting_name": '"您好，" + name',
        }.items()
    }
    assert values == {"attempts": 1, "vip": True, "greeting_name": "您好，张三"}


# --- Functions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('len("北京市")', 3),
        ("len([1, 2])", 2),
        ("len(order)", 1),
        ("len(missing)", 0),
        ("len(5)", None),
        ("is_set(name)", True),
        ("is_set(missing)", False),
        ("is_set(empty)", False),
        ("is_set(zero)", True),
        ("is_set(order.status)", True),
        ("is_set(order.price)", False),
        ('lower("ABC")', "abc"),
        ('upper("abc")', "ABC"),
        ("lower(5)", 5),
        ("upper(missing)", None),
        ('contains(["a", "b"], "a")', True),
        ('contains("北京市", "京")', True),
        ('contains("北京市", 1)', False),
        ('contains(missing, "a")', False),
        ('startswith("13812345678", "138")', True),
        ('startswith(13812345678, "138")', False),
        ('digits("2026-11-21")', "20261121"),
        ("digits(138.5)", "1385"),
        ('digits("无")', ""),
        ("digits(missing)", None),
        ('left("13812345678", 3)', "138"),
        ('left("138", 9)', "138"),
        ("left(138, 1)", None),
        ('right("13812345678", 4)', "5678"),
        ('right("13812345678", 0)', ""),
        ('right("138", -1)', None),
        ("right(missing, 2)", None),
        ('int("12")', 12),
        ('int(" 12.9 ")', 12),
        ('int("-3")', -3),
        ('int("１２")', 12),
        ('int("1,000")', 1000),
        ('int("十二")', None),
        ('int("1e5")', None),
        ("int(2.9)", 2),
        ("int(-2.9)", -2),
        ("int(true)", 1),
        ("int(missing)", None),
        ('float("2.5")', 2.5),
        ('float("abc")', None),
        ("float(3)", 3.0),
        ("float(missing)", None),
        ("str(12)", "12"),
        ("str(2.50)", "2.5"),
        ("str(missing)", ""),
        ("str(true)", "是"),
        ('str(["a", "b"])', "a、b"),
        ("round(2.5)", 3),
        ("round(-2.5)", -3),
        ("round(2.4)", 2),
        ("round(1.005, 2)", 1.01),
        ("round(1234, -2)", 1200),
        ("round(7, 1)", 7.0),
        ('round("2.5")', None),
        ("round(2.5, 1.5)", None),
        ("round(2.5, 99)", None),
        ("round(missing)", None),
    ],
    ids=repr,
)
def test_functions(source: str, expected: object) -> None:
    variables = {"name": "张三", "empty": "", "zero": 0, "order": {"status": "ok"}}
    result = run(source, variables)
    assert result == expected
    assert type(result) is type(expected)


def test_every_function_is_tested() -> None:
    assert set(FUNCTIONS) == {
        *("len", "is_set", "lower", "upper", "contains"),
        *("startswith", "int", "float", "str", "round"),
        *("digits", "left", "right"),
    }


# --- Errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ("x.__class__", 3, "__class__ is not allowed"),
        ('"".__class__', 4, ".__class__ is not allowed"),
        ("(1).real", 5, ".real is not allowed"),
        ("a.b.__globals__", 5, "__globals__ is not allowed"),
        ("__builtins__", 1, "__builtins__ is not allowed"),
        ("().__class__.__bases__[0].__subclasses__()", 27, ".__subclasses__() is not allowed"),
        ('open("f")', 1, "unknown function open()"),
        ('__import__("os")', 1, "unknown function __import__()"),
        ('x == 1 and eval("1")', 12, "unknown function eval()"),
        ("x.lower()", 3, ".lower() is not allowed"),
        ('"len"(x)', 1, "only the listed functions can be called"),
        ("[len][0](x)", 1, "only the listed functions can be called"),
        ("lambda: 1", 1, "lambda is not allowed"),
        ("[x for x in y]", 1, "`for` inside brackets"),
        ("(x for x in y)", 1, "`for` inside brackets"),
        ("{x for x in y}", 1, "`for` inside braces"),
        ("{x: 1 for x in y}", 1, "`for` inside braces"),
        ('f"{x}"', 1, "f-strings are not allowed"),
        ("x == 1 or (y := 2)", 12, ":= is not allowed"),
        ("[*x]", 2, "* before a value is not allowed"),
        ("len(*x)", 5, "* before a value is not allowed"),
        ("x[0]", 1, "indexing with [ ] is not allowed"),
        ("a and x[1:2]", 7, "indexing with [ ] is not allowed"),
        ('{"a": 1}', 1, "{ } mappings are not allowed"),
        ("{1, 2}", 1, "{ } sets are not allowed"),
        ("1, 2", 1, "a comma outside brackets"),
        ('x in ("a", "b")', 6, "a comma outside brackets"),
        ("a if b else c", 1, "`… if … else …` is not allowed"),
        ("await x", 1, "await is not allowed"),
        ("x is null", 3, "`is` is not allowed"),
        ("x is not null", 3, "`is` is not allowed"),
        ("2 ** 8", 3, "** is not an operator here"),
        ("7 // 2", 3, "// is not an operator here"),
        ("a & b", 3, "& is not an operator here"),
        ("a | b", 3, "| is not an operator here"),
        ("a ^ b", 3, "^ is not an operator here"),
        ("a << 1", 3, "<< is not an operator here"),
        ("~x", 1, "~ is not allowed"),
        ('b"x"', 1, "byte strings are not allowed"),
        ("1j", 1, "1j is not a value"),
        ("...", 1, "... is not a value"),
        ("true.x", 6, "true has no parts"),
        ("lenght(x)", 1, "unknown function lenght()"),
        ("round(x, ndigits=2)", 10, "named arguments are not allowed"),
        ("len(x, y)", 1, "wrong number of values in len()"),
        ("contains(x)", 1, "wrong number of values in contains()"),
        ('is_set("phone")', 8, "is_set() takes a variable name"),
        ("is_set(a + b)", 8, "is_set() takes a variable name"),
    ],
    ids=lambda value: repr(value) if isinstance(value, str) else None,
)
def test_forbidden_constructs(source: str, column: int, fragment: str) -> None:
    error = error_of(source)
    assert fragment in error.message
    assert error.column == column
    assert error.fix


@pytest.mark.parametrize(
    ("source", "column", "fragment", "fix_fragment"),
    [
        ("a = 1", 3, "a single = cannot compare", "=="),
        ("a && b", 3, "&& is not an operator", "`and`"),
        ("a || b", 3, "|| is not an operator", "`or`"),
        ("!a", 1, "! is not an operator", "`not`"),
        ("a === b", 3, "=== is not an operator", "=="),
        ("x == “北京”", 6, "“ is not understood", '"'),
        ('["北京"，"上海"]', 6, "， is not understood", ","),
        ("len（x）", 4, "（ is not understood", "("),
        ("x ≥ 3", 3, "≥ is not understood", ">="),
        ("a\u3000and b", 2, "a full-width space", "space"),
        ('"a = b" = c', 9, "a single = cannot compare", "=="),
        ("city == 北京", 9, "北京 is not a variable name", '"北京"'),
        ("ａ > 1", 1, "ａ is not a variable name", "English letters"),
        ("order.状态", 7, "状态 is not a variable name", "English letters"),
        ("(1", 1, "'(' was never closed", "closing bracket"),
        ("1)", 2, "unmatched ')'", "extra closing bracket"),
        ('"abc', 1, "unterminated string", "same quote"),
        ("[1 2]", 2, "forgot a comma", "commas"),
        ("1 +", 4, "invalid syntax", "intent =="),
        ("  x ==", 7, "invalid syntax", "intent =="),
    ],
    ids=lambda value: repr(value) if isinstance(value, str) else None,
)
def test_syntax_mistakes_are_explained(source: str, column: int, fragment: str, fix_fragment: str) -> None:
    error = error_of(source)
    assert fragment in error.message
    assert error.column == column
    assert fix_fragment in error.fix


def test_columns_count_characters_not_bytes() -> None:
    assert error_of('city == "北京市" and x.__class__').column == 21


def test_leading_spaces_and_line_breaks() -> None:
    assert run("  1 +\n 2") == 3
    assert run('intent == "a" and\n  attempts < 3', {"intent": "a", "attempts": 0}) is True
    assert error_of("\n x.__class__").column == 5


def test_error_is_a_value_error_with_column_and_fix() -> None:
    error = error_of("open(1)")
    assert isinstance(error, ValueError)
    assert str(error) == f"column 1: {error.message} — {error.fix}"


@pytest.mark.parametrize("source", ["", "   ", "\n"], ids=["empty", "spaces", "newline"])
def test_empty_expression(source: str) -> None:
    assert error_of(source).message == "the expression is empty"


def test_control_characters_are_reported() -> None:
    error = error_of("x ==\x00 1")
    assert (error.column, error.message) == (5, "invisible control character U+0000")


def test_python_warnings_do_not_escape() -> None:
    # "\d" is an invalid escape; the project turns warnings into errors in tests.
    assert run(r'"\d" == "\\d"') is True
    assert run("1 == 1 and [1] != [2]") is True


# --- Limits -------------------------------------------------------------------------


def test_length_limit() -> None:
    longest = "1" + " + 1" * ((MAX_SOURCE_LENGTH - 1) // 4)
    assert len(longest) <= MAX_SOURCE_LENGTH
    assert compile_expression('"' + "字" * (MAX_SOURCE_LENGTH - 2) + '"').evaluate({}) == "字" * 498
    error = error_of("x" * (MAX_SOURCE_LENGTH + 1))
    assert error.column == MAX_SOURCE_LENGTH + 1
    assert "at most 500" in error.message


def test_depth_limit() -> None:
    assert run("-" * (MAX_DEPTH - 1) + "1") == -1
    assert run("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)) is not None
    error = error_of("-" * MAX_DEPTH + "1")
    assert error.column == MAX_DEPTH + 1
    assert "nested more than 30 levels" in error.message
    assert "nested more than" in error_of("not " * 40 + "x").message
    assert "nested more than" in error_of("x" + " + x" * 40).message


def test_flat_and_or_chains_are_not_deep() -> None:
    assert run(" and ".join(["true"] * 40)) is True


def test_pathological_nesting_is_an_expression_error() -> None:
    assert error_of("(" * 240 + "1" + ")" * 240).column >= 1
    assert error_of("[" * 240 + "]" * 240).column >= 1


@pytest.mark.parametrize(
    "source",
    ['"a" * 1000000000', '"ab" * n', "text + text", 'text * 3 + "x"', "lower(text * 2)"],
    ids=["literal-repeat", "variable-repeat", "concat", "repeat-then-concat", "lower"],
)
def test_text_is_capped(source: str) -> None:
    started = time.monotonic()
    result = run(source, {"n": 10**12, "text": "x" * 9_000})
    assert isinstance(result, str)
    assert len(result) == MAX_TEXT_LENGTH
    assert time.monotonic() - started < 1


def test_lists_are_capped() -> None:
    assert run("x + x", {"x": list(range(MAX_LIST_LENGTH))}) == list(range(MAX_LIST_LENGTH))


@pytest.mark.parametrize(
    ("source", "variables"),
    [
        ("x * x * x", {"x": 10**10}),
        ("x * 10", {"x": 1e308}),
        ("x / 3", {"x": 10**400}),
        ("x + 1.5", {"x": 10**400}),
        ("float(x)", {"x": 10**400}),
        ("round(x, 2)", {"x": 1e300}),
        ("-x", {"x": 10**30}),
        ("x - 0.5", {"x": float("inf")}),
    ],
    ids=[
        *("int-overflow", "float-overflow", "int-too-big-for-float", "mixed"),
        *("float", "round", "negate", "inf"),
    ],
)
def test_huge_numbers_are_null(source: str, variables: dict[str, object]) -> None:
    assert run(source, variables) is None


# --- Helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (False, False),
        (True, True),
        (0, False),
        (3, True),
        (0.0, False),
        (float("nan"), False),
        (0.1, True),
        ("", False),
        ("0", True),
        ([], False),
        ([0], True),
        ({}, False),
        ({"a": 1}, True),
        (dt.date(2026, 1, 1), True),
    ],
    ids=repr,
)
def test_truthy(value: object, expected: bool) -> None:
    assert truthy(value) is expected


def test_truthy_never_raises() -> None:
    class Odd:
        def __bool__(self) -> bool:
            raise RuntimeError("no")

    assert truthy(Odd()) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "是"),
        (False, "否"),
        (12, "12"),
        (2.5, "2.5"),
        (3.0, "3"),
        (-0.0, "0"),
        (0.1 + 0.2, "0.3"),
        (float("inf"), ""),
        ("文字", "文字"),
        (["a", 1, None], "a、1、"),
        ([[[["deep"]]]], ""),
        ({"a": 1}, ""),
        (Decimal("12.50"), "12.50"),
        (10**5000, ""),
    ],
    ids=[
        *("null", "true", "false", "int", "float", "whole-float", "minus-zero", "float-noise", "inf"),
        *("text", "list", "nested-list", "mapping", "decimal", "int-too-long-to-print"),
    ],
)
def test_to_text(value: object, expected: str) -> None:
    assert to_text(value) == expected


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("phone", True),
        ("order.status", True),
        ("_private", True),
        ("a1.b_2", True),
        ("1abc", False),
        ("order.", False),
        ("true", False),
        ("null.x", False),
        ("order.true", True),
        ("and", False),
        ("a.__class__", False),
        ("姓名", False),
        ("a b", False),
        ("", False),
    ],
    ids=repr,
)
def test_is_variable_name(name: str, valid: bool) -> None:
    assert is_variable_name(name) is valid


def test_lookup() -> None:
    assert lookup({"a": {"b": Decimal("2")}}, "a.b") == 2
    assert lookup({"a": 1}, "a.b") is None


# --- Never raising ------------------------------------------------------------------


class Hostile:
    """A value from a broken business lookup: every operation raises."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        raise RuntimeError("hash")

    def __str__(self) -> str:
        raise RuntimeError("str")

    def __bool__(self) -> bool:
        raise RuntimeError("bool")


class HostileMapping(Mapping[str, object]):
    def __getitem__(self, key: str) -> object:
        raise RuntimeError("getitem")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("iter")

    def __len__(self) -> int:
        raise RuntimeError("len")


def test_hostile_values_give_null_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.language.expressions"):
        assert run('x + "a"', {"x": Hostile()}) == "a"
        assert run("x == y", {"x": {"k": Hostile()}, "y": {"k": Hostile()}}) is None
        assert run("x == 1 or y.z", HostileMapping()) is None
    assert any("failed; its value is null" in r.getMessage() for r in caplog.records)


NAMES = ["a", "b", "c", "order.status", "order.items", "missing.deep.x"]
LITERALS = [
    *("0", "1", "-1", "2.5", "3", "100000000000000000000000000", "1e308"),
    *('"北京"', '""', '"a"', '"138"', "true", "false", "null", '[1, "a", null]', "[]"),
]
BINARY = [*("+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">="), *("in", "not in", "and", "or")]
VALUES: list[object] = [
    *(None, True, False, 0, 1, -7, 2**70, 10**5000, 1.5, -0.0, float("inf"), float("nan")),
    *("", "北京", "a" * 9_999, "123", " 12.5 ", "１２"),
    *([], [1, "a", None], [[1]], list(range(2000)), {"status": "x"}, {"deep": {"x": 1}}),
    *(Decimal("1.5"), Decimal("NaN"), dt.date(2026, 3, 5), (1, 2)),
]


def random_expression(rng: random.Random, depth: int = 0) -> str:
    """A random expression the language accepts, to fuzz `evaluate` with."""
    if depth > 4 or rng.random() < 0.25:
        return rng.choice(NAMES + LITERALS)
    choice = rng.randrange(5)
    if choice == 0:
        left, right = random_expression(rng, depth + 1), random_expression(rng, depth + 1)
        return f"({left} {rng.choice(BINARY)} {right})"
    if choice == 1:
        return f"({rng.choice(['not ', '-'])}({random_expression(rng, depth + 1)}))"
    if choice == 2:
        return f"[{random_expression(rng, depth + 1)}, {random_expression(rng, depth + 1)}]"
    name = rng.choice(sorted(FUNCTIONS))
    if name == "is_set":
        return f"is_set({rng.choice(NAMES)})"
    arguments = [random_expression(rng, depth + 1) for _ in range(FUNCTIONS[name].max_args)]
    return f"{name}({', '.join(arguments)})"


def random_variables(rng: random.Random) -> dict[str, object]:
    variables: dict[str, object] = {name: rng.choice(VALUES) for name in ("a", "b", "c")}
    variables["order"] = rng.choice([None, "x", {"status": rng.choice(VALUES), "items": rng.choice(VALUES)}])
    return variables


def test_fuzz_evaluate_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(20260305)
    compiled: list[Expression] = []
    rejected: list[str] = []
    while len(compiled) < 1500:
        try:
            compiled.append(compile_expression(random_expression(rng)))
        except ExpressionError as exc:
            rejected.append(exc.message)
    assert all("characters long" in m or "nested more than" in m for m in rejected)
    with caplog.at_level(logging.WARNING, logger="bot.language.expressions"):
        for expression in compiled:
            for _ in range(4):
                expression.evaluate(random_variables(rng))
    # Ordinary data never needs the last-resort guard: each operator handles it.
    assert [r.getMessage() for r in caplog.records] == []


def test_fuzz_compile_raises_only_expression_errors() -> None:
    rng = random.Random(7)
    alphabet = [*"abxyz019 ._()[]{}\"'+-*/%<>=!&|,:;@#~^\\北京（），“”", "and ", "or ", "not ", "in ", "is "]
    outside: list[tuple[str, int]] = []  # errors whose column is not within the text
    for _ in range(3000):
        source = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30)))
        try:
            expression = compile_expression(source)
        except ExpressionError as exc:
            if not 1 <= exc.column <= len(source) + 1:
                outside.append((source, exc.column))
        else:
            expression.evaluate({"a": 1, "x": "北京"})
    assert outside == []
