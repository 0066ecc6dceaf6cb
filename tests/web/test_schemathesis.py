"""schemathesis over ``/openapi.json``: requests made from the document itself, valid ones
(positive) and ones that break it (negative), for every operation, without credentials
and with the admin and CTI tokens.

Whatever schemathesis sends, the answer is never a 5xx; a status the document does not
list for the operation is a mistake of the document; a JSON answer with a 2xx status
must fit the documented schema. The requests go through the started app's ASGI
interface (tests/web/fuzzing.py), with the same examples every run.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import jsonschema
import pytest
import schemathesis
from hypothesis import given, settings
from schemathesis.generation import GenerationMode

from bot.web.openapi import openapi_document
from tests.web.fuzzing import ADMIN_TOKEN, CTI_TOKEN, FUZZ_SETTINGS, Answer, Served
from tests.web.test_properties import OPERATIONS

FUZZ_SUITE = "schemathesis"
EXAMPLES = 45  # per operation, mode and credentials: about 4,300 requests
_BAD_HEADER_CHARACTERS = str.maketrans("", "", "\r\n\0")


def transport_request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis's request (``requests``' arguments) as Served.request takes it."""
    url = urlsplit(kwargs["url"])
    params = {name: _text(value) for name, value in (kwargs.get("params") or {}).items()}
    query = "&".join(part for part in (url.query, urlencode(params)) if part).encode()
    headers = [
        (name.lower().encode(), str(value).translate(_BAD_HEADER_CHARACTERS).encode())
        for name, value in (kwargs.get("headers") or {}).items()
    ]
    if kwargs.get("cookies"):
        cookie = "; ".join(f"{name}={value}" for name, value in kwargs["cookies"].items())
        headers.append((b"cookie", cookie.translate(_BAD_HEADER_CHARACTERS).encode()))
    body = b""
    if "json" in kwargs:
        body = json.dumps(kwargs["json"]).encode()
    elif isinstance(kwargs.get("data"), dict):
        body = urlencode({name: _text(value) for name, value in kwargs["data"].items()}).encode()
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body = data if isinstance(data, bytes) else str(data).encode()
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    return {
        "method": kwargs["method"],
        "path": unquote(url.path),
        "query": query,
        "headers": headers,
        "chunks": [body],
    }


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def with_credentials(request: dict[str, Any]) -> dict[str, Any]:
    headers = [h for h in request["headers"] if h[0] != b"authorization"]
    headers.append((b"authorization", f"Bearer {ADMIN_TOKEN}".encode()))
    query = f"token={CTI_TOKEN}".encode() + (
        b"&" + request["query"] if request["query"] else b""
    )  # the first wins
    return {**request, "headers": headers, "query": query}


def check_answer(document: dict[str, Any], method: str, template: str, answer: Answer) -> None:
    assert answer.status < 500, answer
    responses = document["paths"][template][method.lower()]["responses"]
    documented = set(responses) | {"405"}  # any path answers a method it does not serve
    if answer.status == 400 and answer.body.startswith(b"bad Host header"):
        return
    assert str(answer.status) in documented, f"{answer.status} is not documented for {method} {template}"
    content = responses[str(answer.status)].get("content", {})
    if 200 <= answer.status < 300 and "application/json" in content:
        schema = {**content["application/json"]["schema"], "components": document["components"]}
        jsonschema.Draft202012Validator(schema).validate(answer.json())


def fuzz_operation(
    served: Served,
    document: dict[str, Any],
    template: str,
    method: str,
    *,
    mode: GenerationMode,
    credentials: bool,
    examples: int,
) -> None:
    """schemathesis's cases for one operation, sent to ``served`` and their answers checked."""
    operation = schemathesis.openapi.from_dict(document)[template][method]
    described = document["paths"][template][method.lower()]
    if not (described.get("parameters") or described.get("requestBody") or described.get("security")):
        mode = GenerationMode.POSITIVE  # nothing to break: only valid requests exist

    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:  # a schemathesis.Case
        request = transport_request(case.as_transport_kwargs(base_url="http://127.0.0.1:8080"))
        if credentials:
            request = with_credentials(request)
        check_answer(document, method, template, served.request(**request))

    run()


@pytest.mark.parametrize(("method", "template"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"]
)
@pytest.mark.parametrize("credentials", [False, True], ids=["no-credentials", "credentials"])
def test_schemathesis_finds_no_server_error(
    locked_app: Served, method: str, template: str, mode: GenerationMode, credentials: bool
) -> None:
    document = openapi_document(locked_app.app)
    fuzz_operation(
        locked_app, document, template, method, mode=mode, credentials=credentials, examples=EXAMPLES
    )


KB_EXAMPLES = 25


@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"]
)
@pytest.mark.parametrize("credentials", [False, True], ids=["no-credentials", "credentials"])
def test_schemathesis_finds_no_server_error_in_kb_serve(
    kb_app: Served, mode: GenerationMode, credentials: bool
) -> None:
    """``voicebot kb serve``'s own document, every operation of it."""
    document = openapi_document(kb_app.app)
    operations = [(path, method.upper()) for path, item in document["paths"].items() for method in item]
    assert ("/webhooks/rest/webhook", "POST") in operations
    for template, method in operations:
        fuzz_operation(
            kb_app, document, template, method, mode=mode, credentials=credentials, examples=KB_EXAMPLES
        )
