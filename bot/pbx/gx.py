"""GX CTI call control (``/bridge/callctrl``, protocols.md §6; GX manual §10, §12, §3,
§26, §52.5).

Every action is one GET whose answer is an HTTP status: 200 is done, anything else is
the CTI's refusal (404 no such extension or call, 480 offline, 481 nothing to
transfer, 483 ambiguous, 486 busy) or failure (5xx).

The manual names no "robot call" number for the call-control requests, which find
the call by a party's number. ``extnum`` (a template: ``{telnum}``, ``{callid}`` or a
fixed number) says which number stands for the call in ``CLICK_TO_TRANSFER`` and
``FORCE_HUNGUP``; the default, the customer's number, is the one number unique to the
call among the CTI's live calls (and on an outbound call it is the manual's own
"被叫分机号码"). Where a request names both ends of the call (``CLICK_TO_HUNGUP``, §3:
caller 主叫, callee 被叫; ``TALKING_CALLER_TO_IVR``, §12), they follow the call's
direction: inbound, the customer called the number robot calls come in on,
``access_number`` (1000, as the robot hang-up push of §41 shows it); outbound, the
robot called the customer from ``outbound_caller``. How the robot hangs up is
configurable: ``click`` (``CLICK_TO_HUNGUP``: hangs up the call between two numbers,
ringing or answered), ``force`` (``FORCE_HUNGUP``, §26: a supervisor extension tears
the call down) or ``none`` (no request: the CTI ends the call itself after the last
prompt). See docs/pbx.md.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal
from urllib.parse import quote

from bot.errors import ConfigError, PBXRejectedError, PBXUnavailableError
from bot.pbx.base import CallRef, Exchange, TransferTarget
from bot.pbx.http import PBXHttp

logger = logging.getLogger(__name__)

CALLCTRL = "/bridge/callctrl"
BIZ_DATA_MAX_CHARS = 1500  # the manual's limit, on the URL-encoded JSON
HangupMode = Literal["click", "force", "none"]

# The manual's words for each status, by action.
_STATUS_MEANING = {
    400: "参数错误 (bad parameters)",
    403: "主管分机权限不足 (the supervisor extension lacks the right)",
    404: "目标不存在 / 没有找到通话 (no such target or call)",
    480: "目标分机不在线 (target offline)",
    481: "不存在可以转移的通话 (no call to transfer on that number)",
    483: "找到多个通话 (several calls match; refused)",
    486: "目标分机忙 (target busy)",
    500: "系统错误 (CTI system error)",
    503: "系统资源不足 (CTI out of resources)",
}


class GXPBX:
    """The GX CTI as the bot's PBX."""

    def __init__(
        self,
        http: PBXHttp,
        *,
        extnum: str = "{telnum}",
        access_number: str = "1000",
        outbound_extnum: str = "{telnum}",
        outbound_caller: str | None = None,
        hangup: HangupMode = "click",
        leader_extnum: str | None = None,
        queue_priority: int | None = None,
    ) -> None:
        if hangup == "force" and not leader_extnum:
            raise ConfigError(
                "VOICEBOT_GX_HANGUP=force needs VOICEBOT_GX_LEADER_EXTNUM (a supervisor extension)"
            )
        self._http = http
        self._extnum = extnum
        self._access_number = access_number
        self._outbound_extnum = outbound_extnum
        self._outbound_caller = outbound_caller or access_number
        self._hangup = hangup
        self._leader = leader_extnum
        self._queue_priority = queue_priority

    def extnum(self, call: CallRef) -> str:
        """The number standing for the call where the manual wants an extension."""
        template = self._outbound_extnum if call.direction == "outbound" else self._extnum
        return template.format(telnum=call.telnum, callid=call.call_id)

    def ends(self, call: CallRef) -> dict[str, str]:
        """The call's two ends as §3 and §12 name them: ``caller`` (主叫) and ``callee`` (被叫)."""
        if call.direction == "outbound":
            return {"caller": self._outbound_caller, "callee": call.telnum}
        return {"caller": call.telnum, "callee": self._access_number}

    async def play(self, call: CallRef, voice: str, *, journal: list[Exchange] | None = None) -> None:
        await self._callctrl(
            "play", {"callid": call.call_id, "voiceurl": voice, "opt": "PLAY_VOICE"}, call, journal
        )

    async def transfer(
        self,
        call: CallRef,
        target: TransferTarget,
        *,
        biz_data: dict[str, Any] | None = None,
        journal: list[Exchange] | None = None,
    ) -> None:
        params: dict[str, str]
        if target.kind == "ivr":
            params = {**self.ends(call), "ivrid": target.number}
            if self._queue_priority is not None:
                params["queue_priority"] = str(self._queue_priority)
            params["opt"] = "TALKING_CALLER_TO_IVR"
        else:  # an agent, extension or group; a queue is a group number to the CTI
            params = {"extnum": self.extnum(call), "target": target.number, "opt": "CLICK_TO_TRANSFER"}
        if biz_data:
            params["biz_data"] = fit_biz_data(biz_data)
        await self._callctrl("transfer", params, call, journal)

    async def hangup(self, call: CallRef, *, journal: list[Exchange] | None = None) -> None:
        if self._hangup == "none":
            logger.info("call %s: no hang-up request (VOICEBOT_GX_HANGUP=none)", call.call_id)
            return
        if self._hangup == "force":
            assert self._leader is not None
            params = {"leaderExtnum": self._leader, "wokerExtnum": self.extnum(call), "opt": "FORCE_HUNGUP"}
        else:
            params = {**self.ends(call), "opt": "CLICK_TO_HUNGUP"}
        await self._callctrl("hangup", params, call, journal, idempotent=True)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _callctrl(
        self,
        action: str,
        params: dict[str, str],
        call: CallRef,
        journal: list[Exchange] | None,
        *,
        idempotent: bool = False,
    ) -> None:
        response = await self._http.send(
            action, "GET", CALLCTRL, params=params, idempotent=idempotent, journal=journal
        )
        status = response.status_code
        if status == 200:
            return
        meaning = _STATUS_MEANING.get(status, "unexpected answer")
        body = response.text.strip()[:200]
        message = f"GX CTI {params['opt']} answered {status}: {meaning}" + (f" — {body}" if body else "")
        error = PBXUnavailableError if status >= 500 else PBXRejectedError
        raise error(message, call_id=call.call_id, code=str(status), vendor_message=body or meaning)


def fit_biz_data(data: dict[str, Any]) -> str:
    """``data`` as ``biz_data``: URL-encoded JSON within the manual's 1,500 characters.

    The manual's value is URL-encoded JSON that the CTI forwards without decoding
    (§10), so the parameter's value is the encoded JSON (and the query string encodes
    it once more, like any value). Too long, the ``summary`` is shortened first, then
    the slots are dropped one by one from the last; what remains always fits (the call
    id and the agent page's link, ``agent_url``, are kept to the last).
    """
    data = dict(data)

    def encoded(value: dict[str, Any]) -> str:
        return quote(json.dumps(value, ensure_ascii=False, separators=(",", ":")), safe="")

    while len(encoded(data)) > BIZ_DATA_MAX_CHARS:
        summary = str(data.get("summary") or "")
        slots = dict(data.get("slots") or {})
        if len(summary) > 20:
            data["summary"] = summary[: len(summary) * 2 // 3] + "…"
        elif slots:
            slots.popitem()
            data["slots"] = slots
            data["truncated"] = True
        else:
            data = {k: data[k] for k in ("callid", "agent_url", "telnum", "grade") if k in data}
            data["truncated"] = True
            break
    return encoded(data)
