"""How well a flow's intents are recognised on utterances its author set aside.

A quality file names, per flow, utterances of each intent (in scope), utterances that
must not be taken as an intent (``negated:``) and utterances of no intent (``none:``);
one that the flow already has as an example (its own or the library's) is left out of
the figures, which are about what the flow was never shown;
``tests/dialog/intents_heldout.yaml`` is the sample flows' held-out set, and its header
says how such a file is kept honest. :func:`measure` parses every utterance with the
flow's own classifier, as a call would, and counts what it got right.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.dialog.nlu import IntentClassifier, ParseResult
from bot.dialog.registry import classifier_of
from bot.language.flow import plain_phrase, taught
from bot.language.loader import FlowSource
from bot.text.segmenter import Segmenter

NEGATED = "negated"
NONE = "none"


@dataclass
class Miss:
    """An utterance the classifier got wrong: what was expected and what it said."""

    text: str
    expected: str  # an intent's name, "not <name>" or "none"
    got: str | None
    confidence: float
    rival: str | None = None  # the built-in intent, unused by the flow, that fitted better


@dataclass
class Score:
    """Right answers out of all, for one kind of utterance."""

    right: int = 0
    total: int = 0

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 1.0

    def add(self, ok: bool) -> None:
        self.right += ok
        self.total += 1


@dataclass
class FlowQuality:
    """One flow's figures: in scope, negated, none, and each miss."""

    flow: str
    in_scope: Score = field(default_factory=Score)
    negated: Score = field(default_factory=Score)
    none: Score = field(default_factory=Score)
    misses: list[Miss] = field(default_factory=list)
    known: int = 0  # utterances left out: the flow has them as examples or keywords


def read_cases(path: Path) -> dict[str, dict[str, Any]]:
    """The quality file at ``path``: flow name -> its cases (see the module docstring).

    Raises:
        ValueError: the file is not shaped as the module docstring says.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of flow names to their cases")
    for flow, cases in data.items():
        if not isinstance(cases, dict):
            raise ValueError(f"{path}: {flow}: expected a mapping of intent names to utterances")
        for key, texts in cases.items():
            if key == NEGATED and not isinstance(texts, dict):
                raise ValueError(f"{path}: {flow}.{NEGATED}: expected intent names, each with utterances")
            groups = texts.items() if key == NEGATED else [(key, texts)]
            for intent, utterances in groups:
                if not isinstance(utterances, list):
                    raise ValueError(f"{path}: {flow}.{intent}: expected a list of utterances")
    return data


def utterances(path: Path) -> list[str]:
    """Every utterance of the quality file at ``path``, of every flow and kind, in order."""
    texts: list[str] = []
    for cases in read_cases(path).values():
        for key, group in cases.items():
            groups = group.values() if key == NEGATED else [group]
            texts += [str(text) for texts_in_group in groups for text in texts_in_group]
    return texts


def measure(
    classifier: IntentClassifier, flow: str, cases: Mapping[str, Any], known: Set[str] = frozenset()
) -> FlowQuality:
    """Parse every utterance of ``cases`` with ``classifier`` and count the right answers.
    An utterance in ``known`` (plain phrases, ``flow.plain_phrase``: the flow's own
    examples and keywords, the library's included) is not counted: it was not new."""
    quality = FlowQuality(flow)

    def count(score: Score, text: str, expected: str, negated: bool = False) -> None:
        """One utterance: ``expected`` is an intent (or none), or the one it must not be."""
        if plain_phrase(text) in known:
            quality.known += 1
            return
        result = classifier.parse(text)
        got, confidence = _intent_of(result)
        wanted = None if expected == NONE else expected
        score.add(ok := (got != wanted) if negated else (got == wanted))
        if not ok:
            rival = result.rival.name if result.rival else None
            wanted_text = f"not {expected}" if negated else expected
            quality.misses.append(Miss(text, wanted_text, got, confidence, rival))

    for key, texts in cases.items():
        if key == NEGATED:
            for intent, negated in texts.items():
                for text in negated:
                    count(quality.negated, str(text), intent, negated=True)
        else:
            for text in texts:
                count(quality.none if key == NONE else quality.in_scope, str(text), key)
    return quality


def _intent_of(result: ParseResult) -> tuple[str | None, float]:
    if result.intent is not None:
        return result.intent.name, result.intent.confidence
    return None, result.ranking[0].confidence if result.ranking else 0.0


def report(qualities: list[FlowQuality], *, show_misses: bool = True) -> str:
    """The figures as text, one line per flow, then the misses."""
    lines = []
    for q in qualities:
        out_of_scope = Score(q.negated.right + q.none.right, q.negated.total + q.none.total)
        lines.append(
            f"{q.flow}: in scope {q.in_scope.right}/{q.in_scope.total} ({q.in_scope.share:.1%}), "
            f"negated {q.negated.right}/{q.negated.total} ({q.negated.share:.1%}), "
            f"none {q.none.right}/{q.none.total} ({q.none.share:.1%}), "
            f"negated or none {out_of_scope.share:.1%}"
            + (f"; {q.known} already examples of the flow, not counted" if q.known else "")
        )
    if show_misses:
        for q in qualities:
            for miss in q.misses:
                lines.append(
                    f"  {q.flow}: {miss.text!r} expected {miss.expected}, "
                    f"got {miss.got or 'none'} ({miss.confidence:.2f})"
                    + (f", built-in {miss.rival} fits better" if miss.rival else "")
                )
    return "\n".join(lines)


def measure_file(
    path: Path, flows: Mapping[str, FlowSource], segmenter: Segmenter, threshold: float
) -> list[FlowQuality]:
    """Every flow of the quality file at ``path``, measured with its classifier.

    Raises:
        ValueError: the file names a flow that is not in ``flows``.
    """
    qualities = []
    for name, cases in read_cases(path).items():
        source = flows.get(name)
        if source is None:
            names = ", ".join(sorted(flows)) or "none"
            raise ValueError(f"{path}: no flow {name!r} in the flows directory (flows: {names})")
        known = {
            plain_phrase(t) for i in taught(source.flow.intents).values() for t in (*i.examples, *i.keywords)
        }
        qualities.append(measure(classifier_of(source.flow, segmenter, threshold), name, cases or {}, known))
    return qualities
