"""The edge: what every HTTP request passes first and last, outside the framework.

One ASGI wrapper, because each layer around the app costs every callback a coroutine
and its awaits (docs/performance.md, issue 13). In order:

* **The Host check.** Werkzeug encodes the request's host with the IDNA codec when
  Quart builds the request, and a label longer than 63 characters (or an empty one,
  ``a..b``) makes that raise outside the app's error handlers: a 500 on every path,
  ``/cti/ai`` included. Such a request is answered 400 here, with a plain-text reason,
  and counted (``voicebot_refused_requests_total{reason="host"}``).
* **The count of the CTI's callbacks** (``voicebot_cti_callbacks_total``) by route,
  event and status, once the answer is sent, errors and refusals included; a 413 (a body
  over the limit) is counted as a refusal too.
* **The access line** (:func:`bot.logs.log_access`): method, path without its query
  string, status, milliseconds, and the call the request was about.

Quart runs an endpoint in a task of its own, so what it learns reaches the edge through
a :class:`bot.request_facts.RequestFacts` put in the context here. ``GET`` and ``POST``
of the paths in ``fast`` skip Quart: their own ASGI endpoint (:mod:`bot.cti.fast`)
answers, inside all of the above.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from quart import Quart

from bot import metrics
from bot.logs import install_record_factory, log_access
from bot.request_facts import CURRENT, RequestFacts
from bot.web.errors import CTI_PREFIX

__all__ = ["Edge", "host_is_parsable", "install"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNMATCHED = "unmatched"  # a CTI path no route serves: never the raw path (unbounded labels)
MAX_LABEL_CHARS = 63  # RFC 1035; the IDNA codec refuses longer labels
MAX_HOST_CHARS = 253
HOST_REASON = b"bad Host header: each dot-separated part must have 1 to 63 characters"
_HOST_REFUSAL_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", b"%d" % len(HOST_REASON)),
]
_FAST_METHODS = frozenset({"GET", "POST"})
_STATUS = {status: str(status) for status in (200, 400, 403, 404, 413, 503)}  # labels, made once


@functools.lru_cache(maxsize=256)  # the CTI sends the same few Host headers every time
def host_is_parsable(host: bytes) -> bool:
    """Whether werkzeug can take ``host`` (a name or address, with an optional port)."""
    if host.startswith(b"["):  # an IPv6 address: no labels to encode
        return True
    name = host.rsplit(b":", 1)[0] if host.count(b":") == 1 else host
    if name.endswith(b"."):  # a fully qualified name; but "." alone is one empty label
        name = name[:-1]
        if not name:
            return False
    if len(name) > MAX_HOST_CHARS:
        return False
    return all(0 < len(label) <= MAX_LABEL_CHARS for label in name.split(b".")) if name else True


class Edge:
    """Wraps an ASGI app; see the module's docstring. ``cti_routes``: the CTI's paths the
    app serves, each counted under its own name (none: nothing is counted, as for the
    knowledge service on its own)."""

    def __init__(
        self, app: ASGIApp, *, cti_routes: Iterable[str] = (), fast: Mapping[str, ASGIApp] | None = None
    ) -> None:
        self.app = app
        self.cti_routes = frozenset(cti_routes)
        self.fast = dict(fast or {})  # path → an endpoint that GET and POST reach without the app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        facts = RequestFacts()
        token = CURRENT.set(facts)
        status = 0

        def send_status(message: Message) -> Awaitable[None]:  # no coroutine of its own
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            return send(message)

        reached_app = False
        try:
            if _host_of(scope) is None:
                metrics.count_refused("host")
                await _refuse_host(send_status)
                return
            reached_app = True
            fast = self.fast.get(scope["path"]) if scope["method"] in _FAST_METHODS else None
            await (fast or self.app)(scope, receive, send_status)
        except BaseException:
            status = status or 500
            raise
        finally:
            CURRENT.reset(token)
            path: str = scope.get("path", "")
            if status == 413:
                metrics.count_refused("too_large")
            if reached_app and self.cti_routes and path.startswith(CTI_PREFIX):
                route = path if path in self.cti_routes else UNMATCHED
                metrics.CALLBACKS[route, facts.event, _STATUS.get(status) or str(status)].inc()
            duration_ms = (time.perf_counter() - began) * 1000
            log_access(scope.get("method", ""), path, status, duration_ms, facts.call_id)


def _host_of(scope: Scope) -> bytes | None:
    """The request's Host header (empty when it has none), or None when it is unparsable."""
    for name, value in scope["headers"]:
        if name == b"host":
            return value if host_is_parsable(value) else None
    return b""


async def _refuse_host(send: Callable[[Message], Awaitable[None]]) -> None:
    await send(
        {"type": "http.response.start", "status": 400, "headers": _HOST_REFUSAL_HEADERS, "trailers": False}
    )
    await send({"type": "http.response.body", "body": HOST_REASON, "more_body": False})


def install(app: Quart, *, count_cti: bool, fast: Mapping[str, ASGIApp] | None = None) -> None:
    """Masked log records, and the edge around ``app`` (call it after the routes are
    registered: the CTI's are read from them when ``count_cti``). ``fast``: paths whose
    ``GET`` and ``POST`` an endpoint of its own serves, outside the framework
    (:mod:`bot.cti.fast`)."""
    install_record_factory()
    rules = (rule.rule for rule in app.url_map.iter_rules()) if count_cti else ()
    inner: Any = app.asgi_app  # Quart's own types for ASGI, ours are looser
    edge = Edge(inner, cti_routes=[rule for rule in rules if rule.startswith(CTI_PREFIX)], fast=fast)
    app.asgi_app = edge  # type: ignore[method-assign,assignment]  # Quart's way to wrap it
