"""``/openapi.json``: the OpenAPI document of every HTTP API, made by quart-schema from the
models in :mod:`bot.web.schemas`.

Each endpoint says what it takes and answers with one :func:`documented` decorator,
which only records (quart-schema's ``document_*`` decorators, never its ``validate_*``
ones): the handlers keep reading their input themselves, byte-exact where the CTI is
concerned, and answer their errors in the shapes of ``bot/web/errors.py``.

quart-schema is used for the document alone. Its web pages (Swagger UI, ReDoc, Scalar)
load scripts from CDNs, which a call center's machines cannot reach: they are off, and
``/api/docs`` (:mod:`bot.web.apidocs`) renders the document on the server instead. Its
response conversion (every dict answer passed through pydantic) and JSON provider are
put back as they were, so that answers are serialised exactly as before and the CTI's
path pays nothing for the documentation.

Only decorated endpoints are in the document: the console's pages and ``/metrics`` are
not JSON APIs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any, Literal, TypeVar

from quart import Quart
from quart_schema import (
    DataSource,
    QuartSchema,
    document_querystring,
    document_request,
    document_response,
)
from quart_schema.openapi import APIKeySecurityScheme, HttpSecurityScheme, OpenAPIProvider
from werkzeug.routing.rules import Rule

from bot.web.errors import PLAIN_TEXT
from bot.web.schemas import ErrorBody

__all__ = ["DataSource", "Text", "documented", "install", "openapi_document"]

T = TypeVar("T", bound=Callable[..., Any])
Security = Literal["admin", "cti"]
DOC_ATTRIBUTE = "_voicebot_api_doc"
ERROR_REASONS = {
    400: "The request is invalid: the reason says which parameter and why.",
    401: "No credential, or a wrong bearer token.",
    403: "Refused: a viewer asked for a change, the CTI token or network did not match, or a CSRF "
    "token is missing.",
    404: "Not found: no such call, flow, entry or audio file.",
    405: "This method is not served here.",
    409: "It exists already: an entry with this id (PUT replaces one).",
    413: "The body or a text is longer than allowed.",
    416: "The byte range is not satisfiable.",
    503: "Not ready yet (starting), or a service it needs is down.",
}
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "adminToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "VOICEBOT_ADMIN_TOKEN (or its deprecated alias VOICEBOT_KB_ADMIN_TOKEN): programs, "
        "acting as an admin.",
    },
    "consoleSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "voicebot_session",
        "description": "A console login (viewer or admin); changes also need the X-CSRF-Token header.",
    },
    "ctiToken": {
        "type": "apiKey",
        "in": "query",
        "name": "token",
        "description": "VOICEBOT_CTI_TOKEN, on the URL configured in the CTI; asked only when it is set "
        "(VOICEBOT_CTI_ALLOW may also restrict the CTI's networks).",
    },
}
_SECURITY: dict[Security, list[dict[str, list[str]]]] = {
    "admin": [{"adminToken": []}, {"consoleSession": []}],
    "cti": [{"ctiToken": []}],
}


@dataclass(frozen=True)
class Text:
    """An answer that is not JSON: plain text for the CTI, a WAV, a YAML or CSV file."""

    description: str
    example: str | None = None
    content_types: tuple[str, ...] = (PLAIN_TEXT,)


@dataclass(frozen=True)
class ApiDoc:
    """What :func:`documented` adds to quart-schema's records of an endpoint."""

    summary: str
    description: str
    tag: str
    texts: Mapping[int, Text] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    plain_errors: bool = False
    security: Security | None = None
    body_types: tuple[str, ...] = ()


def documented(
    summary: str,
    *,
    tag: str,
    description: str = "",
    query: Any = None,
    body: Any = None,
    body_source: DataSource = DataSource.JSON,
    body_types: tuple[str, ...] = (),
    responses: Mapping[int, Any] | None = None,
    texts: Mapping[int, Text] | None = None,
    errors: Iterable[int] = (),
    security: Security | None = None,
) -> Callable[[T], T]:
    """Record an endpoint in the OpenAPI document; it changes nothing in how it runs.

    Args:
        query, body: models of the query string and the request body (documented only).
        body_types: other media types the body may have (the model documents JSON or form).
        responses: JSON answers by status, as models.
        texts: other answers by status (plain text, audio, files).
        errors: the error statuses it may answer, in the JSON error shape (plain text on
            the CTI's paths).
        security: who may call it: ``admin`` (bearer token or console session) or ``cti``.
    """
    plain = tag == "cti"

    def decorate(func: T) -> T:
        if query is not None:
            func = document_querystring(query)(func)
        if body is not None:
            func = document_request(body, source=body_source)(func)
        for status, model in (responses or {}).items():
            func = document_response(model, status)(func)
        setattr(
            func,
            DOC_ATTRIBUTE,
            ApiDoc(
                summary=summary,
                description=description,
                tag=tag,
                texts=dict(texts or {}),
                errors=tuple(sorted(set(errors))),
                plain_errors=plain,
                security=security,
                body_types=body_types,
            ),
        )
        return func

    return decorate


class _Provider(OpenAPIProvider):
    """quart-schema's document of the decorated endpoints, with their text answers, error
    answers, security and summaries; built once, the routes being fixed once serving."""

    _cached: dict[str, Any] | None = None

    def schema(self) -> dict[str, Any]:
        if self._cached is None:
            document = super().schema()
            document["paths"] = dict(sorted(document["paths"].items()))
            # With their descriptions, which quart-schema's scheme classes do not carry.
            document["components"]["securitySchemes"] = SECURITY_SCHEMES
            document["components"]["schemas"]["ErrorBody"] = ErrorBody.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            document["components"]["schemas"].update(
                document["components"]["schemas"]["ErrorBody"].pop("$defs")
            )
            self._cached = document
        return self._cached

    def generate_rules(self) -> Iterable[Rule]:
        for rule in super().generate_rules():
            if hasattr(self._app.view_functions[rule.endpoint], DOC_ATTRIBUTE):
                yield rule

    def build_querystring_parameters(self, model: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        parameters, definitions = super().build_querystring_parameters(model)
        required = {name for name, info in model.model_fields.items() if info.is_required()}
        for parameter in parameters:
            if parameter["name"] in required:
                parameter["required"] = True
        return parameters, definitions

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        doc: ApiDoc = getattr(self._app.view_functions[rule.endpoint], DOC_ATTRIBUTE)
        for path_item in paths.values():
            for method, operation in path_item.items():
                path_item[method] = _complete(dict(operation), doc)
        return paths, components


def _complete(operation: dict[str, Any], doc: ApiDoc) -> dict[str, Any]:
    operation["summary"] = doc.summary
    operation["tags"] = [doc.tag]
    if doc.description:
        operation["description"] = doc.description
    else:
        operation.pop("description", None)
    responses: dict[str, Any] = {str(status): answer for status, answer in operation["responses"].items()}
    for status, text in doc.texts.items():
        responses[str(status)] = {
            "description": text.description,
            "content": {
                media: {"schema": {"type": "string"}} | ({"example": text.example} if text.example else {})
                for media in text.content_types
            },
        }
    for status in doc.errors:
        content = (
            {PLAIN_TEXT: {"schema": {"type": "string"}}}
            if doc.plain_errors
            else {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        )
        responses.setdefault(str(status), {"description": ERROR_REASONS.get(status, ""), "content": content})
    operation["responses"] = dict(sorted(responses.items()))
    if doc.security is not None:
        operation["security"] = _SECURITY[doc.security]
    if doc.body_types:
        body = operation.get("requestBody", {"content": {}})
        content = dict(body["content"])
        for media in doc.body_types:
            content[media] = {"schema": {"type": "string"}}
        operation["requestBody"] = {**body, "content": content}
    if "requestBody" in operation and doc.tag == "cti":
        operation["requestBody"] = {**operation["requestBody"], "required": False}
    elif "requestBody" in operation:
        operation["requestBody"] = {**operation["requestBody"], "required": True}
    return operation


class _DocumentOnly(QuartSchema):
    openapi_provider_class = _Provider

    def init_app(self, app: Quart) -> None:
        make_response, json_provider = app.make_response, app.json
        super().init_app(app)
        app.make_response = make_response  # type: ignore[method-assign]
        app.json = json_provider


def install(app: Quart, *, title: str, description: str) -> QuartSchema:
    """Serve ``/openapi.json`` from ``app`` (and no CDN-based page)."""
    return _DocumentOnly(
        app,
        openapi_path="/openapi.json",
        redoc_ui_path=None,
        scalar_ui_path=None,
        swagger_ui_path=None,
        info={"title": title, "version": version("voicebot"), "description": description},
        # Named here; the document lists SECURITY_SCHEMES, with their descriptions.
        security_schemes={
            name: HttpSecurityScheme(scheme=scheme["scheme"])
            if scheme["type"] == "http"
            else APIKeySecurityScheme(name=scheme["name"], in_=scheme["in"])
            for name, scheme in SECURITY_SCHEMES.items()
        },
    )


def openapi_document(app: Quart) -> dict[str, Any]:
    """The app's OpenAPI document, as ``/openapi.json`` serves it."""
    extension: QuartSchema = app.extensions["QUART_SCHEMA"]
    return extension.openapi_provider.schema()
