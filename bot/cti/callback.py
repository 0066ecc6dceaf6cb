"""``/cti/ai``: the CTI's AI speech-interaction callback (protocols.md §1, GX CTI §52).

The answer is plain text and nothing else: a bare audio URL, ``continue``, or an
empty body after ``hungup``. Errors are short plain-text reasons with a 4xx status;
nothing the CTI sends may produce a 500.
"""

from __future__ import annotations

import re

from quart import Blueprint, Response, request

from bot.config import Settings
from bot.cti.answers import CtiAudioLinks
from bot.cti.params import parse_params, read_callback, read_form_body
from bot.errors import NotReadyError
from bot.services import services
from bot.web.errors import PLAIN_TEXT

blueprint = Blueprint("cti", __name__)
MAX_FORM_BYTES = 64 * 1024
# A host name or IPv4 address, or a bracketed IPv6 address, with an optional port.
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


@blueprint.route("/cti/ai", methods=["GET", "POST"])
async def ai_callback() -> Response:
    if request.method == "HEAD":  # a monitoring probe: answer, but never run a turn
        return _plain("", 200)
    svc = services()
    body = await read_form_body(MAX_FORM_BYTES)
    callback = read_callback(
        parse_params(request.query_string, body), max_text_chars=svc.settings.max_text_chars
    )
    if svc.calls is None:
        raise NotReadyError()
    links = CtiAudioLinks(audio_base_url(svc.settings))
    answer = await svc.calls.handle(callback, links)
    return _plain(links.body(answer), 200)


def audio_base_url(settings: Settings) -> str:
    """Where the CTI downloads our audio: the configured public URL, else the address the
    CTI called us on (its ``Host`` header, or the socket's address when that is unusable)."""
    configured = settings.public_url
    if configured:
        return str(configured).rstrip("/")
    # Not request.host_url: it re-parses and IDNA-decodes the URL on every callback.
    host = request.host
    if not _HOST.fullmatch(host):
        address, port = request.server or ("127.0.0.1", None)
        host = f"[{address}]" if ":" in address else address
        host += f":{port}" if port else ""
    return f"{request.scheme}://{host}"


def _plain(text: str, status: int) -> Response:
    return Response(text, status=status, content_type=PLAIN_TEXT)
