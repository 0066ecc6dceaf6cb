"""The intent classifier's examples as numpy arrays: what ``IntentClassifier.parse``
computes over all of a flow's examples at once (``bot.dialog.nlu``).

Each function is a definition of ``bot.dialog.nlu_scoring`` written over arrays, with
the very same float operations in the same order, so that the results are the same
bits (``tests/dialog/test_nlu.py``, test_fast_scoring_is_the_definition).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.dialog.nlu_scoring import CONTAINMENT_HALF, RECALL_BIAS, Channel, Target, negation_factor

__all__ = ["ArrayIndex", "ExampleArrays", "Postings", "array_index", "similarities"]

_F_FACTOR = 1 + RECALL_BIAS

ArrayIndex = dict[str, tuple[float, "np.ndarray", int]]


def array_index(channel: Channel, first: int) -> ArrayIndex:
    """``channel.index`` with each posting list as an array (its targets numbered
    from ``first``), and its length."""
    return {
        feature: (weight, np.asarray(numbers, dtype=np.intp) + first, len(numbers))
        for feature, (weight, numbers) in channel.index.items()
    }


class Postings:
    """nlu_scoring.overlap on arrays, for both channels at once: the postings of the
    utterance's features, then one bincount that adds each feature's weight to its
    targets in the order the loop would (the same sums, bit for bit)."""

    __slots__ = ("lengths", "numbers", "weights")

    def __init__(self) -> None:
        self.numbers: list[np.ndarray] = []
        self.weights: list[float] = []
        self.lengths: list[int] = []

    def add(self, index: ArrayIndex, unseen: tuple[float, float, float], features: set[str]) -> float:
        """Collect the postings of ``features``; their total weight."""
        total = 0.0
        for feature in features:
            entry = index.get(feature)
            if entry is None:
                # kind(feature), inlined: it is most features of an out-of-domain text.
                total += unseen[2 if feature[0] == "#" else 1 if " " in feature else 0]
                continue
            weight, numbers, length = entry
            total += weight
            self.numbers.append(numbers)
            self.weights.append(weight)
            self.lengths.append(length)
        return total

    def sums(self, size: int) -> np.ndarray:
        """The weight each of ``size`` targets shares with the features added."""
        if not self.numbers:
            return np.zeros(size)
        spread = np.repeat(np.asarray(self.weights), self.lengths)
        return np.bincount(np.concatenate(self.numbers), weights=spread, minlength=size)


def similarities(matched: np.ndarray, own: np.ndarray, total: float) -> np.ndarray:
    """nlu_scoring.similarity of each example met (``matched`` > 0), as arrays."""
    recall = np.minimum(matched / own, 1.0)
    precision = np.minimum(matched / total, 1.0)
    f_score = _F_FACTOR * precision * recall / (RECALL_BIAS * precision + recall)
    containment = precision * matched / (matched + CONTAINMENT_HALF)
    result: np.ndarray = np.maximum(containment, f_score)
    return result


@dataclass(frozen=True)
class ExampleArrays:
    """The examples' targets as arrays; examples are numbered intent by intent."""

    char_total: np.ndarray
    pinyin_total: np.ndarray
    no_negation: np.ndarray  # negation_factor(None, example)
    exposed_by_word: dict[str, np.ndarray]  # content word -> the examples exposing it
    segment_starts: np.ndarray  # the first example of each intent that has examples
    segment_intents: list[int]  # ... and that intent

    @classmethod
    def of(cls, targets: Sequence[Target]) -> ExampleArrays:
        exposed: dict[str, list[int]] = {}
        for number, target in enumerate(targets):
            for word in target.exposed:
                exposed.setdefault(word, []).append(number)
        starts = [n for n, t in enumerate(targets) if n == 0 or targets[n - 1].intent != t.intent]
        return cls(
            char_total=np.asarray([t.char_total for t in targets]),
            pinyin_total=np.asarray([t.pinyin_total for t in targets]),
            no_negation=np.asarray([negation_factor(None, t) for t in targets]),
            exposed_by_word={word: np.asarray(numbers, dtype=np.intp) for word, numbers in exposed.items()},
            segment_starts=np.asarray(starts if targets else [0], dtype=np.intp),
            segment_intents=[targets[n].intent for n in starts],
        )

    def touched_by(self, negated: frozenset[str]) -> np.ndarray:
        """Which examples expose something ``negated`` is about (negation_factor)."""
        touched = np.zeros(len(self.no_negation), dtype=bool)
        for word in negated:
            numbers = self.exposed_by_word.get(word)
            if numbers is not None:
                touched[numbers] = True
        return touched
