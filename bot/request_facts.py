"""What serving one HTTP request learns that the layer around the app reports.

The edge (:mod:`bot.web.edge`) writes the access line and counts the CTI's callbacks
once the answer is sent, outside the framework; but Quart runs the endpoint in a task of
its own, so a context variable set there never reaches back out. The edge therefore
puts one :class:`RequestFacts` in the context before the app runs; the endpoint's tasks
inherit a reference to it and write what they learn on it: the call the request was
about (:func:`bot.logs.set_call_id`) and the callback's event (:func:`bot.metrics.observe_turn`).
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["CURRENT", "RequestFacts"]


class RequestFacts:
    """The call (``call_id``, cleaned for a log line) and the CTI event (``none`` until a
    callback was read) of the request being served."""

    __slots__ = ("call_id", "event")

    def __init__(self) -> None:
        self.call_id: str | None = None
        self.event = "none"


CURRENT: ContextVar[RequestFacts | None] = ContextVar("voicebot_request_facts", default=None)
