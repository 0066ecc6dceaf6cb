"""``POST /model/parse``: intent recognition, Rasa's request and response shape."""

from __future__ import annotations

import json
from typing import Any

from quart import Blueprint, request

from bot.errors import NotReadyError, RequestError
from bot.services import services

blueprint = Blueprint("nlu", __name__)


@blueprint.post("/model/parse")
async def parse() -> dict[str, Any]:
    svc = services()
    try:
        payload = json.loads(await request.get_data(as_text=False, cache=False, parse_form_data=False))
    except ValueError:  # also UnicodeDecodeError: a body that is not UTF-8
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
        raise RequestError('expected a JSON object with a string "text"')
    text = payload["text"]
    if len(text) > svc.settings.max_text_chars:
        raise RequestError(f"text longer than {svc.settings.max_text_chars} characters", status=413)
    flow_name = payload.get("flow") or svc.settings.default_flow
    if not isinstance(flow_name, str):
        raise RequestError('"flow" must be a string')
    if svc.flows is None:
        raise NotReadyError()
    return svc.flows.get(flow_name).nlu.parse(text).as_rasa()
