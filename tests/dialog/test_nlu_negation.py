"""What the classifier adds to the analysis of bot.text.features: negations after what
they negate and 不 fused with its verb (bot.dialog.nlu_negation), and one target for
examples alike."""

from __future__ import annotations

import pytest

from bot.dialog.nlu import IntentClassifier
from bot.language.flow import Intent
from bot.text.segmenter import Segmenter

THRESHOLD = 0.5

INTENTS = {
    "transfer_agent": Intent(
        examples=["转人工", "我要转人工", "帮我转人工客服", "找你们工作人员", "让真人来接"],
        keywords=["转人工", "人工客服"],
    ),
    "card_loss": Intent(
        examples=["我的医保卡丢了", "医保卡挂失", "卡丢了怎么办", "我要补一张卡"], keywords=["挂失"]
    ),
    "service_hours": Intent(examples=["你们几点开门", "几点下班", "周末上班吗", "中午休息吗"]),
    "query_progress": Intent(examples=["查一下报销进度", "报销到哪一步了", "报销的钱什么时候到账"]),
    "affirm": Intent(examples=["好嘞", "你说", "是的", "对", "好的", "好的呀"]),
    "deny": Intent(examples=["不用了", "不需要", "算了", "不要"]),
}


@pytest.fixture(scope="module")
def classifier(segmenter: Segmenter) -> IntentClassifier:
    return IntentClassifier(INTENTS, synonyms={}, threshold=THRESHOLD, segmenter=segmenter)


def _confidence(classifier: IntentClassifier, text: str, intent: str) -> float:
    return next(s.confidence for s in classifier.parse(text).ranking if s.name == intent)


def _topics(classifier: IntentClassifier, text: str) -> list[frozenset[str]]:
    return [n.topic for n in classifier.analyse(text).negations]


@pytest.mark.parametrize(
    ("text", "positive", "intent"),
    [
        ("转人工就不用了", "转人工", "transfer_agent"),
        ("人工客服就算了", "人工客服", "transfer_agent"),
        ("人工客服我不要", "人工客服", "transfer_agent"),
        ("挂失就不办了", "挂失", "card_loss"),
        ("报销进度就不用查了", "报销进度", "query_progress"),
        ("不问几点开门", "几点开门", "service_hours"),
    ],
    ids=["bu-yong-le", "suan-le", "bu-yao", "bu-ban", "bu-yong-cha", "fused-bu-wen"],
)
def test_a_refusal_after_its_topic_negates_it(
    classifier: IntentClassifier, text: str, positive: str, intent: str
) -> None:
    assert _confidence(classifier, positive, intent) >= THRESHOLD  # what is refused, on its own
    assert _confidence(classifier, text, intent) < THRESHOLD


@pytest.mark.parametrize(
    "text",
    ["周末开门不", "报销审完没", "有结果没有", "要不要", "需不需要", "周末办不办", "好的不用了"],
    ids=["bu-asks", "mei-asks", "meiyou-asks", "a-not-a", "a-not-a-long", "fused-a-not-a", "nothing-named"],
)
def test_questions_and_bare_refusals_get_no_negation_added(classifier: IntentClassifier, text: str) -> None:
    assert classifier.analyse(text).negations == classifier._analyser.analyse(text).negations


def test_the_backward_topic_is_what_came_before(classifier: IntentClassifier) -> None:
    assert frozenset("人工") in _topics(classifier, "人工就不用了")
    assert frozenset("挂失") in _topics(classifier, "挂失就不办了")


def test_examples_alike_are_one_target(segmenter: Segmenter) -> None:
    # 好的 and 好的呀 analyse alike (a final particle is dropped): one target, same scores.
    alike = IntentClassifier(INTENTS, synonyms={}, threshold=THRESHOLD, segmenter=segmenter)
    fewer = {**INTENTS, "affirm": Intent(examples=["好嘞", "你说", "是的", "对", "好的"])}
    single = IntentClassifier(fewer, synonyms={}, threshold=THRESHOLD, segmenter=segmenter)
    assert len(alike._targets) == len(single._targets)
    for text in ("好的", "好的呀", "好的不用了", "是的你说"):
        assert alike.parse(text) == single.parse(text)
