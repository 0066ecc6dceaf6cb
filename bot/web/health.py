"""``/healthz``: 200 once every flow is loaded and its prompts rendered, else 503.

``flow_errors`` lists the problems of flow edits that were rejected while running (the
previous version of those flows stays live); the status stays 200 with them.
``outcomes`` counts the outcome outbox's pushes by state, with the age of the oldest
pending one (docs/outcomes.md); ``null`` when ``VOICEBOT_OUTCOME_URL`` is unset.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint

from bot.services import services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
async def healthz() -> tuple[dict[str, Any], int]:
    svc = services()
    live = svc.flows or svc.flow_sources.values()
    body = {
        "status": "ok" if svc.ready else "starting",
        "flows": {flow.name: flow.version for flow in live},
        "flow_errors": svc.flow_errors,
        "prompts_rendered": svc.prompts_rendered,
        "knowledge_entries": len(svc.knowledge.base),
        "live_calls": await svc.sessions.count(),
        "startup_seconds": svc.startup_seconds,
        "outcomes": await svc.outcomes.outbox.stats() if svc.outcomes and svc.ready else None,
    }
    return body, 200 if svc.ready else 503
