"""What issue 14's ninth round taught the intent classifier (docs/quality.md, "Round 9"):
the 在 of 现在 repeats no verb, a word said again at once is said once, a bad line is
no refusal, and more words of regions and of the sample flows."""

from __future__ import annotations

import pytest

from bot.dialog.nlu import IntentClassifier, IntentScore
from bot.text.features import Analyser
from bot.text.regional import REGIONAL_WORDS
from bot.text.segmenter import Segmenter


def _name(intent: IntentScore | None) -> str | None:
    return None if intent is None else intent.name


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("我现在没在开车", True),  # 现在's 在 is no verb: the caller is not driving
        ("我现在不在家", True),
        ("你们领导在不在", False),  # an A-not-A question negates nothing
        ("你们中午休不休息", False),
    ],
)
def test_the_zai_of_xianzai_makes_no_question(segmenter: Segmenter, text: str, negated: bool) -> None:
    assert bool(Analyser({}, segmenter.cut).analyse(text).negations) is negated


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("是呀是呀", ["是"]),  # said once, and its particle ends it
        ("客服客服客服", ["客服"]),
        ("好的好的，挂了", ["好的", "挂了"]),
        ("拜拜", ["拜拜"]),  # one character said twice is a word
        ("卡很很很很很丢", ["卡很很很很很丢"]),  # one character over and over stays
    ],
)
def test_a_word_said_again_at_once_is_said_once(segmenter: Segmenter, text: str, clauses: list[str]) -> None:
    assert Analyser({}, segmenter.cut).analyse(text).clauses == clauses


@pytest.mark.parametrize("text", ["信号不好", "喂？信号不好", "我这边信号不行"])
def test_a_bad_line_is_no_refusal(survey: IntentClassifier, text: str) -> None:
    # survey does not use the library's `repeat`: a rival, so no intent at all
    assert _name(survey.parse(text).intent) is None


@pytest.mark.parametrize(
    ("regional", "mandarin"),
    [
        ("甚时候", "什么时候"),
        ("寻不着", "找不到"),
        ("哒", "了"),
        ("莫打", "别打"),
        ("弄没了", "弄丢了"),
        ("歇晌", "午休"),
        ("整个人来", "找个人来"),
        ("您", "你"),
        ("么有", "没有"),
    ],
)
def test_regional_words_of_this_round(regional: str, mandarin: str) -> None:
    assert regional in REGIONAL_WORDS[mandarin]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("整个人来给我说说", "transfer_agent"),
        ("你们甚时候上班", "service_hours"),
        ("医保卡寻不着了", "card_loss"),
        ("我那张医保卡弄没了", "card_loss"),
        ("让你们懂行的跟我说", "transfer_agent"),
        ("交上去一个多月了一点消息都没有", "query_progress"),
        ("你们中午歇不歇晌", "service_hours"),
        ("嗯嗯好的好的", "affirm"),
    ],
)
def test_yibao_in_the_words_of_this_round(yibao: IntentClassifier, text: str, intent: str) -> None:
    assert _name(yibao.parse(text).intent) == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("夜里再打给我", "busy"),
        ("冇空", "busy"),
        ("以后别再给我打了", "deny"),  # a refusal of further calls, not a goodbye
        ("莫烦我", "deny"),
        ("您问吧", "affirm"),
    ],
)
def test_survey_in_the_words_of_this_round(survey: IntentClassifier, text: str, intent: str) -> None:
    assert _name(survey.parse(text).intent) == intent
