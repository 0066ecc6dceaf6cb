"""``/cti/ai``: the CTI's AI speech-interaction callback (protocols.md §1, GX CTI §52).

The answer is plain text and nothing else: a bare audio URL, ``continue``, or an
empty body after ``hungup``. Errors are short plain-text reasons with a 4xx status;
nothing the CTI sends may produce a 500.
"""

from __future__ import annotations

import logging

from quart import Blueprint, Response, request

from bot.config import Settings
from bot.cti.params import parse_params, read_callback
from bot.errors import VoicebotError
from bot.services import services
from bot.web.errors import status_of

logger = logging.getLogger(__name__)

blueprint = Blueprint("cti", __name__)
PLAIN_TEXT = "text/plain; charset=utf-8"
MAX_FORM_BYTES = 64 * 1024


@blueprint.route("/cti/ai", methods=["GET", "POST"])
async def ai_callback() -> Response:
    svc = services()
    body = b""
    if request.method == "POST":
        body = await request.get_data(cache=False, as_text=False, parse_form_data=False)
        if len(body) > MAX_FORM_BYTES:
            return _plain(f"form body larger than {MAX_FORM_BYTES} bytes", 413)
    callback = read_callback(
        parse_params(request.query_string, body), max_text_chars=svc.settings.max_text_chars
    )
    assert svc.turns is not None, "callbacks arrive only after start-up"
    answer = await svc.turns.handle(callback, audio_base_url=audio_base_url(svc.settings))
    return _plain(answer.body, 200)


def audio_base_url(settings: Settings) -> str:
    """Where the CTI downloads our audio: the configured public URL, else this request's host."""
    configured = settings.public_url
    if configured:
        return str(configured).rstrip("/")
    # Not request.host_url: it re-parses and IDNA-decodes the URL on every callback.
    return f"{request.scheme}://{request.host}"


@blueprint.errorhandler(VoicebotError)
async def _refused(exc: VoicebotError) -> Response:
    status, _ = status_of(exc)
    if status >= 500:
        logger.error("callback failed: %s", exc)
    return _plain(str(exc), status)


def _plain(text: str, status: int) -> Response:
    return Response(text, status=status, content_type=PLAIN_TEXT)
