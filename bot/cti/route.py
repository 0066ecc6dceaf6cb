"""``/cti/route``: the CTI's incoming-call routing hook (protocols.md §3, GX CTI §11).

The answer is an extension or group number, digits only, and always one: a
missing or odd ``caller`` and any failure while deciding get the default target.
The rules are ``flows/hooks/routing.yaml`` (:mod:`bot.hooks.routing`; docs/hooks.md).
"""

from __future__ import annotations

import datetime as dt
import logging

from quart import Blueprint, Response, request

from bot.cti.hook_params import read_hook_params
from bot.hooks.numbers import mask
from bot.services import services
from bot.web.errors import PLAIN_TEXT
from bot.web.openapi import DataSource, Text, documented
from bot.web.schemas import RouteQuery

logger = logging.getLogger(__name__)

blueprint = Blueprint("cti_route", __name__)


@blueprint.route("/cti/route", methods=["GET", "POST"])
@documented(
    "Which extension or group an incoming call rings",
    tag="cti",
    description="From flows/hooks/routing.yaml; always a number: a missing or odd caller, or any failure, "
    "gets the default target.",
    query=RouteQuery,
    body=RouteQuery,
    body_source=DataSource.FORM,
    texts={200: Text("The extension or group number, digits only.", example="8001")},
    errors=(403,),
    security="cti",
)
async def route_call() -> Response:
    router = services().router
    if request.method == "HEAD":  # a monitoring probe
        return Response("", status=200, content_type=PLAIN_TEXT)
    try:
        caller = (await read_hook_params()).get("caller")
        route = router.route(caller, dt.datetime.now(dt.UTC))
    except Exception:  # the last guard: the CTI needs a number to ring
        logger.exception("routing failed; the call goes to the default %s", router.default)
        return Response(router.default, status=200, content_type=PLAIN_TEXT)
    logger.info(
        "route: caller %s → %s (%s)",
        mask(route.caller) if route.caller else "none",
        route.target,
        route.rule or "default",
    )
    return Response(route.target, status=200, content_type=PLAIN_TEXT)
