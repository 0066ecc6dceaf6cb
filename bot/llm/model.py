"""What the uses of the language model ask, and what it answers: the one contract that
the server client, its guard and the cassette all keep."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Use = Literal["intent", "answer", "summary"]


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion to ask for.

    Attributes:
        use: What it is for (metrics, transcript, budgets).
        messages: The chat, as ``{"role": …, "content": …}`` mappings.
        schema: The JSON schema its answer must follow, or None for free text.
        max_tokens: The longest answer wanted.
        timeout_seconds: The longest the caller of this request waits, a free slot
            included.
        about: What it is about, for people reading a cassette (the caller's words).
    """

    use: Use
    messages: Sequence[Mapping[str, str]]
    schema: Mapping[str, Any] | None = None
    max_tokens: int = 256
    timeout_seconds: float = 1.0
    about: str = ""

    @property
    def key(self) -> str:
        """The request's identity in a cassette: its use, chat and schema (not its limits)."""
        canonical = json.dumps(
            [self.use, list(map(dict, self.messages)), self.schema], ensure_ascii=False, sort_keys=True
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ChatAnswer:
    """The model's answer: its text and what it cost."""

    text: str
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0


OnText = Callable[[str], None]
"""Told each piece of a streamed answer as it arrives."""


class LanguageModel(Protocol):
    """A chat model, whatever serves it."""

    name: str

    @property
    def available(self) -> bool:
        """Whether a request would be sent now (a guarded model may be cooling down)."""
        ...

    async def chat(self, request: ChatRequest, *, on_text: OnText | None = None) -> ChatAnswer:
        """The model's answer to ``request``; ``on_text`` hears a streamed answer's
        pieces as they come (a model that does not stream tells it the whole text once).

        Raises:
            LLMError: no answer in time, the server failed, or the model may not be
                asked now (cooling down, over a budget).
        """
        ...

    async def aclose(self) -> None:
        """Release the connections."""
        ...
