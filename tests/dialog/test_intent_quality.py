"""How well the sample flows' intents are recognised, on utterances set aside for it.

``intents_heldout.yaml`` was written before issue 14's first round of tuning,
``intents_heldout2.yaml`` before its second, ``intents_heldout3.yaml`` (by a helper who
saw neither the flows' examples nor the library) before its third and
``intents_heldout4.yaml`` (another such helper) before its fourth, which tuned on the
third's misses (read once its round was over), ``intents_heldout5.yaml`` (a third
helper) before the fifth, which tuned on the fourth's, ``intents_heldout6.yaml`` (a
fourth) before the sixth, which tuned on the fifth's, ``intents_heldout7.yaml`` (a fifth)
before the seventh, which tuned on the sixth's, and ``intents_heldout8.yaml`` (a sixth)
before the eighth, which tuned on the seventh's, and ``intents_heldout9.yaml`` (a
seventh) before the ninth, which tuned on the eighth's, and ``intents_heldout10.yaml``
(an eighth) before the tenth, which tuned on the ninth's, and ``intents_heldout11.yaml``
(a ninth) before the eleventh, which tuned on the tenth's, and ``intents_heldout12.yaml``
(a tenth) before the twelfth, which tuned on the eleventh's, and ``intents_heldout13.yaml``
(an eleventh) before the thirteenth, which tuned on the twelfth's, and
``intents_heldout14.yaml`` (a twelfth) before the fourteenth, which tuned on the
thirteenth's, and ``intents_heldout15.yaml`` (a thirteenth) before the fifteenth, which
tunes on the fourteenth's; the others are not tuned on, and the fifteenth is still blind
(``BLIND``: a failing test shows only the count of its misses).
``intents_tuning.yaml`` is what the library and the classifier were tuned on. The
figures are in docs/quality.md; print those of the tuning set (and every miss) with::

    voicebot flows quality tests/dialog/intents_tuning.yaml

and only the totals of a held-out set (its misses are not for reading while tuning)::

    voicebot flows quality --no-misses tests/dialog/intents_heldout2.yaml

The floors below are the figures last measured, less a margin: a change that loses
ground on utterances nobody tuned on fails here. The issue's targets that are not
reached on both held-out sets yet are strict xfails, so reaching one is noticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.authoring.intent_quality import FlowQuality, measure_file, utterances
from bot.cli import main
from bot.dialog.registry import classifier_of
from bot.language.loader import load_flows
from bot.text.segmenter import Segmenter

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
HELD_OUT = HERE / "intents_heldout.yaml"
HELD_OUT_2 = HERE / "intents_heldout2.yaml"
HELD_OUT_3 = HERE / "intents_heldout3.yaml"
HELD_OUT_4 = HERE / "intents_heldout4.yaml"
HELD_OUT_5 = HERE / "intents_heldout5.yaml"
HELD_OUT_6 = HERE / "intents_heldout6.yaml"
HELD_OUT_7 = HERE / "intents_heldout7.yaml"
HELD_OUT_8 = HERE / "intents_heldout8.yaml"
HELD_OUT_9 = HERE / "intents_heldout9.yaml"
HELD_OUT_10 = HERE / "intents_heldout10.yaml"
HELD_OUT_11 = HERE / "intents_heldout11.yaml"
HELD_OUT_12 = HERE / "intents_heldout12.yaml"
HELD_OUT_13 = HERE / "intents_heldout13.yaml"
HELD_OUT_14 = HERE / "intents_heldout14.yaml"
HELD_OUT_15 = HERE / "intents_heldout15.yaml"
HELD_OUT_SETS = (
    HELD_OUT,
    HELD_OUT_2,
    HELD_OUT_3,
    HELD_OUT_4,
    HELD_OUT_5,
    HELD_OUT_6,
    HELD_OUT_7,
    HELD_OUT_8,
    HELD_OUT_9,
    HELD_OUT_10,
    HELD_OUT_11,
    HELD_OUT_12,
    HELD_OUT_13,
    HELD_OUT_14,
    HELD_OUT_15,
)
BLIND = frozenset({HELD_OUT_15.name})
"""The sets whose misses are not for reading yet: a failing test prints their count only."""
TUNING = HERE / "intents_tuning.yaml"
# (in scope, negated or none) per set and flow, measured on 2026-12-08 after the thirteenth
# round of tuning (people told about, a yes then more, sarcasm and concessions, gaps across
# a pause), less about two points, none lowered but the blind thirteenth's (it lost one
# negated utterance in the round); see
# docs/quality.md. Survey's negated or none of the first two sets each lost one sentence
# of no intent in the fourth round (7/7 -> 6/7): their floors were lowered by that one.
HELD_OUT_FLOORS = {
    (HELD_OUT.name, "yibao"): (0.95, 0.98),
    (HELD_OUT.name, "survey"): (0.98, 0.88),
    (HELD_OUT_2.name, "yibao"): (0.88, 0.98),
    (HELD_OUT_2.name, "survey"): (0.87, 0.90),
    (HELD_OUT_3.name, "yibao"): (0.95, 0.98),
    (HELD_OUT_3.name, "survey"): (0.94, 0.98),
    (HELD_OUT_4.name, "yibao"): (0.97, 0.95),
    (HELD_OUT_4.name, "survey"): (0.98, 0.98),
    (HELD_OUT_5.name, "yibao"): (0.97, 0.96),
    (HELD_OUT_5.name, "survey"): (0.98, 0.94),
    (HELD_OUT_6.name, "yibao"): (0.97, 0.98),
    (HELD_OUT_6.name, "survey"): (0.95, 0.90),
    (HELD_OUT_7.name, "yibao"): (0.97, 0.94),
    (HELD_OUT_7.name, "survey"): (0.98, 0.87),
    (HELD_OUT_8.name, "yibao"): (0.95, 0.89),
    (HELD_OUT_8.name, "survey"): (0.98, 0.88),
    (HELD_OUT_9.name, "yibao"): (0.97, 0.92),
    (HELD_OUT_9.name, "survey"): (0.95, 0.88),
    (HELD_OUT_10.name, "yibao"): (0.95, 0.89),
    (HELD_OUT_10.name, "survey"): (0.94, 0.86),
    (HELD_OUT_11.name, "yibao"): (0.95, 0.98),
    (HELD_OUT_11.name, "survey"): (0.95, 0.94),
    (HELD_OUT_12.name, "yibao"): (0.92, 0.88),
    (HELD_OUT_12.name, "survey"): (0.95, 0.98),
    # Blind: 100.0 / 92.5 % and 95.7 / 92.6 % before round 13, 100.0 / 91.0 % and
    # 97.9 / 96.3 % after it; tuned on in round 14: yibao 100.0 / 98.5 %.
    (HELD_OUT_13.name, "yibao"): (0.98, 0.96),
    (HELD_OUT_13.name, "survey"): (0.95, 0.94),
    # Blind in round 14: 93.1 / 86.2 % and 95.0 / 86.2 % before and after it.
    (HELD_OUT_14.name, "yibao"): (0.91, 0.84),
    (HELD_OUT_14.name, "survey"): (0.92, 0.84),
    # Before round 15 (its baseline: 91.5 / 85.5 %, 92.9 / 91.7 %).
    (HELD_OUT_15.name, "yibao"): (0.89, 0.83),
    (HELD_OUT_15.name, "survey"): (0.90, 0.87),
}
TARGET_IN_SCOPE, TARGET_OUT_OF_SCOPE = 0.95, 0.90  # issue 14's acceptance


def _out_of_scope(quality: FlowQuality) -> float:
    right = quality.negated.right + quality.none.right
    total = quality.negated.total + quality.none.total
    return right / total


@pytest.fixture(scope="module")
def held_out(segmenter: Segmenter) -> dict[tuple[str, str], FlowQuality]:
    """Each held-out set's figures by (file name, flow)."""
    flows = load_flows(ROOT / "flows")
    return {
        (path.name, q.flow): q for path in HELD_OUT_SETS for q in measure_file(path, flows, segmenter, 0.5)
    }


def test_every_held_out_figure_has_a_floor(held_out: dict[tuple[str, str], FlowQuality]) -> None:
    assert set(held_out) == set(HELD_OUT_FLOORS)


@pytest.mark.parametrize("key", sorted(HELD_OUT_FLOORS), ids="-".join)
def test_held_out_figures_do_not_fall(
    held_out: dict[tuple[str, str], FlowQuality], key: tuple[str, str]
) -> None:
    quality = held_out[key]
    in_scope, out_of_scope = HELD_OUT_FLOORS[key]
    shown = f"{len(quality.misses)} misses of a blind set" if key[0] in BLIND else quality.misses
    assert quality.in_scope.total >= 15
    assert quality.negated.total + quality.none.total >= 10
    assert quality.in_scope.share >= in_scope, shown
    assert _out_of_scope(quality) >= out_of_scope, shown


@pytest.mark.xfail(strict=True, reason="both flows miss it on sets 2 and 15, yibao on 12 and 14")
def test_held_out_in_scope_target(held_out: dict[tuple[str, str], FlowQuality]) -> None:
    assert all(q.in_scope.share >= TARGET_IN_SCOPE for q in held_out.values())


@pytest.mark.xfail(strict=True, reason="survey misses it on sets 7 and 10, both flows on set 14")
def test_held_out_out_of_scope_target(held_out: dict[tuple[str, str], FlowQuality]) -> None:
    assert all(_out_of_scope(q) >= TARGET_OUT_OF_SCOPE for q in held_out.values())


def test_the_sets_do_not_share_an_utterance() -> None:
    paths = (*HELD_OUT_SETS, TUNING)
    sets = [set(utterances(path)) for path in paths]
    for number, one in enumerate(sets):
        for other in sets[number + 1 :]:
            assert one & other == set()


def test_the_command_prints_figures_and_misses(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "survey:\n  busy: [我这会儿开着车呢, 在开会]\n  affirm: [今天天气不错]\n  none: [我想买火车票]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["flows", "quality", str(cases), "--flows-dir", str(ROOT / "flows")])
    assert result.exit_code == 0, result.output
    assert "survey: in scope 1/2 (50.0%)" in result.output
    assert "1 already examples of the flow, not counted" in result.output  # 在开会
    assert "none 1/1 (100.0%)" in result.output
    assert "'今天天气不错' expected affirm, got none" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "expected a mapping of flow names"),
        ("survey: [a]\n", "survey: expected a mapping of intent names"),
        ("survey:\n  busy: 我在开车\n", "survey.busy: expected a list of utterances"),
        ("survey:\n  negated: [a]\n", "survey.negated: expected intent names"),
        ("nosuch:\n  busy: [a]\n", "no flow 'nosuch'"),
    ],
)
def test_a_malformed_file_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["flows", "quality", str(cases), "--flows-dir", str(ROOT / "flows")])
    assert result.exit_code == 2
    assert message in result.output


# The knowledge base's own questions are no intent of yibao's (its no-match goes to the
# knowledge base), except those of the topics yibao's intents handle themselves.
KNOWLEDGE_DATA = ROOT / "knowledge" / "data" / "yibao.yaml"
INTENTS_OWN_TOPICS = {"医保卡挂失补办", "报销进度查询"}
# 48 of 525 taken on 2026-12-07, once yibao's intents excluded the words of the rules
# (比例, 能报多少, 密码: `exclude:`); 62 before, 64 on 2026-12-06 with the second opinion
# (62 before it, 63 before issue 14's second round, 65 before issue 14). Held here so
# that it does not grow again; a few more when other tests' flows have taught the shared
# segmenter their words first.
MAX_KNOWLEDGE_QUESTIONS_TAKEN = 0.10


def test_the_knowledge_bases_questions_are_seldom_taken_for_an_intent(segmenter: Segmenter) -> None:
    flow = load_flows(ROOT / "flows")["yibao"].flow
    classifier = classifier_of(flow, segmenter, 0.5)
    entries = yaml.safe_load(KNOWLEDGE_DATA.read_text(encoding="utf-8"))["entries"]
    questions = [
        question
        for entry in entries
        if entry.get("kind") != "outside" and entry["title"] not in INTENTS_OWN_TOPICS
        for question in entry.get("questions", [])
    ]
    taken = [question for question in questions if classifier.parse(question).intent is not None]
    assert len(questions) > 400
    assert len(taken) / len(questions) <= MAX_KNOWLEDGE_QUESTIONS_TAKEN, taken
    assert "门诊慢特病怎么申请" not in taken  # tests/test_kb_serve.py asks it at the menu
