"""``/calls``: transcripts of calls, for people and for systems.

Phone and ID numbers are masked in every answer (``138****5678``). An admin may ask
for one call's numbers with ``/calls/<id>?reveal=1``; each reveal is logged with who
asked and for which call, never with the numbers.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, abort, request

from bot.privacy import mask_json
from bot.services import services
from bot.web.auth import log_reveal, require
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
    "reason, grade, variables and the CTI's hang-up pushes. Numbers masked unless an admin asks reveal=1.",
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
    if found is None and not pushes:
        abort(404, description=f"no call {call_id!r}")
    whole = {**(found or {"callid": call_id}), "hangup_pushes": pushes}
    if principal is None:
        return masked(whole)
    log_reveal(principal, call_id)
    return whole


def masked(call: dict[str, Any]) -> dict[str, Any]:
    """A call as the API shows it with its numbers masked; its id stays as it is, the key
    to everything else about the call."""
    return {**mask_json(call), "callid": call["callid"]}
