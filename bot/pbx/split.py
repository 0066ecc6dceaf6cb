"""Test calls never reach the PBX: their transfers, hang-ups and plays are recorded only.

A call placed from the console (``bot/console/trycall.py``) runs through the same turn
path as the CTI's, so its announced transfer is carried out by the same ``Actions``, at
the same time, also when it is taken over after a restart from the stored state. The
only difference is here: ``SplitPBX`` sends the actions of a call whose ``CallRef`` is
marked ``test`` to nothing but the call's transcript (an exchange that says so), and
every other call's to the configured PBX. For the CTI's calls that costs one bool check
per action.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.pbx.base import PBX, CallRef, Exchange, TransferTarget

logger = logging.getLogger(__name__)

RECORDED_ONLY = "recorded only: a test call from the console never reaches the PBX"


class SplitPBX:
    """``pbx`` for the CTI's calls; a recording for test calls."""

    def __init__(self, pbx: PBX) -> None:
        self.pbx = pbx

    async def transfer(
        self,
        call: CallRef,
        target: TransferTarget,
        *,
        biz_data: dict[str, Any] | None = None,
        journal: list[Exchange] | None = None,
    ) -> None:
        if call.test:
            _record("transfer", call, str(target), journal)
            return
        await self.pbx.transfer(call, target, biz_data=biz_data, journal=journal)

    async def hangup(self, call: CallRef, *, journal: list[Exchange] | None = None) -> None:
        if call.test:
            _record("hangup", call, None, journal)
            return
        await self.pbx.hangup(call, journal=journal)

    async def play(self, call: CallRef, voice: str, *, journal: list[Exchange] | None = None) -> None:
        if call.test:
            _record("play", call, voice, journal)
            return
        await self.pbx.play(call, voice, journal=journal)

    async def aclose(self) -> None:
        """The wrapped PBX is closed by its owner (the app)."""


def _record(action: str, call: CallRef, argument: str | None, journal: list[Exchange] | None) -> None:
    if journal is not None:
        request = {"argument": argument} if argument is not None else None
        journal.append(Exchange(action, "TEST", "test:", request, None, RECORDED_ONLY, 0.0))
    logger.info("call %s: test call, %s recorded only", call.call_id, action)
