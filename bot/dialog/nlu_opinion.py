"""A second opinion for the intent classifier: a linear model of the flow's examples.

The similarity scores of ``bot.dialog.nlu`` compare an utterance with one example (or
one intent's vocabulary) at a time, weighing each feature by a fixed IDF. A caller who
tells a request in words spread over several examples, or wraps it in words no example
has, can fall just under the threshold although every word points one way. A
multinomial logistic regression over the same features, trained on all of the flow's
examples at once, learns which features tell its intents apart, and how strongly; it
is the second opinion ``IntentClassifier.parse`` asks when its own best score is
unsure (docs/quality.md, "Round 3"). A class of its own, *none*, is taught what the
flow's intents are not: the built-in intents the flow does not use and its
``nlu.none_examples``.

Fitted in numpy, with L-BFGS, to the loss of scikit-learn's ``LogisticRegression(C=C)``
(the summed cross-entropy plus ``||W||^2 / (2 C)``; its probabilities agree with
scikit-learn's within 0.04 on the sample flows): scikit-learn would add about a second
of imports and 40 MB of dependencies for this one fit. A flow with the library's
phrasings has some 3,000 examples and 10,000 features: about 0.4 s of CPU, so
``voicebot serve`` fits it once serving (``IntentClassifier.train_opinion``).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import numpy as np

from bot.text.features import Analysis

__all__ = [
    "MIN_NONE_EXAMPLES",
    "OPINION_MIN_PROBABILITY",
    "OPINION_MIN_SCORE",
    "LinearOpinion",
    "features_of",
    "second_opinion",
]

REGULARIZATION_C = 4.0
MAX_ITERATIONS = 150
HISTORY = 8  # L-BFGS's memory
TOLERANCE = 1e-4  # of the gradient's largest component, per example

# When the second opinion counts, chosen on the tuning set, cross-validation and the guards
# of sentences of no intent (docs/quality.md): the model is sure, and the similarity scores
# saw the intent too.
OPINION_MIN_PROBABILITY = 0.8
OPINION_MIN_SCORE = 0.45
# A model never shown what is no intent takes anything for one (a flow using every
# built-in intent took twice the out-of-scope sentences): it is not asked then.
MIN_NONE_EXAMPLES = 50


class LinearOpinion:
    """Class probabilities of a set of features; the last class is *none*."""

    __slots__ = ("_bias", "_columns", "_weights")

    def __init__(self, columns: dict[str, int], weights: np.ndarray, bias: np.ndarray) -> None:
        self._columns = columns
        self._weights = weights
        self._bias = bias

    @classmethod
    def train(cls, rows: Iterable[tuple[int, Iterable[str]]], classes: int) -> LinearOpinion:
        """Fit on ``rows`` of (class, features); ``classes`` counts *none* (the last).

        Args:
            rows: Each example's class (0 .. classes - 1) and features; read once, and
                best a generator: only the features' column numbers are kept.
            classes: The number of classes.
        """
        columns: dict[str, int] = {}
        indices = array("q")
        starts: list[int] = []
        labels: list[int] = []
        for label, features in rows:
            start = len(indices)
            indices.extend(columns.setdefault(f, len(columns)) for f in features)
            # A row of no feature tells nothing, and np.add.reduceat would read its
            # neighbour's in its place.
            if len(indices) > start:
                starts.append(start)
                labels.append(label)
        if not columns or len(set(labels)) < 2:
            return cls(columns, np.zeros((len(columns), classes)), np.zeros(classes))
        data = _Data(np.asarray(indices, dtype=np.intp), np.asarray(starts, dtype=np.intp), labels, classes)
        weights, bias = data.fit(len(columns))
        return cls(columns, weights, bias)

    def probabilities(self, features: Iterable[str]) -> np.ndarray:
        """Each class's probability for an utterance of ``features``."""
        found = [column for f in features if (column := self._columns.get(f)) is not None]
        logits = self._bias + self._weights[found].sum(axis=0) if found else self._bias.copy()
        logits -= logits.max()
        exp = np.exp(logits)
        result: np.ndarray = exp / exp.sum()
        return result


class _Data:
    """The training examples as a sparse binary matrix (CSR without values)."""

    def __init__(self, indices: np.ndarray, starts: np.ndarray, labels: list[int], classes: int) -> None:
        self.indices = indices
        self.starts = starts
        self.rows = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(indices))))
        self.classes = classes
        self.truth = np.zeros((len(starts), classes))
        self.truth[np.arange(len(starts)), labels] = 1.0

    def loss(self, flat: np.ndarray, features: int) -> tuple[float, np.ndarray]:
        """The loss and its gradient at ``flat``: each class's weights, then the biases.

        Class by class, so that no temporary is larger than one value per (example,
        feature) pair: all classes at once took tens of megabytes that the allocator
        kept after the fit.
        """
        k = self.classes
        weights = flat[: features * k].reshape(k, features)
        bias = flat[features * k :]
        logits = np.empty((len(self.starts), k))
        for j in range(k):
            logits[:, j] = np.add.reduceat(weights[j][self.indices], self.starts)
        logits += bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        sums = exp.sum(axis=1, keepdims=True)
        log_probabilities = logits - np.log(sums)
        penalty = float((weights**2).sum()) / (2 * REGULARIZATION_C)
        loss = penalty - float((self.truth * log_probabilities).sum())
        error = exp / sums - self.truth
        gradient = flat / REGULARIZATION_C  # the biases' part is replaced below
        for j in range(k):
            column = error[:, j]
            gradient[j * features : (j + 1) * features] += np.bincount(
                self.indices, weights=column[self.rows], minlength=features
            )
        gradient[features * k :] = error.sum(axis=0)
        return loss, gradient

    def fit(self, features: int) -> tuple[np.ndarray, np.ndarray]:
        """L-BFGS with a backtracking (Armijo) line search, from all zeros."""
        k = self.classes
        x = np.zeros(features * k + k)
        value, gradient = self.loss(x, features)
        steps: list[tuple[np.ndarray, np.ndarray, float]] = []  # (s, y, 1 / y.s)
        limit = TOLERANCE * len(self.starts)
        for _ in range(MAX_ITERATIONS):
            if np.abs(gradient).max() <= limit:
                break
            direction = _two_loop(gradient, steps)
            slope = float(gradient @ direction)
            if slope >= 0:  # not a descent direction: start the memory again
                steps.clear()
                direction, slope = -gradient, -float(gradient @ gradient)
            step = 1.0 if steps else 1.0 / max(1.0, float(np.abs(gradient).max()))
            while True:
                candidate = x + step * direction
                new_value, new_gradient = self.loss(candidate, features)
                if new_value <= value + 1e-4 * step * slope or step < 1e-10:
                    break
                step *= 0.5
            s, y = candidate - x, new_gradient - gradient
            ys = float(y @ s)
            if ys > 1e-10:
                steps.append((s, y, 1.0 / ys))
                del steps[:-HISTORY]
            x, value, gradient = candidate, new_value, new_gradient
        return np.ascontiguousarray(x[: features * k].reshape(k, features).T), x[features * k :]


def _two_loop(gradient: np.ndarray, steps: list[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """L-BFGS's search direction: minus the inverse Hessian estimate times the gradient."""
    q = gradient.copy()
    alphas = []
    for s, y, rho in reversed(steps):
        alpha = rho * float(s @ q)
        alphas.append(alpha)
        q -= alpha * y
    if steps:
        s, y, _ = steps[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y, rho), alpha in zip(steps, reversed(alphas), strict=True):
        beta = rho * float(y @ q)
        q += (alpha - beta) * s
    return -q


def features_of(analysis: Analysis) -> list[str]:
    """The features the model reads: the characters' and the pinyin's (marked)."""
    return [*analysis.chars, *("\x00" + p for p in analysis.pinyin)]


def second_opinion(
    opinion: LinearOpinion, analysis: Analysis, scores: list[float], threshold: float
) -> int | None:
    """Lift an intent to ``threshold`` where the similarity scores are unsure of it
    and the model is not; the intent lifted, if one is.

    Only when no intent reached ``threshold``; the model's best must be an intent,
    not *none*, with a probability of at least ``OPINION_MIN_PROBABILITY``, and its
    similarity score at least ``OPINION_MIN_SCORE``. An utterance with a negation is
    left to the similarity scores, which know negation (the caller checks).
    """
    if not scores or max(scores) >= threshold:
        return None
    probabilities = opinion.probabilities(features_of(analysis))
    best = int(probabilities.argmax())
    if best == len(scores) or probabilities[best] < OPINION_MIN_PROBABILITY:
        return None
    if scores[best] < OPINION_MIN_SCORE:
        return None
    scores[best] = threshold
    return best
