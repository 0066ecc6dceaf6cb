"""The fake PBX's HWD REST API (HWD V7.1.2 manual): OAuth (§1.3, §1.4), TTS (§3.1.1),
transfer (§2.1.2), hang-up (§2.1.4), dial (§2.1.1), and the agents' status (§2.2.3
getAgentStatus, §2.3.2 queue status, from ``fakepbx_agents``), under ``/dscom-api/public``.

Every answer is the manual's envelope ``{"code": "200", "msg": "成功", "data": …,
"total": 0}`` with a string code, except a successful token grant, which is the
manual's flat ``{"token_type", "expires_in", "access_token", "refresh_token"}``.
Parameter errors are answered with HTTP 200 and the §4 code, as the PBX does;
authentication errors with HTTP 401 and code ``"401"``.
"""

from __future__ import annotations

import asyncio
import base64
import io
import time
import wave
from http import HTTPStatus
from typing import Any

import numpy as np
from quart import Blueprint, Response, jsonify, request

from bot.pbx.hwd_api import ERROR_CODES
from bot.tools.fakepbx_state import Credentials, armed_failure, fake_state, note

PREFIX = "/dscom-api/public"
API_PREFIX = f"{PREFIX}/api/"
blueprint = Blueprint("fake_pbx_hwd", __name__, url_prefix=PREFIX)

# §4 错误代码, in full (one table for the client and the fake): the vendor's own words.
ERROR_MESSAGES: dict[str, str] = ERROR_CODES
OK_CODE = "200"
CALL_INVALID = "600000"  # §4 has no hang-up parameter code: the call-control family's one
TRANSFER_INVALID = "600005"
TTS_INVALID = "400"  # §4 has no TTS code at all: HTTP's "bad request", as a string
STATUS_INVALID = "400"  # nor a status query's
TRANSFER_TYPES = ("blind", "attended", "app")

TTS_SAMPLE_RATE = 16_000  # not 8 kHz, so that the bot's conversion is exercised
TTS_SECONDS_PER_CHARACTER = 0.15
TTS_PADDING_SECONDS = 0.1  # silence before and after the tones
TTS_MAX_CHARACTERS = 2000


def message_for(code: str) -> str:
    """The vendor's message for an envelope code."""
    if code == OK_CODE:
        return "成功"
    if code in ERROR_MESSAGES:
        return ERROR_MESSAGES[code]
    if code.isdigit() and int(code) in HTTPStatus._value2member_map_:
        return HTTPStatus(int(code)).phrase
    return "错误"


def envelope(
    code: str = OK_CODE, msg: str | None = None, data: Any = None, *, status: int = 200, total: int = 0
) -> Response:
    """The manual's response envelope; ``data`` defaults to the manual's empty list."""
    body = {
        "code": code,
        "msg": msg or message_for(code),
        "data": [] if data is None else data,
        "total": total,
    }
    response = jsonify(body)
    response.status_code = status
    return response


async def json_object() -> dict[str, Any]:
    """The request's JSON object body; an empty one when there is none or it is not an object."""
    body = await request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else {}


def _text(body: dict[str, Any], name: str) -> str | None:
    """A required String field: present, a string, not blank."""
    value = body.get(name)
    return value if isinstance(value, str) and value.strip() else None


async def _armed_failure(action: str) -> Response | None:
    """The answer an armed failure of ``action`` asks for, after its hang; None: answer normally."""
    failure = await armed_failure(action)
    if failure is None:
        return None
    if failure.status is not None:
        return envelope(str(failure.status), status=failure.status)
    if failure.code is not None:
        return envelope(failure.code)
    return None


def _invalid(code: str, problem: str) -> Response:
    """A parameter error: the vendor's message in the envelope, our detail in the record."""
    note(problem=problem)
    return envelope(code)


@blueprint.before_request
async def _authorize() -> Response | None:
    """``/api/*`` needs a valid bearer token (§1.4 认证方式)."""
    if not request.path.startswith(API_PREFIX):
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    sent = scheme.lower() == "bearer" and bool(token.strip())
    check = fake_state().tokens.check(token.strip()) if sent else "unknown"
    note(token_sent=sent, token_valid=check == "valid")
    if check == "valid":
        return None
    reason = {"expired": "令牌已过期 (access token expired)", "unknown": "令牌无效 (invalid access token)"}
    response = envelope("401", reason[check] if sent else "缺少令牌 (no bearer token)", status=401)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


@blueprint.post("/oauth/token")
async def token() -> Response:
    state = fake_state()
    body = await json_object()
    grant = body.get("grant_type")
    if grant == "password":
        problem = _password_grant_problem(body, state.credentials)
    elif grant == "refresh_token":
        valid = state.tokens.refreshable(str(body.get("refresh_token") or ""))
        problem = None if valid else "refresh_token 无效或已使用 (invalid or used refresh token)"
    else:
        note(problem=f"grant_type {grant!r}")
        return envelope("400", "不支持的 grant_type (use password or refresh_token)", status=400)
    if problem is not None:
        note(problem=problem)
        return envelope("401", problem, status=401)
    if (failed := await _armed_failure("token")) is not None:
        return failed
    pair = state.tokens.issue() if grant == "password" else state.tokens.redeem(body["refresh_token"])
    if pair is None:  # used by another request during an armed hang
        return envelope("401", "refresh_token 无效或已使用 (invalid or used refresh token)", status=401)
    return jsonify(
        {
            "token_type": "Bearer",
            "expires_in": f"{state.tokens.ttl_seconds:g}",
            "access_token": pair[0],
            "refresh_token": pair[1],
        }
    )


def _password_grant_problem(body: dict[str, Any], expected: Credentials) -> str | None:
    missing = [f for f in ("client_id", "client_secret", "username", "password") if not _text(body, f)]
    if missing:
        return f"缺少参数 (missing {', '.join(missing)})"
    if (body["client_id"], body["client_secret"]) != (expected.client_id, expected.client_secret):
        return "客户端认证失败 (wrong client_id or client_secret)"
    if (body["username"], body["password"]) != (expected.username, expected.password):
        return "用户名或密码错误 (wrong username or password)"
    return None


@blueprint.post("/api/v1/tts/synthesize")
async def tts() -> Response:
    text = _text(await json_object(), "text")
    if text is None:
        return _invalid(TTS_INVALID, "text must be a non-empty string")
    if (failed := await _armed_failure("tts")) is not None:
        return failed
    audio = await asyncio.to_thread(tone_wav, text)
    note(audio_bytes=len(audio))
    return envelope(
        data={"audio": base64.b64encode(audio).decode("ascii"), "format": "wav", "vendor": "jTTS"}
    )


@blueprint.post("/api/v1/call/transfer")
async def transfer() -> Response:
    problem = _transfer_problem(await json_object())
    if problem is not None:
        return _invalid(TRANSFER_INVALID, problem)
    failed = await _armed_failure("transfer")
    return failed if failed is not None else envelope()


def _transfer_problem(body: dict[str, Any]) -> str | None:
    if body.get("type") not in TRANSFER_TYPES:
        return f"type must be one of {', '.join(TRANSFER_TYPES)}, not {body.get('type')!r}"
    missing = [f for f in ("extension", "dest") if _text(body, f) is None]
    if missing:
        return f"{' and '.join(missing)} must be non-empty strings"
    parts = body["dest"].split(",")
    if body["type"] == "app" and (len(parts) != 3 or not all(p.strip() for p in parts)):
        return (
            f"an app transfer's dest is context,extension,priority (ext-queues,200,1), not {body['dest']!r}"
        )
    return None


@blueprint.post("/api/v1/call/hangup")
async def hangup() -> Response:
    if _text(await json_object(), "extension") is None:
        return _invalid(CALL_INVALID, "extension must be a non-empty string")
    failed = await _armed_failure("hangup")
    return failed if failed is not None else envelope()


@blueprint.post("/api/v1/call/dial")
async def dial() -> Response:
    body = await json_object()
    missing = [f for f in ("extension", "dest") if _text(body, f) is None]
    if missing:
        return _invalid(CALL_INVALID, f"{' and '.join(missing)} must be non-empty strings")
    uniqueid = f"hwd-{int(time.time())}.{next(fake_state().call_numbers)}"
    failed = await _armed_failure("dial")
    return failed if failed is not None else envelope(data={"uniqueid": uniqueid})


@blueprint.get("/api/v1/agent/getAgentStatus")
async def agent_status() -> Response:
    """§2.2.3: ``data`` is ``{queue: {extension: agent}}``; no parameter: every agent."""
    # The manual lists agentid, extension and queue as "请求 Body 参数" of this GET: the
    # query is read, and a JSON body too, for a client that sends them so.
    wanted = {k: str(v) for k, v in {**(await json_object()), **request.args.to_dict()}.items() if v}
    if (failed := await _armed_failure("agent_status")) is not None:
        return failed
    data: dict[str, dict[str, Any]] = {}
    for agent in fake_state().agents.agents.values():
        fields = {"agentid": agent.agentid, "extension": agent.extension, "queue": agent.group}
        if all(fields.get(k, v) == v for k, v in wanted.items()):
            data.setdefault(agent.group, {})[agent.extension] = agent.hwd()
    return envelope(data=data or None)


@blueprint.get("/api/v1/status/queue")
async def queue_status() -> Response:
    """§2.3.2: the agents of ``queue_num`` (required), their status as its name."""
    queue = request.args.get("queue_num", "").strip()
    if not queue:
        return _invalid(STATUS_INVALID, "queue_num is required")
    if (failed := await _armed_failure("queue_status")) is not None:
        return failed
    agents = fake_state().agents.in_queue(queue)
    return envelope(data=[a.hwd_queue() for a in agents], total=len(agents))


@blueprint.route("/api/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
async def unknown_api(rest: str) -> Response:
    return envelope("404", f"接口不存在 (the fake PBX has no {request.method} /api/{rest})", status=404)


def tone_wav(text: str) -> bytes:
    """A real WAV for ``text``: 16 kHz mono 16-bit, one short tone per character (its
    pitch from the character), so it lasts 0.15 s a character plus 0.2 s."""
    rate = TTS_SAMPLE_RATE
    t = np.arange(int(rate * TTS_SECONDS_PER_CHARACTER)) / rate
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms in and out: no clicks
    tones = [np.sin(2 * np.pi * (220 + ord(c) % 440) * t) * ramp for c in text[:TTS_MAX_CHARACTERS]]
    pad = np.zeros(int(rate * TTS_PADDING_SECONDS))
    samples = np.concatenate([pad, *tones, pad]) * (0.3 * 32767)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()
