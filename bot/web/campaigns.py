"""``/campaigns`` and ``/do-not-call``: outbound campaigns for operators and their systems
(docs/campaigns.md).

Reading needs a principal (any); creating, starting, stopping, deleting, the results
(numbers and the callers' answers) and the do-not-call list need an admin.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field
from quart import Blueprint, Response, request

from bot.campaigns.model import NewCampaign
from bot.campaigns.numbers import phone_digits
from bot.campaigns.service import Campaigns
from bot.errors import RequestError
from bot.privacy import mask_text
from bot.services import services
from bot.text.decoding import decode_text
from bot.web.auth import require
from bot.web.openapi import Text, documented
from bot.web.schemas import (
    CampaignCreated,
    CampaignList,
    CampaignShown,
    DoNotCallAdded,
    DoNotCallList,
    validated,
)

blueprint = Blueprint("campaigns", __name__)
LIST_SEPARATOR = ","


class CampaignQuery(BaseModel):
    """A new campaign's settings, as query parameters; its numbers are the body."""

    name: str = Field(description="a-z, 0-9, - and _.")
    flow: str
    task_id: int = Field(ge=0, description="The GX batch-call task (§46 `id`).")
    hours: str | None = Field(None, description="Calling windows, e.g. 09:00-12:00,13:30-20:00.")
    weekdays: str | None = Field(None, description="Days it calls, 1 = Monday, e.g. 1,2,3,4,5.")
    daily_cap: int | None = Field(None, ge=1)
    attempts: int | None = Field(None, ge=1, le=10)
    retry_after_minutes: int | None = Field(None, ge=1)
    callback_date: str | None = Field(None, description="The flow's variable with a callback date.")
    callback_time: str | None = Field(None, description="The flow's variable with a callback time.")
    columns: str | None = Field(None, description="New names for columns: 姓名=name,欠款=amount.")


class DoNotCallEntry(BaseModel):
    telnum: str
    reason: str = "added by an operator"


@blueprint.get("/campaigns")
@documented(
    "Every campaign, with its numbers' counts",
    tag="campaigns",
    responses={200: CampaignList},
    errors=(401, 403),
    security="admin",
)
async def campaign_list() -> dict[str, Any]:
    return {"campaigns": await _campaigns().list()}


@blueprint.post("/campaigns")
@documented(
    "Create a campaign from a file of numbers",
    tag="campaigns",
    description="Admins only. The body is a CSV (UTF-8 or GBK) or Excel (.xlsx) file of at most 1 MB: "
    "a column of numbers (telnum, phone, 号码, 电话…) and any others, which the calls see as "
    "customer.<column>. "
    "Problems are answered 400, one per line, with the row. The campaign starts stopped.",
    query=CampaignQuery,
    responses={201: CampaignCreated},
    body_types=("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    errors=(400, 401, 403, 409, 413),
    security="admin",
)
async def create() -> tuple[dict[str, Any], int]:
    require("admin")
    query = validated(CampaignQuery, request.args.to_dict())
    rules = {
        "hours": _listed(query.hours),
        "weekdays": _listed(query.weekdays),
        "daily_cap": query.daily_cap,
        "attempts": query.attempts,
        "retry_after_minutes": query.retry_after_minutes,
        "callback_date": query.callback_date,
        "callback_time": query.callback_time,
    }
    given = {key: value for key, value in rules.items() if value is not None}
    new = validated(
        NewCampaign, {"name": query.name, "flow": query.flow, "task_id": query.task_id, "rules": given}
    )
    content = await request.get_data(as_text=False, cache=False, parse_form_data=False)
    return await _campaigns().create(new, f"{new.name} numbers", content, _columns(query.columns)), 201


@blueprint.get("/campaigns/<name>")
@documented(
    "A campaign and its progress",
    tag="campaigns",
    responses={200: CampaignShown},
    errors=(401, 403, 404),
    security="admin",
)
async def show(name: str) -> dict[str, Any]:
    return await _campaigns().show(name)


@blueprint.post("/campaigns/<name>/start")
@documented(
    "Start calling",
    tag="campaigns",
    description="Admins only. The scheduler imports the numbers due into the GX task within the hours "
    "and the daily cap, and starts the task (§47, §48). 409 without a GX CTI.",
    errors=(401, 403, 404, 409),
    security="admin",
)
async def start(name: str) -> dict[str, Any]:
    require("admin")
    return await _campaigns().start(name)


@blueprint.post("/campaigns/<name>/stop")
@documented(
    "Stop calling (§49)",
    tag="campaigns",
    responses={200: CampaignShown},
    errors=(401, 403, 404),
    security="admin",
)
async def stop(name: str) -> dict[str, Any]:
    require("admin")
    return await _campaigns().stop(name)


@blueprint.delete("/campaigns/<name>")
@documented(
    "Delete a campaign that is not running",
    tag="campaigns",
    texts={204: Text("Deleted, with its numbers.", example="")},
    errors=(401, 403, 404, 409),
    security="admin",
)
async def delete(name: str) -> Response:
    require("admin")
    campaigns = _campaigns()
    shown = await campaigns.show(name)
    if shown["state"] == "running":
        raise RequestError(f"campaign {name!r} is running — stop it first", status=409)
    await campaigns.store.delete(name)
    return Response(status=204)


@blueprint.get("/campaigns/<name>/results.csv")
@documented(
    "Each number's data and result, as CSV",
    tag="campaigns",
    description="Admins only (the numbers are not masked). Columns: telnum, the file's columns, state, "
    "attempts, outcome, grade, score, reason, call_id, cti_state (§51 callstate) and its words, then one "
    "column per slot.",
    texts={200: Text("CSV, UTF-8 with a BOM (Excel opens it as UTF-8).", example="telnum,name,state\n")},
    errors=(401, 403, 404),
    security="admin",
)
async def results(name: str) -> Response:
    require("admin")
    text = await _campaigns().results_csv(name)
    response = Response("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-results.csv"'
    return response


@blueprint.get("/do-not-call")
@documented(
    "The do-not-call list",
    tag="campaigns",
    description="Numbers masked.",
    responses={200: DoNotCallList},
    errors=(401, 403),
    security="admin",
)
async def do_not_call() -> dict[str, Any]:
    rows = await _campaigns().store.dnc()
    return {"numbers": [{**row, "telnum": mask_text(row["telnum"])} for row in rows]}


@blueprint.post("/do-not-call")
@documented(
    "Put a number on the do-not-call list",
    tag="campaigns",
    description="Admins only. Taken out of every campaign's calls to come; on the CTI's blacklist too (§38) "
    "with VOICEBOT_CAMPAIGN_BLACKLIST.",
    body=DoNotCallEntry,
    responses={200: DoNotCallAdded},
    errors=(400, 401, 403),
    security="admin",
)
async def add_do_not_call() -> dict[str, Any]:
    require("admin")
    entry = _entry(await request.get_data(as_text=False, cache=False, parse_form_data=False))
    added = await _campaigns().add_do_not_call(entry.telnum, entry.reason)
    return {"telnum": mask_text(entry.telnum), "added": added}


@blueprint.delete("/do-not-call/<telnum>")
@documented(
    "Take a number off the do-not-call list", tag="campaigns", errors=(401, 403, 404), security="admin"
)
async def remove_do_not_call(telnum: str) -> Response:
    require("admin")
    if not await _campaigns().store.remove_dnc(telnum):
        raise RequestError("that number is not on the do-not-call list", status=404)
    return Response(status=204)


def _campaigns() -> Campaigns:
    campaigns = services().campaigns
    if campaigns is None:
        raise RequestError("campaigns are not available before start-up", status=503)
    return campaigns


def _entry(body: bytes) -> DoNotCallEntry:
    try:
        payload = json.loads(decode_text(body)[0])
    except (ValueError, RecursionError):  # not JSON, or nested too deeply
        payload = None
    if not isinstance(payload, dict):
        raise RequestError('expected a JSON object with a string "telnum"')
    entry = validated(DoNotCallEntry, payload)
    telnum = phone_digits(entry.telnum)
    if telnum is None:
        raise RequestError('"telnum" is not a phone number — write its digits (13800138000)')
    return DoNotCallEntry(telnum=telnum, reason=entry.reason[:200])


def _listed(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()] if text else None


def _columns(text: str | None) -> dict[str, str]:
    renamed = {}
    for part in _listed(text) or []:
        old, separator, new = part.partition("=")
        if not separator or not old.strip() or not new.strip():
            raise RequestError(f'"columns" has {part!r} — write column=name pairs: 姓名=name,欠款=amount')
        renamed[old.strip()] = new.strip()
    return renamed
