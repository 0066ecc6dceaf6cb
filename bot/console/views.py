"""``/console``: the pages and the JSON API their scripts call.

Pages are server-rendered templates with one script each (``static/``); every asset is
in the package and the Content-Security-Policy allows this origin only, so a console
page can request nothing from any other host (call centers' machines often have no
internet). The API is under ``/console/api/``: reads for any logged-in user, changes
with the session's ``X-CSRF-Token`` (checked by ``bot.web.auth``), revealing numbers
for admins only. Knowledge entries are edited through the knowledge admin API itself
(``/kb/entries/<id>``), which admits admins' sessions.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import Any

from quart import Blueprint, Quart, Response, redirect, render_template, request, session

from bot.config import Settings
from bot.console import calls as shown_calls
from bot.console import dashboard, flows, trycall
from bot.console.access import (
    EXTENSION_KEY,
    LOGIN_PATH,
    ConsoleAccess,
    api,
    console_access,
    page,
    safe_next,
)
from bot.console.users import UsersFile, users_path
from bot.errors import RequestError
from bot.services import services
from bot.web.auth import log_reveal, require, verified_principal
from bot.web.calls import recording_url
from bot.web.query import whole_number
from knowledge.web import search_result

logger = logging.getLogger(__name__)

blueprint = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def install(app: Quart, settings: Settings) -> None:
    """Serve the console from ``app``, its users from ``VOICEBOT_CONSOLE_USERS``."""
    app.extensions[EXTENSION_KEY] = ConsoleAccess(UsersFile(users_path(settings)))
    app.register_blueprint(blueprint)


MAX_BODY_BYTES = 16 * 1024
MAX_CALLS_LISTED = 1000
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PAGES = {
    "calls": "Calls",
    "try": "Try a flow",
    "flows": "Flows",
    "knowledge": "Knowledge",
    "campaigns": "Campaigns",
    "dashboard": "Dashboard",
}


@blueprint.after_request
async def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if not request.path.startswith("/console/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


# --- logging in and out ------------------------------------------------------------


@blueprint.get("/login")
async def login_form() -> Any:
    if await verified_principal() is not None:
        return redirect(safe_next(request.args.get("next")))
    return await _login_page()


async def _login_page(
    error: str | None = None, status: int = 200, name: str = "", target: str | None = None
) -> Response:
    token = secrets.token_urlsafe(32)
    session["login_csrf"] = token
    target = safe_next(target or request.args.get("next"))
    body = await render_template("login.html", csrf=token, error=error, name=name, next=target)
    return Response(body, status=status, content_type="text/html; charset=utf-8")


@blueprint.post("/login")
async def login() -> Any:
    form = await request.form
    name, password, target = form.get("name", "").strip(), form.get("password", ""), form.get("next")
    expected = session.get("login_csrf")
    if not isinstance(expected, str) or not secrets.compare_digest(form.get("csrf", ""), expected):
        return await _login_page("The form expired: log in again.", 403, name, target)
    access = console_access()
    keys = (f"name:{name.lower()}", f"address:{request.remote_addr or '?'}")
    wait = access.throttle.wait_seconds(*keys)
    if wait > 0:
        minutes = max(1, round(wait / 60))
        response = await _login_page(f"Too many failed logins: wait {minutes} minutes.", 429, name, target)
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    if not name or not password or len(password) > 1024:
        user = None
    else:
        user = await asyncio.to_thread(access.users.authenticate, name, password)
    if user is None:
        access.throttle.failed(*keys)
        logger.warning("console login refused for %r", name[:64])
        return await _login_page("Wrong name or password.", 401, name, target)
    access.throttle.succeeded(keys[0])
    session.clear()
    session.permanent = True
    session["user"], session["role"], session["csrf"] = user.name, user.role, secrets.token_urlsafe(32)
    logger.info("console login: %s (%s)", user.name, user.role)
    return redirect(safe_next(target), 303)


@blueprint.post("/logout")
async def logout() -> Any:
    found = await verified_principal()  # with its CSRF token: another site cannot log anyone out
    session.clear()
    if found is not None:
        logger.info("console logout: %s", found.name)
    return {"ok": True, "login": LOGIN_PATH}


# --- pages -------------------------------------------------------------------------


async def _page(template: str, active: str, **context: Any) -> str:
    found = await verified_principal()
    assert found is not None
    return await render_template(
        template,
        user=found.name,
        role=found.role,
        csrf=session.get("csrf", ""),
        pages=PAGES,
        active=active,
        title=PAGES.get(active, active),
        **context,
    )


@blueprint.get("/")
@blueprint.get("")
@page
async def home() -> Any:
    return redirect("/console/calls")


@blueprint.get("/calls")
@page
async def calls_page() -> str:
    svc = services()
    names = svc.flows.names() if svc.flows else sorted(svc.flow_sources)
    return await _page("calls.html", "calls", flows=sorted(names))


@blueprint.get("/calls/<path:call_id>")
@page
async def call_page(call_id: str) -> str:
    return await _page("call.html", "calls", call_id=call_id)


@blueprint.get("/try")
@page
async def try_page() -> str:
    svc = services()
    names = sorted(svc.flows.names()) if svc.flows else []
    return await _page(
        "try.html", "try", flows=names, default_flow=svc.settings.default_flow, telnum=trycall.DEFAULT_TELNUM
    )


@blueprint.get("/campaigns")
@page
async def campaigns_page() -> str:
    svc = services()
    names = sorted(svc.flows.names()) if svc.flows else []
    return await _page("campaigns.html", "campaigns", flows=names, runs=svc.settings.pbx == "gx")


@blueprint.get("/flows")
@page
async def flows_page() -> str:
    return await _page("flows.html", "flows", flows=flows.flow_list(services()))


@blueprint.get("/flows/<name>")
@page
async def flow_page(name: str) -> str:
    listed = {f["name"]: f for f in flows.flow_list(services())}
    if name not in listed:
        raise RequestError(f"no flow {name!r}", status=404)
    return await _page("flow.html", "flows", flow=listed[name])


@blueprint.get("/knowledge")
@page
async def knowledge_page() -> str:
    return await _page("knowledge.html", "knowledge")


@blueprint.get("/dashboard")
@page
async def dashboard_page() -> str:
    return await _page("dashboard.html", "dashboard")


# --- the API -------------------------------------------------------------------------


@blueprint.get("/api/calls")
@api()
async def api_calls() -> dict[str, Any]:
    args = request.args
    limit = whole_number(args.get("limit", "100"), "limit", 1, MAX_CALLS_LISTED)
    kind = args.get("kind", "all")
    if kind not in shown_calls.KINDS:
        raise RequestError(f'"kind" must be one of {", ".join(shown_calls.KINDS)}')
    filters = {"flow": args.get("flow", ""), "outcome": args.get("outcome", ""), "kind": kind}
    text = args.get("q", "").strip()[:100]
    filtered = any(value != "all" and value for value in filters.values()) or text
    recent = await services().transcripts.recent_calls(MAX_CALLS_LISTED if filtered else limit)
    picked = [c for c in recent if shown_calls.matches(c, text=text, **filters)][:limit]
    return {"calls": [shown_calls.shown(c, reveal=False) for c in picked], "now": time.time()}


async def _call(call_id: str) -> dict[str, Any]:
    transcripts = services().transcripts
    found = await transcripts.get_call(call_id)
    pushes = await transcripts.pushes(call_id)
    if found is None and not pushes:
        raise RequestError(f"no call {call_id!r}", status=404)
    whole = {**(found or {"callid": call_id, "turns": []}), "hangup_pushes": pushes}
    return {**whole, "recording_url": recording_url(found)}


@blueprint.get("/api/calls/<path:call_id>")
@api()
async def api_call(call_id: str) -> dict[str, Any]:
    return shown_calls.shown(await _call(call_id), reveal=False)


@blueprint.post("/api/calls/<path:call_id>/reveal")
@api("admin")
async def api_reveal(call_id: str) -> dict[str, Any]:
    call = await _call(call_id)
    log_reveal(require("admin"), call_id)
    return shown_calls.shown(call, reveal=True)


@blueprint.post("/api/try")
@api()
async def api_place() -> dict[str, Any]:
    body = await _json_body()
    flow = body.get("flow", services().settings.default_flow)
    telnum = body.get("telnum", "")
    if not isinstance(flow, str) or not isinstance(telnum, str):
        raise RequestError('"flow" and "telnum" must be strings')
    return await trycall.place(services(), flow, telnum)


@blueprint.post("/api/try/<call_id>")
@api()
async def api_act(call_id: str) -> dict[str, Any]:
    body = await _json_body()
    event, text = body.get("event"), body.get("text", "")
    if not isinstance(event, str) or not isinstance(text, str):
        raise RequestError('"event" and "text" must be strings')
    return await trycall.act(services(), call_id, trycall.TestEvent(event, text))


@blueprint.get("/api/flows/check")
@api()
async def api_flows_check() -> dict[str, Any]:
    return await flows.check(services())


@blueprint.get("/api/flows/<name>/graph.svg")
@api()
async def api_flow_graph(name: str) -> Response:
    svg = await console_access().pictures.svg(services(), name)
    return Response(svg, content_type="image/svg+xml; charset=utf-8")


@blueprint.post("/api/flows/<name>/test")
@api()
async def api_flow_test(name: str) -> dict[str, Any]:
    return await flows.run_tests(services(), name, console_access().test_run)


@blueprint.get("/api/kb/search")
@api()
async def api_kb_search() -> dict[str, Any]:
    svc = services()
    query = request.args.get("q", "")
    if not query.strip():
        raise RequestError('"q" is required: the question to search for')
    if len(query) > svc.settings.max_text_chars:
        raise RequestError(f'"q" longer than {svc.settings.max_text_chars} characters')
    limit = whole_number(request.args.get("limit", "10"), "limit", 1, 50)
    knowledge = svc.knowledge
    if not knowledge.ready:
        raise RequestError("the knowledge base is loading; try again in a moment", status=503)
    hits = knowledge.search(query, limit)
    reply = knowledge.preview(query)
    return {
        "results": [search_result(hit.entry, round(hit.score, 3)) for hit in hits],
        "reply": reply.document(),
        "policy": {
            "answer_score": knowledge.policy.answer_score,
            "clarify_score": knowledge.policy.clarify_score,
        },
    }


@blueprint.get("/api/dashboard")
@api()
async def api_dashboard() -> dict[str, Any]:
    svc = services()
    hours = whole_number(request.args.get("hours", "24"), "hours", 1, dashboard.MAX_HOURS)
    include_test = request.args.get("test", "") in ("1", "true")
    since = time.time() - hours * 3600
    found = await svc.transcripts.calls_since(since, dashboard.MAX_CALLS)
    figures = await asyncio.to_thread(
        dashboard.summarize,
        found,
        since=since,
        hours=hours,
        timezone=svc.settings.timezone,
        include_test=include_test,
    )
    figures["not_found"] = [{"question": q, "count": n} for q, n in svc.knowledge.misses.top(15)]
    return figures


async def _json_body() -> dict[str, Any]:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise RequestError(f"body larger than {MAX_BODY_BYTES} bytes", status=413)
    raw = await request.get_data(as_text=False, cache=False, parse_form_data=False)
    if len(raw) > MAX_BODY_BYTES:
        raise RequestError(f"body larger than {MAX_BODY_BYTES} bytes", status=413)
    try:
        body = json.loads(raw.decode("utf-8")) if raw else {}
    except (ValueError, RecursionError) as exc:
        raise RequestError("the body is not a JSON object") from exc
    if not isinstance(body, dict):
        raise RequestError("the body is not a JSON object")
    return body
