"""The fake PBX's GX CTI call control: ``GET /bridge/callctrl?…&opt=…`` (or the same
fields as a POST form), the opts the bot uses (GX CTI manual §3 CLICK_TO_HUNGUP, §10
CLICK_TO_TRANSFER, §12 TALKING_CALLER_TO_IVR, §26 FORCE_HUNGUP, §52.5 PLAY_VOICE), and
the robot recordings' download (§52.4 ``GET /Oms/FileDownServlet?robotcallid=…``: every
call id has the same short WAV, served with ranges as a file server would).

Answers are an HTTP status with a short plain-text body: the manual's own words for
the statuses it lists (``200 转话成功``), ``400 参数错误: <what>`` for missing or invalid
parameters and unknown opts.
"""

from __future__ import annotations

import functools
import io
import json
import math
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from quart import Blueprint, Response, request, send_file

from bot.speech.wav import TELEPHONE_RATE, write_wav
from bot.tools.fakepbx_gx_status import QUEUE_INFO, queue_info
from bot.tools.fakepbx_state import armed_failure, note

blueprint = Blueprint("fake_pbx_gx", __name__)
PLAIN_TEXT = "text/plain; charset=utf-8"
BIZ_DATA_MAX_CHARS = 1500  # §10, §12: "不超过 1500 个字符"
# Characters no URL encoder leaves as they are, and every JSON object has.
_NOT_URL_ENCODED = frozenset('{}":, ')


@dataclass(frozen=True)
class Opt:
    """One ``opt`` of callctrl: the action name failures are armed with, its required
    parameters, and the body of each status the manual lists for it."""

    action: str
    required: tuple[str, ...]
    answers: dict[int, str] = field(default_factory=dict)
    integers: tuple[str, ...] = ()  # parameters that must be whole numbers when present


OPTS: dict[str, Opt] = {
    "PLAY_VOICE": Opt("play_voice", ("callid", "voiceurl")),
    "CLICK_TO_TRANSFER": Opt(
        "click_to_transfer",
        ("extnum", "target"),
        {
            200: "转话成功",
            404: "目标分机不存在",
            480: "目标分机不在线",
            481: "extnum 不存在可以转移的通话",
            486: "目标分机忙",
        },
    ),
    "TALKING_CALLER_TO_IVR": Opt(
        "talking_caller_to_ivr",
        ("caller", "callee", "ivrid"),
        {
            200: "转话成功",
            404: "主被相关的通话不存在或者语音菜单编号不存在",
            483: "两个号码，找到多个通话，系统无法准确定位具体是哪个通话，拒绝执行",
        },
        integers=("ivrid", "queue_priority"),
    ),
    "CLICK_TO_HUNGUP": Opt("click_to_hungup", ("caller", "callee")),
    # The vendor's spelling: "woker".
    "FORCE_HUNGUP": Opt(
        "force_hungup",
        ("leaderExtnum", "wokerExtnum"),
        {200: "操作成功", 403: "主管分机权限不足", 404: "没有找到可强拆的通话", 503: "系统资源不足"},
    ),
}
_GENERIC_ANSWERS = {200: "ok", 400: "参数错误", 500: "系统错误"}
RECORDING_SECONDS = 2


def answer_body(opt: Opt | None, status: int) -> str:
    """The short body for ``status``: the manual's words for this opt, else generic ones."""
    if opt is not None and status in opt.answers:
        return opt.answers[status]
    return _GENERIC_ANSWERS.get(status) or HTTPStatus(status).phrase


def plain(status: int, text: str) -> Response:
    return Response(text, status=status, content_type=PLAIN_TEXT)


@blueprint.route("/bridge/callctrl", methods=["GET", "POST"])
async def callctrl() -> Response:
    form = await request.form
    params = {**request.args.to_dict(), **form.to_dict()}
    if params.get("opt") == QUEUE_INFO:  # §40: a query answered with JSON (fakepbx_gx_status)
        return await queue_info()
    opt = OPTS.get(params.get("opt", ""))
    if opt is None:
        note(problem=f"unknown opt {params.get('opt')!r}")
        return plain(400, f"参数错误: unknown opt {params.get('opt')!r} (the fake knows {', '.join(OPTS)})")
    note(action=opt.action)
    problem = _params_problem(opt, params) or await _biz_data_problem(params)
    if problem is not None:
        note(problem=problem)
        return plain(400, f"{answer_body(opt, 400)}: {problem}")
    failure = await armed_failure(opt.action)
    if failure is not None and failure.status is not None:
        return plain(failure.status, answer_body(opt, failure.status))
    return plain(200, answer_body(opt, 200))


@blueprint.get("/Oms/FileDownServlet")
async def robot_recording() -> Response:
    """§52.4: the recording of the robot call ``robotcallid`` names."""
    call_id = request.args.get("robotcallid", "").strip()
    if not call_id:
        note(problem="missing robotcallid")
        return plain(400, "参数错误: missing robotcallid")
    note(action="recording_download", robotcallid=call_id)
    failure = await armed_failure("recording_download")
    if failure is not None and failure.status is not None:
        return plain(failure.status, answer_body(None, failure.status))
    return await send_file(io.BytesIO(_recording()), mimetype="audio/wav", conditional=True)


@functools.cache
def _recording() -> bytes:
    """A 440 Hz tone at half volume, as long as RECORDING_SECONDS."""
    samples = range(TELEPHONE_RATE * RECORDING_SECONDS)
    return write_wav(
        b"".join(
            int(16000 * math.sin(2 * math.pi * 440 * i / TELEPHONE_RATE)).to_bytes(2, "little", signed=True)
            for i in samples
        )
    )


def _params_problem(opt: Opt, params: dict[str, str]) -> str | None:
    missing = [name for name in opt.required if not params.get(name, "").strip()]
    if missing:
        return f"missing {', '.join(missing)}"
    for name in opt.integers:
        value = params.get(name)
        if value is not None and not (value.isascii() and value.isdigit()):
            return f"{name} must be a whole number, not {value!r}"
    return None


async def _biz_data_problem(params: dict[str, str]) -> str | None:
    """Checks ``biz_data`` (§10, §12): URL-encoded JSON of at most 1500 characters.

    The CTI forwards the value to the agent's screen without decoding it, so the
    value it receives (the query parameter, once decoded) must itself be URL-encoded.
    """
    value = params.get("biz_data")
    if not value:
        return None
    record: dict[str, Any] = {"raw": await _raw_parameter("biz_data"), "value": value, "chars": len(value)}
    note(biz_data=record)
    if len(value) > BIZ_DATA_MAX_CHARS:
        return f"biz_data is {len(value)} characters long, the limit is {BIZ_DATA_MAX_CHARS}"
    unencoded = sorted(_NOT_URL_ENCODED & set(value))
    if unencoded:
        return f"biz_data is not URL-encoded (it has {''.join(unencoded)!r} as they are)"
    try:
        record["json"] = json.loads(unquote(value, errors="strict"))
    except (UnicodeDecodeError, ValueError):
        return "biz_data is not JSON once URL-decoded"
    return None


async def _raw_parameter(name: str) -> str | None:
    """The parameter exactly as sent, before any decoding: from the form body, else the query."""
    prefix = f"{name}=".encode()
    sources = [await request.get_data(cache=True, as_text=False, parse_form_data=False), request.query_string]
    for raw in sources:
        for part in raw.split(b"&"):
            if part.startswith(prefix):
                return part[len(prefix) :].decode("latin-1")
    return None
