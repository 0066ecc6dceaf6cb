"""What issue 14's sixth round taught the intent classifier (docs/quality.md, "Round 6"):
English words mixed into Mandarin, and keywords with a gap (卡…丢)."""

from __future__ import annotations

import pytest

from bot.dialog.nlu import IntentClassifier, IntentScore
from bot.dialog.nlu_keywords import MAX_GAP_CHARS
from bot.dialog.nlu_negation import cancel_double_negations
from bot.dialog.registry import classifier_of
from bot.language.flow import Intent
from bot.language.loader import load_flows
from bot.text.code_mixing import rewrite
from bot.text.segmenter import Segmenter
from tests.conftest import FLOWS_DIR


def _name(intent: IntentScore | None) -> str | None:
    return None if intent is None else intent.name


# -- English words ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mandarin"),
    [
        ("帮我转个 human agent", "帮我转个 人工"),
        ("我在 meeting，later 再 call 我", "我在 开会，晚点 再 打电话 我"),
        ("no thanks，不做", "不用了谢谢，不做"),
        ("ByeBye", "再见"),
        ("OK 啊", "好的 啊"),
        ("你们 office hours 是几点", "你们 上班时间 是几点"),
    ],
)
def test_english_words_are_read_as_their_mandarin_word(text: str, mandarin: str) -> None:
    assert rewrite(text) == mandarin


@pytest.mark.parametrize("text", ["I know the book", "iPhone", "卡号是ABC123", "没有英文"])
def test_only_whole_english_words_are_rewritten(text: str) -> None:
    # 'no' in 'know', 'ok' in 'book', 'hi' in 'iPhone' are no words of the list.
    assert rewrite(text) == text


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("帮我转个 human agent", "transfer_agent"),
        ("我的社保 card lost 了", "card_loss"),
        ("OK", "affirm"),
        ("bye", "goodbye"),
    ],
)
def test_a_flow_understands_english_words(segmenter: Segmenter, text: str, intent: str) -> None:
    classifier = classifier_of(load_flows(FLOWS_DIR)["yibao"].flow, segmenter, 0.5)
    assert _name(classifier.parse(text).intent) == intent


# -- keywords with a gap ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def gapped(segmenter: Segmenter) -> IntentClassifier:
    intents = {
        "card_loss": Intent(examples=["挂失"], keywords=["卡…丢", "卡...偷"]),
        "other": Intent(examples=["今天天气怎么样"]),
    }
    return IntentClassifier(intents, synonyms={}, threshold=0.5, segmenter=segmenter)


@pytest.mark.parametrize(
    "text",
    [
        "我把卡弄丢了",
        "卡让人偷了",
        "我的卡昨天在菜市场丢了",
        "卡，我丢了",  # from one clause into the next (round 13)
        "要补卡 那张丢了",  # across a pause the ASR wrote as a space
    ],
)
def test_a_keyword_with_a_gap_is_found_with_words_between(gapped: IntentClassifier, text: str) -> None:
    assert _name(gapped.parse(text).intent) == "card_loss"


@pytest.mark.parametrize(
    "text",
    [
        "丢了一张卡",  # the parts in the other order
        "卡，他说，丢了",  # three clauses: only the next one is searched
        "卡没带，钱包丢了",  # not across a negation
        "卡" + "很" * (MAX_GAP_CHARS + 1) + "丢",  # too far apart
        "我的卡没丢",  # negated
    ],
)
def test_a_keyword_with_a_gap_needs_its_parts_in_order_near_and_not_negated(
    gapped: IntentClassifier, text: str
) -> None:
    assert _name(gapped.parse(text).intent) != "card_loss"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("呃，就是我昨天在菜市场把卡弄丢了，现在咋办", "card_loss"),
        ("我卡让人偷了", "card_loss"),
        ("我的报销现在走到哪一步了", "query_progress"),
        ("我那个钱怎么还没到啊", "query_progress"),
    ],
)
def test_the_sample_flow_hears_told_requests_by_their_gapped_keywords(
    segmenter: Segmenter, text: str, intent: str
) -> None:
    classifier = classifier_of(load_flows(FLOWS_DIR)["yibao"].flow, segmenter, 0.5)
    assert _name(classifier.parse(text).intent) == intent


# -- litotes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [("我没说不方便啊", "我说方便啊"), ("也不能说没有建议", "也能说有建议"), ("没说不行", "说行")],
)
def test_litotes_are_read_as_what_they_affirm(text: str, said: str) -> None:
    assert cancel_double_negations(text) == said


def test_a_litotes_is_no_refusal(segmenter: Segmenter) -> None:
    classifier = classifier_of(load_flows(FLOWS_DIR)["survey"].flow, segmenter, 0.5)
    assert _name(classifier.parse("我没说不方便啊，你问").intent) != "busy"
    assert _name(classifier.parse("也不能说没有建议，我说两句").intent) != "deny"
