"""``GET /metrics``: the Prometheus text format.

What is a figure of a store rather than an event (live calls, the outbox, rows waiting
to be stored) is read when Prometheus scrapes, so no turn pays a round trip for it.
With ``VOICEBOT_METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer
<token>`` (Prometheus' ``authorization`` scrape setting); unset, the endpoint is open:
it holds counts by flow, intent, backend and outcome, nothing about a caller.

Under ``voicebot serve --workers N`` (``PROMETHEUS_MULTIPROC_DIR`` set) the answer is
the sum over every worker, read from their files; each instance on another machine is
scraped on its own (docs/metrics.md).
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from quart import Blueprint, Quart, Response, request

from bot import metrics
from bot.services import Services, services

logger = logging.getLogger(__name__)

blueprint = Blueprint("metrics", __name__)
_BEARER = "Bearer "
# The text format every Prometheus reads (our names are plain: nothing of 1.0.0's escaping applies).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@blueprint.get("/metrics")
async def scrape() -> Response:
    svc = services()
    token = svc.settings.metrics_token
    if token is not None and not _bearer_matches(token.get_secret_value()):
        metrics.count_refused("metrics_token")
        return Response(
            "send Authorization: Bearer <VOICEBOT_METRICS_TOKEN>",
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            content_type="text/plain; charset=utf-8",
        )
    await _read_stores(svc)
    body = await asyncio.to_thread(_exposition)  # the workers' files are read in multiprocess mode
    return Response(body, status=200, content_type=CONTENT_TYPE)


def install(app: Quart) -> None:
    """Serve ``/metrics`` (the CTI's callbacks are counted by the edge, bot/web/edge.py)."""
    app.register_blueprint(blueprint)


def _bearer_matches(token: str) -> bool:
    given = request.headers.get("Authorization", "")
    if not given.startswith(_BEARER):
        return False
    return hmac.compare_digest(given[len(_BEARER) :].strip().encode(), token.encode())


async def _read_stores(svc: Services) -> None:
    """The gauges of what the stores hold now; a store that cannot say leaves its gauge as it was."""
    metrics.READY.set(1 if svc.ready else 0)
    transcripts, sessions = svc.transcripts, svc.sessions
    metrics.STORAGE_UNWRITTEN_ROWS.labels("transcripts").set(transcripts.unwritten_rows)
    metrics.STORAGE_FAILING.labels("transcripts").set(transcripts.write_error is not None)
    metrics.STORAGE_FAILING.labels("sessions").set(sessions.write_error is not None)
    if not svc.ready:
        return
    try:
        metrics.LIVE_CALLS.set(await sessions.count_live())
        if svc.outcomes is not None:
            stats = await svc.outcomes.outbox.stats()
            for state in ("pending", "delivered", "rejected"):
                metrics.OUTBOX_PUSHES.labels(state).set(stats[state])
            metrics.OUTBOX_OLDEST_PENDING_SECONDS.set(stats["oldest_pending_seconds"] or 0.0)
    except Exception as exc:  # the figures of the other stores are still worth serving
        logger.warning("metrics: a store could not be read: %s", exc)


def _exposition() -> bytes:
    directory = metrics.multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
