"""What issue 14's thirteenth round taught the intent classifier (docs/quality.md, "Round
13"): a person told about is not asked for, a yes may be followed by what the caller
adds, sarcasm and indifference refuse, a concession does not decide, a keyword with a
gap may cross a pause, and a keyword of words that negate nothing (没问题) is refused
when negated."""

from __future__ import annotations

import pytest

from bot.dialog.nlu import IntentClassifier, IntentScore
from bot.dialog.nlu_negation import cancel_double_negations
from bot.language.flow import Intent
from bot.text.regional import REGIONAL_WORDS
from bot.text.segmenter import Segmenter


def _name(intent: IntentScore | None) -> str | None:
    return None if intent is None else intent.name


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # a person judged or quoted is told about, not asked for
        ("上次那个人工客服态度真好", None),
        ("刚才你们工作人员跟我说要等半个月", None),
        ("你们人工客服挺负责的", None),
        ("上次那个人工客服态度不好 帮我转人工", "transfer_agent"),  # then asked for
        # a yes, then what the caller adds
        ("对 我家老人的卡", "affirm"),
        ("是的 身份证后四位是一二三四", "affirm"),
        ("对了 我还有个事", None),  # 对了 opens a new subject: no yes
        # done already: 挂失过 without 了, 找着了
        ("上次挂失过 卡已经补好了", None),
        ("医保卡又找着了", None),
        ("几点上班跟我没关系 我就问地址", None),  # indifference refuses
    ],
)
def test_yibao_in_the_words_of_this_round(yibao: IntentClassifier, text: str, intent: str | None) -> None:
    assert _name(yibao.parse(text).intent) == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("没问题才怪", None),  # sarcasm: 没问题 is a keyword of affirm, refused
        ("可以才怪", None),
        ("我再忙也不会参加", "deny"),  # a concession: no "busy"
        ("再忙也会接的 你问吧", "affirm"),
    ],
)
def test_survey_in_the_words_of_this_round(survey: IntentClassifier, text: str, intent: str | None) -> None:
    assert _name(survey.parse(text).intent) == intent


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("我刚才不就说了嘛", "我刚才就说了嘛"),  # rhetorical: asserted
        ("我明天不就诊了", "我明天不就诊了"),  # 就诊 is a word
        ("我再忙也不会做", "我也不会做"),
        ("再打也没用", "再打也没用"),  # 打 is what is useless: kept
    ],
)
def test_rhetorical_and_concessive_words_said_plainly(text: str, said: str) -> None:
    assert cancel_double_negations(text) == said


def test_a_keyword_that_negates_nothing_is_refused_under_a_negation(segmenter: Segmenter) -> None:
    intents = {
        "affirm": Intent(examples=["好的"], keywords=["没问题"]),
        "other": Intent(examples=["天气怎么样"]),
    }
    classifier = IntentClassifier(intents, synonyms={}, threshold=0.5, segmenter=segmenter)
    assert _name(classifier.parse("没问题").intent) == "affirm"
    assert _name(classifier.parse("没问题才怪").intent) is None


@pytest.mark.parametrize(
    ("regional", "mandarin"), [("搞落了", "弄丢了"), ("整落了", "弄丢了"), ("信儿", "消息")]
)
def test_regional_words_of_this_round(regional: str, mandarin: str) -> None:
    assert regional in REGIONAL_WORDS[mandarin]
