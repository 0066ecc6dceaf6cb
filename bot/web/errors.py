"""HTTP status mapping, in one place, and the two error shapes.

The JSON APIs answer ``{"error": {"status": 404, "code": "unknown_flow", "message": "…"}}``.
The CTI's endpoints (``/cti/…``) answer the reason as plain text, as the CTI expects,
whatever the error: one of ours, a routing error (405) or a body over the size limit.
"""

from __future__ import annotations

import logging

from quart import Quart, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from bot.errors import (
    AccessRefused,
    KnowledgeDataError,
    RequestError,
    UnknownEntryError,
    UnknownFlowError,
    VoicebotError,
)

logger = logging.getLogger(__name__)

CTI_PREFIX = "/cti/"
PLAIN_TEXT = "text/plain; charset=utf-8"


# Errors whose status and code never vary, most specific first.
_FIXED_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (UnknownFlowError, 404, "unknown_flow"),
    (UnknownEntryError, 404, "unknown_entry"),
    (KnowledgeDataError, 400, "invalid_entry"),
)


def status_of(exc: Exception) -> tuple[int, str]:
    """The HTTP status and a short code for an exception, in one place."""
    for kind, status, code in _FIXED_STATUS:
        if isinstance(exc, kind):
            return status, code
    if isinstance(exc, AccessRefused):
        return exc.status, exc.code
    if isinstance(exc, RequestError):
        return exc.status, "bad_request" if exc.status == 400 else "request_rejected"
    if isinstance(exc, HTTPException):
        return exc.code or 500, (exc.name or "error").lower().replace(" ", "_")
    if isinstance(exc, VoicebotError):
        return 503, "unavailable"
    return 500, "internal_error"


def answer_of(exc: Exception) -> tuple[int, str, str]:
    """The status, code and message an error is answered with (logged when it is a 5xx):
    the framework's handler and the CTI's fast endpoint (bot/cti/fast.py) alike."""
    status, code = status_of(exc)
    if status >= 500:
        logger.exception("unhandled error", exc_info=exc)
    return status, code, (exc.description if isinstance(exc, HTTPException) else str(exc)) or code


def json_error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"status": status, "code": code, "message": message}})
    response.status_code = status
    return response


def plain_error(status: int, message: str) -> Response:
    return Response(message, status=status, content_type=PLAIN_TEXT)


def register_errors(app: Quart) -> None:
    """Every error answers the shape its caller expects: plain text on /cti/, else JSON."""

    @app.errorhandler(Exception)
    async def _any(exc: Exception) -> Response:
        status, code, message = answer_of(exc)
        if request.path.startswith(CTI_PREFIX):
            return plain_error(status, message)
        return json_error(status, code, message)
