"""A PBX that only records and logs what it is asked: for development and tests."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bot.hooks.numbers import mask
from bot.pbx.base import CallRef, Exchange, TransferTarget

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PBXRequest:
    """One request the bot made of the PBX."""

    action: str  # transfer | hangup | play
    call_id: str
    telnum: str
    argument: str | None = None  # transfer target or played voice
    at: float = field(default_factory=time.time)
    biz_data: dict[str, Any] | None = None


KEPT_REQUESTS = 1000
"""Requests ``LogPBX`` keeps, the latest: it is also what ``voicebot serve`` uses when no
PBX is configured, for as long as the process runs (a soak of ten minutes recorded about
2,000 a minute, each with its ``biz_data``: memory that grew with every call)."""


class LogPBX:
    """Records the latest ``KEPT_REQUESTS`` requests in ``requests`` and logs every one;
    the call itself is untouched."""

    def __init__(self) -> None:
        self.requests: list[PBXRequest] = []
        self._recorded = asyncio.Event()

    async def wait_for(self, count: int = 1, *, seconds: float = 30) -> list[PBXRequest]:
        """The requests, once there are ``count`` of them: a transfer or hang-up comes
        after its announcement has played, not with the callback's answer.

        Raises:
            TimeoutError: fewer came within ``seconds``.
        """
        async with asyncio.timeout(seconds):
            while len(self.requests) < count:
                self._recorded.clear()
                await self._recorded.wait()
        return self.requests

    async def transfer(
        self,
        call: CallRef,
        target: TransferTarget,
        *,
        biz_data: dict[str, Any] | None = None,
        journal: list[Exchange] | None = None,
    ) -> None:
        self._record("transfer", call, str(target), journal, biz_data)

    async def hangup(self, call: CallRef, *, journal: list[Exchange] | None = None) -> None:
        self._record("hangup", call, None, journal)

    async def play(self, call: CallRef, voice: str, *, journal: list[Exchange] | None = None) -> None:
        self._record("play", call, voice, journal)

    async def aclose(self) -> None:
        """Nothing to release."""

    def _record(
        self,
        action: str,
        call: CallRef,
        argument: str | None,
        journal: list[Exchange] | None,
        biz_data: dict[str, Any] | None = None,
    ) -> None:
        self.requests.append(PBXRequest(action, call.call_id, call.telnum, argument, biz_data=biz_data))
        if len(self.requests) > KEPT_REQUESTS:
            del self.requests[0]
        self._recorded.set()
        if journal is not None:
            request = {"argument": argument} if argument is not None else None
            journal.append(
                Exchange(action, "LOG", "log:", request, None, "logged only (VOICEBOT_PBX=log)", 0.0)
            )
        # The number starred whatever it is, a foreign one too (bot/hooks/numbers.py).
        logger.info("pbx %s call=%s telnum=%s %s", action, call.call_id, mask(call.telnum), argument or "")
