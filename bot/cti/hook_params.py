"""The parameters of a hook request (``/cti/ivr``, ``/cti/route``), read without ever failing.

The hooks answer every request with something the CTI can use, so a request that
cannot be read is a request without parameters, not an error: the IVR hook then
answers its "unknown query" words and the routing hook its default.
"""

from __future__ import annotations

import logging

from quart import request

from bot.cti.params import parse_params, read_form_body
from bot.errors import RequestError

logger = logging.getLogger(__name__)

MAX_FORM_BYTES = 64 * 1024


async def read_hook_params() -> dict[str, str]:
    """The query string's parameters, then a POST form body's; the first of a name wins.

    Values are decoded as :func:`bot.cti.params.parse_params` does (UTF-8, else GBK)
    and stripped of surrounding spaces.
    """
    try:
        body = await read_form_body(MAX_FORM_BYTES)
    except RequestError:  # too big: answered from the query string alone
        body = b""
    try:
        params = parse_params(request.query_string, body)
    except RequestError as exc:
        logger.warning("%s: unreadable parameters (%s); answered as if there were none", request.path, exc)
        return {}
    return {name: value.strip() for name, (value, _) in params.items()}
