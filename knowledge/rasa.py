"""Our knowledge base as a rasa-sdk ``KnowledgeBase``, for ``ActionQueryKnowledgeBase``.

Every entry is one object of the type ``topic`` (``TOPIC``)::

    {"id": "yidi-anzhi", "title": "异地安置", "kind": "knowledge", "answer": "…",
     "keywords": ["异地安置", …], "questions": ["…", …], "children": []}

Its key attribute is ``id`` and it is represented (listed, named) by its ``title``.
Unlike rasa-sdk's ``InMemoryKnowledgeBase``, listings are never shuffled: without a
query they follow the data files, with one they are ranked by our search. See
docs/knowledge-rasa.md.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rasa_sdk.knowledge_base.storage import KnowledgeBase as RasaKnowledgeBase

from bot.text.segmenter import Segmenter
from knowledge.base import Hit, KnowledgeBase
from knowledge.entries import Entry
from knowledge.service import KnowledgeService

TOPIC = "topic"
"""The one object type."""

KEY_ATTRIBUTE = "id"
TOPIC_ATTRIBUTES = ("id", "title", "kind", "answer", "keywords", "questions", "children")
"""The attributes every topic object has."""

QUERY_ATTRIBUTES = ("query", "question")
"""Filter names that mean "ranked by our search for this text", not an exact match.
``query`` is also listed among a topic's attributes, so that a Rasa slot of that name
filters listings (and is reset after them) like any attribute slot."""

_CHINESE_NUMERALS = "一二三四五六七八九十"

Topic = dict[str, Any]
Filter = Mapping[str, Any]


def topic_object(entry: Entry) -> Topic:
    """An entry as a ``topic`` object: plain JSON data, lists for its tuples."""
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in entry.model_dump(include=set(TOPIC_ATTRIBUTES)).items()
    }


def topic_title(topic: Mapping[str, Any]) -> str:
    """The representation of a topic: its title."""
    return str(topic["title"])


def ordinal_mention_mapping() -> dict[str, Callable[[Sequence[Any]], Any]]:
    """rasa-sdk's ordinal mentions (``"1"``…``"10"``, ``"ANY"``, ``"LAST"``) and the
    Chinese ones callers say (``第一个``/``第一``…``第十个``, ``最后一个``).

    Unlike rasa-sdk's own mapping, a position past the end of the list resolves to
    None (the action then asks to rephrase) instead of raising IndexError.
    """
    mapping: dict[str, Callable[[Sequence[Any]], Any]] = {}
    for position, numeral in enumerate(_CHINESE_NUMERALS, start=1):
        pick = _nth(position)
        for mention in (str(position), f"第{numeral}", f"第{numeral}个", f"第{position}个"):
            mapping[mention] = pick
    mapping.update(
        {
            "ANY": lambda items: random.choice(items) if items else None,
            "LAST": _last,
            "最后一个": _last,
            "最后": _last,
        }
    )
    return mapping


def _nth(position: int) -> Callable[[Sequence[Any]], Any]:
    def pick(items: Sequence[Any]) -> Any:
        return items[position - 1] if len(items) >= position else None

    return pick


def _last(items: Sequence[Any]) -> Any:
    return items[-1] if items else None


class VoicebotKnowledgeBase(RasaKnowledgeBase):
    """A rasa-sdk knowledge base over a (loaded) ``KnowledgeService``.

    Args:
        service: Its ``base`` is read at every call, so the service's changes show at once.
        min_score: Search hits below this are left out of ranked listings; default:
            the service's ``policy.clarify_score`` (its "not found" line).
        object_score: ``get_object`` takes the best search hit only from this score
            on; default: the service's ``policy.answer_score``.
        object_margin: ... and only when no other hit is within this of it (too close
            to call); default: the service's ``policy.margin``.
    """

    def __init__(
        self,
        service: KnowledgeService,
        *,
        min_score: float | None = None,
        object_score: float | None = None,
        object_margin: float | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        policy = service.policy
        self.min_score = policy.clarify_score if min_score is None else min_score
        self.object_score = policy.answer_score if object_score is None else object_score
        self.object_margin = policy.margin if object_margin is None else object_margin
        self.ordinal_mention_mapping = ordinal_mention_mapping()
        self.key_attribute[TOPIC] = KEY_ATTRIBUTE
        self.representation_function[TOPIC] = topic_title

    @classmethod
    def from_directory(cls, directory: Path, *, segmenter: Segmenter | None = None) -> VoicebotKnowledgeBase:
        """Load the data files of ``directory`` (blocking: jieba's dictionary and the index).

        An absent directory is an empty knowledge base, as for the service.

        Raises:
            KnowledgeDataError: a data file is invalid (every problem named).
        """
        segmenter = segmenter or Segmenter()
        segmenter.initialize()
        service = KnowledgeService(directory)
        # Set after construction: KnowledgeService(base=…) replaces an empty base (it
        # is falsy, having no entries yet) with a new one and its own segmenter.
        service.base = KnowledgeBase(segmenter)
        service.load()
        return cls(service)

    @property
    def base(self) -> KnowledgeBase:
        """The knowledge base searched now."""
        return self.service.base

    def titles(self, ids: Iterable[str]) -> list[str]:
        """The titles of the topics ``ids`` name (an unknown id as it is)."""
        return [self.base.get(i).title if i in self.base else i for i in ids]

    # --- rasa-sdk's KnowledgeBase -------------------------------------------------

    async def get_attributes_of_object(self, object_type: str) -> list[str]:
        """A topic's attributes and ``query``; nothing for an unknown object type."""
        if object_type != TOPIC:
            return []
        return [*TOPIC_ATTRIBUTES, QUERY_ATTRIBUTES[0]]

    async def get_key_attribute_of_object(self, object_type: str) -> str:
        """``id``, for any object type (as rasa-sdk's default)."""
        return KEY_ATTRIBUTE

    async def get_representation_function_of_object(
        self, object_type: str
    ) -> Callable[[Mapping[str, Any]], str]:
        """The title of a topic."""
        return topic_title

    def get_object_types(self) -> list[str]:
        """``["topic"]``."""
        return [TOPIC]

    async def get_objects(
        self, object_type: str, attributes: list[dict[str, str]], limit: int = 5
    ) -> list[Topic]:
        """Topics matching every filter, at most ``limit``.

        Args:
            object_type: Only ``topic`` has objects.
            attributes: ``[{"name": …, "value": …}]``. ``query`` and ``question`` rank
                the topics by our search for their values (joined), best first, leaving
                out hits below ``min_score``; any other name keeps the topics whose
                attribute equals the value, case-insensitively (a list attribute, such
                as ``keywords``, when one item does). Without a query, topics come in
                the order of the data files.
            limit: The most topics returned.
        """
        if object_type != TOPIC or limit <= 0:
            return []
        queries = [str(a["value"]) for a in attributes if a["name"] in QUERY_ATTRIBUTES]
        filters = [a for a in attributes if a["name"] not in QUERY_ATTRIBUTES]
        entries = self._ranked(" ".join(queries)) if queries else self.base.entries
        topics = (topic_object(entry) for entry in entries)
        matching = [topic for topic in topics if all(_matches(topic, f) for f in filters)]
        return matching[:limit]

    async def get_object(self, object_type: str, object_identifier: str) -> Topic | None:
        """The topic an identifier names, or None.

        Tried in turn: the id, then the title (both case-insensitively), then our
        search, whose best hit counts only from ``object_score`` on and with no other
        hit within ``object_margin`` of it (too close to call: None, as rasa-sdk's
        ``InMemoryKnowledgeBase`` answers when several objects match).
        """
        if object_type != TOPIC:
            return None
        identifier = str(object_identifier).strip()
        entry = self._by_id(identifier) or self._by_title(identifier) or self._best_hit(identifier)
        return topic_object(entry) if entry is not None else None

    # --- lookups --------------------------------------------------------------------

    def _ranked(self, query: str) -> list[Entry]:
        hits = self.base.search(query, limit=len(self.base))
        return [hit.entry for hit in hits if hit.score >= self.min_score]

    def _by_id(self, identifier: str) -> Entry | None:
        if identifier in self.base:
            return self.base.get(identifier)
        return _first(self.base.entries, lambda entry: entry.id.casefold() == identifier.casefold())

    def _by_title(self, identifier: str) -> Entry | None:
        return _first(self.base.entries, lambda entry: entry.title.casefold() == identifier.casefold())

    def _best_hit(self, identifier: str) -> Entry | None:
        if not identifier:
            return None
        hits: list[Hit] = self.base.search(identifier, limit=2)
        if not hits or hits[0].score < self.object_score:
            return None
        if len(hits) > 1 and hits[0].score - hits[1].score < self.object_margin:
            return None
        return hits[0].entry


def _first(entries: Iterable[Entry], wanted: Callable[[Entry], bool]) -> Entry | None:
    return next((entry for entry in entries if wanted(entry)), None)


def _matches(topic: Mapping[str, Any], attribute: Filter) -> bool:
    """Whether a topic's attribute equals the filter's value, case-insensitively."""
    value = topic.get(attribute["name"])
    wanted = _folded(attribute["value"])
    if isinstance(value, list):
        return any(_folded(item) == wanted for item in value)
    return value is not None and _folded(value) == wanted


def _folded(value: object) -> str:
    return str(value).strip().casefold()
