"""Property: no request, however odd, gets a 500 (issue 13).

Every operation of the OpenAPI document gets arbitrary values for its parameters and
names it does not know (percent-encoded or raw UTF-8, GBK, bytes, huge numbers,
control characters), arbitrary bodies (nested JSON, binary, forms, GBK, oversized,
sent in chunks without a Content-Length) and odd headers (Host, Range, Content-Length,
Content-Type, conditional requests, credentials), three ways: without any credential
(then the data endpoints must refuse, 401 or 403), and with the admin and CTI tokens
set, without and with them. The examples are the same every run (derandomized).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.web.auth import DATA_PREFIXES
from bot.web.openapi import openapi_document
from tests.web.fuzzing import ADMIN_TOKEN, CTI_TOKEN, FUZZ_SETTINGS, SERVER_ERRORS, Served

EXAMPLES = 110  # per operation and way; about 7,000 requests in all

# Every operation of the document (test_every_operation_is_fuzzed keeps this complete);
# its parameters come from the document.
OPERATIONS = [
    ("GET", "/"),
    ("GET", "/audio/{key}.wav"),
    ("GET", "/calls"),
    ("GET", "/calls/{call_id}"),
    ("GET", "/calls/{call_id}/recording"),
    ("GET", "/campaigns"),
    ("POST", "/campaigns"),
    ("GET", "/campaigns/{name}"),
    ("DELETE", "/campaigns/{name}"),
    ("GET", "/campaigns/{name}/results.csv"),
    ("POST", "/campaigns/{name}/start"),
    ("POST", "/campaigns/{name}/stop"),
    ("GET", "/cti/ai"),
    ("POST", "/cti/ai"),
    ("GET", "/cti/agent-speech"),
    ("POST", "/cti/agent-speech"),
    ("POST", "/cti/calllog"),
    ("GET", "/cti/hangup"),
    ("POST", "/cti/hangup"),
    ("GET", "/cti/ivr"),
    ("POST", "/cti/ivr"),
    ("GET", "/cti/route"),
    ("POST", "/cti/route"),
    ("GET", "/do-not-call"),
    ("POST", "/do-not-call"),
    ("DELETE", "/do-not-call/{telnum}"),
    ("GET", "/healthz"),
    ("GET", "/kb/customers/{customer}/history"),
    ("GET", "/kb/entries"),
    ("POST", "/kb/entries"),
    ("GET", "/kb/entries/{entry_id}"),
    ("PUT", "/kb/entries/{entry_id}"),
    ("DELETE", "/kb/entries/{entry_id}"),
    ("GET", "/kb/export"),
    ("POST", "/kb/import"),
    ("GET", "/kb/search"),
    ("POST", "/model/parse"),
    ("POST", "/webhooks/rest/webhook"),
]

# --- values ------------------------------------------------------------------------------

SPECIAL_VALUES = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "5",
    "50",
    "51",
    "1000",
    "1001",
    "²",
    "١٢",
    "9" * 5000,
    "1e309",
    "NaN",
    "ready2speak",
    "hungup",
    "READY2SPEAK",
    "true",
    "yes",
    "robot",
    "yibao",
    "survey",
    "csv",
    "yaml",
    "我要转人工",
    "医保卡丢了",
    "a\r\nb",
    "\x00",
    "%",
    "%zz",
    "%00",
    "a" * 300,
    "问" * 600,
    "..",
    "../..",
]
text = st.text(max_size=30)
chinese = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=1, max_size=12)
raw_values: st.SearchStrategy[bytes] = st.one_of(
    text.map(lambda s: quote(s).encode()),  # percent-encoded UTF-8
    text.map(lambda s: s.replace("&", "").replace("=", "").encode()),  # raw UTF-8, as the manual prints it
    chinese.map(lambda s: quote_from_bytes(s.encode("gbk", "replace")).encode()),  # GBK
    st.binary(max_size=24).map(lambda b: quote_from_bytes(b).encode()),  # any bytes
    st.integers().map(lambda n: str(n).encode()),
    st.floats(allow_nan=True).map(lambda f: str(f).encode()),
    st.sampled_from(SPECIAL_VALUES).map(lambda s: quote(s, safe="%").encode()),
)
param_names = st.one_of(
    st.text(max_size=8), st.sampled_from(["token", "limit", "q", "format", "reveal", "in2"])
)


def encode_pairs(pairs: Sequence[tuple[str | bytes, bytes]]) -> bytes:
    return b"&".join(
        (quote(name).encode() if isinstance(name, str) else name) + b"=" + value for name, value in pairs
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text | chinese,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
entry_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["fuzz-1", "yidi-jiuyi", "", "a b", "x" * 70]) | text,
        "title": chinese | text | json_values,
        "kind": st.sampled_from(["knowledge", "faq", "other"]) | json_values,
        "questions": st.lists(chinese, max_size=3) | json_values,
        "keywords": st.lists(chinese, max_size=3) | text,
        "answer": chinese | st.sampled_from(["", "答" * 1001]) | json_values,
        "children": st.lists(st.sampled_from(["fuzz-1", "yidi-jiuyi", "nope"]), max_size=2) | json_values,
        "extra": json_values,
    },
)

record_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers() | text | json_values,
        "callid": st.sampled_from(["fuzz-1", "fuzz-2%40127.0.0.1", ""]) | text | json_values,
        "caller": st.sampled_from(["1000", "13800138000"]) | text,
        "callee": st.sampled_from(["8001", "13800138000"]) | text | json_values,
        "beginTime": st.integers() | st.floats() | text | json_values,
        "pickupTime": st.integers() | json_values,
        "duration": st.integers() | text | json_values,
        "business": st.sampled_from(["AI_ROBOT", "AI_ROBOT_TRANSFER_IN"]) | text,
        "peercallid": text | json_values,
    },
)


def json_body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


bodies: st.SearchStrategy[bytes] = st.one_of(
    json_values.map(json_body),
    entry_like.map(json_body),
    st.fixed_dictionaries(
        {},
        optional={
            "sender": text | json_values,
            "message": chinese | text | json_values,
            "text": chinese | json_values,
            "flow": st.sampled_from(["yibao", "survey", "nope"]) | json_values,
        },
    ).map(json_body),
    st.fixed_dictionaries({"sender": chinese, "message": chinese}).map(
        lambda d: json.dumps(d, ensure_ascii=False).encode("gbk")
    ),
    st.fixed_dictionaries(  # a call-record push (GX §31)
        {"datas": st.lists(record_like, max_size=3) | json_values}, optional={"client_ip": text | json_values}
    ).map(json_body),
    st.integers(min_value=1, max_value=9000).map(lambda n: b"[" * n),
    st.integers(min_value=1, max_value=3000).map(lambda n: b'{"a":' * n),
    st.lists(st.tuples(param_names, raw_values), max_size=6).map(encode_pairs),  # a form
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"",
            b"\xff\xfe",
            b"entries:\n  - id: fuzz-2\n    title: t\n    answer: a\n",
            b"id,title,answer\nfuzz-3,=1+1,@a\n",
            b"entries: [",
            b"a" * 70_000,
            b"{" * 100_000,
        ]
    ),
)

# --- headers ----------------------------------------------------------------------------

HEADER_VALUES: dict[bytes, list[bytes]] = {
    b"host": [
        b"a" * 64,
        b"a..b",
        b"[::1]:8080",
        b"\xff\xfe",
        b"example.com:99999",
        b"",
        b"x" * 300,
        b".",
        b"a.b.",
    ],
    b"range": [
        b"bytes=-1",
        b"bytes=0-",
        b"bytes=5-2",
        b"bytes=-0",
        b"bytes=0-0,2-3,-1",
        b"items=0-1",
        b"bytes=99999999999999999999-",
        b"bytes=-99999999999999999999",
        b"bytes=",
        b"bytes=a-b",
    ],
    b"content-type": [
        b"application/json",
        b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=x",
        b"multipart/form-data",
        b"text/csv",
        b"application/yaml",
        b"application/json; charset=gbk",
        b"text/plain; charset=nope",
        b"\xff",
    ],
    b"content-length": [b"0", b"1", b"-1", b"abc", b"99999999999999999999999", b"16385", b"1048577"],
    b"authorization": [
        b"Bearer",
        b"Bearer ",
        b"Bearer wrong",
        b"Basic YTpi",
        b"bearer \xff\xfe",
        b"Bearer " + b"a" * 500,
    ],
    b"cookie": [b"voicebot_session=abc", b"voicebot_session=", b"voicebot_session=" + b"e" * 300, b"\xff"],
    b"x-csrf-token": [b"", b"x", b"\xff"],
    b"if-none-match": [b"*", b'"x"', b"W/", b"\xff"],
    b"if-modified-since": [
        b"yesterday",
        b"Thu, 01 Jan 1970 00:00:00 GMT",
        b"Sun, 06 Nov 9999 08:49:37 GMT",
        b"\xff",
    ],
    b"if-range": [b'"x"', b"Thu, 01 Jan 1970 00:00:00 GMT", b"garbage"],
    b"x-forwarded-for": [b"1.2.3.4", b"::1, 10.0.0.1", b"not-an-address", b"\xff"],
    b"accept-encoding": [b"gzip", b"*", b"\xff"],
    b"transfer-encoding": [b"chunked", b"gzip, chunked", b"nope"],
}
# Any byte an HTTP/1.1 server passes on in a header value: not CR, LF or NUL, which end
# the line (the server refuses the request before the app sees it).
header_bytes = st.binary(max_size=40).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b"\0", b"")
)
headers: st.SearchStrategy[list[tuple[bytes, bytes]]] = st.lists(
    st.sampled_from(sorted(HEADER_VALUES)).flatmap(
        lambda name: st.tuples(st.just(name), st.sampled_from(HEADER_VALUES[name]) | header_bytes)
    ),
    max_size=4,
    unique_by=lambda header: header[0],
)


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    """``body`` in chunks, as a chunked upload arrives."""
    points = sorted({0, len(body), *(min(cut, len(body)) for cut in cuts)})
    return [body[a:b] for a, b in itertools.pairwise(points)] or [b""]


# --- the requests -----------------------------------------------------------------------


def operation_params(document: dict[str, Any], method: str, template: str) -> list[str]:
    operation = document["paths"][template][method.lower()]
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    for content in operation.get("requestBody", {}).get("content", {}).values():
        names += list(content.get("schema", {}).get("properties", {}))
    return sorted(set(names))


@st.composite
def requests(
    draw: st.DrawFn, app: Served, method: str, template: str, *, credentials: bool
) -> dict[str, Any]:
    names = operation_params(openapi_document(app.app), method, template)
    path = template
    for segment in ("{call_id}", "{customer}", "{entry_id}", "{key}"):
        if segment in path:
            value = draw(
                st.sampled_from(["fuzz-audio", "yidi-jiuyi", "x"]) | st.text(min_size=1, max_size=40)
            )
            if segment != "{call_id}":
                value = value.replace("/", "")
            path = path.replace(segment, value or "x")
    if template == "/audio/{key}.wav" and draw(st.booleans()):
        path = app.audio_path()
    name = st.sampled_from(names) | param_names if names else param_names
    pairs: list[tuple[str | bytes, bytes]] = draw(st.lists(st.tuples(name, raw_values), max_size=6))
    if template.startswith("/cti/") and draw(st.integers(0, 3)) > 0:  # mostly a callid and txt that pass
        pairs += [("callid", draw(st.sampled_from([b"fuzz-1", b"fuzz-2"]))), ("txt", draw(raw_values))]
    request_headers = draw(headers)
    if credentials:
        if template.startswith("/cti/"):
            pairs.insert(0, ("token", CTI_TOKEN.encode()))  # the first of a name wins
        request_headers = [h for h in request_headers if h[0] != b"authorization"]
        request_headers.append((b"authorization", b"Bearer " + ADMIN_TOKEN.encode()))
    chunks = [b""]
    if method in ("POST", "PUT"):
        body = draw(bodies)
        if draw(st.booleans()):  # chunked: no Content-Length
            chunks = split(body, draw(st.lists(st.integers(0, len(body)), max_size=3)))
            request_headers = [h for h in request_headers if h[0] != b"content-length"]
        else:
            chunks = [body]
            if not any(h[0] == b"content-length" for h in request_headers):
                request_headers.append((b"content-length", str(len(body)).encode()))
    return {
        "method": method,
        "path": path,
        "query": encode_pairs(pairs),
        "headers": request_headers,
        "chunks": chunks,
    }


def check(app: Served, request: dict[str, Any], *, refused: bool, cti_locked: bool = False) -> None:
    before = len(SERVER_ERRORS)
    answer = app.request(**request)
    assert len(SERVER_ERRORS) == before, SERVER_ERRORS[-1]
    assert answer.status < 500, answer
    host_refused = answer.status == 400 and answer.body.startswith(b"bad Host header")
    if refused and request["path"].startswith(DATA_PREFIXES) and not host_refused:
        assert answer.status in (401, 403), answer
    if cti_locked and request["path"].startswith("/cti/") and not host_refused:
        assert answer.status == 403, answer


def test_every_operation_is_fuzzed(open_app: Served) -> None:
    document = openapi_document(open_app.app)
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(("method", "template"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_without_credentials_nothing_is_a_500(open_app: Served, method: str, template: str) -> None:
    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
    @given(request=requests(open_app, method, template, credentials=False))
    def run(request: dict[str, Any]) -> None:
        check(open_app, request, refused=True)

    run()


@pytest.mark.parametrize(("method", "template"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@pytest.mark.parametrize("credentials", [False, True], ids=["no-credentials", "credentials"])
def test_locked_nothing_is_a_500(locked_app: Served, method: str, template: str, credentials: bool) -> None:
    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
    @given(request=requests(locked_app, method, template, credentials=credentials))
    def run(request: dict[str, Any]) -> None:
        check(locked_app, request, refused=not credentials, cti_locked=not credentials)

    run()


any_path = st.one_of(
    st.sampled_from(sorted({path for _, path in OPERATIONS})).map(
        lambda p: (
            p.replace("{key}", "x")
            .replace("{call_id}", "x")
            .replace("{customer}", "x")
            .replace("{entry_id}", "x")
        )
    ),
    st.text(max_size=60).map(lambda p: "/" + p),
    st.sampled_from(
        [
            "/audio/../flows/yibao.yaml",
            "/audio/.wav",
            "/cti/",
            "/kb/entries/",
            "/console",
            "/metrics",
            "/openapi.json",
            "/api/docs",
            "//",
            "/" + "a" * 5000,
            "/\x00",
            "/calls/" + "x" * 3000,
        ]
    ),
)
methods = st.sampled_from(
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "FOO"]
)


@pytest.mark.parametrize("credentials", [False, True], ids=["no-credentials", "credentials"])
def test_any_method_on_any_path_is_never_a_500(locked_app: Served, credentials: bool) -> None:
    """Methods the document does not list (HEAD, OPTIONS, …) and paths it does not know."""

    @settings(FUZZ_SETTINGS, max_examples=250)
    @given(method=methods, path=any_path, request_headers=headers, body=bodies)
    def run(method: str, path: str, request_headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        query = f"token={CTI_TOKEN}".encode() if credentials else b""
        if credentials:
            request_headers = [h for h in request_headers if h[0] != b"authorization"]
            request_headers.append((b"authorization", b"Bearer " + ADMIN_TOKEN.encode()))
        request = {
            "method": method,
            "path": path,
            "query": query,
            "headers": request_headers,
            "chunks": [body],
        }
        check(locked_app, request, refused=not credentials, cti_locked=not credentials)

    run()


@pytest.mark.parametrize(
    "path",
    [
        "/cti/ai",
        "/cti/calllog",
        "/cti/hangup",
        "/cti/ivr",
        "/model/parse",
        "/webhooks/rest/webhook",
        "/kb/import",
    ],
)
def test_a_chunked_body_over_every_limit_is_refused(locked_app: Served, path: str) -> None:
    """2 MiB in 64 KiB chunks, with no Content-Length: over the app's 1 MiB limit."""
    answer = locked_app.request(
        "POST",
        path,
        query=f"token={CTI_TOKEN}".encode(),
        headers=[(b"authorization", f"Bearer {ADMIN_TOKEN}".encode())],
        chunks=[b"a" * 65536] * 32,
    )
    assert answer.status == 413, answer


CONSOLE_API = [
    ("GET", "/console/api/calls"),
    ("GET", "/console/api/calls/{call_id}"),
    ("POST", "/console/api/calls/{call_id}/reveal"),
    ("POST", "/console/api/try"),
    ("POST", "/console/api/try/{call_id}"),
    ("GET", "/console/api/flows/check"),
    ("GET", "/console/api/kb/search"),
    ("GET", "/console/api/dashboard"),
]
CONSOLE_PARAMS = ["limit", "kind", "flow", "outcome", "q", "hours", "test", "event", "text", "telnum"]


@pytest.mark.parametrize(("method", "template"), CONSOLE_API, ids=[f"{m} {p}" for m, p in CONSOLE_API])
def test_the_consoles_api_answers_no_500(locked_app: Served, method: str, template: str) -> None:
    """The console's own JSON API (not in the document: its pages' API), as an admin (the
    bearer token: a console session is a principal the same way, plus its CSRF check)."""
    event = st.sampled_from(["start", "say", "silence", "barge_in", "hangup", "nope"])
    body = st.one_of(
        bodies,
        st.fixed_dictionaries(
            {},
            optional={
                "flow": st.sampled_from(["yibao", "survey", "nope"]) | json_values,
                "telnum": text | json_values,
                "event": event | json_values,
                "text": chinese | json_values,
            },
        ).map(json_body),
    )

    @settings(FUZZ_SETTINGS, max_examples=60)
    @given(
        call_id=st.sampled_from(["fuzz-1", "x"]) | st.text(min_size=1, max_size=30),
        pairs=st.lists(st.tuples(st.sampled_from(CONSOLE_PARAMS) | param_names, raw_values), max_size=5),
        request_headers=headers,
        payload=body,
    )
    def run(
        call_id: str,
        pairs: list[tuple[str, bytes]],
        request_headers: list[tuple[bytes, bytes]],
        payload: bytes,
    ) -> None:
        request_headers = [
            h for h in request_headers if h[0] not in (b"cookie", b"x-csrf-token", b"authorization")
        ]
        request_headers.append((b"authorization", b"Bearer " + ADMIN_TOKEN.encode()))
        path = template.replace("{call_id}", call_id)
        chunks = [payload] if method == "POST" else [b""]
        request = {
            "method": method,
            "path": path,
            "query": encode_pairs(pairs),
            "headers": request_headers,
            "chunks": chunks,
        }
        check(locked_app, request, refused=False)

    run()
