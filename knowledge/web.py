"""The knowledge service over HTTP: Rasa's REST webhook, search, and the admin API.

- ``GET /``: Rasa's hello, for health checks that expect it.
- ``POST /webhooks/rest/webhook``: protocols.md §5.
- ``GET /kb/search?q=…&limit=5``: for agents' desktops and other systems.
- ``/kb/entries``, ``/kb/import``, ``/kb/export``, ``/kb/customers/<id>/history``:
  the admin API, for the admin token (``Authorization: Bearer <VOICEBOT_ADMIN_TOKEN>``)
  and console users (bot/web/auth.py): any of them reads, admins change.

Both the bot's app and ``voicebot kb serve`` register this blueprint; the service is
found on the app (``install``).
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any, cast

from quart import Blueprint, Quart, Response, current_app, request

from bot.errors import NotReadyError, RequestError
from bot.text.decoding import decode_text
from bot.web.openapi import Text, documented
from bot.web.query import whole_number
from bot.web.schemas import (
    CustomerHistory,
    EntryList,
    FormatQuery,
    ImportResult,
    SearchQuery,
    SearchResults,
    WebhookMessage,
    WebhookReply,
)
from knowledge.entries import (
    DataFile,
    Entry,
    dump_csv,
    dump_yaml,
    entry_record,
    parse_csv,
    parse_entries,
    parse_yaml,
)
from knowledge.service import KnowledgeService

EXTENSION_KEY = "knowledge"
MAX_WEBHOOK_BYTES = 16 * 1024
MAX_SENDER_CHARS = 256
MAX_SEARCH_LIMIT = 50

blueprint = Blueprint("knowledge", __name__)


def install(app: Quart, service: KnowledgeService, *, max_message_chars: int) -> None:
    """Serve ``service`` from ``app``; who may use its admin API is ``bot.web.auth``'s to say."""
    app.extensions[EXTENSION_KEY] = _Mounted(service, max_message_chars)
    app.register_blueprint(blueprint)


class _Mounted:
    def __init__(self, service: KnowledgeService, max_message_chars: int) -> None:
        self.service = service
        self.max_message_chars = max_message_chars


def _mounted() -> _Mounted:
    mounted = cast(_Mounted, current_app.extensions[EXTENSION_KEY])
    if not mounted.service.ready:
        raise NotReadyError()
    return mounted


@blueprint.get("/")
@documented(
    "Rasa's hello, for health checks that expect it",
    tag="knowledge",
    texts={200: Text("The service and its version.", example="Hello from voicebot knowledge: 0.1.0")},
)
async def hello() -> Response:
    return Response(
        f"Hello from voicebot knowledge: {version('voicebot')}", content_type="text/plain; charset=utf-8"
    )


@blueprint.post("/webhooks/rest/webhook")
@documented(
    "Ask the knowledge base, Rasa's REST channel",
    tag="knowledge",
    description="protocols.md §5: the answer, a clarifying question or not-found, as a JSON document in "
    "text (docs/knowledge.md). The body is UTF-8 or GBK JSON of at most 16 KiB, chunked or not.",
    body=WebhookMessage,
    responses={200: WebhookReply},
    errors=(400, 413, 503),
)
async def webhook() -> list[dict[str, str]]:
    """``{"sender", "message"}`` → ``[{"recipient_id", "text": "<JSON document>"}]``."""
    mounted = _mounted()
    if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
        raise RequestError(f"body larger than {MAX_WEBHOOK_BYTES} bytes")
    body = await request.get_data(as_text=False, cache=False, parse_form_data=False)
    if len(body) > MAX_WEBHOOK_BYTES:  # sent chunked, without a Content-Length
        raise RequestError(f"body larger than {MAX_WEBHOOK_BYTES} bytes")
    payload = _json_body(body)
    sender, message = payload.get("sender"), payload.get("message")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise RequestError(f'"sender" must be a non-empty string of at most {MAX_SENDER_CHARS} characters')
    if not isinstance(message, str):
        raise RequestError('"message" must be a string')
    if len(message) > mounted.max_message_chars:
        raise RequestError(f'"message" longer than {mounted.max_message_chars} characters')
    reply = await mounted.service.reply(sender, message)
    return [{"recipient_id": sender, "text": json.dumps(reply.document(), ensure_ascii=False)}]


def _json_body(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; UTF-8, or GBK from older CTIs."""
    try:
        payload = json.loads(decode_text(body)[0]) if body else None
    except ValueError as exc:
        raise RequestError(f"the body is not JSON: {exc}") from exc
    except RecursionError:  # thousands of nested brackets
        raise RequestError("the body is JSON nested too deeply") from None
    if not isinstance(payload, dict):
        raise RequestError('expected a JSON object such as {"sender": "…userId…", "message": "…"}')
    return payload


@blueprint.get("/kb/search")
@documented(
    "Search the knowledge base, for agents' desktops",
    tag="knowledge",
    query=SearchQuery,
    responses={200: SearchResults},
    errors=(400, 503),
)
async def search() -> dict[str, Any]:
    """``{"results": [{"id", "title", "score", "answer"}]}``, best first; outside topics
    (``kind: outside``) are not answers, and are left out."""
    mounted = _mounted()
    query = request.args.get("q", "")
    if not query.strip():
        raise RequestError('"q" is required: the question to search for')
    if len(query) > mounted.max_message_chars:
        raise RequestError(f'"q" longer than {mounted.max_message_chars} characters')
    limit = whole_number(request.args.get("limit", "5"), "limit", 1, MAX_SEARCH_LIMIT)
    hits = mounted.service.base.answerable(query, limit)
    return {"results": [search_result(hit.entry, hit.score) for hit in hits]}


def search_result(entry: Entry, score: float) -> dict[str, Any]:
    return {"id": entry.id, "title": entry.title, "score": score, "answer": entry.answer, "kind": entry.kind}


# --- the admin API -------------------------------------------------------------------


def _admin() -> KnowledgeService:
    """The service, for the admin API: who may use it (anyone logged in reads, admins
    change) was decided before the request got here, by ``bot.web.auth``'s guard."""
    return _mounted().service


@blueprint.get("/kb/entries")
@documented(
    "Every entry", tag="knowledge admin", responses={200: EntryList}, errors=(401, 403, 503), security="admin"
)
async def list_entries() -> dict[str, Any]:
    service = _admin()
    return {"entries": [entry_record(entry) for entry in service.base.entries]}


@blueprint.get("/kb/entries/<entry_id>")
@documented(
    "One entry", tag="knowledge admin", responses={200: Entry}, errors=(401, 403, 404, 503), security="admin"
)
async def get_entry(entry_id: str) -> dict[str, Any]:
    return entry_record(_admin().base.get(entry_id))


@blueprint.post("/kb/entries")
@documented(
    "Create an entry",
    tag="knowledge admin",
    description="Admins only; the id must be new. Saved to the data files and live at once.",
    body=Entry,
    responses={201: Entry},
    errors=(400, 401, 403, 409, 413, 503),
    security="admin",
)
async def create_entry() -> tuple[dict[str, Any], int]:
    service = _admin()
    entry = _entry(await _body_json(), "the new entry")
    await service.create(entry)
    return entry_record(entry), 201


@blueprint.put("/kb/entries/<entry_id>")
@documented(
    "Create or replace an entry",
    tag="knowledge admin",
    description="Admins only. The body's id, when given, must be the URL's.",
    body=Entry,
    responses={200: Entry, 201: Entry},
    errors=(400, 401, 403, 413, 503),
    security="admin",
)
async def put_entry(entry_id: str) -> tuple[dict[str, Any], int]:
    service = _admin()
    raw = await _body_json()
    if raw.setdefault("id", entry_id) != entry_id:
        raise RequestError(f'the body\'s "id" {raw["id"]!r} is not the id in the URL {entry_id!r}')
    entry = _entry(raw, f"entry {entry_id}")
    created, _ = await service.put([entry])
    return entry_record(entry), 201 if created else 200


@blueprint.delete("/kb/entries/<entry_id>")
@documented(
    "Delete an entry",
    tag="knowledge admin",
    description="Admins only; a parent's child is refused while the parent lists it.",
    texts={204: Text("Deleted.", content_types=())},
    errors=(400, 401, 403, 404, 503),
    security="admin",
)
async def delete_entry(entry_id: str) -> tuple[str, int]:
    await _admin().delete(entry_id)
    return "", 204


@blueprint.post("/kb/import")
@documented(
    "Import entries from a YAML or CSV file",
    tag="knowledge admin",
    description="Admins only. Entries are created or replaced by id; the format is ?format=, else the "
    "Content-Type (text/csv), else YAML.",
    query=FormatQuery,
    body_types=("application/yaml", "text/csv"),
    responses={200: ImportResult},
    errors=(400, 401, 403, 413, 503),
    security="admin",
)
async def import_entries() -> dict[str, int]:
    """A YAML or CSV body (by ``?format=`` or Content-Type); entries are created or replaced by id."""
    service = _admin()
    text = decode_text(await request.get_data(as_text=False, cache=False, parse_form_data=False))[0]
    data = parse_csv(text, "import") if _format() == "csv" else parse_yaml(text, "import")
    if not data.entries:
        raise RequestError("the import holds no entries")
    created, updated = await service.put(data.entries)
    return {"created": created, "updated": updated}


@blueprint.get("/kb/export")
@documented(
    "Export every entry as YAML or CSV",
    tag="knowledge admin",
    description="CSV cells that a spreadsheet would run as a formula are written with a leading '.",
    query=FormatQuery,
    texts={
        200: Text(
            "The data file.", content_types=("application/yaml; charset=utf-8", "text/csv; charset=utf-8")
        )
    },
    errors=(400, 401, 403, 503),
    security="admin",
)
async def export_entries() -> Response:
    service = _admin()
    entries = service.base.entries
    if _format() == "csv":
        body, content_type = dump_csv(entries), "text/csv; charset=utf-8"
    else:
        body = dump_yaml(DataFile(entries=list(entries), synonyms=dict(service.base.synonyms)))
        content_type = "application/yaml; charset=utf-8"
    return Response(body, content_type=content_type)


@blueprint.get("/kb/customers/<customer>/history")
@documented(
    "What a customer was answered with",
    tag="knowledge admin",
    responses={200: CustomerHistory},
    errors=(401, 403, 503),
    security="admin",
)
async def customer_history(customer: str) -> dict[str, Any]:
    """What a customer was answered with, newest first (within the retention)."""
    service = _admin()
    asked = await service.history.recent(customer) if service.history else []
    return {"customer": customer, "asked": [{"id": a.entry_id, "title": a.title, "at": a.at} for a in asked]}


def _format() -> str:
    wanted = request.args.get("format") or (
        "csv" if "csv" in request.headers.get("Content-Type", "") else "yaml"
    )
    if wanted not in ("yaml", "csv"):
        raise RequestError('"format" must be yaml or csv')
    return wanted


async def _body_json() -> dict[str, Any]:
    return _json_body(await request.get_data(as_text=False, cache=False, parse_form_data=False))


def _entry(raw: dict[str, Any], name: str) -> Entry:
    return parse_entries([raw], name)[0]
