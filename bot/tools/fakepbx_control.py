"""The fake PBX's own API, for tests and integrators: failures on demand, token
expiry, and the recording of every request (docs/tools.md, "The control API").

- ``POST /control/fail`` ``{"action", "status" | "code" | "hang", "times"}`` arms a
  failure; ``GET /control/fail`` lists the armed ones.
- ``POST /control/expire-tokens`` (``{"refresh_tokens": true}`` for those too).
- ``POST /control/agents`` ``{"all": "busy"}``, ``{"agents": {"8001": "free"}}``,
  ``{"queued": {"200": 3}}`` sets the agents' states (free, busy, away, offline) and
  the callers waiting per group; ``GET /control/agents`` lists them.
- ``POST /control/reset``: disarms every failure, clears the recording, and puts the
  agents back (8001 and 8002 in group 200, free; nobody waiting).
- ``GET /requests[?since=SEQ][&vendor=gx|hwd|control|other|robot]``, ``DELETE /requests``.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify, request

from bot.errors import FailureSpecError
from bot.tools.fakepbx_agents import STATES
from bot.tools.fakepbx_state import GX_ACTIONS, HWD_ACTIONS, Failure, action_list, fake_state

blueprint = Blueprint("fake_pbx_control", __name__)
MAX_HANG_SECONDS = 3600
VENDORS = ("gx", "hwd", "control", "other", "robot")  # robot: the batch calls' callbacks it sent


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


@blueprint.post("/control/fail")
async def arm_failure() -> Response:
    body = await request.get_json(force=True, silent=True)
    failure = parse_failure(body)  # a FailureSpecError is the app's 400 (bot.tools.fakepbx)
    state = fake_state()
    state.failures.arm(failure)
    return jsonify({"armed": state.failures.armed()})


@blueprint.get("/control/fail")
async def armed_failures() -> Response:
    return jsonify({"armed": fake_state().failures.armed()})


@blueprint.post("/control/expire-tokens")
async def expire_tokens() -> Response:
    body = await request.get_json(force=True, silent=True) or {}
    refresh_tokens = isinstance(body, dict) and body.get("refresh_tokens") is True
    expired = fake_state().tokens.expire_all(refresh_tokens=refresh_tokens)
    return jsonify({"expired": expired, "refresh_tokens": refresh_tokens})


@blueprint.post("/control/reset")
async def reset() -> Response:
    state = fake_state()
    state.failures.clear()
    state.agents.reset()
    state.batch.reset()
    cleared = state.recorder.clear()
    return jsonify({"disarmed": True, "cleared": cleared})


@blueprint.get("/control/agents")
async def agents() -> Response:
    return jsonify(fake_state().agents.as_json())


@blueprint.post("/control/agents")
async def set_agents() -> Response:
    body = await request.get_json(force=True, silent=True)
    changes = parse_agents(body)  # a FailureSpecError is the app's 400 (bot.tools.fakepbx)
    roster = fake_state().agents
    everyone, each, queued = changes
    for agent in roster.agents.values():
        agent.state = everyone or agent.state
    for extension, (agent_state, group) in each.items():
        roster.set(extension, agent_state, group)
    roster.queued.update(queued)
    return jsonify(roster.as_json())


AgentChanges = tuple[str | None, dict[str, tuple[str, str | None]], dict[str, int]]


def parse_agents(body: Any) -> AgentChanges:
    """What a ``/control/agents`` body asks: every agent's state, some agents' states
    (and groups), the callers waiting per group; FailureSpecError says what is wrong."""
    example = '{"all": "busy"}, {"agents": {"8001": "free"}} or {"queued": {"200": 3}}'
    if not isinstance(body, dict) or not body or set(body) - {"all", "agents", "queued"}:
        raise FailureSpecError(f"send a JSON object with all, agents or queued, e.g. {example}")
    everyone = body.get("all")
    if everyone is not None and everyone not in STATES:
        raise FailureSpecError(f"all must be one of {', '.join(STATES)}, not {everyone!r}")
    each: dict[str, tuple[str, str | None]] = {}
    for extension, value in _mapping(body, "agents").items():
        spec = value if isinstance(value, dict) else {"state": value}
        if spec.get("state") not in STATES or set(spec) - {"state", "group"}:
            raise FailureSpecError(
                f'agent {extension}: give a state ({", ".join(STATES)}) or {{"state": …, "group": …}}, '
                f"not {value!r}"
            )
        each[str(extension)] = (spec["state"], str(spec["group"]) if spec.get("group") else None)
    queued: dict[str, int] = {}
    for group, count in _mapping(body, "queued").items():
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1000:
            raise FailureSpecError(f"queued {group}: a number of waiting callers (0 to 1000), not {count!r}")
        queued[str(group)] = count
    return everyone, each, queued


def _mapping(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise FailureSpecError(f"{key} must be an object keyed by extension or group number, not {value!r}")
    return value


@blueprint.get("/requests")
async def recorded() -> Response:
    since = request.args.get("since", "0")
    vendor = request.args.get("vendor")
    if not (since.isascii() and since.isdigit()):
        return _error(400, f"since must be a request's seq (a whole number), not {since!r}")
    if vendor is not None and vendor not in VENDORS:
        return _error(400, f"vendor must be one of {', '.join(VENDORS)}, not {vendor!r}")
    return jsonify(fake_state().recorder.select(since=int(since), vendor=vendor))


@blueprint.delete("/requests")
async def clear_recording() -> Response:
    return jsonify({"cleared": fake_state().recorder.clear()})


@blueprint.get("/healthz")
async def health() -> Response:
    return jsonify({"status": "ok"})


def parse_failure(body: Any) -> Failure:
    """The failure a ``/control/fail`` body describes; FailureSpecError says what is wrong."""
    if not isinstance(body, dict):
        raise FailureSpecError('send a JSON object, e.g. {"action": "transfer", "code": "600006"}')
    unknown = set(body) - {"action", "status", "code", "hang", "times"}
    if unknown:
        raise FailureSpecError(f"unknown fields {sorted(unknown)}: use action, status, code, hang, times")
    action = str(body.get("action", "")).lower()
    if action not in GX_ACTIONS + HWD_ACTIONS:
        raise FailureSpecError(f"action must be one of {action_list()}, not {body.get('action')!r}")
    status, code = _status(body.get("status")), _code(body.get("code"), action)
    if status is not None and code is not None:
        raise FailureSpecError("give status or code, not both")
    hang = _number(body.get("hang", 0), "hang", 0, MAX_HANG_SECONDS)
    if status is None and code is None and not hang:
        raise FailureSpecError("give status (HTTP), code (HWD envelope) or hang (seconds)")
    times = body.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times < 0:
        raise FailureSpecError(f"times must be a whole number, 0 for until reset, not {times!r}")
    return Failure(action, status=status, code=code, hang_seconds=hang, times=times)


def _status(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 400 <= value <= 599:
        raise FailureSpecError(f"status must be an HTTP error status from 400 to 599, not {value!r}")
    return value


def _code(value: Any, action: str) -> str | None:
    if value is None:
        return None
    if action not in HWD_ACTIONS:
        raise FailureSpecError(f"code is an HWD envelope code; GX's {action} fails with a status")
    code = str(value)
    if not code.isascii() or not code.isdigit() or code == "200":
        raise FailureSpecError(f'code must be an error code such as "600006", not {value!r}')
    return code


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise FailureSpecError(f"{name} must be a number of seconds from {low:g} to {high:g}, not {value!r}")
    return float(value)
