"""``/healthz``: 200 once every flow is loaded and its prompts rendered, else 503.

``flow_errors`` lists the problems of flow edits that were rejected while running (the
previous version of those flows stays live); the status stays 200 with them.
``outcomes`` counts the outcome outbox's pushes by state, with the age of the oldest
pending one (docs/outcomes.md); ``null`` when ``VOICEBOT_OUTCOME_URL`` is unset.
``storage`` says whether transcripts and live calls' states are being stored: while
the disk (or Redis) refuses them the status is ``storage_failing`` and the answer 503;
the turns and states wait in memory (``unwritten_rows``) and are stored once it
accepts them again.
``tasks`` counts the event loop's tasks (the benchmarks' soak watches it for growth).
"""

from __future__ import annotations

import asyncio
from typing import Any

from quart import Blueprint

from bot.services import services
from bot.web.openapi import documented
from bot.web.schemas import Health

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
@documented(
    "Readiness and storage health",
    tag="health",
    description="200 once flows and the knowledge base are loaded and every prompt is rendered; 503 while "
    "starting or while transcripts cannot be written (storage_failing).",
    responses={200: Health, 503: Health},
)
async def healthz() -> tuple[dict[str, Any], int]:
    svc = services()
    live = svc.flows or svc.flow_sources.values()
    transcripts = svc.transcripts
    storing = transcripts.write_error is None and svc.sessions.write_error is None
    status = "starting" if not svc.ready else "ok" if storing else "storage_failing"
    body = {
        "status": status,
        "flows": {flow.name: flow.version for flow in live},
        "flow_errors": svc.flow_errors,
        "prompts_rendered": svc.prompts_rendered,
        "knowledge_entries": len(svc.knowledge.base),
        "live_calls": await svc.sessions.count(),
        "tasks": len(asyncio.all_tasks()),
        "startup_seconds": svc.startup_seconds,
        "outcomes": await svc.outcomes.outbox.stats() if svc.outcomes and svc.ready else None,
        "storage": {
            "transcripts": transcripts.write_error or "ok",
            "unwritten_rows": transcripts.unwritten_rows,
            "lost_rows": transcripts.lost_rows,
            "sessions": svc.sessions.write_error or "ok",
        },
    }
    return body, 200 if status == "ok" else 503
