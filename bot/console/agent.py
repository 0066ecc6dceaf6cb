"""The agent page of a handed-over call: in the console (``/console/agent/<call>``, any
logged-in user) and embeddable (``/agent/<call>?k=…``, the signed link of ``biz_data``;
no login, that call only).

Both show the same thing (``bot.agentscreen.screen.AgentScreen.view``) with the same
script (``static/agent.js``), and follow the call live through server-sent events: a
first event with the call as it is, then one at each change, and a comment every
``HEARTBEAT_SECONDS`` so that a proxy keeps the stream and a closed page is noticed.
The embeddable page may be framed by ``VOICEBOT_AGENT_FRAME_ANCESTORS``; it loads
nothing from another host and sends no referrer (its URL holds the key).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from quart import Blueprint, Response, render_template, request

from bot.agentscreen.links import LinkRefused
from bot.agentscreen.screen import AgentScreen
from bot.console.access import api, page
from bot.console.views import CSP, _page
from bot.errors import NotReadyError, RequestError
from bot.services import services
from bot.web.errors import json_error

logger = logging.getLogger(__name__)
blueprint = Blueprint("agent_pages", __name__, template_folder="templates")

HEARTBEAT_SECONDS = 15.0
EMBED_CSP = CSP.replace("frame-ancestors 'none'", "frame-ancestors {ancestors}")


@blueprint.after_request
async def _headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    if request.path.startswith("/agent/"):
        ancestors = services().settings.agent_frame_ancestors
        response.headers["Content-Security-Policy"] = EMBED_CSP.format(ancestors=ancestors)
        response.headers["Referrer-Policy"] = "no-referrer"
    else:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
    return response


def _screen() -> AgentScreen:
    screen = services().agent_screen
    if screen is None or services().calls is None:
        raise NotReadyError()
    return screen


# --- the embeddable page: a signed link, no login --------------------------------------


@blueprint.get("/agent/<call_id>")
async def embedded_page(call_id: str) -> Response:
    try:
        _screen().links.check(call_id, request.args.get("k", ""))
    except LinkRefused as refused:
        logger.warning("agent page of call %s refused: %s", call_id, refused.reason)
        body = await render_template("agent_refused.html", reason=refused.reason)
        return Response(body, status=403, content_type="text/html; charset=utf-8")
    key = request.args["k"]
    body = await render_template(
        "agent_embed.html",
        call_id=call_id,
        state_url=f"/agent/{_quoted(call_id)}/state?k={quote(key)}",
        events_url=f"/agent/{_quoted(call_id)}/events?k={quote(key)}",
    )
    return Response(body, content_type="text/html; charset=utf-8")


@blueprint.get("/agent/<call_id>/state")
async def embedded_state(call_id: str) -> Response:
    refused = _refused(call_id)
    return refused or Response(
        json.dumps(await _view(call_id), ensure_ascii=False), content_type="application/json"
    )


@blueprint.get("/agent/<call_id>/events")
async def embedded_events(call_id: str) -> Response:
    return _refused(call_id) or await _events(call_id)


def _refused(call_id: str) -> Response | None:
    try:
        _screen().links.check(call_id, request.args.get("k", ""))
    except LinkRefused as refused:
        return json_error(403, "link_refused", refused.reason)
    return None


# --- in the console --------------------------------------------------------------------


@blueprint.get("/console/agent/<call_id>")
@page
async def console_page(call_id: str) -> str:
    return await _page(
        "agent.html",
        "calls",
        call_id=call_id,
        state_url=f"/console/api/agent/{_quoted(call_id)}",
        events_url=f"/console/api/agent/{_quoted(call_id)}/events",
    )


@blueprint.get("/console/api/agent/<call_id>")
@api()
async def console_state(call_id: str) -> dict[str, Any]:
    return await _view(call_id)


@blueprint.get("/console/api/agent/<call_id>/events")
@api()
async def console_events(call_id: str) -> Response:
    return await _events(call_id)


# --- both ------------------------------------------------------------------------------


async def _view(call_id: str) -> dict[str, Any]:
    shown = await _screen().view(call_id)
    if shown is None:
        raise RequestError(f"no call {call_id!r}", status=404)
    return shown


async def _events(call_id: str) -> Response:
    screen = _screen()
    first = await _view(call_id)  # 404 before the stream opens

    async def stream() -> AsyncIterator[bytes]:
        async with screen.feed.listen(call_id) as listener:
            yield _event(first)
            while (changed := await listener.wait(HEARTBEAT_SECONDS)) is not False:
                if changed is None:
                    yield b": still here\n\n"
                    continue
                shown = await screen.view(call_id)
                if shown is not None:
                    yield _event(shown)

    response = Response(stream(), content_type="text/event-stream; charset=utf-8")
    response.timeout = None  # Quart's RESPONSE_TIMEOUT would cut a stream after a minute
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _quoted(call_id: str) -> str:
    return quote(call_id, safe="@")


def _event(shown: dict[str, Any]) -> bytes:
    return b"event: call\ndata: " + json.dumps(shown, ensure_ascii=False).encode() + b"\n\n"
