"""The fake PBX pushes call records as the GX CTI does (GX manual §31; docs/tools.md):
``POST /control/push-call-records`` makes it POST ``{"client_ip", "datas": [...]}`` to a
URL (the bot's ``/cti/calllog``), every record with all of §31.3's fields, read the
answer the manual asks for ("200": saved; "400": push again) and push again, as the
CTI would, a bounded number of times.

The control request answers what happened: the push's JSON, each attempt's HTTP status
and answer (or why it failed), and whether the receiver said "200".
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from typing import Any

import httpx
from quart import Blueprint, Response, current_app, jsonify, request

from bot.errors import FailureSpecError
from bot.tools.fakepbx_state import note

blueprint = Blueprint("fake_pbx_calllog", __name__)
IDS_KEY = "voicebot.fake_pbx.calllog_ids"
FIRST_ID = 1476510  # §31.3's example record's id; each pushed record takes the next
SAVED = "200"
MAX_ATTEMPTS = 10
MAX_RETRY_MS = 10_000
MAX_TIMEOUT_MS = 60_000
ENCODINGS = ("utf-8", "gbk")
CONTROL_FIELDS = frozenset(
    {"url", "records", "client_ip", "encoding", "body", "attempts", "retry_ms", "timeout_ms"}
)
# §31.3's record, field for field, in its order: what a record holds unless told otherwise.
MANUAL_RECORD: dict[str, Any] = {
    "id": FIRST_ID,
    "caller": "806",
    "callee": "1000",
    "beginTime": 1691059681306,
    "duration": 0,
    "state": "STATE_RECEIVED",
    "callType": "LOCAL_CALL",
    "estimate": "",
    "callid": "105652437424950-326581766720130@192.168.3.9",
    "question": "",
    "record": "",
    "recordVoice": "",
    "earlymedia": "",
    "dtmfkey": "",
    "cname": "",
    "servicetype": "",
    "manustate": "",
    "clickcallid": "",
    "clicktoken": "",
    "fxonum": "",
    "accessnum": "1000",
    "ivrpoint": "",
    "callerworknum": "",
    "calleeworknum": "",
    "business": "",
    "prerecord": "",
    "robotrecord": "",
    "ivrvoicemail": "",
    "ivrAnwerTime": 1691059680144,
    "ivrAnwerDuration": 1,
    "queueTime": 0,
    "queueDuration": 0,
    "ringTime": 0,
    "ringDuration": 0,
    "pickupTime": 1691059681308,
    "offwork": False,
    "standby": 0,
    "writetime": 0,
    "holdtime": 0,
    "forward": "",
    "stttxt": "",
    "hungupside": "",
    "callervideo": "",
    "calleevideo": "",
    "peercallid": "",
}


@blueprint.post("/control/push-call-records")
async def push_call_records() -> Response:
    body = await request.get_json(force=True, silent=True)
    spec = _spec(body)  # a FailureSpecError is the app's 400 (bot.tools.fakepbx)
    pushed = spec["body"] if "body" in spec else _push(spec)
    data = pushed if isinstance(pushed, str) else json.dumps(pushed, ensure_ascii=False)
    attempts = await _deliver(spec, data.encode(spec["encoding"], "replace"))
    saved = bool(attempts) and attempts[-1].get("answer") == SAVED
    note(call_records={"url": spec["url"], "attempts": attempts, "saved": saved})
    return jsonify({"pushed": pushed, "attempts": attempts, "saved": saved})


def manual_record(fields: dict[str, Any], *, record_id: int, client_ip: str) -> dict[str, Any]:
    """A record with every field of §31.3: ``fields`` over the manual's example, with a
    new id, a new callid and the times of a call that began 2 s ago, unless given."""
    begin_ms = int(time.time() * 1000) - 2000
    fresh = {
        "id": record_id,
        "callid": f"{secrets.randbelow(10**15)}-{secrets.randbelow(10**15)}@{client_ip}",
        "beginTime": begin_ms,
        "ivrAnwerTime": begin_ms - 1162,
        "pickupTime": begin_ms + 2,
    }
    return {**MANUAL_RECORD, **fresh, **fields}


def _push(spec: dict[str, Any]) -> dict[str, Any]:
    ids = current_app.extensions.setdefault(IDS_KEY, itertools.count(FIRST_ID))
    records = [
        manual_record(fields, record_id=next(ids), client_ip=spec["client_ip"]) for fields in spec["records"]
    ]
    return {"client_ip": spec["client_ip"], "datas": records}


async def _deliver(spec: dict[str, Any], data: bytes) -> list[dict[str, Any]]:
    """POST ``data`` until the answer is "200", at most ``attempts`` times."""
    headers = {"Content-Type": f"application/json;charset={spec['encoding'].upper()}"}
    attempts: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=spec["timeout_ms"] / 1000) as client:
        for number in range(spec["attempts"]):
            if number:
                await asyncio.sleep(spec["retry_ms"] / 1000)
            began = time.monotonic()
            try:
                response = await client.post(spec["url"], content=data, headers=headers)
            except httpx.HTTPError as exc:
                attempts.append({"error": f"{type(exc).__name__}: {exc}"[:300], "ms": _ms(began)})
                continue
            answer = response.text.strip()[:300]
            attempts.append({"status": response.status_code, "answer": answer, "ms": _ms(began)})
            if answer == SAVED:
                break
    return attempts


def _spec(body: Any) -> dict[str, Any]:
    """The control request's fields, checked, with their defaults."""
    if not isinstance(body, dict):
        raise FailureSpecError('send a JSON object, e.g. {"url": "http://127.0.0.1:8080/cti/calllog"}')
    if unknown := set(body) - CONTROL_FIELDS:
        raise FailureSpecError(f"unknown fields {sorted(unknown)}: use {', '.join(sorted(CONTROL_FIELDS))}")
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise FailureSpecError(f"url must be the receiver's http(s) URL, not {url!r}")
    records = body.get("records", [{}])
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FailureSpecError("records must be a list of objects (fields over §31.3's record)")
    if "body" in body and not isinstance(body["body"], str):
        raise FailureSpecError("body must be the text to push as it is")
    encoding = str(body.get("encoding", "utf-8")).lower()
    if encoding not in ENCODINGS:
        raise FailureSpecError(
            f"encoding must be one of {', '.join(ENCODINGS)}, not {body.get('encoding')!r}"
        )
    return {
        **body,
        "records": records,
        "encoding": encoding,
        "client_ip": str(body.get("client_ip", "127.0.0.1")),
        "attempts": _bounded(body.get("attempts", 3), "attempts", 1, MAX_ATTEMPTS),
        "retry_ms": _bounded(body.get("retry_ms", 500), "retry_ms", 0, MAX_RETRY_MS),
        "timeout_ms": _bounded(body.get("timeout_ms", 5000), "timeout_ms", 1, MAX_TIMEOUT_MS),
    }


def _bounded(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FailureSpecError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return value


def _ms(began: float) -> float:
    return round((time.monotonic() - began) * 1000, 1)
