"""Property: no request to the console, however odd, gets a 500.

The console's JSON API is not in the OpenAPI document (it serves the console's own
pages), so the schema-driven fuzzing does not reach it: here every endpoint gets
arbitrary query values, path segments and JSON bodies, with the admin token (a
principal that passes the CSRF rule) and without any credential (then 401, or a
redirect for pages). Derandomized: the same examples every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text.segmenter import Segmenter
from tests.web.fuzzing import ADMIN_TOKEN, FUZZ_SETTINGS, Served, served

EXAMPLES = 60  # per endpoint and way
AUTH = [(b"authorization", f"Bearer {ADMIN_TOKEN}".encode())]
JSON = [(b"content-type", b"application/json")]

VALUES = st.one_of(
    st.sampled_from(["", "0", "1", "24", "168", "169", "1001", "²", "9" * 500, "all", "test", "yibao"]),
    st.text(max_size=40),
)
QUERY_NAMES = ["limit", "kind", "flow", "outcome", "q", "hours", "test"]
GETS = [
    "/console/api/calls",
    "/console/api/kb/search",
    "/console/api/dashboard",
    "/console/api/flows/check",
]
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
BODIES = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "flow": st.one_of(st.sampled_from(["yibao", "survey", "nope"]), JSON_VALUES),
            "telnum": st.one_of(st.sampled_from(["13800000000", "", "abc"]), JSON_VALUES),
            "event": st.one_of(st.sampled_from(["say", "barge", "silence", "hangup", "x"]), JSON_VALUES),
            "text": st.one_of(st.sampled_from(["我要转人工", "", "嗯"]), JSON_VALUES),
        },
    ).map(lambda body: json.dumps(body, ensure_ascii=False).encode()),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=60),
    st.just(b"[" * 5000),
)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("fuzz-console"), segmenter, locked=True, suite="hypothesis") as app:
        yield app


def _query(values: dict[str, str]) -> bytes:
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in values.items()).encode()


@settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
@given(path=st.sampled_from(GETS), values=st.dictionaries(st.sampled_from(QUERY_NAMES), VALUES, max_size=5))
def test_reads_never_fail(console: Served, path: str, values: dict[str, str]) -> None:
    answer = console.request("GET", path, query=_query(values), headers=AUTH)
    assert answer.status < 500, answer
    assert console.request("GET", path, query=_query(values)).status == 401


@settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
@given(call_id=st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s), body=BODIES)
def test_test_calls_and_reveals_never_fail(console: Served, call_id: str, body: bytes) -> None:
    for path in ("/console/api/try", f"/console/api/try/{call_id}", f"/console/api/calls/{call_id}/reveal"):
        answer = console.request("POST", path, headers=AUTH + JSON, chunks=[body])
        assert answer.status < 500, (path, answer)
        assert console.request("POST", path, headers=JSON, chunks=[body]).status == 401
    for path in (f"/console/api/calls/{call_id}", f"/console/api/flows/{call_id}/graph.svg"):
        assert console.request("GET", path, headers=AUTH).status < 500, path


@settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
@given(form=st.dictionaries(st.sampled_from(["name", "password", "csrf", "next"]), VALUES, max_size=4))
def test_logins_never_fail(console: Served, form: dict[str, str]) -> None:
    answer = console.request(
        "POST",
        "/console/login",
        headers=[(b"content-type", b"application/x-www-form-urlencoded")],
        chunks=[_query(form)],
    )
    assert answer.status in (401, 403, 429), answer  # never in without the form's token


def test_pages_without_a_login_redirect(console: Served) -> None:
    pages = ("/console", "/console/calls", "/console/calls/x", "/console/flows/yibao", "/console/knowledge")
    for page in pages:
        answer = console.request("GET", page)
        assert answer.status == 302, page
        assert answer.headers["location"].startswith("/console/login?next=")
