"""What issue 14's eighth round taught the intent classifier (docs/quality.md, "Round 8"):
an intent whose keywords are only refused is refused, a 了 of its own closes what a
negation covers, thinking sounds and 就是 before more words, plainer words for 不用,
and more words of regions and of English."""

from __future__ import annotations

import pytest

from bot.dialog.nlu import IntentClassifier, IntentScore
from bot.text.features import Analyser
from bot.text.segmenter import Segmenter


def _name(intent: IntentScore | None) -> str | None:
    return None if intent is None else intent.name


@pytest.mark.parametrize("text", ["医保卡没丢，就是想问问别的", "不用转人工，我自己看", "我不是要挂失"])
def test_an_intent_whose_keywords_are_refused_is_refused(yibao: IntentClassifier, text: str) -> None:
    result = yibao.parse(text)
    assert _name(result.intent) not in {"card_loss", "transfer_agent"}


def test_a_keyword_said_plainly_as_well_is_not_refused(yibao: IntentClassifier) -> None:
    # one keyword refused, another said plainly: the request stands
    assert _name(yibao.parse("我不是要挂失，是卡丢了要补卡").intent) == "card_loss"


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("不说了拜拜", "说"),  # 了 closes what 不 covers: 拜拜 is said, not refused
        ("不需要了谢谢", "需"),  # (要, 想 and 了 carry no topic)
        ("不想了解", "解"),  # 了解 is a word: no 了 of its own
    ],
)
def test_a_perfective_le_closes_a_negation(segmenter: Segmenter, text: str, topic: str) -> None:
    analysis = Analyser({}, segmenter.cut).analyse(text)
    assert {"".join(sorted(n.topic)) for n in analysis.negations} == {"".join(sorted(topic))}


def test_goodbye_after_a_closed_refusal(yibao: IntentClassifier) -> None:
    assert _name(yibao.parse("好了好了不说了拜拜").intent) == "goodbye"


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("嗯……呃……", []),  # thinking sounds: nothing said
        ("呃，喂", ["喂"]),  # but a call for attention stays
        ("就是……周末能办吗", ["周末能办吗"]),  # 就是 before more words starts them
        ("就是", ["就是"]),  # alone, "exactly"
    ],
)
def test_thinking_sounds_and_starters(segmenter: Segmenter, text: str, clauses: list[str]) -> None:
    assert Analyser({}, segmenter.cut).analyse(text).clauses == clauses


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("无需了", "deny"),  # 无需, 不必, 甭, 用不着 are 不用
        ("甭了", "deny"),
        ("好咧，再会", "goodbye"),  # 再会 is 再见
        ("卡让贼娃子摸走了", "card_loss"),  # 贼娃子 is 小偷
        ("你们中午歇不歇", "service_hours"),  # 歇 is 休息
        ("What time 你们 open", "service_hours"),  # open is 开门
        ("帮我接到客服那边吧", "transfer_agent"),
        ("我那单子走到哪儿了", "query_progress"),
        ("卡裂了一道缝，刷不了", "card_loss"),
    ],
)
def test_yibao_hears_more_words(yibao: IntentClassifier, text: str, intent: str) -> None:
    assert _name(yibao.parse(text).intent) == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("OK，go ahead", "affirm"),
        ("忙着呢，下午再说", "busy"),
        ("嗯嗯，好，挂咯", "goodbye"),  # 挂 alone is 挂了
        ("别再给我打这种电话了", "deny"),
    ],
)
def test_survey_hears_more_words(survey: IntentClassifier, text: str, intent: str) -> None:
    assert _name(survey.parse(text).intent) == intent
