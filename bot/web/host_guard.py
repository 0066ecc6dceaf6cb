"""A ``Host`` header that the framework cannot parse is answered 400 before it runs.

Werkzeug encodes the request's host with the IDNA codec when Quart builds the request,
and a label longer than 63 characters (or an empty one, ``a..b``) makes that raise
outside the app's error handlers: a 500 on every path, ``/cti/ai`` included. This ASGI
wrapper refuses such requests first, with a plain-text reason. It reads one header of
each request and allocates nothing for a good one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.metrics import count_refused

if TYPE_CHECKING:
    from hypercorn.typing import ASGIReceiveCallable as Receive
    from hypercorn.typing import ASGISendCallable as Send
    from hypercorn.typing import HTTPResponseBodyEvent, HTTPResponseStartEvent, Scope

    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_LABEL_CHARS = 63  # RFC 1035; the IDNA codec refuses longer labels
MAX_HOST_CHARS = 253
REASON = b"bad Host header: each dot-separated part must have 1 to 63 characters"


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


class HostGuard:
    """Wraps an ASGI app; see the module's docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"host":
                    if not host_is_parsable(value):
                        await _refuse(send)
                        return
                    break
        await self.app(scope, receive, send)


async def _refuse(send: Send) -> None:
    count_refused("host")
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(REASON))]
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 400,
        "headers": headers,
        "trailers": False,
    }
    body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": REASON, "more_body": False}
    await send(start)
    await send(body)
