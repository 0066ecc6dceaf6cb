"""What issue 14's twelfth round taught the intent classifier (docs/quality.md, "Round
12"): a pause the ASR wrote as a space ends a clause, a caller who corrects their own
words means what follows, what the caller knows already or finds useless is not asked
for, and more regional words."""

from __future__ import annotations

import pytest

from bot.dialog.nlu import IntentClassifier, IntentScore
from bot.text.features import Analyser
from bot.text.regional import REGIONAL_WORDS
from bot.text.segmenter import Segmenter
from bot.text.spacing import pauses_as_commas, words_spaced


def _name(intent: IntentScore | None) -> str | None:
    return None if intent is None else intent.name


@pytest.mark.parametrize(
    ("text", "spaced"),
    [
        ("请问 你们 几点 上班", True),  # every word apart
        ("人工就算了吧 排队太久", False),  # a pause
        ("我要转人工", False),
    ],
)
def test_spaces_break_words_or_mark_pauses(text: str, spaced: bool) -> None:
    assert words_spaced(text) is spaced


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("人工就算了吧 排队太久", "人工就算了吧，排队太久"),
        ("请问 你们 几点 上班", "请问 你们 几点 上班"),
        ("agent please 我要人工", "agent please 我要人工"),  # not between Chinese characters
    ],
)
def test_a_pause_is_a_comma(text: str, said: str) -> None:
    assert pauses_as_commas(text) == said


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("周六 不对 周日你们上班吗", ["周日你们上班吗"]),  # corrected: what follows is meant
        ("我的卡 嗯 弄坏了 不对 我是说丢了", ["丢了"]),
        ("呃 不对 我是说周日", ["不对", "我是说周日"]),  # 呃 says nothing: 不对 answers no
        ("不对 是五号", ["不对", "是五号"]),  # nothing before it: an answer
        ("我本来想转人工 现在不用了", ["现在不用了"]),
        ("我之前交的报销 现在到哪了", ["我之前交的报销", "现在到哪了"]),  # a story, not a turn
    ],
)
def test_clauses_of_a_spoken_turn(segmenter: Segmenter, text: str, clauses: list[str]) -> None:
    assert Analyser({}, segmenter.cut).analyse(text).clauses == clauses


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("人工就算了 排队太久了", "deny"),  # refused, not asked for
        ("营业时间我知道 想问下地址", None),
        ("犯不上转人工", "deny"),
        ("转人工也没用", None),
        ("周六 不对 周日你们上班吗", "service_hours"),
        ("不对 是五号", "deny"),
        ("毋系", "deny"),  # Hakka
        ("额要寻你们单位的人", "transfer_agent"),  # Shaanxi: 额 is 我, 寻 is 找
    ],
)
def test_yibao_in_the_words_of_this_round(yibao: IntentClassifier, text: str, intent: str | None) -> None:
    assert _name(yibao.parse(text).intent) == intent


@pytest.mark.parametrize(("text", "intent"), [("行个屁", None), ("晚点打也没用", None), ("晚点打吧", "busy")])
def test_survey_hears_a_scornful_no(survey: IntentClassifier, text: str, intent: str | None) -> None:
    assert _name(survey.parse(text).intent) == intent


@pytest.mark.parametrize(
    ("regional", "mandarin"),
    [
        *(("毋系", "不是"), ("毋要", "不要"), ("寻", "找")),
        *(("犯不上", "不用"), ("犯不着", "不用"), ("额要", "我要")),
    ],
)
def test_regional_words_of_this_round(regional: str, mandarin: str) -> None:
    assert regional in REGIONAL_WORDS[mandarin]
