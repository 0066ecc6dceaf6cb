"""HTTP status mapping and the one JSON error shape of the JSON APIs.

Shape: ``{"error": {"status": 404, "code": "unknown_flow", "message": "…"}}``.
The CTI-facing endpoints answer plain text instead, as the CTI expects
(``bot.cti.callback``).
"""

from __future__ import annotations

import logging

from quart import Quart, Response, jsonify
from werkzeug.exceptions import HTTPException

from bot.errors import RequestError, UnknownFlowError, VoicebotError

logger = logging.getLogger(__name__)


def status_of(exc: Exception) -> tuple[int, str]:
    """The HTTP status and a short code for an exception, in one place."""
    if isinstance(exc, UnknownFlowError):
        return 404, "unknown_flow"
    if isinstance(exc, RequestError):
        return exc.status, "bad_request" if exc.status == 400 else "request_rejected"
    if isinstance(exc, HTTPException):
        return exc.code or 500, (exc.name or "error").lower().replace(" ", "_")
    if isinstance(exc, VoicebotError):
        return 503, "unavailable"
    return 500, "internal_error"


def json_error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"status": status, "code": code, "message": message}})
    response.status_code = status
    return response


def register_json_errors(app: Quart) -> None:
    """Every error outside the CTI endpoints answers the JSON error shape."""

    @app.errorhandler(Exception)
    async def _any(exc: Exception) -> Response:
        status, code = status_of(exc)
        if status >= 500:
            logger.exception("unhandled error", exc_info=exc)
        message = exc.description if isinstance(exc, HTTPException) else str(exc)
        return json_error(status, code, message or code)
