"""HWD PBX call control over its REST API (protocols.md §7; HWD manual §2.1.2, §2.1.4).

Transfers: to an agent or extension a blind transfer; to a queue the ``app``
transfer to ``ext-queues,<queue>,1``; to an IVR the ``app`` transfer to
``<ivr>,s,1``. ``extension`` (a template: ``{telnum}``, ``{callid}`` or a fixed
number) names the leg that performs the transfer and is hung up; the manual's
hang-up accepts an extension or an outside number, so the customer's number is the
default (see docs/pbx.md). The REST API has no way to push audio into a call: late
answers go out with the next callback instead, and ``biz_data`` is not carried.
"""

from __future__ import annotations

from typing import Any

from bot.errors import PBXRejectedError
from bot.pbx.base import CallRef, Exchange, TransferTarget
from bot.pbx.hwd_api import HWDApi


class HWDPBX:
    """The HWD PBX as the bot's PBX."""

    def __init__(self, api: HWDApi, *, extension: str = "{telnum}") -> None:
        self._api = api
        self._extension = extension

    def extension(self, call: CallRef) -> str:
        return self._extension.format(telnum=call.telnum, callid=call.call_id)

    async def transfer(
        self,
        call: CallRef,
        target: TransferTarget,
        *,
        biz_data: dict[str, Any] | None = None,
        journal: list[Exchange] | None = None,
    ) -> None:
        if target.kind == "queue":
            body = {"type": "app", "dest": f"ext-queues,{target.number},1"}
        elif target.kind == "ivr":
            dest = target.number if "," in target.number else f"{target.number},s,1"
            body = {"type": "app", "dest": dest}
        else:
            body = {"type": "blind", "dest": target.number}
        body["extension"] = self.extension(call)
        await self._api.post("transfer", "/api/v1/call/transfer", body, idempotent=False, journal=journal)

    async def hangup(self, call: CallRef, *, journal: list[Exchange] | None = None) -> None:
        body = {"extension": self.extension(call)}
        await self._api.post("hangup", "/api/v1/call/hangup", body, idempotent=True, journal=journal)

    async def play(self, call: CallRef, voice: str, *, journal: list[Exchange] | None = None) -> None:
        raise PBXRejectedError("the HWD PBX API cannot push audio into a call", call_id=call.call_id)

    async def aclose(self) -> None:
        """The shared ``HWDApi`` is closed by its owner."""
