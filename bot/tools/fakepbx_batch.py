"""The fake PBX's GX batch calls (批量外呼, GX manual §46–§51) and blacklist (§38).

Tasks 1 and 26 exist from the start. Numbers imported into a task (§47) wait until the
task is started (§48); then the fake calls them one by one, as the CTI's robot would:
it sends the robot's callbacks (§52: ``ready2speak``, the callee's lines, ``hungup``)
to the robot URL (``--robot-url`` or ``POST /control/robot``), with the lines and
whether the callee answers set per number by ``POST /control/callees``. A number that
does not answer ends ``callstate`` 10 (振铃超时); a blacklisted one 13; one called, 1.
§50 and §51 report it all in the manual's JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from quart import Blueprint, Response, jsonify, request

from bot.tools.fakepbx_state import armed_failure, fake_state, note

logger = logging.getLogger(__name__)
blueprint = Blueprint("fake_pbx_batch", __name__)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CTI_ZONE = "Asia/Shanghai"  # the CTI writes local times; the bot reads them in VOICEBOT_TIMEZONE
WAITING, CALLED, NO_ANSWER, BLACKLISTED, FAILED = 4, 1, 10, 13, 2
CALLBACK_TIMEOUT_SECONDS = 10.0


@dataclass
class Callee:
    answer: bool = True
    lines: list[str] = field(default_factory=list)  # what the callee says after the greeting


@dataclass
class TaskNumber:
    telnum: str
    ctname: str
    des: str
    createtime: str
    callstate: int = WAITING
    callid: str = ""
    times: int = 0
    linktime: str = ""
    callduration: int = 0

    def as_json(self, task_id: int) -> dict[str, Any]:
        """A row of §51's answer."""
        return {
            "runtaskid": task_id,
            "telnum": self.telnum,
            "ctname": self.ctname,
            "des": self.des,
            "times": self.times,
            "callid": self.callid,
            "callstate": self.callstate,
            "manustate": "",
            "writing": "",
            "linktime": self.linktime,
            "createtime": self.createtime,
            "playtimes": 0,
            "playduration": 0,
            "dtmfkey": "",
            "callduration": self.callduration,
        }


@dataclass
class BatchTask:
    id: int
    des: str
    numbers: list[TaskNumber] = field(default_factory=list)
    running: bool = False
    talking: str | None = None  # the number on the line now
    dialer: asyncio.Task[None] | None = None

    def info(self) -> dict[str, Any]:
        """A row of §46's answer."""
        return {
            "id": self.id,
            "calltaskid": self.id,
            "chnltype": 1,
            "outgwgrp": "3000",
            "extgrp": "3003",
            "starttime": "1899-12-30 16:00:00",
            "taskstate": 1 if self.running else 3,
            "des": self.des,
            "owerid": 1,
            "createtime": "2018-11-16 16:11:56",
            "gwintervaltime": 0,
            "intervaltime": 1.0,
            "precallcount": 0,
            "timeslot": "",
            "smsoffon": False,
            "smsplaylen": 0,
            "smscontent": "",
            "smssubscriber": "",
        }


@dataclass
class BatchCalls:
    """The fake CTI's batch-call tasks, its blacklist and the callees it pretends to call."""

    tasks: dict[int, BatchTask] = field(default_factory=dict)
    blacklist: set[str] = field(default_factory=set)
    callees: dict[str, Callee] = field(default_factory=dict)
    robot_url: str | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(CTI_ZONE))  # the CTI's clock

    def now(self) -> str:
        """The CTI's local time, as its JSON writes times."""
        return dt.datetime.now(self.zone).strftime(TIME_FORMAT)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        for task in self.tasks.values():
            if task.dialer is not None:
                task.dialer.cancel()
        self.tasks = {1: BatchTask(1, "机器人外呼"), 26: BatchTask(26, "回访任务")}
        self.blacklist.clear()
        self.callees.clear()


def batch_calls() -> BatchCalls:
    return fake_state().batch


async def _failed(action: str) -> Response | None:
    failure = await armed_failure(action)
    if failure is None or failure.status is None:
        return None
    return _plain(failure.status, "系统内部错误" if failure.status >= 500 else "参数错误")


def _plain(status: int, text: str) -> Response:
    return Response(text, status=status, content_type="text/plain; charset=utf-8")


def _task(raw: str) -> BatchTask | Response:
    if not (raw.isascii() and raw.isdigit()):
        return _plain(400, f"参数错误: json must be the task's number, not {raw!r}")
    task = batch_calls().tasks.get(int(raw))
    return task if task is not None else _plain(404, "根据编号找不到任务")


# --- /bridge/jsoncfg opts whose json is not a JSON object (or is parsed here) ---


async def all_tasks(raw: str) -> Response:
    """§46."""
    if (failed := await _failed("batch_tasks")) is not None:
        return failed
    if raw != "GET_ALL_RUN_TASK_INFO":
        return _plain(400, "参数错误: json must be GET_ALL_RUN_TASK_INFO")
    return jsonify([task.info() for task in batch_calls().tasks.values()])


async def start(raw: str) -> Response:
    """§48: 200 started, 202 already running."""
    if (failed := await _failed("batch_start")) is not None:
        return failed
    task = _task(raw)
    if isinstance(task, Response):
        return task
    if task.running:
        return _plain(202, "已经被启动，不需要重复操作")
    task.running = True
    task.dialer = asyncio.create_task(_dial(task, batch_calls()))
    return _plain(200, "启动成功")


async def stop(raw: str) -> Response:
    """§49 (its 200 says 启动成功 in the manual)."""
    if (failed := await _failed("batch_stop")) is not None:
        return failed
    task = _task(raw)
    if isinstance(task, Response):
        return task
    task.running = False
    if task.dialer is not None:
        task.dialer.cancel()
        task.dialer = None
    return _plain(200, "启动成功")


async def clear(raw: str) -> Response:
    """§47's BatchCallClear: the task's numbers and results go."""
    task = _task(raw)
    if isinstance(task, Response):
        return task
    task.numbers.clear()
    return _plain(200, "ok")


async def monitor(raw: str) -> Response:
    """§50."""
    if (failed := await _failed("batch_monitor")) is not None:
        return failed
    task = _task(raw)
    if isinstance(task, Response):
        return task
    called = [n for n in task.numbers if n.callstate != WAITING]
    customers = (
        [{"callid": "", "telnum": task.talking, "state": "BATCH_CALL_AI", "talktime": 0}]
        if task.talking
        else []
    )
    return jsonify(
        {
            "talkingCount": 0,
            "customerRingCount": 0,
            "extRingCount": 0,
            "musiCount": 1 if task.talking else 0,
            "queuingCount": 0,
            "idleExtCount": 0,
            "phoneCount": len(task.numbers),
            "phoneCalledCount": len(called),
            "coustomers": customers,  # the manual's spelling
            "assises": [],
        }
    )


async def results(raw: str) -> Response:
    """§51 Taskphone_GET_CONDITION: 404 when nothing matches."""
    if (failed := await _failed("batch_results")) is not None:
        return failed
    matched = _matching(raw)
    if isinstance(matched, Response):
        return matched
    query, task, rows = matched
    page, size = int(query.get("pageIndex", 0)), int(query.get("maxResults", 100))
    rows = rows[page * size : (page + 1) * size]
    return jsonify([row.as_json(task.id) for row in rows]) if rows else _plain(404, "根据条件无法查询出数据")


async def count(raw: str) -> Response:
    """§51 Taskphone_GET_COUNT."""
    matched = _matching(raw)
    if isinstance(matched, Response):
        return matched
    _, task, rows = matched
    called = sum(n.callstate != WAITING for n in task.numbers)
    return jsonify({"conditionCount": len(rows), "totalCount": len(task.numbers), "calledCount": called})


def _matching(raw: str) -> tuple[dict[str, Any], BatchTask, list[TaskNumber]] | Response:
    try:
        query = json.loads(raw)
    except ValueError:
        query = None
    if not isinstance(query, dict) or not isinstance(query.get("runtaskid"), int):
        return _plain(400, "参数错误: json must be §51's query object with runtaskid")
    task = batch_calls().tasks.get(query["runtaskid"])
    if task is None:
        return _plain(404, "根据条件无法查询出数据")
    rows = task.numbers
    if telnum := query.get("telnum"):
        rows = [n for n in rows if n.telnum == telnum]
    if (state := query.get("callstate", -1)) not in (-1, None):
        rows = [n for n in rows if n.callstate == state]
    begin = str(query.get("beginTime") or "")
    if begin and query.get("timetype", 0) == 0:
        rows = [n for n in rows if n.createtime >= begin]
    return query, task, rows


async def black_list_add(raw: str) -> Response:
    """§38."""
    if (failed := await _failed("black_list_add")) is not None:
        return failed
    if not (raw.isascii() and raw.isdigit()):
        return _plain(400, "参数错误")
    batch_calls().blacklist.add(raw)
    return _plain(200, "操作成功")


async def black_list_remove(raw: str) -> Response:
    if not (raw.isascii() and raw.isdigit()):
        return _plain(400, "参数错误")
    batch_calls().blacklist.discard(raw)
    return _plain(200, "操作成功")


async def black_list_query(raw: str) -> Response:
    try:
        query = json.loads(raw)
    except ValueError:
        return _plain(400, "参数错误")
    numbers = sorted(batch_calls().blacklist)
    if isinstance(query, dict) and query.get("telnum"):
        numbers = [n for n in numbers if n == query["telnum"]]
    first, most = int(query.get("first", 0)), int(query.get("maxResults", 10))
    return jsonify(numbers[first : first + most])


RAW_OPTS: dict[str, Callable[[str], Awaitable[Response]]] = {
    "BatchCallMonitor_GET_ALL_RUN_TASK_INFO": all_tasks,
    "BatchCallStart": start,
    "BatchCallStop": stop,
    "BatchCallClear": clear,
    "BatchCallMonitorInfo_GET": monitor,
    "Taskphone_GET_CONDITION": results,
    "Taskphone_GET_COUNT": count,
    "BLACK_LIST_ADD": black_list_add,
    "BLACK_LIST_RMV": black_list_remove,
    "BLACK_LIST_QUERY": black_list_query,
}


@blueprint.post("/bridge/batchcallimport")
async def import_numbers() -> Response:
    """§47: UTF-8 JSON ``{"runtaskid", "telnums": [{"telnum", "ctname", "des"}]}``."""
    note(action="batch_import")
    if (failed := await _failed("batch_import")) is not None:
        return failed
    try:
        body = json.loads(await request.get_data(as_text=False, parse_form_data=False))
    except ValueError:  # UnicodeDecodeError is one
        return _plain(400, "参数错误: the body must be UTF-8 JSON")
    telnums = body.get("telnums") if isinstance(body, dict) else None
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("runtaskid"), int)
        or not isinstance(telnums, list)
    ):
        return _plain(400, '参数错误: {"runtaskid": <task>, "telnums": [{"telnum", "ctname", "des"}]}')
    if not all(isinstance(t, dict) and str(t.get("telnum", "")).isdigit() for t in telnums):
        return _plain(400, "参数错误: every telnums item needs telnum, its digits")
    task = batch_calls().tasks.get(body["runtaskid"])
    if task is None:
        return _plain(404, "无法找到相关外呼任务")
    now = batch_calls().now()
    for item in telnums:
        task.numbers.append(
            TaskNumber(str(item["telnum"]), str(item.get("ctname", "")), str(item.get("des", "")), now)
        )
    return _plain(200, "导入成功")


# --- the control API ---


@blueprint.post("/control/robot")
async def set_robot() -> Response:
    """``{"url": "http://bot:8080/cti/ai"}``: where the robot's callbacks go (§52.6)."""
    body = await request.get_json(force=True, silent=True) or {}
    url = body.get("url") if isinstance(body, dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return Response('{"error": "url: an http(s) URL"}', status=400, content_type="application/json")
    batch_calls().robot_url = url
    return jsonify({"url": url})


@blueprint.post("/control/callees")
async def set_callees() -> Response:
    """``{"<telnum>": {"answer": true, "lines": ["…"]}}``: how each number's callee behaves."""
    body = await request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return Response('{"error": "a JSON object by number"}', status=400, content_type="application/json")
    callees = batch_calls().callees
    for telnum, given in body.items():
        spec = given if isinstance(given, dict) else {}
        lines = [str(line) for line in spec.get("lines", []) if str(line).strip()]
        callees[str(telnum)] = Callee(answer=bool(spec.get("answer", True)), lines=lines)
    return jsonify({"callees": len(callees)})


@blueprint.get("/control/batch")
async def batch_state() -> Response:
    calls = batch_calls()
    return jsonify(
        {
            "robot_url": calls.robot_url,
            "blacklist": sorted(calls.blacklist),
            "tasks": [
                {**t.info(), "running": t.running, "numbers": [n.as_json(t.id) for n in t.numbers]}
                for t in calls.tasks.values()
            ],
        }
    )


# --- the dialer ---


async def _dial(task: BatchTask, calls: BatchCalls) -> None:
    """Call the task's waiting numbers one by one while it runs."""
    state = fake_state()
    recorder, stopping = state.recorder, state.stopping
    async with httpx.AsyncClient(timeout=CALLBACK_TIMEOUT_SECONDS, trust_env=False) as client:
        while task.running and not stopping.is_set():
            number = next((n for n in task.numbers if n.callstate == WAITING), None)
            if number is None:
                await asyncio.sleep(0.2)
                continue
            number.times += 1
            number.linktime = calls.now()
            callee = calls.callees.get(number.telnum, Callee())
            if number.telnum in calls.blacklist:
                number.callstate = BLACKLISTED
            elif not callee.answer:
                number.callstate = NO_ANSWER
            elif calls.robot_url is None:
                logger.warning("batch task %d: no robot URL (POST /control/robot); call failed", task.id)
                number.callstate = FAILED
            else:
                task.talking = number.telnum
                try:
                    await _robot_call(client, calls.robot_url, number, callee, recorder)
                finally:
                    task.talking = None


async def _robot_call(
    client: httpx.AsyncClient, url: str, number: TaskNumber, callee: Callee, recorder: Any
) -> None:
    """One robot call: the greeting, the callee's lines, the hang-up (§52.3)."""
    number.callid = f"{uuid.uuid4()}@127.0.0.1"
    began = time.monotonic()
    for txt in ("ready2speak", *callee.lines, "hungup"):
        params = {"telnum": number.telnum, "txt": txt, "callid": number.callid}
        record: dict[str, Any] = {
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "monotonic": time.monotonic(),
            "vendor": "robot",
            "method": "GET",
            "path": url,
            "query": params,
        }
        try:
            response = await client.get(url, params=params)
            record.update(status=response.status_code, response=response.text[:500])
        except httpx.HTTPError as exc:
            record.update(status=None, error=type(exc).__name__)
        with contextlib.suppress(Exception):
            recorder.add(record)
    number.callduration = max(1, round(time.monotonic() - began))
    number.callstate = CALLED
