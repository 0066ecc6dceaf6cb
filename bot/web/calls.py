"""``/calls``: transcripts of calls, for people and for systems.

Phone and ID numbers are masked in every answer (``138****5678``). An admin may ask
for one call's numbers with ``/calls/<id>?reveal=1``; each reveal is logged with who
asked and for which call, never with the numbers. ``/calls/<id>/recording`` streams
the CTI's recording of the call (GX §52.4) to an admin, logged the same way.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, abort, request

from bot.errors import PBXError, PBXRejectedError
from bot.privacy import mask_json
from bot.services import services
from bot.web.auth import log_reveal, require
from bot.web.errors import json_error
from bot.web.openapi import documented
from bot.web.query import whole_number
from bot.web.schemas import CallDetail, CallList, CallQuery, CallsQuery

blueprint = Blueprint("calls", __name__)
MAX_LIMIT = 1000


@blueprint.get("/calls")
@documented(
    "Recent calls, newest first",
    tag="calls",
    description="Numbers masked. Any principal (a viewer) may read.",
    query=CallsQuery,
    responses={200: CallList},
    errors=(400, 401, 403),
    security="admin",
)
async def recent_calls() -> dict[str, Any]:
    limit = whole_number(request.args.get("limit", "50"), "limit", 1, MAX_LIMIT)
    return {"calls": [masked(call) for call in await services().transcripts.recent_calls(limit)]}


@blueprint.get("/calls/<path:call_id>")
@documented(
    "One call's transcript",
    tag="calls",
    description="Every turn (intent, confidence, step, reply, audio URL, PBX exchanges), the outcome, end "
    "reason, grade, variables, the CTI's hang-up pushes and its call records joined to the call (GX §31: "
    "talk time, who hung up, the agent of a transfer). Numbers masked unless an admin asks reveal=1.",
    query=CallQuery,
    responses={200: CallDetail},
    errors=(401, 403, 404),
    security="admin",
)
async def call(call_id: str) -> dict[str, Any]:
    reveal = request.args.get("reveal", "") in ("1", "true")
    principal = require("admin") if reveal else None  # reading itself: bot.web.auth's guard
    transcripts = services().transcripts
    found = await transcripts.get_call(call_id)
    pushes = await transcripts.pushes(call_id)
    slack_ms = services().settings.call_record_join_slack_ms
    records = await transcripts.call_records(call_id, slack_ms=slack_ms)  # GX §31, joined now
    if found is None and not pushes and not records:
        abort(404, description=f"no call {call_id!r}")
    whole = {
        **(found or {"callid": call_id}),
        "hangup_pushes": pushes,
        "call_records": records,
        "recording_url": recording_url(found),
    }
    if principal is None:
        return masked(whole)
    log_reveal(principal, call_id)
    return whole


@blueprint.get("/calls/<path:call_id>/recording")
@documented(
    "One call's recording, from the CTI",
    tag="calls",
    description="The CTI's recording of a robot call (GX manual §52.4), streamed through this service for "
    "people who cannot reach the CTI; a Range header is passed on. Admins only; each download is logged. "
    "404 when the call is unknown, has no recording (a test call, not a GX CTI) or the CTI has none yet; "
    "502 when the CTI fails.",
    errors=(401, 403, 404, 502),
    security="admin",
)
async def recording(call_id: str) -> Response:
    principal = require("admin")
    svc = services()
    found = await svc.transcripts.get_call(call_id)
    if found is None:
        abort(404, description=f"no call {call_id!r}")
    if svc.recordings is None or found.get("test"):
        abort(404, description=f"call {call_id!r} has no recording: " + _why_none(found))
    try:
        download = await svc.recordings.fetch(call_id, request.headers)
    except PBXError as exc:
        if isinstance(exc, PBXRejectedError) and exc.code == "404":
            abort(
                404,
                description=f"the CTI has no recording of call {call_id!r} (it has one once the call ends)",
            )
        return json_error(502, "cti_failed", f"the CTI's recording download failed: {exc}")
    log_reveal(principal, call_id, what="recording")
    return Response(download.body, status=download.status, headers=download.headers)


def recording_url(call: dict[str, Any] | None) -> str | None:
    """Where the CTI serves the call's recording, or None (no such call, a test call, not a GX CTI)."""
    recordings = services().recordings
    if call is None or recordings is None or call.get("test"):
        return None
    return recordings.url(call["callid"])


def _why_none(call: dict[str, Any]) -> str:
    if call.get("test"):
        return "a test call from the console is never recorded by the CTI"
    return "recordings come from a GX CTI (VOICEBOT_PBX=gx, or VOICEBOT_GX_RECORDING_URL)"


def masked(call: dict[str, Any]) -> dict[str, Any]:
    """A call as the API shows it with its numbers masked; its id stays as it is, the key
    to everything else about the call."""
    return {**mask_json(call), "callid": call["callid"]}
