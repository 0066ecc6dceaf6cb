"""Retrieval quality on phrasings the retrieval was not tuned on (heldout.yaml and
heldout2.yaml), and on the tuning set (tuning.yaml), through ``knowledge.evaluate``.

heldout.yaml was written before the first round of issue 14 part 3, heldout2.yaml before
the second (the sample's alternate questions, its outside topics and their words, the
parent rule, min_coverage 0.35); neither is ever tuned on. Their floors are the figures
measured at the end of the second round (docs/knowledge.md, Quality), a little below, so
a change that generalises worse fails here. The acceptance target, held-out top-1 ≥ 90 %,
is met on both and asserted as such.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from knowledge.evaluate import Figures, Phrasing, load_phrasings, measure
from knowledge.service import KnowledgeService

HERE = Path(__file__).parent
HELDOUT = load_phrasings(HERE / "heldout.yaml")
HELDOUT2 = load_phrasings(HERE / "heldout2.yaml")
TUNING = load_phrasings(HERE / "tuning.yaml")
KINDS = {"paraphrase", "situation", "asr", "filler", "numbers", "colloquial", "out_of_scope"}
TARGET_TOP1 = 0.90  # issue 14's acceptance: held-out top-1


def _plain(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


@pytest.fixture(scope="module")
def heldout(sample: KnowledgeService) -> Figures:
    return asyncio.run(measure(sample, HELDOUT))  # once for the module's tests


@pytest.fixture(scope="module")
def heldout2(sample: KnowledgeService) -> Figures:
    return asyncio.run(measure(sample, HELDOUT2))


@pytest.fixture(scope="module")
def tuning(sample: KnowledgeService) -> Figures:
    return asyncio.run(measure(sample, TUNING))


@pytest.mark.parametrize("held_out", [HELDOUT, HELDOUT2], ids=["heldout", "heldout2"])
def test_the_sets_are_large_new_and_apart(sample: KnowledgeService, held_out: list[Phrasing]) -> None:
    assert sum(p.expect is not None for p in held_out) >= 80
    assert sum(p.expect is None for p in held_out) >= 25
    assert {p.style for p in held_out} == KINDS == {p.style for p in TUNING}
    indexed = {_plain(text) for e in sample.base.entries for text in (e.title, *e.questions)}
    phrasings = (HERE / "phrasings.yaml").read_text(encoding="utf-8")
    for p in held_out:
        assert _plain(p.q) not in indexed, p.q
        assert p.q not in phrasings, p.q
    assert not {p.q for p in held_out} & {p.q for p in TUNING}
    titles = {e.title for e in sample.base.entries}
    assert {p.expect for p in held_out + TUNING if p.expect} <= titles


def test_the_held_out_sets_are_apart() -> None:
    assert not {_plain(p.q) for p in HELDOUT} & {_plain(p.q) for p in HELDOUT2}


def test_heldout_floors(heldout: Figures) -> None:
    n = heldout.answerable
    assert heldout.top1 / n >= TARGET_TOP1, heldout.summary()
    assert heldout.top1 / n >= 0.93, heldout.summary()  # 125 of 132 measured
    assert heldout.top3 / n >= 0.97, heldout.summary()  # 130 of 132
    right = heldout.outcomes["right"] + heldout.outcomes["offered"]
    assert right / n >= 0.89, heldout.summary()  # 120 of 132 answered or offered
    assert heldout.outcomes["wrong"] <= 1, heldout.summary()  # 0 measured
    assert heldout.top1_by_style["asr"] / heldout.by_style["asr"] >= 0.94, heldout.summary()  # 35 of 37
    assert heldout.out_of_scope_not_found >= 18, heldout.summary()  # 19 of 28


def test_heldout2_floors(heldout2: Figures) -> None:
    n = heldout2.answerable
    assert heldout2.top1 / n >= TARGET_TOP1, heldout2.summary()  # 163 of 178 measured
    assert heldout2.top3 / n >= 0.97, heldout2.summary()  # 176 of 178
    right = heldout2.outcomes["right"] + heldout2.outcomes["offered"]
    assert right / n >= 0.88, heldout2.summary()  # 160 of 178 answered or offered
    assert heldout2.outcomes["wrong"] <= 3, heldout2.summary()  # 2 measured
    assert heldout2.top1_by_style["asr"] / heldout2.by_style["asr"] >= 0.92, heldout2.summary()  # 53 of 56
    assert heldout2.out_of_scope_not_found >= 22, heldout2.summary()  # 23 of 26


def test_tuning_floors(tuning: Figures) -> None:
    n = tuning.answerable
    assert tuning.top1 / n >= 0.89, tuning.summary()  # 129 of 143 measured
    assert tuning.top3 / n >= 0.97, tuning.summary()  # 140 of 143
    assert tuning.outcomes["wrong"] <= 1, tuning.summary()  # 0 measured
    assert tuning.out_of_scope_not_found >= 16, tuning.summary()  # of 20: 17 measured
