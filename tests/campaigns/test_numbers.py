"""A campaign's file of numbers: CSV in UTF-8 (with or without BOM) or GBK, Excel; every
problem reported with its row and the fix."""

from __future__ import annotations

import io

import openpyxl
import pytest

from bot.campaigns.numbers import phone_digits, read_numbers
from bot.errors import NumbersFileError


def test_a_csv_gives_each_number_its_data() -> None:
    entries, warnings = read_numbers("n.csv", "telnum,name,amount\n139 0000 0001,张三,120.5\n".encode())
    assert [(e.telnum, e.data, e.line) for e in entries] == [
        ("13900000001", {"name": "张三", "amount": "120.5"}, 2)
    ]
    assert warnings == []


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_excel_exports_in_utf8_with_bom_or_gbk_read_alike(encoding: str) -> None:
    entries, _ = read_numbers("n.csv", "电话,name\n+86 139-0000-0002,李四\n".encode(encoding))
    assert [(e.telnum, e.data) for e in entries] == [("13900000002", {"name": "李四"})]


def test_an_excel_workbook() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["手机号", "name", "due"])
    sheet.append([13900000003.0, "王五", "2026-12-31"])  # Excel keeps long numbers as floats
    buffer = io.BytesIO()
    book.save(buffer)
    entries, _ = read_numbers("n.xlsx", buffer.getvalue())
    assert [(e.telnum, e.data) for e in entries] == [("13900000003", {"name": "王五", "due": "2026-12-31"})]


def test_every_problem_names_its_row_and_the_fix() -> None:
    with pytest.raises(NumbersFileError) as caught:
        read_numbers("n.csv", "telnum,name\n13900000001,张三\nabc,李四\n+1 555,王五\n".encode())
    assert caught.value.problems == [
        "n.csv:3: 'abc' is not a phone number — write its digits (13800138000)",
        "n.csv:4: '+1 555' is not a phone number — write its digits (13800138000)",
    ]
    assert caught.value.status == 400


def test_a_column_must_be_a_variable_name_or_be_given_one() -> None:
    content = "telnum,姓名\n13900000001,张三\n".encode()
    with pytest.raises(
        NumbersFileError, match=r"n.csv:1: column '姓名' is not a variable name — .*--column '姓名=name'"
    ):
        read_numbers("n.csv", content)
    entries, _ = read_numbers("n.csv", content, columns={"姓名": "name"})
    assert entries[0].data == {"name": "张三"}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "n.csv:1: the file is empty"),
        (b"name,amount\n", "n.csv:1: no column of numbers"),
        (b"telnum,name\n", "n.csv:2: no numbers"),
        (b"PK\x03\x04not a workbook", "n.csv:1: not a readable Excel file"),
    ],
)
def test_unusable_files(content: bytes, problem: str) -> None:
    with pytest.raises(NumbersFileError, match=problem):
        read_numbers("n.csv", content)


def test_a_number_given_twice_is_kept_once_with_a_warning() -> None:
    entries, warnings = read_numbers("n.csv", b"telnum\n13900000001\n13900000001\n")
    assert len(entries) == 1
    assert warnings == ["n.csv:3: 139…01 is also on row 2; kept once"]


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("010-6552(8888)", "01065528888"),
        ("13800138000.0", "13800138000"),
        ("+1 202", None),
        ("一三八", None),
        ("12", None),
    ],
)
def test_phone_digits(text: str, digits: str | None) -> None:
    assert phone_digits(text) == digits
