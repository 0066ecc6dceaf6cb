"""The agent page's link in ``biz_data``, and the handover registered once the PBX took it.

``HandoverPBX`` wraps the configured PBX for the CTI's calls (test calls never reach it:
``bot.pbx.split``). A transfer's ``biz_data`` gets ``agent_url`` right after ``callid``,
before the summary and slots that ``bot.pbx.gx.fit_biz_data`` shortens or drops, and
which it keeps when it drops everything else. A transfer the PBX accepted is
registered, so that the CTI's live lines of the agent's call find the robot call.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.agentscreen.screen import AgentScreen
from bot.pbx.base import PBX, CallRef, Exchange, TransferTarget

logger = logging.getLogger(__name__)

LINK_FIELD = "agent_url"


def with_link(biz_data: dict[str, Any], url: str) -> dict[str, Any]:
    """``biz_data`` with the link second, after ``callid``."""
    first = {"callid": biz_data["callid"]} if "callid" in biz_data else {}
    return {**first, LINK_FIELD: url, **biz_data}


class HandoverPBX:
    """``pbx``, with the agent page's link in every transfer's ``biz_data``."""

    def __init__(self, pbx: PBX, screen: AgentScreen) -> None:
        self.pbx = pbx
        self.screen = screen

    async def transfer(
        self,
        call: CallRef,
        target: TransferTarget,
        *,
        biz_data: dict[str, Any] | None = None,
        journal: list[Exchange] | None = None,
    ) -> None:
        if biz_data is not None and (url := self.screen.links.url(call.call_id)) is not None:
            biz_data = with_link(biz_data, url)
        await self.pbx.transfer(call, target, biz_data=biz_data, journal=journal)
        try:
            await self.screen.handed_over(call.call_id, call.telnum)
        except Exception:  # the transfer is done; only its live lines will find no call
            logger.exception("call %s: registering the handover for live lines failed", call.call_id)

    async def hangup(self, call: CallRef, *, journal: list[Exchange] | None = None) -> None:
        await self.pbx.hangup(call, journal=journal)

    async def play(self, call: CallRef, voice: str, *, journal: list[Exchange] | None = None) -> None:
        await self.pbx.play(call, voice, journal=journal)

    async def aclose(self) -> None:
        """The wrapped PBX is closed by its owner (the app)."""
