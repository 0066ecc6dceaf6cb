"""The mechanical check of grounded answers: the facts a text names, spoken or written."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.dialog.knowledge import RelatedEntry
from bot.llm.answers import sentences_of
from bot.llm.grounding import facts, ungrounded

TODAY = dt.date(2026, 12, 6)
ENTRY = RelatedEntry(
    "shouli",
    "手工报销",
    "手工报销提交后30个工作日内到账，金额在1500元以上的需要复核。咨询电话12393，每月15号统一打款。",
    ("手工报销", "零星报销"),
)
OTHER = RelatedEntry("jizhen", "异地急诊", "急诊不需要备案。", ("急诊", "抢救"))


@pytest.mark.parametrize(
    "answer",
    [
        "提交以后三十个工作日内到账。",
        "一千五百元以上的要复核。",
        "可以打一二三九三问一下。",
        "每个月十五号统一打款。",
        "提交以后一般一个月内到账，办理一次就行。",  # 一 is an article, not a fact
        "零星报销也是这样。",  # a keyword of the cited entry
    ],
)
def test_facts_the_entry_holds_pass_however_they_are_said(answer: str) -> None:
    assert ungrounded(answer, [ENTRY], [ENTRY, OTHER], TODAY) is None


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        ("提交以后二十个工作日内到账。", "20"),
        ("两千元以上的要复核。", "2000"),
        ("可以打12345问一下。", "12345"),
        ("每月20号统一打款。", "20"),
        ("急诊的话也一样。", "急诊"),  # the other entry's term
    ],
)
def test_a_fact_the_entry_lacks_is_named(answer: str, named: str) -> None:
    reason = ungrounded(answer, [ENTRY], [ENTRY, OTHER], TODAY)
    assert reason is not None
    assert named in reason


@pytest.mark.parametrize(
    ("entry", "answer", "named"),
    [
        ("报销上限1万元。", "报销上限1元。", "1"),
        ("起付线0.5万元。", "起付线5元。", "5"),
        ("最多报销12,000元。", "最多报销12元。", "12"),
        ("最多报销1.5万元。", "最多报销一万五千元。", None),
        ("起付线0.5万元。", "起付线五千元。", None),
    ],
)
def test_a_number_is_read_whole_never_as_its_pieces(entry: str, answer: str, named: str | None) -> None:
    reason = ungrounded(answer, [RelatedEntry("e", "条目", entry)], [], TODAY)
    assert (reason is None) if named is None else (reason is not None and f"names {named}," in reason)


def test_spoken_and_written_numbers_are_the_same_fact() -> None:
    assert facts("三十天", TODAY) == facts("30天", TODAY) == {"n:30"}
    assert "s:12393" in facts("幺二三九三", TODAY)


def test_sentences_are_cut_after_their_stops() -> None:
    assert sentences_of("第一句。第二句！\n第三句") == ["第一句。", "第二句！", "第三句"]
