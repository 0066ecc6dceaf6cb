"""``/cti/calllog``: the CTI's call-record push (GX manual §31; its fields are §30's).

The CTI POSTs ``{"client_ip": …, "datas": [record, …]}`` and expects the string ``200``
(saved: go on pushing) or ``400`` (not saved: push it again). Every well-formed record
is stored (``bot.store.call_records``), once per CTI and record, and ``200`` is the
answer when all of them were. A body that is not the manual's format, a record without
``id`` or ``callid`` or with a time that is not a number, a push before start-up has
finished, or a store that fails are answered ``400`` with the reason in the log: the
manual knows no other answer, and a 5xx would leave the CTI guessing.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote

from quart import Blueprint, Response, request

from bot import metrics
from bot.errors import RequestError
from bot.logs import set_call_id
from bot.services import services
from bot.store.call_records import CallRecord
from bot.store.transcripts import iso
from bot.text.decoding import decode_text
from bot.web.errors import PLAIN_TEXT
from bot.web.openapi import Text, documented
from bot.web.schemas import CallRecordPush

logger = logging.getLogger(__name__)
blueprint = Blueprint("cti_calllog", __name__)

SAVED, NOT_SAVED = "200", "400"  # §31.4: the only two answers
# §30's times: epoch milliseconds; durations: seconds.
TIME_FIELDS = ("beginTime", "pickupTime", "ringTime", "queueTime", "ivrAnwerTime")
DURATION_FIELDS = ("duration", "ringDuration", "queueDuration", "ivrAnwerDuration")
# Where §30 says the CTI keeps a recording of the call, or of part of it.
RECORDING_FIELDS = ("recordVoice", "robotrecord", "prerecord", "ivrvoicemail", "earlymedia")
TRANSFER_IN = "AI_ROBOT_TRANSFER_IN"  # "机器人转人工会产生一条新的呼叫记录": the agent's leg
MAX_LOGGED_PROBLEMS = 5
MAX_DEPTH = 16  # §30's records are flat: deeper nesting is not a record
MAX_WHOLE = 10**15  # a time (ms: the year 33658) or duration past this is no time


@blueprint.post("/cti/calllog")
@documented(
    "The CTI's call-record push",
    tag="cti",
    description="GX manual §31: a JSON object (UTF-8 or GBK) whose datas are call records (§30's fields). "
    'The answer is the manual\'s: "200" when every record is stored (a record pushed again is stored '
    'once), "400" (HTTP 400) when the body is not that format, a record has neither id nor callid, or '
    "storing failed: the CTI pushes it again. Records join robot calls in GET /calls/{call_id}.",
    body=CallRecordPush,
    texts={200: Text("Every record is stored.", example=SAVED), 400: Text("Push again.", example=NOT_SAVED)},
    errors=(403, 413),
    security="cti",
)
async def call_record_push() -> Response:
    body = await request.get_data(cache=False, as_text=False, parse_form_data=False)
    try:
        source, items = parse_push(body)
    except RequestError as exc:
        metrics.count_call_records("refused", 1)  # its records cannot even be counted
        return _not_saved(f"call-record push refused: {exc}")
    records: list[CallRecord] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        try:
            records.append(call_record(item, source))
        except RequestError as exc:
            problems.append(f"datas[{index}]: {exc}")
    if len(records) == 1 and records[0].callid:
        set_call_id(records[0].callid)
    svc = services()
    if svc.calls is None:
        return _not_saved("call-record push before start-up finished: the CTI will push it again")
    try:
        new = await svc.transcripts.record_call_records(records) if records else 0
    except Exception:  # any store's failure (down, full, locked): the CTI pushes it again
        logger.exception("storing %d call records failed", len(records))
        metrics.count_call_records("failed", len(records))
        return _answer(NOT_SAVED)
    metrics.count_call_records("stored", new)
    metrics.count_call_records("repeated", len(records) - new)
    if problems:
        metrics.count_call_records("refused", len(problems))
        shown = "; ".join(problems[:MAX_LOGGED_PROBLEMS])
        more = (
            f" (and {len(problems) - MAX_LOGGED_PROBLEMS} more)"
            if len(problems) > MAX_LOGGED_PROBLEMS
            else ""
        )
        return _not_saved(f"call records refused, {len(records)} of {len(items)} stored: {shown}{more}")
    logger.info("call-record push: %d records, %d new", len(records), new)
    return _answer(SAVED)


def parse_push(body: bytes) -> tuple[str, list[Any]]:
    """The pushing CTI's ``client_ip`` and the ``datas`` of a push.

    Raises:
        RequestError: The body is not a JSON object with a ``datas`` list (in UTF-8 or GBK).
    """
    text, _encoding = decode_text(body.removeprefix(b"\xef\xbb\xbf"))
    try:
        push = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep to read
        raise RequestError(f"the body is not JSON ({type(exc).__name__}: {str(exc)[:80]})") from exc
    if not isinstance(push, dict) or not isinstance(push.get("datas"), list):
        raise RequestError('the body is not {"client_ip": …, "datas": [records]} (GX §31.3)')
    source = push.get("client_ip")
    return (_clean(source, depth=0) if isinstance(source, str) else ""), push["datas"]


def call_record(item: Any, source: str) -> CallRecord:
    """One record of a push, as the store keeps it.

    Raises:
        RequestError: It is not an object, has neither ``id`` nor ``callid``, or one of
            its times or durations is not a whole number.
    """
    if not isinstance(item, dict):
        raise RequestError(f"a record is a JSON object, not {type(item).__name__}")
    raw: dict[str, Any] = _clean(item, depth=0)
    record_id, sent_callid = _text(raw.get("id")), _text(raw.get("callid"))
    if not record_id and not sent_callid:
        raise RequestError("the record has neither id nor callid")
    times = {name: _whole(raw, name) for name in TIME_FIELDS + DURATION_FIELDS}
    begin = times["beginTime"]
    talk_seconds = times["duration"]
    end = None if begin is None else max(begin, times["pickupTime"] or 0) + (talk_seconds or 0) * 1000
    callid = unquote(sent_callid) if sent_callid else None  # §30's example: "…%40192.168.1.82"
    peer = _text(raw.get("peercallid"))
    caller, callee = _text(raw.get("caller")), _text(raw.get("callee"))
    return CallRecord(
        key=f"id:{record_id}" if record_id else f"callid:{callid}",
        source=source,
        callid=callid,
        peercallid=unquote(peer) if peer else None,
        caller=caller,
        callee=callee,
        begin_ms=begin,
        end_ms=end,
        shown=_shown(raw, callid, times),
        raw=raw,
    )


def _shown(raw: dict[str, Any], callid: str | None, times: dict[str, int | None]) -> dict[str, Any]:
    """What ``/calls/<id>`` shows of a record, besides the record itself."""
    business = _text(raw.get("business"))
    return {
        "id": raw.get("id"),
        "callid": callid,
        "business": business or None,
        "state": _text(raw.get("state")) or None,
        "caller": _text(raw.get("caller")),
        "callee": _text(raw.get("callee")),
        "begin_at": _moment(times["beginTime"]),
        "pickup_at": _moment(times["pickupTime"]),
        "talk_seconds": times["duration"],
        "hungup_side": _text(raw.get("hungupside")) or None,
        "agent": (
            {"number": _text(raw.get("callee")), "worknum": _text(raw.get("calleeworknum")) or None}
            if business == TRANSFER_IN
            else None
        ),
        "forwarded_to": _text(raw.get("forward")) or None,
        "recordings": {name: raw[name] for name in RECORDING_FIELDS if _text(raw.get(name))},
    }


def _whole(raw: dict[str, Any], name: str) -> int | None:
    """A time (ms) or duration (s) of the record: a whole number, or a string of digits;
    absent, empty or 0 for a time is None."""
    value = raw.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < MAX_WHOLE:
        raise RequestError(f"{name} must be a whole number, not {str(value)[:40]!r}")
    return None if value == 0 and name in TIME_FIELDS else value


def _moment(epoch_ms: int | None) -> str | None:
    try:
        return None if epoch_ms is None else iso(epoch_ms / 1000)
    except (OverflowError, OSError, ValueError):  # a time past what a date can hold
        return None


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, dict | list) else str(value).strip()


def _clean(value: Any, *, depth: int) -> Any:
    """``value`` with what no database stores as text replaced: NUL and lone surrogates
    (``\\u0000`` and ``\\ud800`` are valid JSON escapes).

    Raises:
        RequestError: It is nested deeper than :data:`MAX_DEPTH`.
    """
    if depth > MAX_DEPTH:
        raise RequestError(f"the record is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_clean(k, depth=depth + 1): _clean(v, depth=depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(item, depth=depth + 1) for item in value]
    return value


def _not_saved(reason: str) -> Response:
    logger.warning("%s; answered %s", reason, NOT_SAVED)
    return _answer(NOT_SAVED)


def _answer(word: str) -> Response:
    return Response(word, status=int(word), content_type=PLAIN_TEXT)
