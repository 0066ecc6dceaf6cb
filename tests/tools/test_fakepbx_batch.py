"""The fake PBX's GX batch calls (§46–§51) and blacklist (§38), in the manual's formats,
and the GX client of them (bot/campaigns/gx_batch.py) against it: a real process."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from bot.campaigns.gx_batch import GXBatchCalls
from bot.errors import PBXRejectedError, PBXUnavailableError
from bot.pbx.http import PBXHttp
from tests.fakepbx import FakePBX
from tests.test_serve import wait_for


def jsoncfg(fake: FakePBX, opt: str, value: object) -> tuple[int, object]:
    raw = value if isinstance(value, str) else json.dumps(value)
    response = fake.http.get("/bridge/jsoncfg", params={"opt": opt, "json": raw})
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def test_tasks_imports_and_the_answers_the_manual_lists(fake_pbx: FakePBX) -> None:
    status, tasks = jsoncfg(fake_pbx, "BatchCallMonitor_GET_ALL_RUN_TASK_INFO", "GET_ALL_RUN_TASK_INFO")
    assert status == 200
    assert isinstance(tasks, list)
    assert [(t["id"], t["des"]) for t in tasks] == [(1, "机器人外呼"), (26, "回访任务")]
    assert {"calltaskid", "outgwgrp", "extgrp", "taskstate", "timeslot"} <= set(tasks[0])
    body = {"runtaskid": 1, "telnums": [{"telnum": "13227841199", "ctname": "测试用户", "des": ""}]}
    assert fake_pbx.http.post("/bridge/batchcallimport", json=body).status_code == 200
    assert fake_pbx.http.post("/bridge/batchcallimport", json={**body, "runtaskid": 99}).status_code == 404
    assert fake_pbx.http.post("/bridge/batchcallimport", content=b"not json").status_code == 400
    bad = {"runtaskid": 1, "telnums": [{"telnum": "abc"}]}
    assert fake_pbx.http.post("/bridge/batchcallimport", json=bad).status_code == 400
    assert jsoncfg(fake_pbx, "BatchCallStop", "1")[0] == 200
    assert jsoncfg(fake_pbx, "BatchCallStart", "99")[0] == 404
    status, count = jsoncfg(fake_pbx, "Taskphone_GET_COUNT", {"runtaskid": 1})
    assert (status, count) == (200, {"conditionCount": 1, "totalCount": 1, "calledCount": 0})
    status, rows = jsoncfg(
        fake_pbx, "Taskphone_GET_CONDITION", {"runtaskid": 1, "pageIndex": 0, "maxResults": 100}
    )
    assert status == 200
    assert isinstance(rows, list)
    assert (rows[0]["telnum"], rows[0]["ctname"], rows[0]["callstate"]) == ("13227841199", "测试用户", 4)
    status, _ = jsoncfg(fake_pbx, "Taskphone_GET_CONDITION", {"runtaskid": 1, "telnum": "1"})
    assert status == 404  # "根据条件无法查询出数据"
    status, monitor = jsoncfg(fake_pbx, "BatchCallMonitorInfo_GET", "1")
    assert isinstance(monitor, dict)
    assert (monitor["phoneCount"], monitor["phoneCalledCount"], monitor["coustomers"]) == (1, 0, [])


def test_a_started_task_calls_the_robot_and_reports_each_number(fake_pbx: FakePBX) -> None:
    fake_pbx.http.post("/control/callees", json={"13900000002": {"answer": False}})
    body = {
        "runtaskid": 26,
        "telnums": [{"telnum": t, "ctname": "", "des": ""} for t in ("13900000001", "13900000002")],
    }
    fake_pbx.http.post("/bridge/batchcallimport", json=body)
    assert jsoncfg(fake_pbx, "BLACK_LIST_ADD", "13900000001")[0] == 200
    assert jsoncfg(fake_pbx, "BatchCallStart", "26")[0] == 200
    assert jsoncfg(fake_pbx, "BatchCallStart", "26") == (202, "已经被启动，不需要重复操作")
    query = {"runtaskid": 26, "pageIndex": 0, "maxResults": 10, "callstate": -1}

    def called() -> list[dict[str, object]] | None:
        rows = jsoncfg(fake_pbx, "Taskphone_GET_CONDITION", query)[1]
        assert isinstance(rows, list)
        return rows if all(row["callstate"] != 4 for row in rows) else None

    rows = wait_for(called, 30)
    assert isinstance(rows, list)
    states = {row["telnum"]: row["callstate"] for row in rows}
    assert states == {"13900000001": 13, "13900000002": 10}  # 在黑名单中, 振铃超时
    assert jsoncfg(fake_pbx, "BLACK_LIST_QUERY", {"first": 0, "maxResults": 10}) == (200, ["13900000001"])
    jsoncfg(fake_pbx, "BatchCallStop", "26")


async def test_the_client_reads_the_manuals_answers_and_names_refusals(fake_pbx: FakePBX) -> None:
    batch = GXBatchCalls(PBXHttp(fake_pbx.base, vendor="gx", timeout_seconds=5, retries=0))
    try:
        assert [t["id"] for t in await batch.tasks()] == [1, 26]
        await batch.import_numbers(1, [("13900000003", "王五", "c")])
        zone = ZoneInfo("Asia/Shanghai")
        rows = await batch.results(1, dt.datetime.now(zone) - dt.timedelta(minutes=5))
        assert [(r["telnum"], r["ctname"], r["des"]) for r in rows] == [("13900000003", "王五", "c")]
        assert await batch.results(1, dt.datetime.now(zone) + dt.timedelta(hours=1)) == []
        with pytest.raises(PBXRejectedError, match="无法找到相关外呼任务") as refused:
            await batch.import_numbers(99, [("13900000003", "", "")])
        assert refused.value.code == "404"
        fake_pbx.fail(action="batch_start", status=500)
        with pytest.raises(PBXUnavailableError, match="BatchCallStart answered 500"):
            await batch.start(1)
        await batch.blacklist("13900000004")
        assert fake_pbx.http.get("/control/batch").json()["blacklist"] == ["13900000004"]
    finally:
        await batch.aclose()


def test_the_control_api_refuses_what_it_cannot_use(fake_pbx: FakePBX) -> None:
    assert fake_pbx.http.post("/control/robot", json={"url": "ftp://x"}).status_code == 400
    assert fake_pbx.http.post("/control/callees", json=["13900000001"]).status_code == 400
    assert jsoncfg(fake_pbx, "BatchCallStart", "one")[0] == 400
    assert jsoncfg(fake_pbx, "BLACK_LIST_ADD", "13x")[0] == 400
