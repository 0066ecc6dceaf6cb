"""How many calls the bot takes at once, and what a caller beyond that hears.

A new call past ``VOICEBOT_MAX_LIVE_CALLS`` is answered, never refused: the CTI has no
retry for a failed callback (a 5xx is silence on the line), so the caller hears the
busy words, pre-rendered at start, and is hung up, or transferred to
``VOICEBOT_BUSY_TRANSFER`` when that is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import DEFAULT_BUSY_TEXT
from bot.dialog.state import Outcome, Reply
from bot.language.flow import Prompt


@dataclass(frozen=True)
class Capacity:
    """The cap on calls in progress (0: none) and the answer to a call beyond it."""

    max_live_calls: int = 0
    busy_text: str = DEFAULT_BUSY_TEXT
    busy_transfer: str | None = None  # a transfer target; None hangs up

    def full(self, live_calls: int) -> bool:
        return 0 < self.max_live_calls <= live_calls

    def busy_reply(self) -> Reply:
        """The busy words, not interruptible, then the hang-up or the transfer."""
        prompt = Prompt(text=self.busy_text, interruptible=False)
        if self.busy_transfer:
            return Reply((prompt,), action="transfer", target=self.busy_transfer)
        return Reply((prompt,), action="hangup")

    def outcome(self) -> Outcome:
        return "transferred" if self.busy_transfer else "hung_up_by_bot"
