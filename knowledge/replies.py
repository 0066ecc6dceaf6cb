"""What the knowledge service answers a message with, and the rules that choose it from
the retrieval's hits: the reply types of protocols.md §5, the thresholds (``Policy``,
chosen on the tuning sets), and the decisions that are not a threshold (an outside
topic, the hits close enough to offer, a best entry about something else).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from knowledge.base import Hit
from knowledge.entries import Entry

__all__ = [
    "KnowledgeReply",
    "Policy",
    "ReplyType",
    "close_hits",
    "off_topic",
    "outside_topic",
    "related_entries",
]


class ReplyType(IntEnum):
    """The ``type`` of protocols.md §5."""

    ANSWER = 0  # a knowledge point was found
    CLARIFY = 1  # keep talking: choices offered, or please rephrase
    FAQ = 32  # an answer from the question-answer library


@dataclass(frozen=True)
class Policy:
    """Where scores (0…1) turn into decisions; chosen on the tuning sets
    (tests/knowledge/tuning.yaml and phrasings.yaml), never on heldout.yaml.

    Attributes:
        answer_score: The best entry is answered from here, if no other is close.
        clarify_score: Below this, nothing is good enough ("not found").
        min_coverage: Below this share of the question's topic words in the best entry
            (``Hit.coverage``), it is about something else ("not found").
        margin: Entries within this of the best are too close to call: clarified.
        max_choices: The most choices one clarification lists.
        history_boost: Added to entries the same customer was answered with before.
        topic_boost: In a short follow-up, added to each entry in proportion to its
            likeness to the topic just answered.
        related_score: A "not found" lists the entries from this score up as
            ``related`` (at most ``max_related``), for the bot's language model to word
            an answer from (docs/llm.md); none below it.
    """

    answer_score: float = 0.26
    clarify_score: float = 0.18
    min_coverage: float = 0.35
    margin: float = 0.08
    max_choices: int = 3
    history_boost: float = 0.04
    topic_boost: float = 0.3
    related_score: float = 0.1
    max_related: int = 3


@dataclass(frozen=True)
class KnowledgeReply:
    """What the service answers one message with.

    Attributes:
        type: 0, 1 or 32 (``ReplyType``).
        text: The ``clarify`` field: the answer, the clarification, or "not found".
        entry: The entry answered (types 0 and 32).
        choices: The entries a clarification offers.
        score: The answered or best entry's score.
        outside: The outside topic whose words a "not found" says (``kind: outside``).
        related: Of a "not found": the entries that came closest (``Policy.related_score``).
    """

    type: ReplyType
    text: str
    entry: Entry | None = None
    choices: tuple[Entry, ...] = ()
    score: float | None = None
    outside: Entry | None = None
    related: tuple[Entry, ...] = ()

    @property
    def found(self) -> bool:
        """False for "not found" and "please rephrase", the clarifications without choices."""
        return self.entry is not None or bool(self.choices)

    def document(self) -> dict[str, Any]:
        """The JSON document the webhook puts, as a string, in ``text``."""
        document: dict[str, Any] = {"type": int(self.type), "clarify": self.text}
        if self.entry is not None:
            document.update(id=self.entry.id, title=self.entry.title, score=self.score)
        if self.choices:
            document["choices"] = [{"id": e.id, "title": e.title} for e in self.choices]
        if not self.found:
            document["found"] = False
        if self.related:
            document["related"] = [
                {"id": e.id, "title": e.title, "answer": e.answer, "keywords": list(e.keywords)}
                for e in self.related
            ]
        return document


def outside_topic(best: Hit, boost: Mapping[str, float]) -> Entry | None:
    """The outside topic (``kind: outside``) a question is about: the best hit itself, or
    one whose keyword the question says and the best entry never uses (养老金 on a 医保
    line, 手机卡 where 医保卡 scores best); an entry the conversation or the customer
    brought up (boosted) is exempt from the keyword rule."""
    if best.entry.is_outside:
        return best.entry
    return best.outside if best.entry.id not in boost else None


def close_hits(hits: Sequence[Hit], floor: float) -> list[Hit]:
    """The hits at ``floor`` or above that a clarification may offer, best first (the
    best is none of the outside topics): a parent best with its own child close offers
    the parent's children (the child among them) rather than the child on a near tie; a
    child best with its parent close is meant (the child's words were said)."""
    close = [hit for hit in hits if hit.score >= floor and not hit.entry.is_outside]
    if close[0].entry.is_parent:
        return [hit for hit in close if hit.entry.id not in close[0].entry.children]
    ids = {hit.entry.id for hit in close}
    return [hit for hit in close if not ids.intersection(hit.entry.children)]


def off_topic(best: Hit, boost: Mapping[str, float], policy: Policy) -> bool:
    """The best entry uses too few of the question's topic words to be its subject; an
    entry the conversation or the customer brought up (boosted) is exempt, as a short
    follow-up ("那要带什么材料") names no topic of its own."""
    coverage = 1.0 if best.coverage is None else best.coverage
    return coverage < policy.min_coverage and best.entry.id not in boost


def related_entries(hits: Sequence[Hit], boost: Mapping[str, float], policy: Policy) -> tuple[Entry, ...]:
    """What a "not found" lists as related: the answerable entries from
    ``policy.related_score`` up, none when the question is an outside topic's (known not
    to be ours: nothing to word an answer from)."""
    if not hits or outside_topic(hits[0], boost) is not None:
        return ()
    related = [
        hit.entry
        for hit in hits
        if hit.score >= policy.related_score and not hit.entry.is_outside and not hit.entry.is_parent
    ]
    return tuple(related[: policy.max_related])
