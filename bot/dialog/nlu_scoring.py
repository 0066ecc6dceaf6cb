"""The arithmetic of intent scoring: feature weights, similarities, negation.

``bot.dialog.nlu`` explains the method in its docstring and runs it on the hot path
with these definitions inlined; the plain definitions here are what its loops must
equal, bit for bit (``tests/dialog/test_nlu.py`` holds them to it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bot.text.features import kind

# Tuning; the docstring of bot.dialog.nlu says what each does.
UNIGRAM_WEIGHT = 0.5
BIGRAM_WEIGHT = 1.0
WORD_WEIGHT = 1.0
UNSEEN_FACTOR = 0.8  # an unknown feature's IDF, relative to the rarest known one
PINYIN_DISCOUNT = 0.9
RECALL_BIAS = 4.0  # beta squared of the F-beta score
CONTAINMENT_HALF = 2.0  # shared weight at which containment reaches half the precision
VOCABULARY_POWER = 1.5  # of the precision, in vocabulary_similarity
KEYWORD_BASE = 0.7
NEGATION_PENALTY = 0.2
MISSING_NEGATION_PENALTY = 0.5


Overlap = tuple[list[float], float]  # weight shared with each target, utterance's weight


@dataclass(frozen=True)
class Target:
    """An example, or the whole vocabulary of an intent, as parse() needs it."""

    intent: int
    char_total: float
    pinyin_total: float
    negated: bool  # contains a negation cue (never set for a vocabulary)
    # Its content less what its own negations are about: what an utterance's
    # negation must touch to count against it.
    exposed: frozenset[str]


@dataclass(frozen=True)
class Channel:
    """One feature space (characters or pinyin): weights and an inverted index."""

    weights: dict[str, float]
    postings: dict[str, list[int]]
    unseen: tuple[float, float, float]  # weight of an unknown unigram, bigram, word
    # Filled once all targets are indexed: feature -> (weight, targets having it),
    # the one dictionary look-up per feature that parse() makes.
    index: dict[str, tuple[float, tuple[int, ...]]] = field(default_factory=dict)

    def weight(self, feature: str) -> float:
        found = self.weights.get(feature)
        return self.unseen[kind(feature)] if found is None else found

    def freeze(self) -> None:
        self.index.update((f, (w, tuple(self.postings.get(f, ())))) for f, w in self.weights.items())


def make_channel(documents: list[tuple[int, set[str]]]) -> Channel:
    """Weigh features by IDF over intents: one every intent uses tells nothing apart."""
    intents_of: dict[str, set[int]] = {}
    for intent, features in documents:
        for feature in features:
            intents_of.setdefault(feature, set()).add(intent)
    count = len({intent for intent, _ in documents})
    kinds = (UNIGRAM_WEIGHT, BIGRAM_WEIGHT, WORD_WEIGHT)
    weights = {f: kinds[kind(f)] * math.log((count + 1) / len(i)) for f, i in intents_of.items()}
    rare = math.log(count + 1) * UNSEEN_FACTOR
    return Channel(weights, {}, (kinds[0] * rare, kinds[1] * rare, kinds[2] * rare))


def overlap(channel: Channel, features: set[str], size: int) -> Overlap:
    """The weight each target shares with ``features``, and the weight of ``features``."""
    matched = [0.0] * size
    total = 0.0
    index, unseen = channel.index, channel.unseen
    for feature in features:
        entry = index.get(feature)
        if entry is None:
            # kind(feature), inlined: it is most features of an out-of-domain text.
            total += unseen[2 if feature[0] == "#" else 1 if " " in feature else 0]
            continue
        weight, numbers = entry
        total += weight
        for number in numbers:
            matched[number] += weight
    return matched, total


def similarity(matched: float, own: float, total: float) -> float:
    """How well an utterance fits an example (the definition _score_examples inlines).

    Args:
        matched: Weight of the features both have.
        own: Weight of the example's features (recall = matched / own).
        total: Weight of the utterance's features (precision = matched / total).

    Returns:
        The larger of the recall-leaning F-score and containment.
    """
    if matched <= 0.0 or own <= 0.0 or total <= 0.0:
        return 0.0
    recall, precision = min(1.0, matched / own), min(1.0, matched / total)
    f_score = (1 + RECALL_BIAS) * precision * recall / (RECALL_BIAS * precision + recall)
    # A caller often says just the heart of an example (人工 for 我要转人工): recall
    # is low, but an utterance lying wholly inside the example is evidence too,
    # in proportion to how distinctive the shared part is.
    containment = precision * matched / (matched + CONTAINMENT_HALF)
    return max(f_score, containment)


def vocabulary_similarity(matched: float, own: float, total: float) -> float:
    """How well an intent's whole vocabulary explains an utterance (``own`` unused; inlined too).

    Precision to the power 1.5: a sentence pieced together from two examples (报销款 +
    到账了没有) is explained almost wholly, while one about something else shares
    a few common words with every intent. (The power was 2 until the intents of the
    built-in library, with their hundreds of phrasings, made a story-like request that
    uses an intent's words in a new order the more common miss: 1.5 found more of the
    tuning set's and no more of the out-of-scope sentences; docs/quality.md.) A bigram
    that no example has is where two pieced examples meet (好嘞 + 你说); it counts in
    full: counted at half, it took more of the knowledge base's questions for an
    intent (门诊慢特病怎么申请 for ``query_progress``; docs/quality.md).
    """
    if matched <= 0.0 or total <= 0.0:
        return 0.0
    precision = min(1.0, matched / total)
    similarity: float = precision**VOCABULARY_POWER * matched / (matched + CONTAINMENT_HALF)
    return similarity


def negation_factor(negated: frozenset[str] | None, target: Target) -> float:
    """Penalty for an utterance negating what a target asks for, or the reverse.

    Args:
        negated: The topics of all the utterance's negations; None if it has none
            (an empty set if it has cues that negate nothing in particular).
        target: The example or vocabulary.
    """
    if negated is None:
        return MISSING_NEGATION_PENALTY if target.negated else 1.0
    # A negation must touch the target's content, unless the target negates that same
    # thing itself (没啥问题了 ~ 没有其他问题了): its exposed content excludes that.
    return 1.0 if negated.isdisjoint(target.exposed) else NEGATION_PENALTY
