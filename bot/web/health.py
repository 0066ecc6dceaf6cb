"""``/healthz``: 200 once every flow is loaded and its prompts rendered, else 503."""

from __future__ import annotations

from typing import Any

from quart import Blueprint

from bot.services import services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
async def healthz() -> tuple[dict[str, Any], int]:
    svc = services()
    body = {
        "status": "ok" if svc.ready else "starting",
        "flows": {s.name: s.version for s in svc.flow_sources.values()},
        "prompts_rendered": svc.prompts_rendered,
        "live_calls": await svc.sessions.count(),
        "startup_seconds": svc.startup_seconds,
    }
    return body, 200 if svc.ready else 503
