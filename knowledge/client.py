"""The knowledge service as the bot's ``knowledge`` steps ask it, in this process.

It answers what the webhook would (protocols.md §5): the JSON document of a reply.
``bot.dialog.knowledge`` reads that document into what the engine uses, the same way
it reads a remote webhook's, so both read answers alike; this module needs nothing
from the bot's dialog package, and that package nothing from here (the app wires the
two together).
"""

from __future__ import annotations

from typing import Any

from bot.errors import KnowledgeError
from knowledge.service import KnowledgeService


class InProcessKnowledge:
    """Asks a ``KnowledgeService`` of this process (``bot.dialog.knowledge.KnowledgeSource``)."""

    def __init__(self, service: KnowledgeService) -> None:
        self._service = service

    async def document(self, sender: str, message: str) -> dict[str, Any]:
        """The reply's JSON document, as the webhook would put it in ``text``.

        Raises:
            KnowledgeError: the knowledge base is not loaded.
        """
        if not self._service.ready:
            raise KnowledgeError("the knowledge base is not loaded")
        reply = await self._service.reply(sender, message)
        return reply.document()

    async def aclose(self) -> None:
        """Nothing to release: the service is its owner's to close."""
