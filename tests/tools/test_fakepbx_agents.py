"""The fake PBX's agents in-process: GX §23 and §40, HWD §2.2.3 and §2.3.2 in the
manuals' formats, ``/control/agents``, and their failures on demand (docs/tools.md)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from quart.typing import TestClientProtocol as Client

from tests.tools.test_fakepbx import HWD, MANUAL_HEADERS, pbx, token_pair  # noqa: F401 (pbx: a fixture)

MONITOR = {"starttime": "2008-06-02 00:00:00", "assisLogId": "logind001", "avoidCallPerform": 1}


async def monitor(client: Client, **query: Any) -> tuple[int, Any]:
    encoded = quote(json.dumps({**MONITOR, **query}), safe="")
    response = await client.get(f"/bridge/jsoncfg?opt=EXTNUM_MONITOR&json={encoded}")
    if response.status_code != 200:
        return response.status_code, await response.get_data(as_text=True)
    return 200, json.loads(await response.get_data(as_text=True))


async def agents(client: Client, body: dict[str, Any]) -> tuple[int, Any]:
    response = await client.post("/control/agents", json=body)
    return response.status_code, await response.get_json()


async def test_gx_monitor_answers_each_state_as_the_manual_shows_it(pbx: Client) -> None:  # noqa: F811
    status, everyone = await monitor(pbx)
    assert status == 200
    assert [(e["extnum"], e["telRegState"], e["state"], e["presence"]) for e in everyone] == [
        ("8001", 1, "IDEL", "online"),
        ("8002", 1, "IDEL", "online"),
    ]
    assert "remoteNum" not in everyone[0]  # "没有通话时该字段不存在"
    await agents(
        pbx, {"agents": {"8001": "busy", "8002": "away", "9001": {"state": "offline", "group": "300"}}}
    )
    _, group = await monitor(pbx, extnums=["200"])
    assert [(e["extnum"], e["state"], e["presence"]) for e in group] == [
        ("8001", "BUSY_INCOMING", "online"),
        ("8002", "IDEL", "busy"),
    ]
    assert {"remoteNum", "pickupTime", "pickupDuration"} <= set(group[0])
    _, (offline,) = await monitor(pbx, extnums=["9001"])
    assert (offline["telRegState"], offline["state"], offline["presence"]) == (0, "OFFLINE", "offline")
    assert (await monitor(pbx, extnums=["7777"])) == (200, [])


async def test_gx_monitor_checks_its_json(pbx: Client) -> None:  # noqa: F811
    status, text = await monitor(pbx, starttime="2008-06-02")
    assert (status, text.startswith("参数错误: starttime")) == (400, True)
    assert (await monitor(pbx, extnums="801"))[0] == 400
    assert (await monitor(pbx, avoidCallPerform=2))[0] == 400
    response = await pbx.get("/bridge/jsoncfg?opt=EXTNUM_MONITOR&json=%7Bnot")
    assert response.status_code == 400
    assert (await pbx.get("/bridge/jsoncfg?opt=NOPE")).status_code == 400
    records = await (await pbx.get("/requests")).get_json()
    assert records[0]["problem"].startswith("starttime")


async def test_gx_queue_info(pbx: Client) -> None:  # noqa: F811
    response = await pbx.get("/bridge/callctrl?opt=QUEUE_INFO")
    assert (response.status_code, await response.get_data(as_text=True)) == (200, "[]")  # 无排队
    await agents(pbx, {"queued": {"200": 2}})
    (group,) = json.loads(await (await pbx.get("/bridge/callctrl?opt=QUEUE_INFO")).get_data(as_text=True))
    assert (group["group"], group["count"], len(group["queue"])) == ("200", 2, 2)
    assert set(group["queue"][0]) == {"caller", "viplevel", "waitingtime", "target"}


async def test_gx_status_failures_on_demand(pbx: Client) -> None:  # noqa: F811
    await pbx.post("/control/fail", json={"action": "extnum_monitor", "status": 500})
    await pbx.post("/control/fail", json={"action": "queue_info", "status": 503})
    assert (await monitor(pbx))[0] == 500
    assert (await monitor(pbx))[0] == 200
    assert (await pbx.get("/bridge/callctrl?opt=QUEUE_INFO")).status_code == 503


async def hwd_get(client: Client, path: str, token: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    headers = {**MANUAL_HEADERS, "Authorization": f"Bearer {token}"}
    response = await client.get(f"{HWD}/api/v1/{path}", headers=headers, **kwargs)
    return response.status_code, await response.get_json()


async def test_hwd_agent_and_queue_status(pbx: Client) -> None:  # noqa: F811
    token = (await token_pair(pbx))["access_token"]
    await agents(pbx, {"agents": {"8002": "busy"}})
    status, body = await hwd_get(pbx, "agent/getAgentStatus?extension=8001", token)
    assert (status, body["code"], body["msg"]) == (200, "200", "成功")
    agent = body["data"]["200"]["8001"]
    assert (agent["agentid"], agent["status"], agent["statusDesc"]) == ("1011", "0", "Ready")
    _, everyone = await hwd_get(pbx, "agent/getAgentStatus", token)
    assert everyone["data"]["200"]["8002"]["status"] == "1"
    _, by_body = await hwd_get(pbx, "agent/getAgentStatus", token, json={"agentid": "1012"})
    assert list(by_body["data"]["200"]) == ["8002"]  # the manual lists them as "请求 Body 参数"
    assert (await hwd_get(pbx, "agent/getAgentStatus?queue=999", token))[1]["data"] == []
    _, queue = await hwd_get(pbx, "status/queue?queue_num=200", token)
    assert [(a["extension"], a["status"]) for a in queue["data"]] == [("8001", "就绪"), ("8002", "通话中")]
    assert queue["total"] == 2
    assert (await hwd_get(pbx, "status/queue", token))[1]["code"] == "400"
    assert (await hwd_get(pbx, "status/queue?queue_num=200", "nope"))[0] == 401
    await pbx.post("/control/fail", json={"action": "agent_status", "code": "610003"})
    assert (await hwd_get(pbx, "agent/getAgentStatus", token))[1]["code"] == "610003"


async def test_control_agents_checks_and_reset_restores(pbx: Client) -> None:  # noqa: F811
    for body in ({}, {"all": "asleep"}, {"agents": {"8001": "nope"}}, {"queued": {"200": -1}}, {"other": 1}):
        status, answer = await agents(pbx, body)
        assert status == 400, body
        assert answer["error"]
    status, roster = await agents(pbx, {"all": "offline"})
    assert (status, {a["state"] for a in roster["agents"]}) == (200, {"offline"})
    await pbx.post("/control/reset")
    roster = await (await pbx.get("/control/agents")).get_json()
    assert [(a["extension"], a["state"]) for a in roster["agents"]] == [("8001", "free"), ("8002", "free")]
    assert roster["queued"] == {}
