"""What issue 14's fifth round taught the intent classifier (docs/quality.md, "Round 5"):
A-not-A questions of two-character words, more regional words, and the sample flow's
words for a broken card, a claim with no news and a window's opening hours."""

from __future__ import annotations

import pytest

from bot.dialog.registry import classifier_of
from bot.language.flow import Flow
from bot.language.loader import load_flows
from bot.text.features import Analyser
from bot.text.regional import REGIONAL_WORDS
from bot.text.segmenter import Segmenter
from tests.conftest import FLOWS_DIR


def _yibao() -> Flow:
    return load_flows(FLOWS_DIR)["yibao"].flow


A_NOT_A = ["中午休息不休息", "周末开门不开门", "今天营业不营业", "休不休息", "放不放假"]


@pytest.mark.parametrize("text", A_NOT_A)
def test_an_a_not_a_question_negates_nothing(segmenter: Segmenter, text: str) -> None:
    assert Analyser({}, segmenter.cut).analyse(text).negations == []


@pytest.mark.parametrize("text", ["我中午不休息", "中午不休息吗", "开门不开"])
def test_a_negation_next_to_other_words_still_negates(segmenter: Segmenter, text: str) -> None:
    assert Analyser({}, segmenter.cut).analyse(text).negations != []


@pytest.mark.parametrize("text", ["补办不补办", "能查询不查询"])
def test_a_fused_cue_in_an_a_not_a_question_negates_nothing(segmenter: Segmenter, text: str) -> None:
    # 不补 and 不查 are fused cues (bot.dialog.nlu_negation): the same question, the same reading.
    assert classifier_of(_yibao(), segmenter, 0.5).analyse(text).negations == []


def test_an_a_not_a_question_of_two_characters_is_the_question(segmenter: Segmenter) -> None:
    result = classifier_of(_yibao(), segmenter, 0.5).parse("中午休息不休息")
    assert result.intent is not None
    assert result.intent.name == "service_hours"


@pytest.mark.parametrize(
    ("regional", "mandarin"),
    [("唔见咗", "不见了"), ("冒得", "没有"), ("点样", "怎么"), ("恁", "你"), ("唔想", "不想")],
)
def test_regional_words_of_this_round(regional: str, mandarin: str) -> None:
    assert regional in REGIONAL_WORDS[mandarin]


@pytest.mark.parametrize(
    ("said", "plain"),
    [
        ("我的医保卡唔见咗", "我的医保卡不见了"),
        ("医保卡掰折了", "医保卡坏了"),
        ("材料交上去了一直没动静", "材料交上去了一直没消息"),
        ("你们今天还营业吗", "你们今天还上班吗"),
    ],
)
def test_words_callers_use_are_the_flows_word(segmenter: Segmenter, said: str, plain: str) -> None:
    classifier = classifier_of(_yibao(), segmenter, 0.5)
    assert classifier.parse(said).ranking[0] == classifier.parse(plain).ranking[0]
