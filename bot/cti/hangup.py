"""``/cti/hangup``: the CTI's hang-up push (protocols.md §4, GX §41).

``business=robot``: a robot call ended; if its ``hungup`` callback was missed, this
closes it (a transfer or hang-up still waiting for its announcement is dropped). The
other pushes (``voicemail`` with the recording's path, ``queue`` with the wait) are
recorded with the call. Every push is kept once per call and business: the CTI may
repeat one, and the answer is the same ``ok``.
"""

from __future__ import annotations

import logging

from quart import Blueprint, Response, request

from bot.cti.params import Params, parse_params, read_form_body
from bot.errors import NotReadyError, RequestError
from bot.logs import set_call_id
from bot.services import Services, services
from bot.web.errors import PLAIN_TEXT
from bot.web.openapi import DataSource, Text, documented
from bot.web.schemas import HangupPush

logger = logging.getLogger(__name__)
blueprint = Blueprint("cti_hangup", __name__)
PATH = "/cti/hangup"
MAX_FORM_BYTES = 16 * 1024
MAX_VALUE_CHARS = 512


@blueprint.route(PATH, methods=["GET", "POST"])
@documented(
    "The CTI's hang-up push",
    tag="cti",
    description="business=robot closes a robot call whose hungup callback was missed; other pushes "
    "(voicemail, queue) are recorded with the call. A repeated push is answered the same. Parameters "
    "in the query string or a form body (UTF-8 or GBK).",
    query=HangupPush,
    body=HangupPush,
    body_source=DataSource.FORM,
    texts={200: Text("Recorded.", example="ok")},
    errors=(400, 403, 413, 503),
    security="cti",
)
async def hangup_push() -> Response:
    raw = parse_params(request.query_string, await read_form_body(MAX_FORM_BYTES))
    return Response(await record(services(), raw), status=200, content_type=PLAIN_TEXT)


async def record(svc: Services, raw: Params) -> str:
    """Record the push of ``raw`` parameters and close its robot call; the answer's text.
    Also served by the edge's fast endpoint (:mod:`bot.cti.fast`).

    Raises:
        RequestError: no ``callid``.
        NotReadyError: before start-up has finished.
    """
    params = {name: value[:MAX_VALUE_CHARS] for name, (value, _encoding) in raw.items()}
    call_id = params.get("callid", "").strip()
    if not call_id:
        raise RequestError("callid is required")
    set_call_id(call_id)
    business = params.get("business", "").strip() or "unknown"
    if svc.calls is None:
        raise NotReadyError()
    new = await svc.transcripts.record_push(call_id, business, params)
    if business == "robot":
        closed = await svc.calls.hangup_pushed(call_id, params.get("caller"))
        logger.info(
            "hang-up push for robot call %s: %s", call_id, "closed it" if closed else "already closed"
        )
    else:
        logger.info("hang-up push %s for call %s%s", business, call_id, "" if new else " (repeated)")
    return "ok"
