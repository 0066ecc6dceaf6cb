"""What issue 14's eleventh round taught the intent classifier (docs/quality.md, "Round
11"): what the caller says is done already is not asked for, the clause that asks decides
a request told as a story, and more regional words and keywords."""

from __future__ import annotations

import pytest

from bot.dialog.nlu import IntentClassifier, IntentScore
from bot.dialog.nlu_negation import add_postposed_negations
from bot.language.flow import Intent
from bot.text.features import Analyser
from bot.text.regional import REGIONAL_WORDS
from bot.text.segmenter import Segmenter


def _name(intent: IntentScore | None) -> str | None:
    return None if intent is None else intent.name


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("营业时间我已经问过了", True),
        ("报销的钱上礼拜收到了", True),
        ("卡又找回来了", True),
        ("住院报销办好了吗", False),  # asked, not told
        ("报销的钱到账了没有", False),
        ("报销弄好了伐", False),  # Shanghai's 吗
        ("材料交过了", False),  # handed in: the claim is not done
    ],
)
def test_what_is_done_already_is_negated(segmenter: Segmenter, text: str, negated: bool) -> None:
    analysis = Analyser({}, segmenter.cut).analyse(text)
    add_postposed_negations(analysis)
    assert bool(analysis.negations) is negated


def test_shanghais_question_after_le_is_a_question(segmenter: Segmenter) -> None:
    assert Analyser({}, segmenter.cut).analyse("单子弄好了伐").clauses == ["单子弄好了吗"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("营业时间我已经问过了", None),
        ("报销的钱上礼拜收到了", None),
        ("住院报销办好了吗", "query_progress"),
        ("阿拉报销弄好了伐", "query_progress"),
        # Told as a story: the clause that asks decides.
        ("我爸去年十月做了个手术花了三万多，材料上个月就交了，什么时候能报下来", "query_progress"),
        ("我老伴住院花了一万二，单子交了快两个月，钱到底啥时候能到", "query_progress"),
        ("给我整个活人来", "transfer_agent"),
        ("卡冇得哒", "card_loss"),  # Hunan: the card is gone
        ("就介样吧", "goodbye"),  # Tianjin: 就这样吧
    ],
)
def test_yibao_in_the_words_of_this_round(yibao: IntentClassifier, text: str, intent: str | None) -> None:
    assert _name(yibao.parse(text).intent) == intent


def test_a_clause_decides_only_for_the_intent_the_whole_leans_to(yibao: IntentClassifier) -> None:
    # 上回就是她给我办的 alone is near a yes (就是); the whole leans to a person asked
    # for, so no clause may make it affirm.
    result = yibao.parse("帮我接一下零三号窗口的王老师，上回就是她给我办的")
    assert _name(result.intent) != "affirm"


def test_a_clause_with_a_negation_does_not_decide_alone(yibao: IntentClassifier) -> None:
    # 腿脚不好 alone would be near a no.
    result = yibao.parse("我老太婆腿脚不好，想挑你们开着门的时候去，哪天哪个钟头能办")
    assert _name(result.intent) != "deny"


@pytest.mark.parametrize(("regional", "mandarin"), [("冇得", "没有"), ("介样", "这样"), ("介个", "这个")])
def test_regional_words_of_this_round(regional: str, mandarin: str) -> None:
    assert regional in REGIONAL_WORDS[mandarin]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("中，拜了", "goodbye"),  # a yes, then goodbye: the call ends
        ("对的，在见", "goodbye"),  # 在见: the ASR's 再见
        ("对，谢谢", "goodbye"),
        ("好，转人工", "transfer_agent"),
        ("是的", "affirm"),
    ],
)
def test_a_yes_then_a_request_is_the_request(yibao: IntentClassifier, text: str, intent: str) -> None:
    assert _name(yibao.parse(text).intent) == intent


def test_a_flow_without_intents_parses_a_story(segmenter: Segmenter) -> None:
    classifier = IntentClassifier({}, synonyms={}, threshold=0.5, segmenter=segmenter)
    assert classifier.parse("我上个月交了材料，现在到哪一步了").intent is None


def test_a_word_an_intent_excludes_refuses_it(segmenter: Segmenter) -> None:
    intents = {
        "progress": Intent(examples=["报销到哪一步了", "查一下报销"], exclude=["比例"]),
        "hours": Intent(examples=["几点上班"]),
    }
    classifier = IntentClassifier(intents, synonyms={}, threshold=0.5, segmenter=segmenter)
    assert _name(classifier.parse("我想查一下报销").intent) == "progress"
    assert classifier.parse("我想查一下报销比例").intent is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("报销比例是多少", None),  # the rules: the knowledge base's
        ("门诊能报多少", None),
        ("社保卡密码忘了怎么办", None),
        ("人工智能现在挺厉害的", None),
        ("我想查一下报销进度", "query_progress"),
        ("社保卡丢了怎么办", "card_loss"),
    ],
)
def test_yibao_leaves_the_rules_to_the_knowledge_base(
    yibao: IntentClassifier, text: str, intent: str | None
) -> None:
    assert _name(yibao.parse(text).intent) == intent


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("刚才在忙，现在好了，你说", ["现在好了", "你说"]),
        ("我本来想转人工，现在不用了", ["现在不用了"]),
        ("现在不方便", ["现在不方便"]),
        ("我在开会，现在不方便", ["我在开会", "现在不方便"]),  # nothing told as before
    ],
)
def test_how_things_are_now_is_the_point(segmenter: Segmenter, text: str, clauses: list[str]) -> None:
    assert Analyser({}, segmenter.cut).analyse(text).clauses == clauses


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("刚刚在开会，现在开完了，你问吧", "affirm"),
        ("刚才在开车，现在停好了", "affirm"),
        ("我在开车", "busy"),
    ],
)
def test_survey_hears_that_the_caller_is_free_now(survey: IntentClassifier, text: str, intent: str) -> None:
    assert _name(survey.parse(text).intent) == intent


def test_what_was_lost_and_found_since_is_no_loss(yibao: IntentClassifier) -> None:
    assert yibao.parse("刚才卡找不到了，现在找到了").intent is None
