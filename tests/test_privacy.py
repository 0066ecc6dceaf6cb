"""bot/privacy.py: which numbers are masked, how, and what is left alone."""

from __future__ import annotations

import pytest

from bot.hooks.numbers import mask
from bot.privacy import mask_json, mask_number, mask_text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # Mobiles, bare and with the prefixes trunks put before them.
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("008613812345678", "0086138****5678"),
        ("8613812345678", "86138****5678"),
        ("013812345678", "0138****5678"),
        # As ASR and CTIs write them.
        ("138 1234 5678", "138 **** 5678"),
        ("138-1234-5678", "138-****-5678"),
        # Fixed lines with their area code.
        ("01012345678", "010****5678"),
        ("010-12345678", "010-****5678"),
        ("0571-87654321", "057*-****4321"),
        ("(0571) 8765 4321", "(057*) **** 4321"),
        ("（021）6543210", "（021）***3210"),
        ("+86 10 1234 5678", "+86 10 1*** 5678"),
        # ID numbers, X in either case.
        ("110101199001011234", "110***********1234"),
        ("11010119900101123X", "110***********123X"),
        ("11010119900101123x", "110***********123x"),
        ("110101 19900101 123X", "110*** ******** 123X"),
        # Inside text and URLs.
        ("我的手机号是13812345678，谢谢", "我的手机号是138****5678，谢谢"),
        ("身份证号码110101199001011234。", "身份证号码110***********1234。"),
        (
            "GET http://pbx/api?extnum=13812345678&callid=7&txt=%E4%BD%A0",
            "GET http://pbx/api?extnum=138****5678&callid=7&txt=%E4%BD%A0",
        ),
        # Percent-encoded: GX's biz_data JSON, an HTTP TTS text (the escape before the
        # number ends with a digit; spaces are %20 or +).
        (
            "biz_data=%7B%22phone%22%3A%2213812345678%22%2C%22id%22%3A%2211010119900101123X%22%7D",
            "biz_data=%7B%22phone%22%3A%22138****5678%22%2C%22id%22%3A%22110***********123X%22%7D",
        ),
        ("text=%E5%8F%B7%E7%A0%81138%201234%205678", "text=%E5%8F%B7%E7%A0%81138%20****%205678"),
        # Encoded twice, as GX's biz_data reaches the PBX's URL.
        ("%253A%252213800138000%2522", "%253A%2522138****8000%2522"),
        ("%25E7%2594%25B513800138000%25EF", "%25E7%2594%25B5138****8000%25EF"),
        ("138%25201234%25205678", "138%2520****%25205678"),
        ("text=%E5%8F%B7138+1234+5678", "text=%E5%8F%B7138+****+5678"),
        ('{"phone": "13812345678", "b": 13912345678}', '{"phone": "138****5678", "b": 139****5678}'),
        ("a 13812345678 b 13912345678 c", "a 138****5678 b 139****5678 c"),
        ("2026-12-05 13812345678", "2026-12-05 138****5678"),
        ("13812345678,13912345678", "138****5678,139****5678"),
    ],
)
def test_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked
    assert mask_text(masked) == masked  # masking twice changes nothing


@pytest.mark.parametrize(
    "text",
    [
        "20261205",  # a date
        "2026-12-05 10:30:00",
        "验证码 123456",  # a 6-digit code
        "转 8001",  # an extension
        "金额 12345.67 元",  # amounts
        "1,380,000.00",
        "1733400000",  # epoch seconds and milliseconds
        "1733400000000",
        "2013812345678",  # 13 digits: no number of ours inside a longer run
        "12813812345678",
        "1381234567",  # 10 digits starting like a mobile
        "0000000001",
        "057112345",  # too short for a fixed line with its area code
        "12345678901234567",  # 17 digits
        "1234567890123456789",  # 19 digits
        "flow yibao version 0123456789ab",  # hexadecimal keys
        "/audio/8d4f4dfbf76de3956613812345678d635b92652c40487f0835ed858eb8693e6fa24.wav",
        "call abc-123: turn 5 in 42 ms",
        "",
    ],
)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_mask_number_keeps_three_and_four() -> None:
    assert mask_number("13812345678") == "138****5678"
    assert mask_number("138 1234 5678") == "138 **** 5678"


def test_mask_json_masks_every_string_and_number_values() -> None:
    value = {
        "caller": "13812345678",
        "13912345678": ["身份证 110101199001011234", 13712345678, 8001, True, None, 1.5],
        "nested": {"note": "no number", "amount": 12345},
    }
    assert mask_json(value) == {
        "caller": "138****5678",
        "139****5678": ["身份证 110***********1234", "137****5678", 8001, True, None, 1.5],
        "nested": {"note": "no number", "amount": 12345},
    }
    assert value["caller"] == "13812345678"  # a copy: the original is untouched


def test_the_older_helpers_mask_numbers_the_same_way() -> None:
    assert mask("13812345678") == "138****5678"
    assert mask("110101199001011234") == "110***********1234"
    assert mask("ABC123456") == "A*******6"  # keys that are not numbers: their middle starred
