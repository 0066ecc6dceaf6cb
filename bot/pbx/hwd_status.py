"""Whether anyone can answer an HWD PBX transfer target: §2.2.3 获取座席状态
(``GET /api/v1/agent/getAgentStatus``) for an extension, §2.3.2 队列状态
(``GET /api/v1/status/queue``) for ``queue:N``. See docs/pbx.md, "Agents' availability".

An agent can answer when its ``status`` is 0, 就绪 (ready): not -1 未登录, 1 通话中,
2 振铃, 3 整理, 4/5 暂休, 6 外拨工作, 7 代接电话, 8/9 超时 or 10 忙于其他队列. §2.2.3
writes the status as a number in a string (``"0"``), §2.3.2's example as its name
(``"就绪"``): both are read. A target can answer when one of its agents can; an answer
without agents (an unknown extension or queue) tells nothing, and the transfer is tried.

§2.2.3 lists its parameters under "请求 Body 参数" of a GET; they are sent as the query,
as §2.3's status requests send theirs (a GET's body is dropped on the way by many
proxies), and the manual's answer is the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.errors import PBXRejectedError
from bot.pbx.agents import ACTION
from bot.pbx.base import Exchange, TransferTarget
from bot.pbx.hwd_api import HWDApi

AGENT_STATUS = "/api/v1/agent/getAgentStatus"
QUEUE_STATUS = "/api/v1/status/queue"
READY = frozenset({"0", "就绪"})


def agent_ready(agent: dict[str, Any]) -> bool:
    return str(agent.get("status", "")).strip() in READY


def agents_of_status(data: Any) -> Iterator[dict[str, Any]]:
    """The agents of a §2.2.3 ``data``: ``{queue: {extension: agent}}``."""
    if not isinstance(data, dict):
        return
    for extensions in data.values():
        if isinstance(extensions, dict):
            yield from (a for a in extensions.values() if isinstance(a, dict))


class HWDAgentStatus:
    """HWD PBX agent status for ``bot.pbx.agents.CachedAgentStatus``."""

    vendor = "hwd"

    def __init__(self, api: HWDApi) -> None:
        self._api = api

    async def free(self, target: TransferTarget, journal: list[Exchange]) -> bool | None:
        if target.kind == "queue":
            data = await self._api.get(ACTION, QUEUE_STATUS, {"queue_num": target.number}, journal=journal)
            if not isinstance(data, list):
                raise PBXRejectedError(f"HWD PBX queue status: data is not the manual's list: {data!r:.200}")
            agents = [a for a in data if isinstance(a, dict)]
        else:
            data = await self._api.get(ACTION, AGENT_STATUS, {"extension": target.number}, journal=journal)
            agents = [
                a for a in agents_of_status(data) if str(a.get("extension", target.number)) == target.number
            ]
        if not agents:
            return None
        return any(agent_ready(a) for a in agents)

    async def aclose(self) -> None:
        """The shared ``HWDApi`` is closed by its owner."""
