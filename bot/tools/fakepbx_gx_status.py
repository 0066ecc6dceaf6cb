"""The fake PBX's GX CTI status queries: ``GET /bridge/jsoncfg?opt=…&json=…`` (GX
manual §23 EXTNUM_MONITOR, 坐席状态监控) and ``/bridge/callctrl?opt=QUEUE_INFO`` (§40,
来电排队监控), answered from the fake's agents (``fakepbx_agents``, set with
``/control/agents``).

``/bridge/jsoncfg`` takes its parameters as one URL-encoded JSON object in ``json``;
each ``opt`` it knows is one entry of ``JSONCFG_OPTS`` (more opts of the same
endpoint join it there). Answers are the manual's JSON lists; a parameter the manual
describes otherwise is ``400 参数错误: <what>`` in plain text, as the CTI's other
interfaces answer.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

from quart import Blueprint, Response, request

from bot.tools.fakepbx_batch import RAW_OPTS
from bot.tools.fakepbx_state import armed_failure, fake_state, note

blueprint = Blueprint("fake_pbx_gx_status", __name__)
JSON_CONTENT = "application/json; charset=utf-8"
STARTTIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # §23: "2008-06-02%2000:00:00 注意：中间有个“%20”字符是空格编码"
QUEUE_INFO = "QUEUE_INFO"


def plain(status: int, text: str) -> Response:
    # fakepbx_gx's, repeated: fakepbx_gx routes QUEUE_INFO here, so this cannot import it.
    return Response(text, status=status, content_type="text/plain; charset=utf-8")


def json_answer(value: Any) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), status=200, content_type=JSON_CONTENT)


async def _failed(action: str) -> Response | None:
    """The answer an armed failure of ``action`` asks for, after its hang; None: answer normally."""
    failure = await armed_failure(action)
    if failure is None or failure.status is None:
        return None
    return plain(failure.status, "系统错误" if failure.status >= 500 else "参数错误")


def _monitor_problem(query: Any) -> str | None:
    """What is wrong with §23's ``json`` object, or None."""
    if not isinstance(query, dict):
        return "json must be a JSON object"
    try:
        dt.datetime.strptime(str(query.get("starttime")), STARTTIME_FORMAT)
    except ValueError:
        return f"starttime must be like 2008-06-02 00:00:00, not {query.get('starttime')!r}"
    if not str(query.get("assisLogId") or "").strip():
        return "assisLogId is missing (any value unique to the caller, the same on every refresh)"
    if query.get("avoidCallPerform") not in (0, 1, "0", "1"):
        return f"avoidCallPerform must be 0 or 1, not {query.get('avoidCallPerform')!r}"
    extnums = query.get("extnums")
    if extnums is not None and not (isinstance(extnums, list) and all(isinstance(n, str) for n in extnums)):
        return 'extnums must be a list of extension or group numbers as text, e.g. ["801","3003"]'
    return None


async def extnum_monitor(query: dict[str, Any]) -> Response:
    """§23: one object per extension of ``extnums`` (an extension, or every extension
    of a group); every extension without ``extnums``."""
    if (failed := await _failed("extnum_monitor")) is not None:
        return failed
    agents = fake_state().agents.of(query.get("extnums"))
    return json_answer([agent.gx() for agent in agents])


async def queue_info() -> Response:
    """§40: ``[]`` when nobody waits, else the waiting callers of each group."""
    note(action="queue_info")
    if (failed := await _failed("queue_info")) is not None:
        return failed
    return json_answer(fake_state().agents.queue_info())


Handler = Callable[[dict[str, Any]], Awaitable[Response]]
JSONCFG_OPTS: dict[str, tuple[Handler, Callable[[Any], str | None]]] = {
    "EXTNUM_MONITOR": (extnum_monitor, _monitor_problem),
}


@blueprint.route("/bridge/jsoncfg", methods=["GET", "POST"])
async def jsoncfg() -> Response:
    params = {**request.args.to_dict(), **(await request.form).to_dict()}
    opt = params.get("opt", "")
    if opt in RAW_OPTS:  # batch calls and blacklist (§38, §46–§51): their own `json`
        note(action=opt.lower())
        return await RAW_OPTS[opt](params.get("json", ""))
    if opt not in JSONCFG_OPTS:
        note(problem=f"unknown opt {opt!r}")
        known = ", ".join([*JSONCFG_OPTS, *RAW_OPTS])
        return plain(400, f"参数错误: unknown opt {opt!r} (the fake knows {known})")
    note(action=opt.lower())
    handler, check = JSONCFG_OPTS[opt]
    try:
        query = json.loads(params.get("json", ""))
    except ValueError:
        query = None
        problem: str | None = "json must be a URL-encoded JSON object"
    else:
        problem = check(query)
    if problem is not None:
        note(problem=problem)
        return plain(400, f"参数错误: {problem}")
    note(decoded=query)  # the record's `query` keeps the parameters as sent
    return await handler(query)
