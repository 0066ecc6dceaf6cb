"""The ``http:`` step executor against a real HTTP server on the loopback interface.

Nothing remote is faked: :class:`LoopbackServer` is a small HTTP/1.1 server
(``asyncio.start_server``) running on the test's own event loop, so a slow route
is an ``asyncio.sleep`` that the fixture cancels at the end, leaving no thread
or process behind. Every request it serves is counted per path, which is how the
tests check retries without measuring time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from bot.dialog.business import BusinessAPI, HttpOutcome
from bot.language.flow import HttpCall
from tests.loopback import ECHO_DATA, LoopbackServer, unused_port

LOGGER = "bot.dialog.business"


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    started = LoopbackServer()
    await started.start()
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture
async def api(server: LoopbackServer) -> AsyncIterator[BusinessAPI]:
    """An executor on a client that ignores proxy settings, so loopback stays loopback."""
    async with httpx.AsyncClient(trust_env=False) as client:
        business = BusinessAPI(client)
        yield business
        await business.aclose()


def http(url: str, **keys: object) -> HttpCall:
    return HttpCall.model_validate({"url": url, "on_error": "failed", **keys})


def echoed(outcome: HttpOutcome) -> dict[str, Any]:
    assert outcome.ok, outcome.error
    answer = outcome.variables["answer"]
    assert isinstance(answer, dict)
    return answer


# --- Requests ---------------------------------------------------------------------


async def test_url_placeholders_are_percent_encoded(api: BusinessAPI, server: LoopbackServer) -> None:
    name = "张 三/?#&=%"
    spec = http(server.base_url + "/echo/{{id}}/{{name}}?q={{name}}", **{"as": "answer"})
    answer = echoed(await api.call(spec, {"id": "11010519491231002X", "name": name}))
    assert answer["path"] == f"/echo/11010519491231002X/{quote(name, safe='')}"
    assert answer["query"] == {"q": name}
    assert server.hits == {answer["path"]: 1}


async def test_query_headers_and_json_are_sent(api: BusinessAPI, server: LoopbackServer) -> None:
    spec = http(
        server.base_url + "/echo",
        method="POST",
        query={"phone": "{{phone}}", "city": "北京", "empty": "{{missing}}", "n": 7},
        headers={"X-Token": "Bearer {{token}}", "X-Caller": "{{name}}"},
        json={
            "phone": "phone",
            "double": "amount * 2",
            "vip": True,
            "tags": "['a', 1]",
            "nothing": None,
            "day": "day",
            "price": "price",
            "ratio": "ratio",
            "order": "order",
            "huge": "huge",
        },
        **{"as": "answer"},
    )
    variables = {
        "phone": "138 1234 5678",
        "token": "t0ken",
        "name": "张三",
        "amount": 21,
        "day": dt.date(2026, 3, 5),
        "price": Decimal("12.50"),
        "ratio": math.nan,
        "order": {"id": 7, "lines": ("x", {1, 2})},
        "huge": 10**30,
    }
    answer = echoed(await api.call(spec, variables))
    assert answer["method"] == "POST"
    assert answer["query"] == {"phone": "138 1234 5678", "city": "北京", "empty": "", "n": "7"}
    assert answer["headers"]["x-token"] == "Bearer t0ken"
    assert answer["headers"]["x-caller"] == "张三"
    assert answer["headers"]["content-type"] == "application/json"
    assert answer["json"] == {
        "phone": "138 1234 5678",
        "double": 42,
        "vip": True,
        "tags": ["a", 1],
        "nothing": None,
        "day": "2026-03-05",
        "price": 12.5,
        "ratio": None,
        "order": {"id": 7, "lines": ["x", "{1, 2}"]},
        "huge": str(10**30),
    }


async def test_get_without_json_sends_no_body(api: BusinessAPI, server: LoopbackServer) -> None:
    answer = echoed(await api.call(http(server.base_url + "/echo", **{"as": "answer"}), {}))
    assert answer["method"] == "GET"
    assert answer["json"] is None
    assert answer["raw_query"] == ""
    assert "content-type" not in answer["headers"]


# --- Answers ----------------------------------------------------------------------


async def test_save_takes_values_at_paths(api: BusinessAPI, server: LoopbackServer) -> None:
    save = {
        "amount": "data.amount",
        "first": "data.items.0.name",
        "second": "data.items.1.name",
        "beyond": "data.items.5.name",
        "negative": "data.items.-1.name",
        "missing": "data.nope.deeper",
        "into_text": "method.length",
        "owner": "data.owner",
        "items": "data.items",
    }
    outcome = await api.call(http(server.base_url + "/echo", save=save), {})
    assert outcome == HttpOutcome(
        ok=True,
        variables={
            "amount": 12.5,
            "first": "first",
            "second": "second",
            "beyond": None,
            "negative": None,
            "missing": None,
            "into_text": None,
            "owner": None,
            "items": ECHO_DATA["items"],
        },
        status=200,
        attempts=1,
    )


async def test_as_stores_the_whole_body_next_to_save(api: BusinessAPI, server: LoopbackServer) -> None:
    spec = http(server.base_url + "/echo", save={"amount": "data.amount"}, **{"as": "answer"})
    outcome = await api.call(spec, {})
    assert set(outcome.variables) == {"amount", "answer"}
    assert echoed(outcome)["data"] == ECHO_DATA


async def test_no_content_is_success(api: BusinessAPI, server: LoopbackServer) -> None:
    spec = http(server.base_url + "/empty", method="DELETE", save={"x": "a.b"}, **{"as": "answer"})
    outcome = await api.call(spec, {})
    assert outcome == HttpOutcome(ok=True, variables={"x": None, "answer": None}, status=204)
    created = await api.call(http(server.base_url + "/created", method="POST", **{"as": "answer"}), {})
    assert created == HttpOutcome(ok=True, variables={"answer": None}, status=201)


# --- Failures and retries ---------------------------------------------------------


async def test_timeout_is_retried_then_fails(api: BusinessAPI, server: LoopbackServer) -> None:
    outcome = await api.call(http(server.base_url + "/slow", timeout=0.2, retries=1), {})
    assert not outcome.ok
    assert outcome.error == "timeout after 0.2 s (2 attempts)"
    assert outcome.status is None
    assert outcome.variables == {}
    # The bound on total time: each attempt is cut at `timeout`, and there are exactly 1 + retries.
    assert outcome.attempts == 2
    assert server.hits["/slow"] == 2


async def test_timeout_without_retries(api: BusinessAPI, server: LoopbackServer) -> None:
    outcome = await api.call(http(server.base_url + "/slow", timeout=0.1), {})
    assert (outcome.ok, outcome.error, outcome.attempts) == (False, "timeout after 0.1 s", 1)


async def test_timeout_bounds_the_whole_attempt(api: BusinessAPI, server: LoopbackServer) -> None:
    """A body that trickles in never trips a per-read timeout; the attempt's deadline stops it."""
    outcome = await api.call(http(server.base_url + "/trickle", timeout=0.3), {})
    assert (outcome.ok, outcome.error, outcome.status, outcome.attempts) == (
        False,
        "timeout after 0.3 s",
        None,
        1,
    )


async def test_cancellation_is_not_swallowed(api: BusinessAPI, server: LoopbackServer) -> None:
    call = asyncio.create_task(api.call(http(server.base_url + "/slow", timeout=10, retries=3), {}))
    await server.requested.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert server.hits["/slow"] == 1


@pytest.mark.parametrize("status", [503, 500, 429], ids=str)
async def test_retry_then_success(api: BusinessAPI, server: LoopbackServer, status: int) -> None:
    spec = http(server.base_url + f"/flaky/{status}/2", retries=2, save={"attempt": "attempt"})
    outcome = await api.call(spec, {})
    assert outcome == HttpOutcome(ok=True, variables={"attempt": 3}, status=200, attempts=3)
    assert server.hits[f"/flaky/{status}/2"] == 3


async def test_retries_run_out(api: BusinessAPI, server: LoopbackServer) -> None:
    outcome = await api.call(http(server.base_url + "/flaky/503/9", retries=2), {})
    assert outcome == HttpOutcome(
        ok=False, variables={}, error="HTTP 503 (3 attempts)", status=503, attempts=3
    )
    assert server.hits["/flaky/503/9"] == 3


async def test_client_errors_are_not_retried(api: BusinessAPI, server: LoopbackServer) -> None:
    outcome = await api.call(http(server.base_url + "/missing", retries=3, **{"as": "answer"}), {})
    assert outcome == HttpOutcome(ok=False, variables={}, error="HTTP 404", status=404, attempts=1)
    assert server.hits["/missing"] == 1


async def test_redirects_are_not_followed(api: BusinessAPI, server: LoopbackServer) -> None:
    outcome = await api.call(http(server.base_url + "/redirect", retries=1), {})
    assert (outcome.ok, outcome.status, outcome.error, outcome.attempts) == (False, 302, "HTTP 302", 1)
    assert server.hits == {"/redirect": 1}


async def test_a_body_that_is_not_json_fails_without_retry(api: BusinessAPI, server: LoopbackServer) -> None:
    outcome = await api.call(http(server.base_url + "/text", retries=2, **{"as": "answer"}), {})
    assert outcome == HttpOutcome(
        ok=False, variables={}, error="response is not JSON", status=200, attempts=1
    )
    assert server.hits["/text"] == 1


@pytest.mark.parametrize("path", ["/huge", "/huge-stream"], ids=["declared", "streamed"])
async def test_a_huge_body_is_refused(api: BusinessAPI, server: LoopbackServer, path: str) -> None:
    outcome = await api.call(http(server.base_url + path, retries=2, **{"as": "answer"}), {})
    assert outcome == HttpOutcome(
        ok=False, variables={}, error="response larger than 1 MiB", status=200, attempts=1
    )
    assert server.hits[path] == 1


async def test_connection_refused(api: BusinessAPI) -> None:
    outcome = await api.call(http(f"http://127.0.0.1:{unused_port()}/echo", retries=1), {})
    assert not outcome.ok
    assert outcome.error is not None
    assert outcome.error.startswith("cannot connect")
    assert outcome.error.endswith("(2 attempts)")
    assert (outcome.status, outcome.attempts, outcome.variables) == (None, 2, {})


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("not a url", {}),
        ("ftp://127.0.0.1/file", {}),
        ("http://127.0.0.1:{{port}}/echo", {"X-Token": "{{token}}"}),
    ],
    ids=["no-scheme", "ftp", "header-line-break"],
)
async def test_invalid_requests_fail_without_retry(
    api: BusinessAPI,
    server: LoopbackServer,
    caplog: pytest.LogCaptureFixture,
    url: str,
    headers: dict[str, str],
) -> None:
    variables = {"port": server.port, "token": "s3cret\r\nX-Evil: 1"}
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        outcome = await api.call(http(url, headers=headers, retries=2), variables)
    assert not outcome.ok
    assert outcome.error is not None
    assert outcome.error.startswith("invalid request")
    assert outcome.attempts == 1
    assert "s3cret" not in outcome.error
    assert "s3cret" not in caplog.text
    assert server.hits == {}


# --- Logs and the client ------------------------------------------------------------


async def test_one_log_line_per_call_without_secrets(
    api: BusinessAPI, server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    spec = http(
        server.base_url + "/flaky/503/1?key={{token}}",
        query={"token": "{{token}}"},
        headers={"Authorization": "Bearer {{token}}"},
        retries=1,
    )
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert (await api.call(spec, {"token": "s3cret"})).ok
        assert not (await api.call(http(server.base_url + "/missing?key=s3cret"), {})).ok
    records = [record for record in caplog.records if record.name == LOGGER]
    assert [record.levelno for record in records] == [logging.INFO, logging.WARNING]
    success, failure = (record.getMessage() for record in records)
    assert f"GET {server.base_url}/flaky/503/1: 200 in " in success
    assert success.endswith(" ms, 2 attempt(s)")
    assert f"GET {server.base_url}/missing failed: HTTP 404; status 404 in " in failure
    assert "s3cret" not in caplog.text


async def test_a_given_client_is_left_open(server: LoopbackServer) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        business = BusinessAPI(client)
        await business.aclose()
        assert not client.is_closed
        assert (await business.call(http(server.base_url + "/echo"), {})).ok


async def test_an_own_client_is_closed(server: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    business = BusinessAPI()
    assert (await business.call(http(server.base_url + "/echo"), {})).ok
    await business.aclose()
    with caplog.at_level(logging.CRITICAL, logger=LOGGER):
        outcome = await business.call(http(server.base_url + "/echo"), {})
    assert (outcome.ok, outcome.error) == (False, "request failed (RuntimeError)")
    assert server.hits["/echo"] == 1
