"""The GX CTI's batch calls (批量外呼) and blacklist, as the manual gives them.

- §46 ``GET /bridge/jsoncfg?opt=BatchCallMonitor_GET_ALL_RUN_TASK_INFO&json=GET_ALL_RUN_TASK_INFO``:
  the tasks set up in the CTI's assistant (``id``, ``des``…).
- §47 ``POST /bridge/batchcallimport`` with UTF-8 JSON ``{"runtaskid", "telnums": [{"telnum",
  "ctname", "des"}]}``: 200 imported; 400 bad parameters, 404 no such task, 402 no robot
  licence, 500.
- §48 ``opt=BatchCallStart&json=<task>``: 200 started, 202 already started; §49
  ``opt=BatchCallStop&json=<task>``: 200 (the manual's words: 启动成功), 404.
- §50 ``opt=BatchCallMonitorInfo_GET&json=<task>``: the task's live counts.
- §51 ``opt=Taskphone_GET_CONDITION&json=<query>``: each number's calls (``callstate``,
  ``callid``, ``linktime``, ``callduration``…); 404 when nothing matches.
- §38 ``opt=BLACK_LIST_ADD&json=<number>``: 200, 400.

Each is one request through :class:`bot.pbx.http.PBXHttp` (its retries, timeouts and
journal); a refusal raises :class:`PBXRejectedError` with the manual's words.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from bot.errors import PBXRejectedError, PBXUnavailableError
from bot.pbx.http import PBXHttp

JSONCFG = "/bridge/jsoncfg"
IMPORT = "/bridge/batchcallimport"
RESULTS_PAGE = 500  # §51 maxResults per request
# §51 callstate: 1 is a call that happened; 0 and 4 are not final yet.
CALL_COMPLETED = 1
CALL_PENDING = (0, 4)
CALL_STATES = {
    0: "初始状态",
    1: "呼叫完成",
    2: "呼叫失败",
    3: "号码不存在",
    4: "等待呼叫",
    5: "客户忙",
    6: "暂时无法接通",
    7: "加错了或者未加长途前缀",
    8: "坐席漏接",
    9: "欠费停机",
    10: "振铃超时",
    11: "本地卡欠费停机",
    12: "振铃后拒接",
    13: "在黑名单中",
    14: "线路忙",
    15: "TTS 失败",
    16: "ASR 服务不可用",
}
# Numbers that will never answer: not called again.
UNREACHABLE_STATES = frozenset({3, 7, 9, 11, 13})
_ANSWERS = {
    "import": {400: "参数错误", 402: "未开通机器人", 404: "无法找到相关外呼任务", 500: "系统内部错误"},
    "start": {400: "参数错误", 404: "根据编号找不到需要启动的任务", 500: "系统内部错误"},
    "stop": {404: "根据编号找不到需要停止的任务"},
    "monitor": {404: "根据编号找不到需要监控的任务"},
    "blacklist": {400: "参数错误"},
}


class GXBatchCalls:
    """A GX CTI's batch-call tasks and blacklist."""

    def __init__(self, http: PBXHttp) -> None:
        self._http = http

    async def tasks(self) -> list[dict[str, Any]]:
        """§46: every batch-call task configured in the CTI."""
        answer = await self._jsoncfg(
            "tasks", "BatchCallMonitor_GET_ALL_RUN_TASK_INFO", "GET_ALL_RUN_TASK_INFO"
        )
        return list(answer) if isinstance(answer, list) else []

    async def import_numbers(self, task_id: int, numbers: Sequence[tuple[str, str, str]]) -> None:
        """§47: hand ``(telnum, ctname, des)`` numbers to the task."""
        body = {
            "runtaskid": task_id,
            "telnums": [{"telnum": telnum, "ctname": name, "des": des} for telnum, name, des in numbers],
        }
        response = await self._http.send("import", "POST", IMPORT, json=body, idempotent=False, journal=None)
        self._check("import", "batchcallimport", response.status_code, response.text)

    async def start(self, task_id: int) -> bool:
        """§48: start the task; False when it was running already (202)."""
        status = await self._status("start", "BatchCallStart", str(task_id))
        return status != 202

    async def stop(self, task_id: int) -> None:
        """§49: stop the task."""
        await self._status("stop", "BatchCallStop", str(task_id))

    async def monitor(self, task_id: int) -> dict[str, Any]:
        """§50: the task's live counts (talking, ringing, queued, numbers called…)."""
        answer = await self._jsoncfg("monitor", "BatchCallMonitorInfo_GET", str(task_id))
        return answer if isinstance(answer, dict) else {}

    async def results(self, task_id: int, since: dt.datetime) -> list[dict[str, Any]]:
        """§51: the task's numbers imported since ``since`` (in the CTI's time zone), every page."""
        rows: list[dict[str, Any]] = []
        page = 0
        while True:
            query = {
                "runtaskid": task_id,
                "pageIndex": page,
                "maxResults": RESULTS_PAGE,
                "timetype": 0,  # by import time
                "beginTime": since.strftime("%Y-%m-%d %H:%M:%S"),
                "endTime": (dt.datetime.now(since.tzinfo) + dt.timedelta(days=1)).strftime(
                    "%Y-%m-%d %H:%M:%S"
                ),
                "callstate": -1,
            }
            answer = await self._jsoncfg(
                "results", "Taskphone_GET_CONDITION", _compact(query), missing_ok=True
            )
            batch = answer if isinstance(answer, list) else []
            rows += [row for row in batch if isinstance(row, dict)]
            if len(batch) < RESULTS_PAGE:
                return rows
            page += 1

    async def blacklist(self, telnum: str) -> None:
        """§38: the CTI refuses every call to and from ``telnum``."""
        await self._status("blacklist", "BLACK_LIST_ADD", telnum)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _status(self, action: str, opt: str, value: str) -> int:
        response = await self._http.send(
            action, "GET", JSONCFG, params={"opt": opt, "json": value}, idempotent=True, journal=None
        )
        self._check(action, opt, response.status_code, response.text)
        return response.status_code

    async def _jsoncfg(self, action: str, opt: str, value: str, *, missing_ok: bool = False) -> Any:
        response = await self._http.send(
            action, "GET", JSONCFG, params={"opt": opt, "json": value}, idempotent=True, journal=None
        )
        if missing_ok and response.status_code == 404:
            return None
        self._check(action, opt, response.status_code, response.text)
        try:
            return response.json()
        except ValueError as exc:
            raise PBXUnavailableError(
                f"GX CTI {opt} answered what is not JSON: {response.text[:100]!r}"
            ) from exc

    @staticmethod
    def _check(action: str, opt: str, status: int, body: str) -> None:
        if status in (200, 202):
            return
        meaning = _ANSWERS.get(action, {}).get(status, "unexpected answer")
        message = f"GX CTI {opt} answered {status}: {meaning}"
        error = PBXUnavailableError if status >= 500 else PBXRejectedError
        raise error(message, code=str(status), vendor_message=body.strip()[:200] or meaning)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
