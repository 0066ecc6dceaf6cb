"""A PBX that only records and logs what it is asked: for development and tests."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from bot.pbx.base import CallRef

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PBXRequest:
    """One request the bot made of the PBX."""

    action: str  # transfer | hangup | play
    call_id: str
    telnum: str
    argument: str | None = None  # transfer target or played voice
    at: float = field(default_factory=time.time)


class LogPBX:
    """Records every request in ``requests`` and logs it; the call itself is untouched."""

    def __init__(self) -> None:
        self.requests: list[PBXRequest] = []

    async def transfer(self, call: CallRef, target: str) -> None:
        self._record("transfer", call, target)

    async def hangup(self, call: CallRef) -> None:
        self._record("hangup", call, None)

    async def play(self, call: CallRef, voice: str) -> None:
        self._record("play", call, voice)

    def _record(self, action: str, call: CallRef, argument: str | None) -> None:
        self.requests.append(PBXRequest(action, call.call_id, call.telnum, argument))
        logger.info("pbx %s call=%s telnum=%s %s", action, call.call_id, call.telnum, argument or "")
