"""How a flow's ``knowledge`` step asks the knowledge service (protocols.md §5).

``HttpKnowledgeClient`` speaks the Rasa REST webhook to any server that answers it:
ours (``voicebot kb serve``), or a real Rasa. ``LocalKnowledgeClient`` asks a
``KnowledgeSource`` in this process (``knowledge.client.InProcessKnowledge``, given
by the app) for the same JSON document, so both read answers the same way. Either
raises ``KnowledgeError`` when there is no usable answer in time: the flow then takes
its ``on_error`` step. Nothing here imports the knowledge package: the wire document
is the whole contract.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol

import httpx

from bot.config import Settings
from bot.errors import KnowledgeError

_CHOICE = re.compile(r"\[([^\[\]]+)\]")


class ReplyType(IntEnum):
    """The ``type`` of protocols.md §5, as read (``knowledge.replies.ReplyType`` writes
    it; tests/knowledge/test_client.py holds the two equal)."""

    ANSWER = 0
    CLARIFY = 1
    FAQ = 32


@dataclass(frozen=True)
class RelatedEntry:
    """An entry a "not found" names as close to the question (our extension, ``related``):
    what the language model may word an answer from (``bot.llm.answers``)."""

    id: str
    title: str
    answer: str
    keywords: tuple[str, ...] = ()

    @classmethod
    def read(cls, value: Any) -> RelatedEntry | None:
        """One item of ``related``; None when it is not an entry (it is then ignored)."""
        if not isinstance(value, dict):
            return None
        entry_id, title, answer = (value.get(k) for k in ("id", "title", "answer"))
        keywords = value.get("keywords") or []
        texts = (entry_id, title, answer)
        if not all(isinstance(t, str) and t for t in texts) or not isinstance(keywords, list):
            return None
        return cls(str(entry_id), str(title), str(answer), tuple(str(k) for k in keywords))


@dataclass(frozen=True)
class KnowledgeAnswer:
    """One reply of the knowledge service.

    Attributes:
        type: 0 answer, 1 clarification (or "please rephrase"), 32 FAQ answer.
        text: The ``clarify`` field as sent, brackets and all.
        title: The entry answered, when the service says (our extension).
        found: False when the service found nothing (our extension; a plain Rasa
            server's clarification without choices counts as not found too).
        related: Of a "not found", the entries that came closest (our extension).
    """

    type: int
    text: str
    title: str | None = None
    found: bool = True
    related: tuple[RelatedEntry, ...] = ()

    @property
    def answered(self) -> bool:
        return self.type in (ReplyType.ANSWER, ReplyType.FAQ)

    @property
    def choices(self) -> list[str]:
        return _CHOICE.findall(self.text)

    @property
    def spoken(self) -> str:
        """What the caller hears: ``[A],[B]还是[C]`` as ``A、B还是C`` (no brackets or braces)."""
        return _CHOICE.sub(r"\1", re.sub(r"\],\s*\[", "]、[", self.text)).replace("{", "").replace("}", "")

    @classmethod
    def from_document(cls, document: Any) -> KnowledgeAnswer:
        """Read the JSON document of a reply's ``text``.

        Raises:
            KnowledgeError: the document is not ``{"type": 0|1|32, "clarify": "…"}``.
        """
        if not isinstance(document, dict):
            raise KnowledgeError(f"expected a JSON object in the reply's text, got {document!r:.80}")
        kind, text = document.get("type"), document.get("clarify")
        if kind not in tuple(ReplyType) or not isinstance(text, str) or not text.strip():
            raise KnowledgeError(f'expected "type" 0, 1 or 32 and a "clarify" text, got {document!r:.120}')
        title = document.get("title") if isinstance(document.get("title"), str) else None
        found = document.get("found", True) is not False
        if kind == ReplyType.CLARIFY and not _CHOICE.search(text):
            found = False
        listed = document.get("related") if not found else None
        related = tuple(
            entry for entry in map(RelatedEntry.read, listed if isinstance(listed, list) else ()) if entry
        )
        return cls(kind, text, title, found, related)


class KnowledgeClient(Protocol):
    """What a ``knowledge`` step asks."""

    async def ask(self, sender: str, message: str) -> KnowledgeAnswer:
        """Send ``message`` in the conversation ``sender``. Raises: KnowledgeError."""
        ...

    async def aclose(self) -> None:
        """Release what the client holds (its connections)."""
        ...


def sender_of(call_id: str, telnum: str) -> str:
    """``<call id>userId<customer number>``, as protocols.md §5 names a conversation."""
    return f"{call_id}userId{telnum}"


class KnowledgeSource(Protocol):
    """A knowledge service in this process: answers with the JSON document of a reply."""

    async def document(self, sender: str, message: str) -> Any:
        """The document the webhook would put in ``text``. Raises: KnowledgeError."""
        ...

    async def aclose(self) -> None:
        """Release what the source holds."""
        ...


class LocalKnowledgeClient:
    """Asks a knowledge source in this process, within ``timeout_seconds``."""

    def __init__(self, source: KnowledgeSource, *, timeout_seconds: float) -> None:
        self._source = source
        self._timeout_seconds = timeout_seconds

    async def ask(self, sender: str, message: str) -> KnowledgeAnswer:
        try:
            async with asyncio.timeout(self._timeout_seconds):
                document = await self._source.document(sender, message)
        except TimeoutError as exc:
            raise KnowledgeError(f"no knowledge answer within {self._timeout_seconds} s") from exc
        return KnowledgeAnswer.from_document(document)

    async def aclose(self) -> None:
        await self._source.aclose()


class HttpKnowledgeClient:
    """Asks a knowledge webhook over HTTP; one connection pool for every call.

    Args:
        url: The webhook, e.g. ``http://10.0.0.7:5005/webhooks/rest/webhook``.
        timeout_seconds: The whole request, connecting included. Asking is not
            retried: a second try would not fit the caller's patience.
        client: An httpx client to use (its owner closes it); else one of its own.
    """

    def __init__(self, url: str, *, timeout_seconds: float, client: httpx.AsyncClient | None = None) -> None:
        self._url = url
        self._timeout_seconds = timeout_seconds
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds), follow_redirects=False
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def ask(self, sender: str, message: str) -> KnowledgeAnswer:
        try:
            async with asyncio.timeout(self._timeout_seconds):  # httpx's timeouts are per phase
                response = await self._client.post(self._url, json={"sender": sender, "message": message})
        except TimeoutError as exc:
            raise KnowledgeError(
                f"knowledge service {self._url}: no answer in {self._timeout_seconds} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise KnowledgeError(f"knowledge service {self._url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise KnowledgeError(f"knowledge service {self._url}: HTTP {response.status_code}")
        try:
            messages = response.json()
        except ValueError as exc:
            raise KnowledgeError(f"knowledge service {self._url}: the body is not JSON") from exc
        return _first_answer(messages)


def _first_answer(messages: Any) -> KnowledgeAnswer:
    """The reply of a Rasa REST channel: a list of ``{"recipient_id", "text"}``; an empty
    list (a Rasa bot that said nothing) is "not found"."""
    if not isinstance(messages, list):
        raise KnowledgeError(f"expected a JSON list of messages, got {messages!r:.80}")
    texts = [m["text"] for m in messages if isinstance(m, dict) and isinstance(m.get("text"), str)]
    if not texts:
        return KnowledgeAnswer(ReplyType.CLARIFY, "抱歉，没有找到您问的内容。", found=False)
    try:
        document = json.loads(texts[0])
    except ValueError:
        # A plain Rasa bot answers in words, not in a JSON document: take them as the answer.
        return KnowledgeAnswer(ReplyType.ANSWER, " ".join(texts))
    return KnowledgeAnswer.from_document(document)


def knowledge_client(settings: Settings, local: KnowledgeSource) -> KnowledgeClient:
    """What ``knowledge`` steps ask: ``VOICEBOT_KB_URL``, else ``local``.

    Args:
        settings: ``kb_url`` and ``kb_timeout_ms``.
        local: The knowledge service of this process
            (``knowledge.client.InProcessKnowledge``); unused when ``kb_url`` is set.
    """
    timeout_seconds = settings.kb_timeout_ms / 1000
    if settings.kb_url is not None:
        return HttpKnowledgeClient(str(settings.kb_url), timeout_seconds=timeout_seconds)
    return LocalKnowledgeClient(local, timeout_seconds=timeout_seconds)
