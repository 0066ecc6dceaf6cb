"""normalize_for_speech: the table of written → said (normalize_cases.tsv), and its invariants."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest

from bot.speech.normalize import normalize_for_speech

CASES_FILE = Path(__file__).with_name("normalize_cases.tsv")


class Case(NamedTuple):
    id: str
    written: str
    said: str


def load_cases(path: Path) -> list[Case]:
    """The cases of a tab-separated table; a malformed line fails loudly with its number."""
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise ValueError(f"{path.name}:{number}: expected 3 tab-separated fields, got {len(fields)}")
        cases.append(Case(*fields))
    return cases


CASES = load_cases(CASES_FILE)
# Where the table's categories stand, by their id prefix: each must keep several cases.
KINDS = (
    "int", "dec", "neg", "ord", "range", "frac", "pct", "liang", "er", "date", "time", "amount",
    "mobile", "landline", "hotline", "service", "id", "card", "code", "unit", "letters", "sym", "punct",
)  # fmt: skip


def test_the_table_is_large_and_covers_every_kind() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= 100
    assert len(set(ids)) == len(ids), "case ids must be unique"
    for kind in KINDS:
        assert sum(case_id.startswith(kind + "-") for case_id in ids) >= 2, kind


@pytest.mark.parametrize(("written", "said"), [c[1:] for c in CASES], ids=[c.id for c in CASES])
def test_normalize_for_speech(written: str, said: str) -> None:
    assert normalize_for_speech(written) == said


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("  您好 \n\t 请问  ", "您好 请问"),
        ("【】 ", ""),
        ("。。。", ""),
        ("", ""),
        ("\x00\x07\u200b😊", ""),
        ("您\r\n好", "您 好"),
        ("\ud800坏字符", "坏字符"),
    ],
    ids=[
        "whitespace-collapsed",
        "nothing-left",
        "only-pauses",
        "empty",
        "only-unspeakable",
        "crlf",
        "surrogate",
    ],
)
def test_whitespace_and_unspeakable_characters(written: str, said: str) -> None:
    assert normalize_for_speech(written) == said


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_normalising_twice_changes_nothing(case: Case) -> None:
    assert normalize_for_speech(case.said) == case.said


def test_no_ascii_digit_is_left_for_a_backend_to_guess() -> None:
    said = [normalize_for_speech(case.written) for case in CASES]
    assert [text for text in said if re.search("[0-9]", text)] == []


@pytest.mark.parametrize(
    "written",
    [
        "9" * 40,
        "1" * 17 + ".5元",
        "¥" + "9" * 20 + "元",
        "-" * 50 + "1",
        "1/0",
        "0/0",
        "99:99",
        "2024-13-45",
        "¥¥$$%%‰",
        "第-3",
        "±",
        "1,2,3,4",
        "1.2.3.4.5.6",
        "++86",
        "X" * 30,
        "。，！？" * 20,
    ],
)
def test_odd_input_reads_without_error(written: str) -> None:
    said = normalize_for_speech(written)

    assert not re.search("[0-9]", said)
    assert normalize_for_speech(said) == said


def test_a_long_text_is_read_whole() -> None:
    text = "您好，您的电话是13812345678吗？" * 500

    said = normalize_for_speech(text)

    assert said == "您好，您的电话是幺三八，幺二三四，五六七八吗？" * 500
