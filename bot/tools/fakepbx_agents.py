"""The fake PBX's agents: who sits at which extension, in which group (GX) or queue
(HWD), and whether they can take a call; and the callers waiting per group (GX §40).

Both vendors' status answers are drawn from this one roster (``fakepbx_gx_status``:
GX manual §23 and §40; ``fakepbx_hwd``: HWD manual §2.2.3 and §2.3.2), and
``/control/agents`` changes it (docs/tools.md). Each state is what the manuals show
for it:

========  ==============================================  =====================
state     GX §23 (telRegState, state, presence)           HWD status
========  ==============================================  =====================
free      1, ``IDEL``, ``online``                         0 就绪
busy      1, ``BUSY_INCOMING``, ``online`` (on a call)    1 通话中
away      1, ``IDEL``, ``busy`` (置忙)                     4 私事暂休
offline   0, ``OFFLINE``, ``offline``                     -1 未登录
========  ==============================================  =====================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

STATES = ("free", "busy", "away", "offline")
_GX = {
    "free": (1, "IDEL", "online"),  # the manual's spelling of idle
    "busy": (1, "BUSY_INCOMING", "online"),
    "away": (1, "IDEL", "busy"),
    "offline": (0, "OFFLINE", "offline"),
}
_HWD = {"free": ("0", "就绪", "Ready"), "busy": ("1", "通话中", "InUse"), "away": ("4", "私事暂休", "Paused")}
_HWD_OFFLINE = ("-1", "未登录", "Unavailable")
_HWD_DEVICE = {"free": "空闲", "busy": "通话中", "away": "空闲", "offline": "离线"}


@dataclass
class Agent:
    """One agent at one extension."""

    extension: str
    group: str  # the GX group, the HWD queue
    agentid: str
    name: str
    state: str = "free"

    def gx(self) -> dict[str, Any]:
        """This extension in a §23 answer, with the manual's example's fields."""
        registered, state, presence = _GX[self.state]
        entry: dict[str, Any] = {
            "assisname": self.name,
            "extnumname": f"分机{self.extension}",
            "worknum": self.agentid,
            "extnum": self.extension,
            "department": self.group,
            "telRegState": registered,
            "phoneType": "NewRock_NRP1000_2.3.1654.528",
        }
        if self.state == "busy":  # "可选，没有通话时该字段不存在"
            entry |= {"remoteNum": "15875566080", "pickupTime": "17:49:00", "pickupDuration": "8"}
        return entry | {
            "state": state,
            "presence": presence,
            "presencereason": "",
            "missingCallCount": 0,
            "outgoingCallCount": 0,
            "incomingCallCount": 0,
            "incomingMissedCount": 0,
            "complaintCount": 0,
            "total": 0,
        }

    def hwd(self) -> dict[str, Any]:
        """This agent in a §2.2.3 answer: the status as a number in a string."""
        status, _, description = _HWD.get(self.state, _HWD_OFFLINE)
        return self._hwd_common() | {
            "dsStatus": "5",
            "status": status,
            "statusDesc": description,
            "statusDuration": "00:04:34",
            "callsCurrent": "1" if self.state == "busy" else "0",
            "callsTotal": "274",
            "login": "274",
        }

    def hwd_queue(self) -> dict[str, Any]:
        """This agent in a §2.3.2 answer: the status as its name, as the manual's example."""
        _, name, _ = _HWD.get(self.state, _HWD_OFFLINE)
        device = _HWD_DEVICE[self.state]
        return self._hwd_common() | {
            "dsStatus": device,
            "status": name,
            "statusDesc": f"{name}(00:10:36)",
            "statusDuration": "00:10:36",
            "callsCurrent": "1" if self.state == "busy" else "0",
            "callsTotal": "636",
            "login": "636",
            "dsStatusDesc": f"{device}(00:10:36)",
            "sampleTime": None,
        }

    def _hwd_common(self) -> dict[str, Any]:
        return {
            "agentid": self.agentid,
            "interfaceType": "PJSIP",
            "extension": self.extension,
            "queue": self.group,
            "penalty": "1",
            "current": "15875566080" if self.state == "busy" else "",
            "linkedid": "",
            "dsStatusDuration": "00:04:34",
            "direction": "0",
        }


DEFAULT_AGENTS = (Agent("8001", "200", "1011", "小张"), Agent("8002", "200", "1012", "小李"))


class Roster:
    """The agents by extension, and the callers waiting per group (§40)."""

    def __init__(self) -> None:
        self.agents: dict[str, Agent] = {}
        self.queued: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        """The default agents (8001 and 8002 in group/queue 200), all free; nobody waiting."""
        self.agents = {a.extension: dataclasses.replace(a) for a in DEFAULT_AGENTS}
        self.queued = {}

    def of(self, numbers: list[str] | None) -> list[Agent]:
        """The agents at these extensions or in these groups; every agent for None."""
        if numbers is None:
            return list(self.agents.values())
        return [a for a in self.agents.values() if a.extension in numbers or a.group in numbers]

    def in_queue(self, queue: str) -> list[Agent]:
        return [a for a in self.agents.values() if a.group == queue]

    def set(self, extension: str, state: str, group: str | None = None) -> None:
        """An agent's state (a new extension joins ``group``, default 200)."""
        agent = self.agents.get(extension)
        if agent is None:
            number = 1000 + len(self.agents) + 1
            agent = self.agents[extension] = Agent(extension, group or "200", str(number), f"坐席{extension}")
        agent.state = state
        if group is not None:
            agent.group = group

    def queue_info(self) -> list[dict[str, Any]]:
        """The §40 answer: ``[]`` when nobody waits, else the callers per group."""
        return [
            {
                "group": group,
                "count": count,
                "queue": [
                    {
                        "caller": f"1587556{6080 + i:04d}",
                        "viplevel": 0,
                        "waitingtime": 41 - i,
                        "target": group,
                    }
                    for i in range(count)
                ],
            }
            for group, count in self.queued.items()
            if count > 0
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "agents": [
                {"extension": a.extension, "group": a.group, "agentid": a.agentid, "state": a.state}
                for a in self.agents.values()
            ],
            "queued": dict(self.queued),
        }
