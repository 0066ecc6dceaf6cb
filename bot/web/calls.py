"""``/calls``: transcripts of calls, for people and for systems."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, abort, request

from bot.services import services

blueprint = Blueprint("calls", __name__)
MAX_LIMIT = 1000


@blueprint.get("/calls")
async def recent_calls() -> dict[str, Any]:
    raw = request.args.get("limit", "50")
    digits = raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_LIMIT))  # int() refuses 5,000 digits
    if not digits or not 1 <= int(raw) <= MAX_LIMIT:
        abort(400, description=f"limit must be a whole number from 1 to {MAX_LIMIT}")
    limit = int(raw)
    return {"calls": await services().transcripts.recent_calls(limit)}


@blueprint.get("/calls/<path:call_id>")
async def call(call_id: str) -> dict[str, Any]:
    transcripts = services().transcripts
    found = await transcripts.get_call(call_id)
    pushes = await transcripts.pushes(call_id)
    if found is None and not pushes:
        abort(404, description=f"no call {call_id!r}")
    return {**(found or {"callid": call_id}), "hangup_pushes": pushes}
