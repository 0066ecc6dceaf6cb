"""Spoken digit strings, read once for the slots and the knowledge base."""

from __future__ import annotations

import pytest

from bot.text.digits import digit_runs, digits_value, normalize_spoken_digits, spoken_digits_to_ascii


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("打幺二三九三问", "打12393问"),
        ("洞拐两", "072"),
        ("查一下两个", "查一下两个"),  # too short to be a digit string
        ("三四天", "三四天"),
        ("12393", "12393"),
    ],
)
def test_runs_of_three_spoken_digits_become_ascii(text: str, expected: str) -> None:
    assert spoken_digits_to_ascii(text) == expected


def test_the_slots_reading_is_the_same() -> None:
    assert normalize_spoken_digits("幺三八 幺二三四")[0] == "1381234"
    assert digits_value("二零二六") == "2026"
    assert [run.digits for run in digit_runs("号码幺三八，幺二三四")] == ["1381234"]
