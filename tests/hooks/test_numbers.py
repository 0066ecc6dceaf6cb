"""Caller numbers in the forms trunks send them, made one; and masked for logs."""

from __future__ import annotations

import pytest

from bot.hooks.numbers import mask, normalize_caller


@pytest.mark.parametrize(
    ("sent", "normalized"),
    [
        ("13812345678", "13812345678"),
        ("138 1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("013812345678", "13812345678"),
        ("01012345678", "01012345678"),
        ("(010) 1234-5678", "01012345678"),
        ("+861012345678", "01012345678"),
        ("+86 21 6888 0000", "02168880000"),
        ("+86 0571 8888 8888", "057188888888"),
        ("86123456", "86123456"),  # a local number that starts with 86 keeps it
        ("+14155550100", "0014155550100"),
        ("808", "808"),
        ("", None),
        ("  ", None),
        (None, None),
        ("anonymous", None),
        ("12", None),
        ("1" * 21, None),
        ("１３８１２３４５６７８", None),  # full-width digits are not what a trunk sends
    ],
    ids=repr,
)
def test_callers_are_normalized(sent: str | None, normalized: str | None) -> None:
    assert normalize_caller(sent) == normalized


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),  # phone and ID numbers as everywhere (bot/privacy.py)
        ("11010519491231002X", "110***********002X"),
        ("7731234567890901", "773**********901"),  # other keys: a fifth of each end
        ("9", "*"),
        ("1234", "****"),
        ("", ""),
    ],
    ids=repr,
)
def test_masking_keeps_the_ends(value: str, masked: str) -> None:
    assert mask(value) == masked
