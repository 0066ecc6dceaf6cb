"""Prompt templates: placeholders, errors with columns, and values said the Mandarin way."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterator, Mapping
from decimal import Decimal

import pytest

from bot.language.templates import SPOKEN_KINDS, TemplateError, compile_template, say_value
from bot.speech.chinese_numbers import (
    MAX_INTEGER,
    amount_to_chinese,
    decimal_to_chinese,
    digits_to_chinese,
    integer_to_chinese,
)
from bot.speech.normalize import normalize_for_speech


def error_of(text: str) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        compile_template(text)
    return caught.value


# --- Compiling ----------------------------------------------------------------------


def test_placeholders_are_filled_in() -> None:
    template = compile_template("您好{{name}}，您的订单{{ order.status }}。{{name}}再见")
    assert template.names == {"name", "order.status"}
    assert not template.is_static
    rendered = template.render({"name": "张先生", "order": {"status": "已发货"}})
    assert rendered == "您好张先生，您的订单已发货。张先生再见"


@pytest.mark.parametrize(
    "text",
    ["您好，请问有什么可以帮您？", "", "价格是100元"],
    ids=["prompt", "empty", "digits"],
)
def test_static_templates(text: str) -> None:
    template = compile_template(text)
    assert template.is_static
    assert template.names == frozenset()
    assert template.render({"anything": 1}) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{a}}", "1"),
        ("{{ a }}", "1"),
        ("{{\ta\n}}", "1"),
        ("{{a}}{{b}}", "1二"),
        ("前{{a}}后", "前1后"),
        ("{{ nested.deep.value }}", "深"),
    ],
    ids=["bare", "spaces", "tab-newline", "adjacent", "inside-text", "dotted"],
)
def test_placeholder_spellings(text: str, expected: str) -> None:
    variables = {"a": 1, "b": "二", "nested": {"deep": {"value": "深"}}}
    assert compile_template(text).render(variables) == expected


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("您好{{name", 3, "{{ is not closed"),
        ("您好name}}", 7, "}} has no {{ before it"),
        ("您好{name}", 3, "a single { is not a placeholder"),
        ("您好{{name}}}", 11, "a single } is not a placeholder"),
        ("{{{name}}}", 1, "{{{ has one brace too many"),
        ("{{ a {{b}} }}", 1, "{{ is not closed"),
        ("您好{{}}", 3, "the placeholder {{ }} is empty"),
        ("您好{{   }}", 3, "the placeholder {{ }} is empty"),
        ("您好{{ 姓名 }}", 6, "姓名 is not a variable name"),
        ("{{ a + b }}", 4, "a + b is not a variable name"),
        ("{{ len(a) }}", 4, "len(a) is not a variable name"),
        ("{{ 1abc }}", 4, "1abc is not a variable name"),
        ("{{ true }}", 4, "true is not a variable name"),
        ("{{a.__class__}}", 3, "a.__class__ is not a variable name"),
        ("{{ order. }}", 4, "order. is not a variable name"),
        ("您好｛｛name｝｝", 3, "the full-width brace ｛ is not understood"),
    ],
    ids=repr,
)
def test_malformed_templates(text: str, column: int, fragment: str) -> None:
    error = error_of(text)
    assert fragment in error.message
    assert error.column == column
    assert error.fix
    assert isinstance(error, ValueError)
    assert str(error) == f"column {column}: {error.message} — {error.fix}"


def test_escape_applies_to_placeholder_values_only() -> None:
    template = compile_template("/a b/{{id}}/{{name}}?x={{missing}}")
    variables = {"id": "11010519491231002X", "name": "张 三/4"}
    assert template.render(variables, escape=lambda text: f"<{text}>") == (
        "/a b/<11010519491231002X>/<张 三/4>?x=<>"
    )
    assert compile_template("/static path").render({}, escape=str.upper) == "/static path"
    kinds = {"amount": "amount"}
    assert compile_template("{{amount}}").render({"amount": 2}, kinds, escape=lambda t: t + "!") == "两元!"


def test_failing_escape_renders_nothing(caplog: pytest.LogCaptureFixture) -> None:
    def broken(text: str) -> str:
        raise RuntimeError(text)

    with caplog.at_level(logging.WARNING, logger="bot.language.templates"):
        assert compile_template("a{{x}}b").render({"x": 1}, escape=broken) == "ab"
    assert "placeholder {{x}} could not be rendered" in caplog.text


def test_columns_count_line_breaks_as_characters() -> None:
    assert error_of("第一行\n{{ x").column == 5


# --- Values without a kind ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "是"),
        (False, "否"),
        ("文字", "文字"),
        (13812345678, "13812345678"),
        (3.0, "3"),
        (2.5, "2.5"),
        (["北京", "上海"], "北京、上海"),
        ({"a": 1}, ""),
    ],
    ids=["unset", "true", "false", "text", "int", "whole-float", "float", "list", "mapping"],
)
def test_plain_values(value: object, expected: str) -> None:
    assert compile_template("{{x}}").render({"x": value}) == expected


def test_missing_values_are_said_as_nothing() -> None:
    template = compile_template("您好{{name}}，订单{{order.status}}。")
    assert template.render({}) == "您好，订单。"
    assert template.render({"order": "not a mapping"}) == "您好，订单。"


def test_unknown_kind_is_plain_text() -> None:
    assert compile_template("{{x}}").render({"x": 3500}, {"x": "colour"}) == "3500"


def test_kinds_are_keyed_by_the_dotted_name() -> None:
    template = compile_template("{{order.total}}")
    variables = {"order": {"total": 3500}}
    assert template.render(variables, {"order.total": "amount"}) == "三千五百元"
    assert template.render(variables, {"order": "amount"}) == "3500"


def test_spoken_kinds() -> None:
    assert {"phone", "id_card", "digits", "number", "amount", "date", "time"} == SPOKEN_KINDS


# --- Values said by kind ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("phone", "13812345678", "幺三八，幺二三四，五六七八"),
        ("phone", 13812345678, "幺三八，幺二三四，五六七八"),
        ("phone", "138 1234 5678", "幺三八，幺二三四，五六七八"),
        ("phone", "+86 138-1234-5678", "幺三八，幺二三四，五六七八"),
        ("phone", "+8613812345678", "幺三八，幺二三四，五六七八"),
        ("phone", "01088886666", "零幺零，八八八八，六六六六"),
        ("phone", "02187654321", "零二幺，八七六五，四三二幺"),
        ("phone", "057188886666", "零五七幺，八八八八，六六六六"),
        ("phone", "0571-88886666", "零五七幺，八八八八，六六六六"),
        ("phone", "4008123123", "四零零，八幺二，三幺二三"),
        ("phone", "88886666", "八八八八，六六六六"),
        ("phone", "95588", "九五五八八"),
        ("phone", "请拨打人工", "请拨打人工"),
        ("phone", 2.5, "2.5"),
        ("id_card", "11010519491231002X", "幺幺零幺零五，幺九四九幺二三幺，零零二叉"),
        ("id_card", "11010519491231002x", "幺幺零幺零五，幺九四九幺二三幺，零零二叉"),
        ("id_card", "110105194912310021", "幺幺零幺零五，幺九四九幺二三幺，零零二幺"),
        ("id_card", "110105491231002", "幺幺零幺零五，四九幺二三幺，零零二"),
        ("id_card", "1234567", "幺二三四，五六七"),
        ("id_card", "ABC", "ABC"),
        ("digits", "123456", "幺二三，四五六"),
        ("digits", 1234567, "幺二三四，五六七"),
        ("digits", "0012", "零零幺二"),
        ("digits", "123456789", "幺二三，四五六，七八九"),
        ("digits", "6222021234567890123", "六二二二，零二幺二，三四五六，七八九零，幺二三"),
        ("digits", "1234-5678", "幺二三四，五六七八"),
        ("digits", -5, "-5"),
        ("number", 105, "一百零五"),
        ("number", 1.5, "一点五"),
        ("number", 2, "二"),
        ("number", 10, "十"),
        ("number", 0, "零"),
        ("number", -3, "负三"),
        ("number", "3.14159", "三点一四"),
        ("number", 2.0, "二"),
        ("number", Decimal("1.50"), "一点五"),
        ("number", "１２", "十二"),
        ("number", "many", "many"),
        ("number", float("nan"), ""),
        ("number", 10**20, "100000000000000000000"),
        ("amount", 3500, "三千五百元"),
        ("amount", 23000, "两万三千元"),
        ("amount", 1234.56, "一千二百三十四元五角六分"),
        ("amount", 15000, "一万五千元"),
        ("amount", 0.5, "五角"),
        ("amount", "¥3,500.00", "三千五百元"),
        ("amount", "12.5元", "十二元五角"),
        ("amount", Decimal("99.9"), "九十九元九角"),
        ("amount", "面议", "面议"),
        ("date", "2026-03-05", "3月5日"),
        ("date", "2026/3/5", "3月5日"),
        ("date", "2026年3月5日", "3月5日"),
        ("date", "20261225", "12月25日"),
        ("date", "03-05", "3月5日"),
        ("date", "2026-03-05T10:00:00", "3月5日"),
        ("date", dt.date(2026, 3, 5), "3月5日"),
        ("date", dt.datetime(2026, 12, 25, 8, 0), "12月25日"),
        ("date", "2026-02-30", "2026-02-30"),
        ("date", "13-01", "13-01"),
        ("date", "明天", "明天"),
        ("time", "15:30", "下午三点半"),
        ("time", "09:05", "上午九点零五分"),
        ("time", "9:05", "上午九点零五分"),
        ("time", "12:00", "中午十二点"),
        ("time", "00:30", "凌晨零点半"),
        ("time", "05:59", "凌晨五点五十九分"),
        ("time", "14:00", "下午两点"),
        ("time", "13:15", "下午一点十五分"),
        ("time", "18:45", "晚上六点四十五分"),
        ("time", "23:10", "晚上十一点十分"),
        ("time", "08:20:59", "上午八点二十分"),
        ("time", "2026-03-05 15:30", "下午三点半"),
        ("time", "15：30", "下午三点半"),
        ("time", dt.time(7, 2), "上午七点零二分"),
        ("time", dt.datetime(2026, 3, 5, 20, 0), "晚上八点"),
        ("time", "25:00", "25:00"),
        ("time", "下午", "下午"),
    ],
    ids=lambda value: value if isinstance(value, str) else repr(value),
)
def test_values_are_said_by_kind(kind: str, value: object, expected: str) -> None:
    assert say_value(value, kind) == expected
    assert compile_template("{{x}}").render({"x": value}, {"x": kind}) == expected


@pytest.mark.parametrize("kind", sorted(SPOKEN_KINDS), ids=str)
def test_every_kind_says_booleans_and_unset(kind: str) -> None:
    assert say_value(True, kind) == "是"
    assert say_value(False, kind) == "否"
    assert say_value(None, kind) == ""


def test_the_normalizer_reads_rendered_values_as_the_templates_do() -> None:
    kinds = {"phone": "phone", "amount": "amount", "date": "date", "time": "time"}
    text = compile_template("{{phone}}，{{amount}}，{{date}}{{time}}").render(
        {"phone": "13812345678", "amount": 3500, "date": "2026-03-05", "time": "15:30"}, kinds
    )
    assert normalize_for_speech(text) == "幺三八，幺二三四，五六七八，三千五百元，三月五日下午三点半"


# --- Chinese numbers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, "零"),
        (1, "一"),
        (2, "二"),
        (10, "十"),
        (11, "十一"),
        (20, "二十"),
        (100, "一百"),
        (105, "一百零五"),
        (110, "一百一十"),
        (200, "二百"),
        (1005, "一千零五"),
        (1050, "一千零五十"),
        (2000, "两千"),
        (2222, "两千二百二十二"),
        (10000, "一万"),
        (10010, "一万零一十"),
        (12000, "一万两千"),
        (20000, "两万"),
        (22000, "两万两千"),
        (120000, "十二万"),
        (100000, "十万"),
        (1000001, "一百万零一"),
        (10000000, "一千万"),
        (100001000, "一亿零一千"),
        (120000000, "一亿两千万"),
        (200000000, "两亿"),
        (1000000000000, "一万亿"),
        (1002003004005, "一万零二十亿零三百万四千零五"),
        (2000000000002, "两万亿零二"),
        (2000200000000, "两万零二亿"),
        (100010000, "一亿零一万"),
        (-15, "负十五"),
        (MAX_INTEGER, "九千九百九十九万九千九百九十九亿九千九百九十九万九千九百九十九"),
    ],
    ids=repr,
)
def test_integer_to_chinese(number: int, expected: str) -> None:
    assert integer_to_chinese(number) == expected


def test_integer_to_chinese_has_a_limit() -> None:
    with pytest.raises(ValueError, match="too large"):
        integer_to_chinese(MAX_INTEGER + 1)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("1.5", "一点五"),
        ("0.25", "零点二五"),
        ("10.05", "十点零五"),
        ("2", "二"),
        ("1.50", "一点五"),
        ("-0.5", "负零点五"),
        ("-0", "零"),
        ("1E+3", "一千"),
    ],
    ids=str,
)
def test_decimal_to_chinese(number: str, expected: str) -> None:
    assert decimal_to_chinese(Decimal(number)) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", "零元"),
        ("0.05", "五分"),
        ("0.5", "五角"),
        ("2", "两元"),
        ("2.22", "两元两角两分"),
        ("10.1", "十元一角"),
        ("100.05", "一百元零五分"),
        ("1234.56", "一千二百三十四元五角六分"),
        ("0.005", "一分"),
        ("0.004", "零元"),
        ("-3.5", "负三元五角"),
        ("100000000", "一亿元"),
    ],
    ids=str,
)
def test_amount_to_chinese(amount: str, expected: str) -> None:
    assert amount_to_chinese(Decimal(amount)) == expected


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1E+16"], ids=str)
def test_unreadable_numbers_are_value_errors(value: str) -> None:
    with pytest.raises(ValueError, match="that can be read"):
        amount_to_chinese(Decimal(value))
    with pytest.raises(ValueError, match="that can be read"):
        decimal_to_chinese(Decimal(value))


def test_digits_to_chinese() -> None:
    assert digits_to_chinese("0123456789X") == "零幺二三四五六七八九叉"


# --- Never raising ------------------------------------------------------------------


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text")


class BrokenMapping(Mapping[str, str]):
    def __getitem__(self, key: str) -> str:
        raise RuntimeError("broken")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("broken")

    def __len__(self) -> int:
        raise RuntimeError("broken")


def test_render_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    template = compile_template("a{{x}}b")
    with caplog.at_level(logging.WARNING, logger="bot.language.templates"):
        assert template.render({"x": Unprintable()}) == "ab"
        assert template.render({"x": 1}, BrokenMapping()) == "ab"
    assert "placeholder {{x}} could not be rendered" in caplog.text
    assert template.render(BrokenMapping()) == "ab"  # variables that cannot be read are unset


FUZZ_VALUES: list[object] = [
    *(None, True, 0, -1, 7, 2**64, 10**5000, 0.1, -2.5, 1e300, float("inf"), float("nan")),
    *("", "0", "13812345678", "11010519491231002X", "2026-13-45", "99:99", "１２：３０", "x" * 500),
    *("2026-03-05", "15:30", "¥", "-", "+86", "1-", "--1", ".", "1.", ".5", "1e5", "٣٤"),
    *(Decimal("NaN"), Decimal("1E+30"), Decimal("1E-30"), dt.date.min, dt.time.max, [1, [2]], {"a": 1}),
]


def test_fuzz_say_value_never_raises() -> None:
    rng = random.Random(42)
    kinds = [*sorted(SPOKEN_KINDS), "text", ""]
    for value in FUZZ_VALUES:
        for kind in kinds:
            assert isinstance(say_value(value, kind), str)
    for _ in range(2000):
        text = "".join(rng.choice("0123456789 -+.:：/年月日Xx¥,元") for _ in range(rng.randrange(0, 20)))
        for kind in kinds:
            assert isinstance(say_value(text, kind), str)
