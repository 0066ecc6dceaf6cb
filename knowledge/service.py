"""The knowledge service: a question in, an answer, a clarification or "not found" out.

This is what the Rasa-style webhook, the bot's ``knowledge`` steps and the rasa-sdk
glue all ask. It owns the knowledge base, each conversation's context (the choices
last offered, the topic last answered) and each customer's history, and it applies
the admin API's changes: validated, persisted, then searchable at once.

Several processes may serve one data directory (instances behind a load balancer, on a
shared volume). Each polls the data files' identity (``store.identity``) and, when
another process changed them, reads them again and swaps the new index in; a change
made here is applied to the files as they are on disk, under the directory's lock, so
no process loses another's change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import KnowledgeDataError, RequestError, UnknownEntryError
from knowledge import store
from knowledge.base import Hit, KnowledgeBase, Snapshot
from knowledge.clarify import clarification, resolve
from knowledge.conversations import Context, Conversations
from knowledge.entries import DataFile, Entry
from knowledge.history import Asked, CustomerHistory
from knowledge.misses import Misses
from knowledge.replies import (
    KnowledgeReply,
    Policy,
    ReplyType,
    close_hits,
    off_topic,
    outside_topic,
    related_entries,
)

if TYPE_CHECKING:
    from knowledge.pg_history import PostgresCustomerHistory

logger = logging.getLogger(__name__)

SENDER_SEPARATOR = "userId"
FOLLOW_UP_WORDS = 2
"""A message of at most this many topic words, right after an answer, may be a
question about that answer's topic."""
TOPIC_NEIGHBOURS = 10
NOT_FOUND_TEXT = "抱歉，没有找到您问的内容。您可以换个说法再问一次，或者说转人工。"
DECLINED_TEXT = "好的。请您换个说法，再说一遍您想咨询的问题。"
NOT_HEARD_TEXT = "抱歉，没有听清您的问题，请您再说一遍。"
POLL_SECONDS = 1.0
"""How often an open service looks whether another process changed its data files."""


def split_sender(sender: str) -> tuple[str, str]:
    """``<conversation id>userId<customer>`` → (conversation id, customer); the customer
    is empty when the sender has no ``userId``."""
    conversation, separator, customer = sender.partition(SENDER_SEPARATOR)
    return (conversation, customer) if separator else (sender, "")


@dataclass(frozen=True)
class _Loaded:
    """Data files as read (or written), and the knowledge base built from them."""

    identity: store.Identity
    files: dict[Path, DataFile]
    snapshot: Snapshot


class _Unreadable(Exception):
    """The data files as they are now (``identity``) are invalid (``error``)."""

    def __init__(self, identity: store.Identity, error: KnowledgeDataError) -> None:
        self.identity = identity
        self.error = error
        super().__init__(str(error))


class KnowledgeService:
    """Answers questions from a knowledge base kept in a data directory.

    Args:
        directory: The data files (``knowledge/data``); changes are written back here.
        base: The in-memory knowledge base (its segmenter may be shared).
        history: Each customer's past answers; None keeps none.
        policy: Score thresholds.
        context_seconds: How long a conversation's context (pending choices, last
            topic) is kept after its last message.
        poll_seconds: How often, once opened, the data files are checked for another
            process's changes; 0 never checks.
    """

    def __init__(
        self,
        directory: Path,
        *,
        base: KnowledgeBase | None = None,
        history: CustomerHistory | PostgresCustomerHistory | None = None,
        policy: Policy | None = None,
        context_seconds: float = 1800,
        max_contexts: int = 100_000,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.directory = directory
        self.base = base if base is not None else KnowledgeBase()
        self.history = history
        self.policy = policy or Policy()
        self._conversations = Conversations(seconds=context_seconds, cap=max_contexts)
        self._poll_seconds = poll_seconds
        self._files: dict[Path, DataFile] = {}
        self._identity: store.Identity | None = None  # of the files self._files was read from
        self._invalid: store.Identity | None = None  # of files found invalid, not read again
        self._changing = asyncio.Lock()  # one change or reload at a time
        self._watcher: asyncio.Task[None] | None = None
        self.misses = Misses()  # questions answered "not found", for the console's dashboard
        self.ready = False

    # --- life --------------------------------------------------------------------

    async def open(self) -> None:
        """Read the data directory and build the index (in a worker thread), then watch
        the directory for other processes' changes until ``close``.

        Raises:
            KnowledgeDataError: a data file is invalid (every problem named).
        """
        self._install(await asyncio.to_thread(self._load_blocking))
        if self.history is not None:
            await self.history.open()
        self.ready = True
        logger.info("knowledge base: %d entries from %s", len(self.base), self.directory)
        if self._poll_seconds > 0:
            self._watcher = asyncio.create_task(self._watch(), name=f"knowledge watcher {self.directory}")

    def load(self) -> None:
        """``open`` without history or watching, blocking: for command-line tools."""
        self._install(self._load_blocking())
        self.ready = True

    def _load_blocking(self) -> _Loaded:
        try:
            loaded = self._read()
        except _Unreadable as exc:
            raise exc.error from None
        assert loaded is not None
        return loaded

    async def close(self) -> None:
        self.ready = False
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self.history is not None:
            await self.history.close()

    # --- other processes' changes -------------------------------------------------

    async def _watch(self) -> None:
        """Reload whenever the data files are not those served, every ``poll_seconds``."""
        while True:
            await asyncio.sleep(self._poll_seconds)
            try:
                identity = await asyncio.to_thread(store.identity, self.directory)
                if identity not in (self._identity, self._invalid):
                    async with self._changing:
                        await self._reload()
            except Exception:  # the next round tries again
                logger.exception("knowledge base: watching %s failed", self.directory)

    async def _reload(self) -> None:
        """Read the data files and swap their index in, unless they are those served;
        searches use the old index until then. Invalid files are logged and the old
        knowledge base kept, until the files change again."""
        began = time.perf_counter()
        try:
            loaded = await asyncio.to_thread(self._read, unless=self._identity)
        except _Unreadable as exc:
            self._invalid = exc.identity
            logger.error(
                "knowledge base: %s was changed, but is invalid; still serving the old data:\n%s",
                self.directory,
                exc.error,
            )
            return
        if loaded is not None:
            self._install(loaded)
            logger.info(
                "knowledge base: reloaded %d entries from %s, changed by another process, in %.0f ms",
                len(self.base),
                self.directory,
                (time.perf_counter() - began) * 1000,
            )

    def _read(self, *, unless: store.Identity | None = None) -> _Loaded | None:
        """The data files and their index; None when their identity is ``unless``; blocking.

        Raises:
            _Unreadable: a file is invalid.
        """
        with store.locked(self.directory, exclusive=False):  # not half of another's change
            identity = store.identity(self.directory)
            if identity == unless:
                return None
            try:
                files = store.read_directory(self.directory)
            except KnowledgeDataError as exc:
                raise _Unreadable(identity, exc) from exc
        try:
            snapshot = self.base.prepare(_entries(files), store.merged_synonyms(files.values()))
        except KnowledgeDataError as exc:
            raise _Unreadable(identity, exc) from exc
        return _Loaded(identity, files, snapshot)

    def _install(self, loaded: _Loaded) -> None:
        """Serve ``loaded``, at once; on the event loop (or before it serves)."""
        self.base.install(loaded.snapshot)
        self._files = loaded.files
        self._identity = loaded.identity

    # --- questions ---------------------------------------------------------------

    def search(self, text: str, limit: int = 5) -> list[Hit]:
        """The best entries for ``text``, without any conversation's context."""
        return self.base.search(text, limit)

    def preview(self, message: str) -> KnowledgeReply:
        """The answer of a fresh conversation, remembering nothing (the console's search)."""
        if not message.strip():
            return KnowledgeReply(ReplyType.CLARIFY, NOT_HEARD_TEXT)
        return self._decide(message, {})

    async def reply(self, sender: str, message: str) -> KnowledgeReply:
        """Answer ``message`` in the conversation of ``sender`` (protocols.md §5)."""
        _, customer = split_sender(sender)
        context = self._conversations.context(sender)
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
            if not reply.found and reply.outside is None:  # an outside topic's is known not to be ours
                self.misses.add(message)
        context.choices = tuple(e.id for e in reply.choices)
        context.asked = message if reply.choices else ""
        if reply.entry is not None:
            context.last_entry = reply.entry.id
            if self.history is not None:
                await self.history.record(customer, reply.entry.id, reply.entry.title)
        return reply

    def _follow_up(self, context: Context, message: str) -> KnowledgeReply | None:
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
        if not hits or hits[0].score < policy.clarify_score or off_topic(hits[0], boost, policy):
            score, related = (hits[0].score if hits else None), related_entries(hits, boost, policy)
            return KnowledgeReply(ReplyType.CLARIFY, NOT_FOUND_TEXT, score=score, related=related)
        outside = outside_topic(hits[0], boost)
        if outside is not None:
            return KnowledgeReply(ReplyType.CLARIFY, outside.answer, score=hits[0].score, outside=outside)
        close = close_hits(hits, max(policy.clarify_score, hits[0].score - policy.margin))
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

    @property
    def conversations_held(self) -> int:
        """Conversations whose context is kept (the choices offered, the topic answered)."""
        return len(self._conversations)

    def forget(self, sender: str) -> None:
        """The conversation ``sender`` is over (the bot's call ended): its context goes now
        rather than when it times out. A soak of ten minutes kept about 2,300 a minute."""
        self._conversations.forget(sender)

    # --- changes (the admin API) -------------------------------------------------

    async def create(self, entry: Entry) -> None:
        """Raises: RequestError (409) when the id is taken (in any process);
        KnowledgeDataError; KnowledgeStorageError."""

        def change(files: dict[Path, DataFile]) -> dict[Path, DataFile]:
            if any(e.id == entry.id for e in _entries(files)):
                raise RequestError(
                    f"an entry with the id {entry.id!r} exists; PUT it to replace it", status=409
                )
            return store.upsert(files, self.directory, [entry])

        await self._commit(change)

    async def put(self, entries: Sequence[Entry]) -> tuple[int, int]:
        """Create or replace entries by id. Returns (created, updated).

        Raises:
            KnowledgeDataError: the result would be invalid (nothing is changed).
            KnowledgeStorageError: the files cannot be written.
        """
        updated = 0

        def change(files: dict[Path, DataFile]) -> dict[Path, DataFile]:
            nonlocal updated
            ids = {e.id for e in _entries(files)}
            updated = sum(entry.id in ids for entry in entries)
            return store.upsert(files, self.directory, entries)

        await self._commit(change)
        return len(entries) - updated, updated

    async def delete(self, entry_id: str) -> None:
        """Raises: UnknownEntryError; KnowledgeDataError when a parent still lists it;
        KnowledgeStorageError."""

        def change(files: dict[Path, DataFile]) -> dict[Path, DataFile]:
            changed = store.remove(files, entry_id)
            if not changed:
                raise UnknownEntryError(entry_id)
            return changed

        await self._commit(change)

    async def _commit(self, change: Callable[[dict[Path, DataFile]], dict[Path, DataFile]]) -> None:
        """Apply ``change`` (the data files → those it changes) to the files as they are
        on disk, validate and index the result, write it, then serve it."""
        async with self._changing:
            self._install(await asyncio.to_thread(self._write, change))

    def _write(self, change: Callable[[dict[Path, DataFile]], dict[Path, DataFile]]) -> _Loaded:
        """``_commit``'s blocking part, under the directory's exclusive lock: another
        process's change is read first, and none can come between reading and writing."""
        with store.locked(self.directory, exclusive=True):
            identity = store.identity(self.directory)
            files = self._files if identity == self._identity else store.read_directory(self.directory)
            changed = change(files)
            files = dict(sorted({**files, **changed}.items()))  # in name order, as read
            snapshot = self.base.prepare(_entries(files), store.merged_synonyms(files.values()))
            store.write_files(changed)
            # Remembered, so that the watcher does not read this change again.
            return _Loaded(store.identity(self.directory), files, snapshot)


def _entries(files: dict[Path, DataFile]) -> list[Entry]:
    return [entry for data in files.values() for entry in data.entries]
