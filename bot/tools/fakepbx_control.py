"""The fake PBX's own API, for tests and integrators: failures on demand, token
expiry, and the recording of every request (docs/tools.md, "The control API").

- ``POST /control/fail`` ``{"action", "status" | "code" | "hang", "times"}`` arms a
  failure; ``GET /control/fail`` lists the armed ones.
- ``POST /control/expire-tokens`` (``{"refresh_tokens": true}`` for those too).
- ``POST /control/reset``: disarms every failure and clears the recording.
- ``GET /requests[?since=SEQ][&vendor=gx|hwd|control|other]``, ``DELETE /requests``.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify, request

from bot.errors import FailureSpecError
from bot.tools.fakepbx_state import GX_ACTIONS, HWD_ACTIONS, Failure, action_list, fake_state

blueprint = Blueprint("fake_pbx_control", __name__)
MAX_HANG_SECONDS = 3600
VENDORS = ("gx", "hwd", "control", "other")


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


@blueprint.post("/control/fail")
async def arm_failure() -> Response:
    body = await request.get_json(force=True, silent=True)
    try:
        failure = parse_failure(body)
    except FailureSpecError as exc:
        return _error(exc.status, str(exc))
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
    cleared = state.recorder.clear()
    return jsonify({"disarmed": True, "cleared": cleared})


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
