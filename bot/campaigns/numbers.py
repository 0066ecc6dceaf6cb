"""A campaign's numbers from a CSV or Excel file: the number to call and its data.

The first row names the columns. One column holds the number (``telnum``, ``phone``,
``mobile``, ``number``, 号码, 电话, 手机, 手机号, 电话号码); every other column becomes a
variable of that number's calls, ``customer.<column>`` (``{{customer.name}}``), so its
name must be a variable name, or be given one (``columns={"姓名": "name"}``). Numbers
are kept as digits (spaces, dashes and a leading +86 go). Every problem is reported
with its row, as ``file:line: what — fix``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import NumbersFileError
from bot.language.expressions import is_variable_name
from bot.text.decoding import decode_text

NUMBER_COLUMNS = ("telnum", "phone", "mobile", "number", "号码", "电话", "手机", "手机号", "电话号码")
_SEPARATORS = re.compile(r"[\s\-()（）]")
_PHONE = re.compile(r"[0-9]{3,20}")
MAX_NUMBERS = 200_000
XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class NumberEntry:
    """One number of a campaign, with the data its calls see as ``customer``."""

    telnum: str
    data: dict[str, str]
    line: int  # the file's row, for messages


def read_numbers(
    name: str, content: bytes, *, columns: Mapping[str, str] | None = None
) -> tuple[list[NumberEntry], list[str]]:
    """The numbers of a CSV (UTF-8, with or without BOM, or GBK) or Excel (.xlsx) file.

    Args:
        name: The file's name, for messages.
        content: The file.
        columns: New names for columns whose names are not variable names.

    Returns:
        The numbers, and warnings (a number given twice: the first row is kept).

    Raises:
        NumbersFileError: Every problem of the file, each with its row and the fix.
    """
    rows = _xlsx_rows(name, content) if content.startswith(XLSX_MAGIC) else _csv_rows(content)
    header = next(rows, None)
    if header is None:
        raise NumbersFileError(
            [f"{name}:1: the file is empty — the first row names the columns (telnum,name,…)"]
        )
    names, number_column = _columns(name, header, columns or {})
    problems: list[str] = []
    warnings: list[str] = []
    entries: list[NumberEntry] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        raw = row[number_column] if number_column < len(row) else ""
        telnum = phone_digits(raw)
        if telnum is None:
            problems.append(f"{name}:{line}: {raw!r} is not a phone number — write its digits (13800138000)")
            continue
        if telnum in seen:
            warnings.append(
                f"{name}:{line}: {telnum[:3]}…{telnum[-2:]} is also on row {seen[telnum]}; kept once"
            )
            continue
        seen[telnum] = line
        data = {key: row[i].strip() if i < len(row) else "" for i, key in enumerate(names) if key}
        entries.append(NumberEntry(telnum, data, line))
        if len(entries) > MAX_NUMBERS:
            raise NumbersFileError([f"{name}:{line}: more than {MAX_NUMBERS:,} numbers — split the file"])
    if problems:
        raise NumbersFileError(problems)
    if not entries:
        raise NumbersFileError([f"{name}:2: no numbers — add a row per number under the header"])
    return entries, warnings


def phone_digits(text: str) -> str | None:
    """A number as the CTI dials it: digits only, without +86; None when it is not one."""
    digits = _SEPARATORS.sub("", text.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("+"):
        return None
    if digits.endswith(".0"):  # a number Excel stored as a float
        digits = digits[:-2]
    return digits if _PHONE.fullmatch(digits) else None


def _columns(name: str, header: list[str], renamed: Mapping[str, str]) -> tuple[list[str], int]:
    """The variable name of each column ("" for the number's), and the number's column."""
    cleaned = [cell.strip() for cell in header]
    number_column = next((i for i, cell in enumerate(cleaned) if cell.lower() in NUMBER_COLUMNS), None)
    if number_column is None:
        raise NumbersFileError(
            [f"{name}:1: no column of numbers — name it one of {', '.join(NUMBER_COLUMNS)}"]
        )
    problems = []
    names = []
    for index, cell in enumerate(cleaned):
        key = renamed.get(cell, cell)
        if index == number_column or not cell:
            names.append("")
        elif is_variable_name(key) and "." not in key:
            names.append(key)
        else:
            problems.append(
                f"{name}:1: column {cell!r} is not a variable name — rename it with English letters, digits "
                f"and _ (name, amount_due), or give it one: --column '{cell}=name'"
            )
            names.append("")
    if problems:
        raise NumbersFileError(problems)
    return names, number_column


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    text, _ = decode_text(content.removeprefix(b"\xef\xbb\xbf"))
    yield from csv.reader(io.StringIO(text, newline=""))


def _xlsx_rows(name: str, content: bytes) -> Iterator[list[str]]:
    """The first sheet's rows as text (numbers without a trailing ``.0``)."""
    import openpyxl  # noqa: PLC0415 (only for Excel files)

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise NumbersFileError(
            [f"{name}:1: not a readable Excel file ({exc}) — save it as .xlsx or CSV"]
        ) from exc
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell(value) for value in row]
    finally:
        book.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
