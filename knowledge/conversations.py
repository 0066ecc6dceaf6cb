"""What each conversation with the knowledge base has been told, for its next message:
the choices a clarification offered, and the topic last answered.

Kept in this process, the least recently used first, for ``seconds`` after a
conversation's last message and at most ``cap`` of them; the bot lets a call's
conversation go when the call ends (``forget``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class Context:
    """What one sender's conversation has been told."""

    choices: tuple[str, ...] = ()  # ids offered by the last clarification
    asked: str = ""  # the message that clarification answered
    last_entry: str | None = None  # the topic last answered
    at: float = field(default_factory=time.monotonic)


class Conversations:
    """The contexts of the conversations, by sender."""

    def __init__(self, *, seconds: float, cap: int) -> None:
        self._seconds = seconds
        self._cap = cap
        self._by_sender: OrderedDict[str, Context] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_sender)

    def context(self, sender: str) -> Context:
        """The conversation of ``sender``, a new one if it had none or it had timed out;
        those past their time (not only this one: a call center's senders seldom come
        back) and any over the cap go."""
        now = time.monotonic()
        context = self._by_sender.pop(sender, None)
        if context is None or now - context.at > self._seconds:
            context = Context()
        context.at = now
        self._by_sender[sender] = context  # the most recently used last
        while len(self._by_sender) > self._cap or now - self._least_recent().at > self._seconds:
            self._by_sender.popitem(last=False)
        return context

    def _least_recent(self) -> Context:
        return next(iter(self._by_sender.values()))

    def forget(self, sender: str) -> None:
        """The conversation of ``sender`` is over: its context goes now."""
        self._by_sender.pop(sender, None)
