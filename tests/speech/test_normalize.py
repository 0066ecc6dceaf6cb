"""normalize_for_speech: brackets, digit-by-digit identifiers, untouched quantities."""

from __future__ import annotations

import pytest

from bot.speech.normalize import normalize_for_speech

CASES = [
    (
        "请问您是想咨询[转诊转院],[异地安置]还是[异地急诊]?",
        "请问您是想咨询转诊转院,异地安置还是异地急诊?",
        "square-brackets",
    ),
    ("【温馨提示】请保持电话畅通", "温馨提示请保持电话畅通", "lenticular-brackets"),
    ("［医保］", "医保", "full-width-brackets"),
    ("13812345678", "幺三八幺二三四五六七八", "mobile"),
    ("请拨打13812345678。", "请拨打幺三八幺二三四五六七八。", "mobile-in-sentence"),
    ("138 1234 5678", "幺三八，幺二三四，五六七八", "mobile-with-spaces"),
    ("138-1234-5678", "幺三八，幺二三四，五六七八", "mobile-with-dashes"),
    ("0571-88888888", "零五七幺，八八八八八八八八", "landline-with-area-code"),
    ("88888888", "八八八八八八八八", "landline-8-digits"),
    ("1234567", "幺二三四五六七", "seven-digits"),
    ("11010519491231002X", "幺幺零幺零五幺九四九幺二三幺零零二叉", "id-with-X"),
    ("11010519491231002x号", "幺幺零幺零五幺九四九幺二三幺零零二叉号", "id-with-lowercase-x"),
    ("110105194912310021", "幺幺零幺零五幺九四九幺二三幺零零二幺", "id-all-digits"),
    ("１３８１２３４５６７８", "幺三八幺二三四五六七八", "full-width-digits"),
    ("123456", "123456", "six-digits-untouched"),
    ("报销金额3500元", "报销金额3500元", "amount-untouched"),
    ("2024年起执行", "2024年起执行", "year-untouched"),
    ("共1000000元", "共1000000元", "long-amount-with-unit-untouched"),
    ("1234567.89", "1234567.89", "decimal-untouched"),
    ("2023-01-15", "2023-01-15", "dashed-date-untouched"),
    ("2023-2024年度", "2023-2024年度", "year-range-untouched"),
    ("1234567X光", "幺二三四五六七X光", "x-after-short-number-is-a-word"),
    (
        "您好，您的电话是 138 1234 5678 吗？[是的]请按1， 身份证号11010519491231002X，金额3500元。",
        "您好，您的电话是 幺三八，幺二三四，五六七八 吗？是的请按1， "
        "身份证号幺幺零幺零五幺九四九幺二三幺零零二叉，金额3500元。",
        "mixed",
    ),
    ("  您好 \n\t 请问  ", "您好 请问", "whitespace-collapsed"),
    ("【】 ", "", "nothing-left"),
]


@pytest.mark.parametrize(("text", "expected"), [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_normalize_for_speech(text: str, expected: str) -> None:
    assert normalize_for_speech(text) == expected


def test_normalize_is_idempotent() -> None:
    once = normalize_for_speech(CASES[-3][0])
    assert normalize_for_speech(once) == once
