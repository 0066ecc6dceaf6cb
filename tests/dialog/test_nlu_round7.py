"""What issue 14's seventh round taught the intent classifier (docs/quality.md, "Round 7"):
a caller still thinking says nothing, a clause-final "I don't care" refuses what it
follows, Shanghai's words, and claims and cards told as a story."""

from __future__ import annotations

import pytest

from bot.dialog.nlu import IntentClassifier, IntentScore
from bot.text.features import Analyser
from bot.text.segmenter import Segmenter


def _name(intent: IntentScore | None) -> str | None:
    return None if intent is None else intent.name


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("嗯……那个……", []),  # still thinking: nothing said
        ("就是说", []),
        ("那个…谁啊", ["谁"]),  # the turn holder is dropped, not the question
        ("嗯", ["嗯"]),  # alone, 嗯 is an answer
        ("嗯嗯，是要查这个", ["嗯嗯", "是要查"]),  # and before one, part of it
        ("嗯，那个，我的卡丢了", ["嗯", "我的卡丢了"]),
    ],
)
def test_words_said_to_hold_the_turn_say_nothing(segmenter: Segmenter, text: str, clauses: list[str]) -> None:
    assert Analyser({}, segmenter.cut).analyse(text).clauses == clauses


def test_a_caller_still_thinking_is_no_intent(yibao: IntentClassifier) -> None:
    assert yibao.parse("嗯……那个……").intent is None
    assert yibao.parse("嗯").intent is not None  # the one-word answer still counts


@pytest.mark.parametrize(
    "text",
    ["营业时间不用告诉我了", "周末开不开门我不关心", "几点下班无所谓", "上班时间不用跟我说"],
)
def test_not_caring_at_the_end_refuses_what_came_before(yibao: IntentClassifier, text: str) -> None:
    assert _name(yibao.parse(text).intent) != "service_hours"


@pytest.mark.parametrize("text", ["你们几点上班", "周末开门吗，我不太清楚"])
def test_asking_is_still_asking(yibao: IntentClassifier, text: str) -> None:
    assert _name(yibao.parse(text).intent) == "service_hours"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("好呀，侬问好了", "affirm"),  # Shanghai: 侬 is 你
        ("阿拉现在没空，晏歇再讲", "busy"),  # 阿拉 is 我, 晏歇 is 晚点
    ],
)
def test_shanghai_words(survey: IntentClassifier, text: str, intent: str) -> None:
    assert _name(survey.parse(text).intent) == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我那个住院的钱，你们给报了没有", "query_progress"),
        ("报销款到了没有啊", "query_progress"),
        ("老人那个看病的卡不晓得放哪去了", "card_loss"),
        ("给我找个服务员来说", "transfer_agent"),
    ],
)
def test_told_as_a_story(yibao: IntentClassifier, text: str, intent: str) -> None:
    assert _name(yibao.parse(text).intent) == intent
