"""``POST /model/parse``: intent recognition, Rasa's request and response shape."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, request

from bot.errors import RequestError
from bot.services import services

blueprint = Blueprint("nlu", __name__)


@blueprint.post("/model/parse")
async def parse() -> dict[str, Any]:
    svc = services()
    payload = await request.get_json(force=True, silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
        raise RequestError('expected a JSON object with a string "text"')
    text = payload["text"]
    if len(text) > svc.settings.max_text_chars:
        raise RequestError(f"text longer than {svc.settings.max_text_chars} characters", status=413)
    flow_name = payload.get("flow") or svc.settings.default_flow
    if not isinstance(flow_name, str):
        raise RequestError('"flow" must be a string')
    assert svc.flows is not None, "requests arrive only after start-up"
    return svc.flows.get(flow_name).nlu.parse(text).as_rasa()
