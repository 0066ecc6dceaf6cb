"""What issue 14's fourteenth round taught the intent classifier (docs/quality.md, "Round
14"): a word the caller refused is refused again where a later clause names it, "not that
it is not A, but B" means B, a yes asked is no yes, and 我早就知道 refuses as 我知道 does."""

from __future__ import annotations

import pytest

from bot.dialog.nlu import IntentClassifier, IntentScore
from bot.dialog.nlu_negation import cancel_double_negations
from bot.text.regional import REGIONAL_WORDS


def _name(intent: IntentScore | None) -> str | None:
    return None if intent is None else intent.name


@pytest.mark.parametrize(
    ("text", "not_this"),
    [
        ("我不要转人工 人工排队太久了", "transfer_agent"),  # the reason names it again
        ("挂失就算了 挂失还得跑一趟", "card_loss"),
        ("上班时间我早就知道了", "service_hours"),
        ("对吗 我也拿不准", "affirm"),  # a yes asked
    ],
)
def test_yibao_is_not_taken_in(yibao: IntentClassifier, text: str, not_this: str) -> None:
    assert _name(yibao.parse(text).intent) != not_this


def test_a_caller_may_change_their_mind(yibao: IntentClassifier) -> None:
    assert _name(yibao.parse("不用转人工 还是转人工吧").intent) == "transfer_agent"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("不是不想查进度 是真的不用查了", "真的不用查了"),
        ("我不是不想参加，而是没时间", "我没时间"),
        ("不是卡坏了，是机器坏了", "不是卡坏了，是机器坏了"),  # a plain 不是 stays
        ("你不是说能转人工吗，是不是", "你不是说能转人工吗，是不是"),
    ],
)
def test_not_that_it_is_not_but(text: str, said: str) -> None:
    assert cancel_double_negations(text) == said


@pytest.mark.parametrize(("regional", "mandarin"), [("莫念", "别念"), ("莫讲", "别说")])
def test_regional_words_of_this_round(regional: str, mandarin: str) -> None:
    assert regional in REGIONAL_WORDS[mandarin]
