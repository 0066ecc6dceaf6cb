"""``/cti/ivr``: the CTI's IVR self-service query hook (protocols.md §2, GX CTI §13).

The CTI speaks the body with its TTS, so every request is answered ``200`` with
speakable UTF-8 text, whatever went wrong, and with exactly the header the manual
asks for: ``Content-Type: text/html;charset=UTF-8``. The queries are
``flows/hooks/ivr.yaml`` (:mod:`bot.hooks.ivr`; docs/hooks.md).
"""

from __future__ import annotations

import logging
import time

from quart import Blueprint, Response, request

from bot.cti.hook_params import read_hook_params
from bot.hooks.ivr_file import KEY_NAME
from bot.hooks.numbers import mask
from bot.logs import set_call_id
from bot.services import services
from bot.web.openapi import DataSource, Text, documented
from bot.web.schemas import IvrQuery

logger = logging.getLogger(__name__)

blueprint = Blueprint("cti_ivr", __name__)
IVR_CONTENT_TYPE = "text/html;charset=UTF-8"
"""Byte for byte as GX CTI §13 writes it (no space): the CTI's parser is not lenient."""


@blueprint.route("/cti/ivr", methods=["GET", "POST"])
@documented(
    "An IVR self-service query",
    tag="cti",
    description="A sentence for the CTI's TTS to speak, from flows/hooks/ivr.yaml; always 200 with speakable "
    "text, whatever went wrong (an unknown query, keys that do not fit, a business system down).",
    query=IvrQuery,
    body=IvrQuery,
    body_source=DataSource.FORM,
    texts={200: Text("The sentence to speak.", example="快递已签收。", content_types=(IVR_CONTENT_TYPE,))},
    errors=(403,),
    security="cti",
)
async def ivr_query() -> Response:
    if request.method == "HEAD":  # a monitoring probe: answer, but never run a query
        return Response("", status=200, content_type=IVR_CONTENT_TYPE)
    started = time.perf_counter()
    params = await read_hook_params()
    set_call_id(params.get("id") or None)
    opt = params.get("opt", "")
    answer = await services().ivr.answer(opt, params)
    milliseconds = round((time.perf_counter() - started) * 1000)
    keys = {name: value for name, value in sorted(params.items()) if KEY_NAME.fullmatch(name)}
    logger.info(
        "ivr %s: %s in %d ms (call %s, keys %s)",
        opt or "-",
        answer.outcome.value,
        milliseconds,
        params.get("id") or "-",
        " ".join(f"{name}={mask(value)}" for name, value in keys.items()) or "none",
    )
    logger.debug("ivr %s: keys %s answered %r", opt or "-", keys, answer.text)
    return Response(answer.text, status=200, content_type=IVR_CONTENT_TYPE)
