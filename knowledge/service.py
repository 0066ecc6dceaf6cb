"""The knowledge service: a question in, an answer, a clarification or "not found" out.

This is what the Rasa-style webhook, the bot's ``knowledge`` steps and the rasa-sdk
glue all ask. It owns the knowledge base, each conversation's context (the choices
last offered, the topic last answered) and each customer's history, and it applies
the admin API's changes: validated, persisted, then searchable at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from bot.errors import RequestError, UnknownEntryError
from knowledge import store
from knowledge.base import Hit, KnowledgeBase
from knowledge.clarify import clarification, resolve
from knowledge.entries import DataFile, Entry
from knowledge.history import Asked, CustomerHistory

logger = logging.getLogger(__name__)

SENDER_SEPARATOR = "userId"
FOLLOW_UP_WORDS = 2
"""A message of at most this many topic words, right after an answer, may be a
question about that answer's topic."""
TOPIC_NEIGHBOURS = 10
NOT_FOUND_TEXT = "抱歉，没有找到您问的内容。您可以换个说法再问一次，或者说转人工。"
DECLINED_TEXT = "好的。请您换个说法，再说一遍您想咨询的问题。"
NOT_HEARD_TEXT = "抱歉，没有听清您的问题，请您再说一遍。"


class ReplyType(IntEnum):
    """The ``type`` of protocols.md §5."""

    ANSWER = 0  # a knowledge point was found
    CLARIFY = 1  # keep talking: choices offered, or please rephrase
    FAQ = 32  # an answer from the question-answer library


@dataclass(frozen=True)
class Policy:
    """Where scores (0…1) turn into decisions; calibrated on tests/knowledge/phrasings.yaml.

    Attributes:
        answer_score: The best entry is answered from here, if no other is close.
        clarify_score: Below this, nothing is good enough ("not found").
        margin: Entries within this of the best are too close to call: clarified.
        max_choices: The most choices one clarification lists.
        history_boost: Added to entries the same customer was answered with before.
        topic_boost: In a short follow-up, added to each entry in proportion to its
            likeness to the topic just answered.
    """

    answer_score: float = 0.28
    clarify_score: float = 0.24
    margin: float = 0.08
    max_choices: int = 3
    history_boost: float = 0.04
    topic_boost: float = 0.3


@dataclass(frozen=True)
class KnowledgeReply:
    """What the service answers one message with.

    Attributes:
        type: 0, 1 or 32 (``ReplyType``).
        text: The ``clarify`` field: the answer, the clarification, or "not found".
        entry: The entry answered (types 0 and 32).
        choices: The entries a clarification offers.
        score: The answered or best entry's score.
    """

    type: ReplyType
    text: str
    entry: Entry | None = None
    choices: tuple[Entry, ...] = ()
    score: float | None = None

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
        return document


def split_sender(sender: str) -> tuple[str, str]:
    """``<conversation id>userId<customer>`` → (conversation id, customer); the customer
    is empty when the sender has no ``userId``."""
    conversation, separator, customer = sender.partition(SENDER_SEPARATOR)
    return (conversation, customer) if separator else (sender, "")


@dataclass
class _Context:
    """What one sender's conversation has been told."""

    choices: tuple[str, ...] = ()  # ids offered by the last clarification
    asked: str = ""  # the message that clarification answered
    last_entry: str | None = None  # the topic last answered
    at: float = field(default_factory=time.monotonic)


class KnowledgeService:
    """Answers questions from a knowledge base kept in a data directory.

    Args:
        directory: The data files (``knowledge/data``); changes are written back here.
        base: The in-memory knowledge base (its segmenter may be shared).
        history: Each customer's past answers; None keeps none.
        policy: Score thresholds.
        context_seconds: How long a conversation's context (pending choices, last
            topic) is kept after its last message.
    """

    def __init__(
        self,
        directory: Path,
        *,
        base: KnowledgeBase | None = None,
        history: CustomerHistory | None = None,
        policy: Policy | None = None,
        context_seconds: float = 1800,
        max_contexts: int = 100_000,
    ) -> None:
        self.directory = directory
        self.base = base if base is not None else KnowledgeBase()
        self.history = history
        self.policy = policy or Policy()
        self._context_seconds = context_seconds
        self._max_contexts = max_contexts
        self._contexts: OrderedDict[str, _Context] = OrderedDict()
        self._files: dict[Path, DataFile] = {}
        self._changing = asyncio.Lock()
        self.ready = False

    # --- life --------------------------------------------------------------------

    async def open(self) -> None:
        """Read the data directory and build the index (in a worker thread).

        Raises:
            KnowledgeDataError: a data file is invalid (every problem named).
        """
        files = await asyncio.to_thread(store.read_directory, self.directory)
        await asyncio.to_thread(self._install_files, files)
        if self.history is not None:
            await self.history.open()
        self.ready = True
        logger.info("knowledge base: %d entries from %s", len(self.base), self.directory)

    def load(self) -> None:
        """``open`` without history, blocking: for command-line tools."""
        self._install_files(store.read_directory(self.directory))
        self.ready = True

    def _install_files(self, files: dict[Path, DataFile]) -> None:
        self.base.replace(_entries(files), store.merged_synonyms(files.values()))
        self._files = files

    async def close(self) -> None:
        self.ready = False
        if self.history is not None:
            await self.history.close()

    # --- questions ---------------------------------------------------------------

    def search(self, text: str, limit: int = 5) -> list[Hit]:
        """The best entries for ``text``, without any conversation's context."""
        return self.base.search(text, limit)

    async def reply(self, sender: str, message: str) -> KnowledgeReply:
        """Answer ``message`` in the conversation of ``sender`` (protocols.md §5)."""
        _, customer = split_sender(sender)
        context = self._context(sender)
        if not message.strip():
            return KnowledgeReply(ReplyType.CLARIFY, NOT_HEARD_TEXT)
        reply = self._follow_up(context, message)
        if reply is None:
            asked = await self._asked(customer)
            boost = dict.fromkeys((a.entry_id for a in asked), self.policy.history_boost)
            topic = context.last_entry
            if topic in self.base and len(self.base.analyzer().content(message)) <= FOLLOW_UP_WORDS:
                # "那要带什么材料" right after an answer asks about that answer's topic:
                # entries like the topic count more, in proportion to their likeness.
                for hit in self.base.search(self.base.get(topic).title, TOPIC_NEIGHBOURS):  # type: ignore[arg-type]
                    boost[hit.entry.id] = boost.get(hit.entry.id, 0) + self.policy.topic_boost * hit.score
            reply = self._decide(message, boost)
        context.choices = tuple(e.id for e in reply.choices)
        context.asked = message if reply.choices else ""
        if reply.entry is not None:
            context.last_entry = reply.entry.id
            if self.history is not None:
                await self.history.record(customer, reply.entry.id, reply.entry.title)
        return reply

    def _follow_up(self, context: _Context, message: str) -> KnowledgeReply | None:
        """The answer to a pending clarification, or None when the message is a new question."""
        choices = [self.base.get(i) for i in context.choices if i in self.base]
        picked = resolve(message, choices, self.base.analyzer(), asked=context.asked) if choices else None
        if picked is None:
            return None
        if picked is False:
            return KnowledgeReply(ReplyType.CLARIFY, DECLINED_TEXT)
        assert isinstance(picked, Entry)
        return self._offer(picked, score=None)

    async def _asked(self, customer: str) -> list[Asked]:
        return await self.history.recent(customer) if self.history else []

    def _decide(self, message: str, boost: dict[str, float]) -> KnowledgeReply:
        policy = self.policy
        hits = self.base.search(message, limit=policy.max_choices + 5, boost=boost)
        if not hits or hits[0].score < policy.clarify_score:
            return KnowledgeReply(ReplyType.CLARIFY, NOT_FOUND_TEXT, score=hits[0].score if hits else None)
        floor = max(policy.clarify_score, hits[0].score - policy.margin)
        close = [hit for hit in hits if hit.score >= floor]
        ids = {hit.entry.id for hit in close}
        # A parent and its own child both close: the child's words were said, so it is meant.
        close = [hit for hit in close if not ids.intersection(hit.entry.children)]
        best = close[0]
        if len(close) > 1:
            return self._clarify([hit.entry for hit in close], best.score)
        if best.score < policy.answer_score and not best.entry.is_parent:
            return self._clarify([best.entry], best.score)  # "请问您是想咨询[…]吗?"
        return self._offer(best.entry, best.score)

    def _offer(self, entry: Entry, score: float | None) -> KnowledgeReply:
        """An entry's answer; a parent topic is clarified into its children."""
        if entry.is_parent:
            return self._clarify([self.base.get(child) for child in entry.children], score)
        kind = ReplyType.FAQ if entry.kind == "faq" else ReplyType.ANSWER
        return KnowledgeReply(kind, entry.answer, entry=entry, score=score)

    def _clarify(self, choices: Sequence[Entry], score: float | None) -> KnowledgeReply:
        choices = tuple(choices[: self.policy.max_choices])
        return KnowledgeReply(ReplyType.CLARIFY, clarification(choices), choices=choices, score=score)

    def _context(self, sender: str) -> _Context:
        now = time.monotonic()
        context = self._contexts.pop(sender, None)
        if context is None or now - context.at > self._context_seconds:
            context = _Context()
        context.at = now
        self._contexts[sender] = context  # the most recently used last
        while len(self._contexts) > self._max_contexts:
            self._contexts.popitem(last=False)
        return context

    # --- changes (the admin API) -------------------------------------------------

    async def create(self, entry: Entry) -> None:
        """Raises: RequestError (409) when the id is taken; KnowledgeDataError."""
        async with self._changing:
            if entry.id in self.base:
                raise RequestError(
                    f"an entry with the id {entry.id!r} exists; PUT it to replace it", status=409
                )
            await self._commit(store.upsert(self._files, self.directory, [entry]))

    async def put(self, entries: Sequence[Entry]) -> tuple[int, int]:
        """Create or replace entries by id. Returns (created, updated).

        Raises:
            KnowledgeDataError: the result would be invalid (nothing is changed).
        """
        async with self._changing:
            updated = sum(entry.id in self.base for entry in entries)
            await self._commit(store.upsert(self._files, self.directory, entries))
            return len(entries) - updated, updated

    async def delete(self, entry_id: str) -> None:
        """Raises: UnknownEntryError; KnowledgeDataError when a parent still lists it."""
        async with self._changing:
            changed = store.remove(self._files, entry_id)
            if not changed:
                raise UnknownEntryError(entry_id)
            await self._commit(changed)

    async def _commit(self, changed: dict[Path, DataFile]) -> None:
        """Validate and index the changed files, write them, then serve them."""
        files = {**self._files, **changed}
        snapshot = await asyncio.to_thread(
            self.base.prepare, _entries(files), store.merged_synonyms(files.values())
        )
        await asyncio.to_thread(store.write_files, changed)
        self.base.install(snapshot)
        self._files = files


def _entries(files: dict[Path, DataFile]) -> list[Entry]:
    return [entry for data in files.values() for entry in data.entries]
