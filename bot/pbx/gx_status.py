"""Whether anyone can answer a GX CTI transfer target: §23 坐席状态监控
(``/bridge/jsoncfg?opt=EXTNUM_MONITOR``) and, when a limit is set, §40 来电排队监控
(``/bridge/callctrl?opt=QUEUE_INFO``). See docs/pbx.md, "Agents' availability".

§23 takes extension or group numbers (``extnums``: "传入分机号，或者分组号码") and
answers a JSON list with one object per extension. An extension can answer when it is
registered (``telRegState`` 1: 已注册), its phone is idle (``state`` ``IDEL``, the
manual's spelling: 空闲) and its agent has not set it busy or offline (``presence``
not ``busy`` 置忙 or ``offline`` 离线; ``online``, ``reducing`` 减少来电 and ``unkown``
still ring). A target can answer when one of its extensions can. An empty list (the
CTI knows no extension of that number) tells nothing: the transfer is tried.

§40 lists the callers waiting per group. With ``max_queued`` set, a target whose
queue already holds that many callers counts as busy even when an agent shows idle
(one is about to be given a waiting caller).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from bot.errors import PBXRejectedError, PBXUnavailableError
from bot.pbx.agents import ACTION
from bot.pbx.base import Exchange, TransferTarget
from bot.pbx.http import PBXHttp

JSONCFG = "/bridge/jsoncfg"
CALLCTRL = "/bridge/callctrl"
IDLE_STATES = frozenset({"IDEL", "IDLE"})  # the manual writes IDEL; a corrected firmware may not
NOT_ANSWERING_PRESENCE = frozenset({"busy", "offline"})


def extension_free(entry: dict[str, Any]) -> bool:
    """Whether one extension of a §23 answer can take a call now."""
    registered = str(entry.get("telRegState", "")).strip() == "1"
    idle = str(entry.get("state", "")).strip().upper() in IDLE_STATES
    presence = str(entry.get("presence", "")).strip().lower()
    return registered and idle and presence not in NOT_ANSWERING_PRESENCE


def waiting_callers(queues: list[dict[str, Any]], number: str) -> int:
    """Callers waiting for ``number`` in a §40 answer: its group's ``count``, or the
    callers whose ``target`` it is (an extension's own queue)."""
    waiting = 0
    for group in queues:
        if str(group.get("group")) == number:
            waiting += int(group.get("count") or len(group.get("queue") or ()))
        else:
            waiting += sum(
                str(c.get("target")) == number for c in group.get("queue") or () if isinstance(c, dict)
            )
    return waiting


class GXAgentStatus:
    """GX CTI agent status for ``bot.pbx.agents.CachedAgentStatus``.

    Args:
        http: Its own client, bounded by the status budget, no retries.
        max_queued: Callers waiting in the target's queue that make it busy (§40);
            None: the queue is not asked.
        today: The CTI's date, for §23's ``starttime`` (statistics are not asked).
    """

    vendor = "gx"

    def __init__(
        self,
        http: PBXHttp,
        *,
        max_queued: int | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self._http = http
        self._max_queued = max_queued
        self._today = today
        # §23: "随机填生成一个全局唯一的值，后续的刷新请求请保证 assisLogId 值不要变".
        self._log_id = f"voicebot-{uuid.uuid4().hex[:12]}"

    async def free(self, target: TransferTarget, journal: list[Exchange]) -> bool | None:
        if self._max_queued is None:
            return await self._monitor(target.number, journal)
        free, waiting = await asyncio.gather(
            self._monitor(target.number, journal), self._waiting(target.number, journal)
        )
        return False if waiting >= self._max_queued else free

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _monitor(self, number: str, journal: list[Exchange]) -> bool | None:
        query = {
            "starttime": f"{self._today().isoformat()} 00:00:00",
            "assisLogId": self._log_id,
            "avoidCallPerform": 1,  # 不统计（高性能）
            "extnums": [number],
        }
        params = {"opt": "EXTNUM_MONITOR", "json": json.dumps(query, separators=(",", ":"))}
        entries = await self._list(JSONCFG, params, journal)
        extensions = [e for e in entries if isinstance(e, dict)]
        if not extensions:
            return None
        return any(extension_free(e) for e in extensions)

    async def _waiting(self, number: str, journal: list[Exchange]) -> int:
        groups = await self._list(CALLCTRL, {"opt": "QUEUE_INFO"}, journal)
        return waiting_callers([g for g in groups if isinstance(g, dict)], number)

    async def _list(self, path: str, params: dict[str, str], journal: list[Exchange]) -> list[Any]:
        response = await self._http.send(ACTION, "GET", path, params=params, idempotent=True, journal=journal)
        opt = params["opt"]
        if response.status_code != 200:
            error = PBXUnavailableError if response.status_code >= 500 else PBXRejectedError
            body = response.text.strip()[:200]
            raise error(
                f"GX CTI {opt} answered {response.status_code}: {body}", code=str(response.status_code)
            )
        try:
            answer = response.json()
        except ValueError as exc:
            raise PBXRejectedError(f"GX CTI {opt}: not JSON: {response.text[:200]}") from exc
        if not isinstance(answer, list):
            raise PBXRejectedError(f"GX CTI {opt}: not the manual's JSON list: {response.text[:200]}")
        return answer
