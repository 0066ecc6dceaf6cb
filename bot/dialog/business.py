"""The executor of a flow's ``http:`` step: one call to the call center's business API.

A flow asks the business system things only it knows — an order's status, a
bill's amount — while the caller waits on the line. :meth:`BusinessAPI.call`
therefore never raises and never takes long: whatever goes wrong (the server is
down, slow, answers 503 or HTML, or sends a gigabyte) becomes an
:class:`HttpOutcome` that is not ``ok``, and the engine goes to the step's
``on_error``.

How a request is made from an :class:`~bot.language.flow.HttpCall`:

* ``url`` is a template whose placeholder values are percent-encoded (nothing
  is safe, not even ``/``), so an ID card, a text with spaces or a Chinese name
  is one path segment or query value and cannot change the URL's shape. The
  literal text is sent as written, so the scheme and host must be literal too.
* ``query`` and ``headers`` values are templates rendered as plain text; httpx
  encodes query values, and a query value that renders empty is still sent.
  Header values that are not ASCII are sent as UTF-8 bytes.
* ``json`` is a mapping of expressions; their values become the JSON body (a
  value JSON cannot hold is sent as its text, see
  :func:`bot.language.expressions.to_text`).

What counts as an answer: a 2xx status with a JSON body of at most
:data:`MAX_BODY_BYTES` (read as a stream, so a larger one is never held in
memory), or a 2xx with an empty body (204 No Content, a bare 201: body
``None``). ``save`` then takes values at dotted paths
of the body (``data.amount``, ``items.0.name``: numeric parts index lists; a
path that leads nowhere gives ``None``, which is not an error), and ``as``
takes the whole body. Redirects are not followed: a 3xx is an error, so that
header tokens never travel to another host.

Time: ``timeout`` bounds each attempt as a whole, from connecting to the last
byte of the body (``asyncio.timeout`` around the request, with the same value
given to httpx). A timeout, a connection error, a 5xx or a 429 is tried again,
up to ``retries`` more times, after a short exponential wait (0.1 s, 0.2 s,
0.4 s, then 0.5 s at most; ``Retry-After`` is not honoured because a caller
is waiting). Any other 4xx, a non-JSON 2xx or a too large body is not retried:
asking again would get the same answer. The worst case of one step is thus
``attempts × timeout + waits``; with the largest values the flow format
allows (``retries: 5``, ``timeout: 30``) that is 6 × 30 s + 1.7 s = 181.7 s,
and with the defaults (no retries, 3 s) it is 3 s.

Logs: one line per call — method, URL without its query string, status,
milliseconds and attempts — at ``INFO``, or at ``WARNING`` with the error when
the call failed. Header values are never logged: they often hold tokens.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.language.expressions import to_text
from bot.language.flow import HttpCall
from bot.language.outgoing import HostAllowlist

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
"""Largest response body read; a business answer is a few kilobytes."""

_RETRY_WAIT = wait_exponential(multiplier=0.1, max=0.5)
_MAX_JSON_DEPTH = 30  # a deeper request value is sent as text
_MAX_JSON_NUMBER = 10**24  # beyond any amount; larger integers (identifiers) are sent as text
_RETRIED_STATUSES = frozenset({429})


@dataclass(frozen=True)
class HttpOutcome:
    """What an ``http:`` step brought back, for the engine to assign or branch on.

    Attributes:
        ok: Whether the call succeeded; when not, the engine goes to ``on_error``.
        variables: What to assign: each ``save`` name with the value at its
            path, and the ``as`` name with the whole body. Empty when not ok.
        error: Why the call failed, for logs and transcripts (never holds
            header values), such as ``"timeout after 2.0 s (2 attempts)"``.
        status: The HTTP status of the last attempt, ``None`` when no answer came.
        attempts: How many requests were made.
    """

    ok: bool
    variables: dict[str, object]
    error: str | None = None
    status: int | None = None
    attempts: int = 1


class _Retryable(Exception):
    """An attempt failed in a way that may pass on the next try (timeout, 5xx…)."""

    def __init__(self, error: str, status: int | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


@dataclass(frozen=True)
class _Request:
    method: str
    url: str
    params: dict[str, str] | None
    headers: list[tuple[bytes, bytes]]
    body: dict[str, object] | None


class BusinessAPI:
    """Makes the ``http:`` calls of every flow, over one shared connection pool.

    One instance serves the whole service: keeping connections to the business
    server open saves a TLS handshake per call while the caller waits. Create it
    at start-up: a new client reads the CA certificates from disk.

    Args:
        client: The httpx client to send with; when ``None`` the instance
            creates its own and closes it in :meth:`aclose`. A given client
            stays open: its owner closes it.
    """

    def __init__(
        self, client: httpx.AsyncClient | None = None, *, allowlist: HostAllowlist | None = None
    ) -> None:
        self._allowlist = allowlist
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(follow_redirects=False)

    async def aclose(self) -> None:
        """Close the client if this instance created it."""
        if self._owns_client:
            await self._client.aclose()

    async def call(self, spec: HttpCall, variables: Mapping[str, object]) -> HttpOutcome:
        """Make the request of an ``http:`` step, trying again as the step allows.

        Never raises (except :class:`asyncio.CancelledError` when the call is
        hung up): every failure is an outcome that is not ``ok``.

        Args:
            spec: The step's ``http:`` block.
            variables: The call's variables, for templates and expressions.

        Returns:
            The outcome: the variables to assign, or why it failed.
        """
        started = time.perf_counter()
        loggable_url = _loggable_url(spec.url.text)
        try:
            request = _build_request(spec, variables)
            loggable_url = _loggable_url(request.url)
            if self._allowlist is not None and not self._allowlist.allows(request.url):
                outcome = HttpOutcome(ok=False, variables={}, error="host not in VOICEBOT_OUTGOING_HOSTS")
            else:
                outcome = await self._send_with_retries(request, spec)
        except Exception as exc:  # the last guard: a phone call must go on whatever happens
            logger.exception("http %s %s could not be made", spec.method, loggable_url)
            outcome = HttpOutcome(ok=False, variables={}, error=f"request failed ({type(exc).__name__})")
        milliseconds = round((time.perf_counter() - started) * 1000)
        if outcome.ok:
            logger.info(
                "http %s %s: %s in %d ms, %d attempt(s)",
                spec.method,
                loggable_url,
                outcome.status,
                milliseconds,
                outcome.attempts,
            )
        else:
            logger.warning(
                "http %s %s failed: %s; status %s in %d ms, %d attempt(s)",
                spec.method,
                loggable_url,
                outcome.error,
                outcome.status,
                milliseconds,
                outcome.attempts,
            )
        return outcome

    async def _send_with_retries(self, request: _Request, spec: HttpCall) -> HttpOutcome:
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(spec.retries + 1),
            wait=_RETRY_WAIT,
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    outcome = await self._attempt(request, spec)
                    return dataclasses.replace(outcome, attempts=attempts)
        except _Retryable as failure:
            suffix = f" ({attempts} attempts)" if attempts > 1 else ""
            return HttpOutcome(
                ok=False, variables={}, error=failure.error + suffix, status=failure.status, attempts=attempts
            )
        raise AssertionError("tenacity ended without an attempt")  # pragma: no cover

    async def _attempt(self, request: _Request, spec: HttpCall) -> HttpOutcome:
        """One request; raises :class:`_Retryable` when trying again may help."""
        try:
            async with asyncio.timeout(spec.timeout_seconds):
                return await self._exchange(request, spec)
        except (TimeoutError, httpx.TimeoutException):
            logger.debug("http %s %s: attempt timed out", request.method, _loggable_url(request.url))
            raise _Retryable(f"timeout after {spec.timeout_seconds} s") from None
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL) as exc:
            # The request itself is wrong (a URL without http://, a header with a line break):
            # the message may quote a header value, so only the kind of error is told.
            return HttpOutcome(ok=False, variables={}, error=f"invalid request ({type(exc).__name__})")
        except httpx.ConnectError as exc:
            raise _Retryable(f"cannot connect ({_reason(exc)})") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection error ({type(exc).__name__})") from None

    async def _exchange(self, request: _Request, spec: HttpCall) -> HttpOutcome:
        async with self._client.stream(
            request.method,
            request.url,
            params=request.params,
            headers=request.headers,
            timeout=httpx.Timeout(spec.timeout_seconds),
            json=request.body,
            follow_redirects=False,
        ) as response:
            status = response.status_code
            if status >= 500 or status in _RETRIED_STATUSES:
                raise _Retryable(f"HTTP {status}", status)
            if not 200 <= status < 300:
                return HttpOutcome(ok=False, variables={}, error=f"HTTP {status}", status=status)
            content = await _read_limited(response)
        if content is None:
            return HttpOutcome(ok=False, variables={}, error="response larger than 1 MiB", status=status)
        if status == 204 or not content.strip():  # 201 Created without a body is common
            body: object = None
        else:
            try:
                body = _parse_json(content)
            except ValueError:
                return HttpOutcome(ok=False, variables={}, error="response is not JSON", status=status)
        return HttpOutcome(ok=True, variables=_assignments(spec, body), status=status)


def _escape(text: str) -> str:
    return quote(text, safe="")


def _build_request(spec: HttpCall, variables: Mapping[str, object]) -> _Request:
    url = spec.url.render(variables, escape=_escape)
    params = {name: template.render(variables) for name, template in spec.query.items()} or None
    headers = [
        (name.encode(), template.render(variables).encode()) for name, template in spec.headers.items()
    ]
    body = None
    if spec.json_ is not None:
        body = {name: _jsonable(expression.evaluate(variables), 0) for name, expression in spec.json_.items()}
    return _Request(spec.method, url, params, headers, body)


def _jsonable(value: object, depth: int) -> object:
    """A value JSON can hold: numbers, text, booleans, null, lists and objects; others as text."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        return _json_number(value)
    if depth < _MAX_JSON_DEPTH and isinstance(value, list | tuple):
        return [_jsonable(item, depth + 1) for item in value]
    if depth < _MAX_JSON_DEPTH and isinstance(value, Mapping):
        return {to_text(key): _jsonable(item, depth + 1) for key, item in value.items()}
    return to_text(value)


def _json_number(value: int | float | Decimal) -> object:
    """A number as JSON holds it: NaN and infinities are null, huge integers are text.

    JSON has no NaN, and Python refuses to write an int of thousands of digits.
    """
    if isinstance(value, int):
        return value if abs(value) < _MAX_JSON_NUMBER else to_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if not value.is_finite():
        return None
    if abs(value) >= _MAX_JSON_NUMBER:
        return to_text(value)
    return int(value) if value == value.to_integral_value() else float(value)


async def _read_limited(response: httpx.Response) -> bytes | None:
    """The body, or ``None`` as soon as it is known to exceed :data:`MAX_BODY_BYTES`."""
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_json(content: bytes) -> object:
    """The JSON value of a body; ``NaN`` and ``Infinity`` (not JSON, yet common) become null."""
    try:
        return json.loads(content, parse_constant=lambda _: None)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ValueError("not JSON") from exc


def _assignments(spec: HttpCall, body: object) -> dict[str, object]:
    assigned = {name: _at_path(body, path) for name, path in spec.save.items()}
    if spec.as_ is not None:
        assigned[spec.as_] = body
    return assigned


def _at_path(body: object, path: str) -> object:
    """The value at a dotted path such as ``items.0.name``; ``None`` when there is none."""
    value = body
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isascii() and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _loggable_url(url: str) -> str:
    """The URL without query, fragment or user info, which may hold tokens."""
    try:
        parsed = httpx.URL(url)
        return str(parsed.copy_with(query=None, fragment=None, userinfo=b""))
    except Exception:  # an invalid URL: its text up to the query
        return url.split("?", 1)[0].split("#", 1)[0]


def _reason(exc: Exception) -> str:
    """A short reason for a connection failure (the OS error), without request details."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError):
            if cause.errno is not None and cause.errno > 0:
                return os.strerror(cause.errno)  # "Connection refused", not asyncio's wording
            if cause.strerror:
                return cause.strerror  # name resolution: "Name or service not known"
        cause = cause.__cause__ or cause.__context__
    return type(exc).__name__
