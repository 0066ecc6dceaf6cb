"""What the service remembers about one call between callbacks, and what it answers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from bot.dialog.flow import Prompt

Outcome = Literal["in_progress", "transferred", "hung_up_by_bot", "hung_up_by_caller"]
Action = Literal["transfer", "hangup"]


@dataclass(frozen=True)
class Reply:
    """What the bot says in answer to one callback, and what it does afterwards."""

    prompts: tuple[Prompt, ...]
    action: Action | None = None
    target: str | None = None  # transfer target (extension, queue, group)

    @property
    def interruptible(self) -> bool:
        # One non-interruptible part (a transfer notice) protects the whole reply; a
        # reply with nothing to say (a silent pause before acting) is not worth cutting.
        return bool(self.prompts) and all(p.interruptible for p in self.prompts)

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.prompts)


@dataclass
class CallState:
    """The conversation state of one call (one CTI ``callid``).

    Every field holds an immutable value, so ``copy.copy`` gives an independent
    state for a turn to work on.
    """

    call_id: str
    telnum: str
    flow: str
    flow_version: str
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    step: str | None = None  # the asking step waiting for the caller
    greeted: bool = False
    silence_count: int = 0
    no_match_count: int = 0
    last_reply: Reply | None = None
    outcome: Outcome = "in_progress"
    end_reason: str | None = None
    ended_at: float | None = None
    turns: int = 0

    @property
    def ended(self) -> bool:
        return self.outcome != "in_progress"

    def end(self, outcome: Outcome, reason: str) -> None:
        """Close the call once; a later end (a ``hungup`` after a transfer) keeps the first."""
        if self.ended:
            return
        self.outcome, self.end_reason, self.ended_at = outcome, reason, time.time()
