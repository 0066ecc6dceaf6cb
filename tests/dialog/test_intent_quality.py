"""How well the sample flows' intents are recognised, on utterances set aside for it.

``intents_heldout.yaml`` was written before issue 14's tuning and is never tuned on;
``intents_tuning.yaml`` is what the library and the classifier were tuned on. The
figures of both are in docs/quality.md; print them (and every miss) with::

    voicebot flows quality tests/dialog/intents_heldout.yaml

The floors below are the figures measured when the library landed, less a margin: a
change that loses ground on utterances nobody tuned on fails here. The issue's targets
that are not reached yet are strict xfails, so reaching one is noticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.authoring.intent_quality import FlowQuality, measure_file, utterances
from bot.cli import main
from bot.language.loader import load_flows
from bot.text.segmenter import Segmenter

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
HELD_OUT = HERE / "intents_heldout.yaml"
TUNING = HERE / "intents_tuning.yaml"
# (in scope, negated or none) measured on 2026-12-05 less about two points; see docs/quality.md.
HELD_OUT_FLOORS = {"yibao": (0.83, 0.93), "survey": (0.85, 0.95)}
TARGET_IN_SCOPE, TARGET_OUT_OF_SCOPE = 0.95, 0.90  # issue 14's acceptance


def _out_of_scope(quality: FlowQuality) -> float:
    right = quality.negated.right + quality.none.right
    total = quality.negated.total + quality.none.total
    return right / total


@pytest.fixture(scope="module")
def held_out(segmenter: Segmenter) -> dict[str, FlowQuality]:
    flows = load_flows(ROOT / "flows")
    return {q.flow: q for q in measure_file(HELD_OUT, flows, segmenter, 0.5)}


@pytest.mark.parametrize("flow", sorted(HELD_OUT_FLOORS))
def test_held_out_figures_do_not_fall(held_out: dict[str, FlowQuality], flow: str) -> None:
    quality = held_out[flow]
    in_scope, out_of_scope = HELD_OUT_FLOORS[flow]
    assert quality.in_scope.total >= 15
    assert quality.negated.total + quality.none.total >= 10
    assert quality.in_scope.share >= in_scope, quality.misses
    assert _out_of_scope(quality) >= out_of_scope, quality.misses


@pytest.mark.xfail(strict=True, reason="issue 14's in-scope target is not reached yet (docs/quality.md)")
def test_held_out_in_scope_target(held_out: dict[str, FlowQuality]) -> None:
    assert all(q.in_scope.share >= TARGET_IN_SCOPE for q in held_out.values())


def test_held_out_out_of_scope_target(held_out: dict[str, FlowQuality]) -> None:
    assert all(_out_of_scope(q) >= TARGET_OUT_OF_SCOPE for q in held_out.values())


def test_the_sets_do_not_share_an_utterance() -> None:
    assert set(utterances(HELD_OUT)) & set(utterances(TUNING)) == set()


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
