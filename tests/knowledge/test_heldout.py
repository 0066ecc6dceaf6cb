"""Retrieval quality on phrasings the retrieval was not tuned on (heldout.yaml), and on
the tuning set (tuning.yaml), through ``knowledge.evaluate``.

heldout.yaml was written before the retrieval of issue 14 part 3 was changed and is never
tuned on: its floors are the figures measured at the end of that change (docs/knowledge.md),
so a change that generalises worse fails here. The acceptance target for held-out top-1
was 90 %; it is not reached yet (83.3 %), so the floor is what is, not what was wanted.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from knowledge.evaluate import Figures, load_phrasings, measure
from knowledge.service import KnowledgeService

HERE = Path(__file__).parent
HELDOUT = load_phrasings(HERE / "heldout.yaml")
TUNING = load_phrasings(HERE / "tuning.yaml")
KINDS = {"paraphrase", "situation", "asr", "filler", "numbers", "colloquial", "out_of_scope"}


def _plain(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


@pytest.fixture(scope="module")
def heldout(sample: KnowledgeService) -> Figures:
    return asyncio.run(measure(sample, HELDOUT))  # once for the module's tests


@pytest.fixture(scope="module")
def tuning(sample: KnowledgeService) -> Figures:
    return asyncio.run(measure(sample, TUNING))


def test_the_sets_are_large_new_and_apart(sample: KnowledgeService) -> None:
    assert sum(p.expect is not None for p in HELDOUT) >= 80
    assert sum(p.expect is None for p in HELDOUT) >= 25
    assert {p.style for p in HELDOUT} == KINDS == {p.style for p in TUNING}
    indexed = {_plain(text) for e in sample.base.entries for text in (e.title, *e.questions)}
    phrasings = (HERE / "phrasings.yaml").read_text(encoding="utf-8")
    for p in HELDOUT:
        assert _plain(p.q) not in indexed, p.q
        assert p.q not in phrasings, p.q
    assert not {p.q for p in HELDOUT} & {p.q for p in TUNING}
    titles = {e.title for e in sample.base.entries}
    assert {p.expect for p in HELDOUT + TUNING if p.expect} <= titles


def test_heldout_floors(heldout: Figures) -> None:
    n = heldout.answerable
    assert heldout.top1 / n >= 0.83, heldout.summary()  # 110 of 132 measured
    assert heldout.top3 / n >= 0.93, heldout.summary()  # 124 of 132
    right = heldout.outcomes["right"] + heldout.outcomes["offered"]
    assert right / n >= 0.80, heldout.summary()  # 106 of 132 answered or offered
    assert heldout.outcomes["wrong"] <= 2, heldout.summary()  # 1 measured
    assert heldout.top1_by_style["asr"] / heldout.by_style["asr"] >= 0.94, heldout.summary()  # 35 of 37
    assert heldout.out_of_scope_not_found >= 12, heldout.summary()  # of 28


def test_tuning_floors(tuning: Figures) -> None:
    n = tuning.answerable
    assert tuning.top1 / n >= 0.84, tuning.summary()  # 121 of 143 measured
    assert tuning.top3 / n >= 0.93, tuning.summary()  # 134 of 143
    assert tuning.outcomes["wrong"] <= 3, tuning.summary()  # 2 measured
    assert tuning.out_of_scope_not_found >= 12, tuning.summary()  # of 20
