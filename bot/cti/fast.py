"""The CTI's busiest paths served straight from ASGI, without the framework's request
machinery: the callback (``/cti/ai``) and the hang-up push (``/cti/hangup``).

Quart spends about 100 µs on every request before and after the endpoint (a request
object, its context, a task and a wait for the disconnect, the session, the response
object), as much again as a turn's recognition. The edge (:mod:`bot.web.edge`) hands
``GET`` and ``POST`` of these paths to a :class:`FastEndpoint`, which does what the
endpoints in :mod:`bot.cti.callback` and :mod:`bot.cti.hangup` do, with the same access
check, the same parsing and the same answers and errors, byte for byte; every other
method (``HEAD``, ``OPTIONS``) and every other path still goes through Quart.
``tests/cti/test_fast_callback.py`` holds the two to the same answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

from bot import metrics
from bot.cti import callback as callback_endpoint
from bot.cti import hangup as hangup_endpoint
from bot.cti.answers import CtiAudioLinks
from bot.cti.callback import base_url_of
from bot.cti.params import Params, parse_params, read_callback
from bot.errors import AccessRefused, NotReadyError, RequestError
from bot.logs import CALL_ID, set_call_id
from bot.services import Services
from bot.web.auth import AccessRules
from bot.web.errors import PLAIN_TEXT, answer_of

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY_TIMEOUT_SECONDS = 60  # Quart's BODY_TIMEOUT, which the framework's endpoint had
_CONTENT_TYPE = PLAIN_TEXT.encode("latin-1")


Handler = Callable[[Services, Params, Scope], Awaitable[str]]  # the answer's plain text


class FastEndpoint:
    """The ASGI endpoint of ``GET|POST`` of one CTI path, for the app whose ``services``
    and access ``rules`` it is given: the request's parameters (a form body of at most
    ``max_form_bytes``, then the query string) go to ``handle``, whose text is the answer."""

    def __init__(self, services: Services, rules: AccessRules, handle: Handler, max_form_bytes: int) -> None:
        self._services = services
        self._rules = rules
        self._handle = handle
        self._max_form_bytes = max_form_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, body = await self._answer(scope, receive)
        except _ClientGone:  # it left before its request was whole: no turn, no answer
            return
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", _CONTENT_TYPE), (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        call_id_token = CALL_ID.set(None)  # a connection's next request starts clean
        try:
            return 200, (await self._respond(scope, receive)).encode()
        except _ClientGone:
            raise
        except AccessRefused as refused:
            metrics.count_refused(refused.code)
            return refused.status, refused.reason.encode()
        except Exception as exc:  # the answers of bot.web.errors, in the CTI's plain text
            status, _, message = answer_of(exc)
            return status, message.encode()
        finally:
            CALL_ID.reset(call_id_token)

    async def _respond(self, scope: Scope, receive: Receive) -> str:
        if not self._rules.cti_open:  # before anything of the request is read
            token = _query_value(scope["query_string"], b"token")
            forwarded = _header_values(scope, b"x-forwarded-for")
            self._rules.check_cti_caller(token, _client_host(scope), forwarded)
        max_bytes = self._max_form_bytes
        body = await _read_body(scope, receive, max_bytes) if scope["method"] == "POST" else b""
        return await self._handle(self._services, parse_params(scope["query_string"], body), scope)


async def _turn(svc: Services, params: Params, scope: Scope) -> str:
    """``/cti/ai``: one turn of a call (:func:`bot.cti.callback.ai_callback`)."""
    callback = read_callback(params, max_text_chars=svc.settings.max_text_chars)
    set_call_id(callback.call_id)
    if svc.calls is None:
        raise NotReadyError()
    links = CtiAudioLinks(base_url_of(svc.settings, scope.get("scheme", "http"), scope.get("server")))
    answer = await svc.calls.handle(callback, links)
    return links.body(answer)


async def _hangup_push(svc: Services, params: Params, scope: Scope) -> str:
    """``/cti/hangup``: the CTI's hang-up push (:func:`bot.cti.hangup.hangup_push`)."""
    return await hangup_endpoint.record(svc, params)


def endpoints(services: Services, rules: AccessRules) -> dict[str, FastEndpoint]:
    """The fast endpoints by path, for the edge's ``fast`` map."""
    return {
        callback_endpoint.PATH: FastEndpoint(services, rules, _turn, callback_endpoint.MAX_FORM_BYTES),
        hangup_endpoint.PATH: FastEndpoint(services, rules, _hangup_push, hangup_endpoint.MAX_FORM_BYTES),
    }


class _ClientGone(Exception):
    """The client disconnected before its request's body was whole."""


async def _read_body(scope: Scope, receive: Receive, max_bytes: int) -> bytes:
    """The request's body, refused (413) past ``max_bytes`` by its Content-Length or as
    read, and (408) when it has not all come within ``BODY_TIMEOUT_SECONDS``, as Quart's
    ``BODY_TIMEOUT``.

    Raises:
        _ClientGone: the client disconnected first.
    """
    too_big = RequestError(f"form body larger than {max_bytes} bytes", status=413)
    for value in _header_values(scope, b"content-length"):
        length = value.strip()
        if length.isascii() and length.isdigit() and int(length) > max_bytes:
            raise too_big
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT_SECONDS):
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    raise _ClientGone()
                chunk: bytes = message.get("body", b"")
                size += len(chunk)
                if size > max_bytes:
                    raise too_big
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise RequestError(f"form body not received within {BODY_TIMEOUT_SECONDS} s", status=408) from None


def _query_value(query: bytes, name: bytes) -> str:
    """The first value of ``name`` in ``query``, decoded as UTF-8 with replacements (as the
    framework's ``request.args`` has it), "" when absent."""
    for pair in query.split(b"&"):
        raw_name, _, raw_value = pair.partition(b"=")
        if unquote_to_bytes(raw_name.replace(b"+", b" ")) == name:
            return unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8", "replace")
    return ""


def _header_values(scope: Scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]


def _client_host(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None
