"""``/cti/agent-speech``: the CTI's live transcript of an agent's call (GX manual §54).

The CTI sends one GET per sentence with ``caller``, ``callee`` (the agent's call's
numbers), ``callid`` (the callee's call id), ``caller-callid`` (the caller's), ``side``
(``caller`` or ``callee``: whose words) and ``txt`` (URL-encoded UTF-8; GBK and a form
body are read too, as on every CTI endpoint). The manual presents it for watching what
agents say; ``side`` names either party, and whatever side the CTI sends is taken.

A line is matched to the robot call handed over to that agent (``bot.agentscreen``):
stored as an ``agent_speech`` turn and shown on the agent page. The answer is quick
and plain text: ``ok`` (matched) or ``unmatched`` (no robot call was handed over to
that number within ``VOICEBOT_AGENT_SPEECH_WINDOW_MS``: dropped), both 200, so that
the CTI never sends it again; a line without its fields is 400 with the reason.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote

from quart import Blueprint, Response, request

from bot.agentscreen.screen import SpeechLine
from bot.cti.params import parse_params, read_form_body
from bot.errors import NotReadyError, RequestError
from bot.logs import set_call_id
from bot.privacy import mask_text
from bot.services import services
from bot.web.errors import PLAIN_TEXT
from bot.web.openapi import DataSource, Text, documented
from bot.web.schemas import AgentSpeechPush

logger = logging.getLogger(__name__)
blueprint = Blueprint("cti_agent_speech", __name__)
MAX_FORM_BYTES = 16 * 1024
MAX_VALUE_CHARS = 256
SIDES = ("caller", "callee")


@blueprint.route("/cti/agent-speech", methods=["GET", "POST"])
@documented(
    "The CTI's live transcript of an agent's call",
    tag="cti",
    description="GX manual §54: one sentence of a call an agent is on (side=caller|callee, txt "
    "URL-encoded UTF-8, or GBK). Matched to the robot call handed over to that number "
    "(VOICEBOT_AGENT_SPEECH_WINDOW_MS), stored as an agent_speech turn and pushed to the call's agent "
    "page. ok: matched; unmatched: no such robot call, dropped. Both 200.",
    query=AgentSpeechPush,
    body=AgentSpeechPush,
    body_source=DataSource.FORM,
    texts={200: Text("Stored (ok) or matched to no robot call (unmatched).", example="ok")},
    errors=(400, 403, 413, 503),
    security="cti",
)
async def agent_speech_push() -> Response:
    svc = services()
    line = read_line(
        parse_params(request.query_string, await read_form_body(MAX_FORM_BYTES)), svc.settings.max_text_chars
    )
    if svc.calls is None or svc.agent_screen is None:
        raise NotReadyError()
    try:
        call_id = await svc.agent_screen.hear(line)
    except Exception:  # the store or Redis failing: the CTI is told, never with a 5xx of ours
        logger.exception("a live line (%s) could not be stored", line.side)
        return Response("not stored", status=503, content_type=PLAIN_TEXT)
    if call_id is None:
        logger.info(
            "live line (%s) of %s → %s matches no robot call handed over: dropped",
            line.side,
            mask_text(line.caller),
            mask_text(line.callee),
        )
        return Response("unmatched", status=200, content_type=PLAIN_TEXT)
    set_call_id(call_id)
    logger.info("live line (%s) stored with robot call %s", line.side, call_id)
    return Response("ok", status=200, content_type=PLAIN_TEXT)


def read_line(params: dict[str, tuple[str, str]], max_text_chars: int) -> SpeechLine:
    """A §54 push's parameters as a :class:`SpeechLine`.

    Raises:
        RequestError: ``txt`` is missing or empty, ``side`` is not ``caller`` or
            ``callee``, both numbers are missing, or a value has control characters.
    """
    values = {name: value.strip() for name, (value, _encoding) in params.items()}
    text = values.get("txt", "")
    if not text:
        raise RequestError("txt is required: the words, URL-encoded UTF-8 (GX §54)")
    side = values.get("side", "")
    if side not in SIDES:
        raise RequestError(f"side must be caller or callee (GX §54), not {side[:20]!r}")
    caller, callee = values.get("caller", ""), values.get("callee", "")
    if not caller and not callee:
        raise RequestError("caller and callee are required: the numbers the line is matched by")
    ids = tuple(
        unquote(values[name])[:MAX_VALUE_CHARS] for name in ("caller-callid", "callid") if values.get(name)
    )
    for name, value in (("caller", caller), ("callee", callee), *(("callid", i) for i in ids)):
        if len(value) > MAX_VALUE_CHARS or not value.isprintable():
            raise RequestError(
                f"{name} is longer than {MAX_VALUE_CHARS} characters or has control characters"
            )
    return SpeechLine(
        caller=caller,
        callee=callee,
        side="caller" if side == "caller" else "callee",
        # Cut, not refused: the CTI sends no line twice. Control characters (a NUL no
        # database keeps as text) become spaces.
        text="".join(c if c.isprintable() else " " for c in text[:max_text_chars]),
        cti_ids=ids,
        encoding=params["txt"][1],
    )
