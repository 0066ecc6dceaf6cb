"""The parameters of a hook request (``/cti/ivr``, ``/cti/route``), read without ever failing.

The hooks answer every request with something the CTI can use, so a request that
cannot be read is a request without parameters, not an error: the IVR hook then
answers its "unknown query" words and the routing hook its default.
"""

from __future__ import annotations

import logging

from quart import request

from bot.cti.params import parse_params
from bot.errors import RequestError

logger = logging.getLogger(__name__)

MAX_FORM_BYTES = 64 * 1024


async def read_hook_params() -> dict[str, str]:
    """The query string's parameters, then a POST form body's; the first of a name wins.

    Values are decoded as :func:`bot.cti.params.parse_params` does (UTF-8, else GBK)
    and stripped of surrounding spaces.
    """
    body = b""
    if request.method == "POST" and (request.content_length or 0) <= MAX_FORM_BYTES:
        body = await request.get_data(cache=False, as_text=False, parse_form_data=False)
        if len(body) > MAX_FORM_BYTES:  # sent without a Content-Length
            body = b""
    try:
        params = parse_params(request.query_string, body)
    except RequestError as exc:
        logger.warning("%s: unreadable parameters (%s); answered as if there were none", request.path, exc)
        return {}
    return {name: value.strip() for name, (value, _) in params.items()}
