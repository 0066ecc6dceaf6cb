"""``/cti/ai``: the CTI's AI speech-interaction callback (protocols.md §1, GX CTI §52).

The answer is plain text and nothing else: a bare audio URL, ``continue``, or an
empty body after ``hungup``. Errors are short plain-text reasons with a 4xx status;
nothing the CTI sends may produce a 500.
"""

from __future__ import annotations

from quart import Blueprint, Response, request

from bot.config import Settings
from bot.cti.answers import CtiAudioLinks
from bot.cti.params import parse_params, read_callback, read_form_body
from bot.errors import NotReadyError
from bot.logs import set_call_id
from bot.services import services
from bot.web.errors import PLAIN_TEXT
from bot.web.openapi import DataSource, Text, documented
from bot.web.schemas import AiCallback

blueprint = Blueprint("cti", __name__)
PATH = "/cti/ai"
MAX_FORM_BYTES = 64 * 1024


@blueprint.route(PATH, methods=["GET", "POST"])
@documented(
    "The CTI's AI speech callback",
    tag="cti",
    description="One turn of a robot call: connected (ready2speak), what the caller said, a barge-in "
    "(playing=true) or the hang-up (hungup). Parameters in the query string or a form body, UTF-8 or "
    "GBK, percent-encoded or not (docs/cti.md).",
    query=AiCallback,
    body=AiCallback,
    body_source=DataSource.FORM,
    texts={
        200: Text(
            "A bare audio URL to play (?canbeinterrupted=true|false), continue (keep playing), or an "
            "empty body after hungup.",
            example="http://10.0.0.5:8080/audio/9c1f0a.wav?canbeinterrupted=true",
        )
    },
    errors=(400, 403, 404, 413, 503),
    security="cti",
)
async def ai_callback() -> Response:
    if request.method == "HEAD":  # a monitoring probe: answer, but never run a turn
        return _plain("", 200)
    svc = services()
    body = await read_form_body(MAX_FORM_BYTES)
    callback = read_callback(
        parse_params(request.query_string, body), max_text_chars=svc.settings.max_text_chars
    )
    set_call_id(callback.call_id)  # every line of this turn, its tasks and the access line
    if svc.calls is None:
        raise NotReadyError()
    links = CtiAudioLinks(audio_base_url(svc.settings))
    answer = await svc.calls.handle(callback, links)
    return _plain(links.body(answer), 200)


def audio_base_url(settings: Settings) -> str:
    """Where the CTI downloads our audio, for the current request (:func:`base_url_of`)."""
    return base_url_of(settings, request.scheme, request.server)


def public_base_url(settings: Settings) -> str | None:
    """The configured public URL the CTI downloads our audio from, if any; known without
    a request, so calls pushed from a timer (not a callback) can link their audio."""
    configured = settings.public_url
    return str(configured).rstrip("/") if configured else None


def base_url_of(settings: Settings, scheme: str, server: tuple[str, int | None] | None) -> str:
    """Where the CTI downloads our audio: the configured public URL, else the address the
    CTI's connection reached (``server``, the socket's; never the ``Host`` header, which
    the caller writes: a forged one would send the PBX to fetch audio from another host)."""
    configured = public_base_url(settings)
    if configured:
        return configured
    address, port = server or ("127.0.0.1", None)
    host = f"[{address}]" if ":" in address else address
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def _plain(text: str, status: int) -> Response:
    return Response(text, status=status, content_type=PLAIN_TEXT)
