"""``POST /model/parse``: intent recognition, Rasa's request and response shape."""

from __future__ import annotations

import json
from typing import Any

from quart import Blueprint, request

from bot.errors import NotReadyError, RequestError
from bot.language.flow import Flow
from bot.language.slots import SlotContext, SlotMatch
from bot.services import services
from bot.web.openapi import documented
from bot.web.schemas import ParseRequest, ParseResult, validated

blueprint = Blueprint("nlu", __name__)


@blueprint.post("/model/parse")
@documented(
    "Intent recognition, Rasa's format",
    tag="nlu",
    description="The flow's intents ranked for the text, and its slots' values found in it as entities.",
    body=ParseRequest,
    responses={200: ParseResult},
    errors=(400, 404, 413, 503),
)
async def parse() -> dict[str, Any]:
    svc = services()
    try:
        payload = json.loads(await request.get_data(as_text=False, cache=False, parse_form_data=False))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deeply
        payload = None
    if not isinstance(payload, dict):
        raise RequestError('expected a JSON object with a string "text"')
    asked = validated(ParseRequest, payload)
    text = asked.text
    if len(text) > svc.settings.max_text_chars:
        raise RequestError(f"text longer than {svc.settings.max_text_chars} characters", status=413)
    flow_name = asked.flow or svc.settings.default_flow
    if svc.flows is None:
        raise NotReadyError()
    loaded = svc.flows.get(flow_name)
    result = loaded.nlu.parse(text).as_rasa()
    today = asked.today_date() or svc.settings.today()
    result["entities"] = entities(loaded.flow, text, SlotContext(today))
    return result


def entities(flow: Flow, text: str, context: SlotContext) -> list[dict[str, object]]:
    """Every value of the flow's slots found in ``text``, as Rasa entities (value normalized),
    in text order."""
    found = sorted(
        (
            (match.start, name, match)
            for name, slot in flow.slots.items()
            for match in slot.kind.extract_all(text, context)
        ),
        key=lambda item: (item[0], item[1]),
    )
    return [_entity(name, match) for _, name, match in found]


def _entity(name: str, match: SlotMatch) -> dict[str, object]:
    entity: dict[str, object] = {
        "entity": name,
        "value": match.value,
        "start": match.start,
        "end": match.end,
        "text": match.text,
    }
    if match.unsure:  # only then, so a sure value keeps Rasa's plain shape
        entity["unsure"] = True
        entity["alternatives"] = list(match.alternatives)
    return entity
