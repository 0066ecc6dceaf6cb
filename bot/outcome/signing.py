"""Signed outcome pushes: the receiver can tell a push is ours and recent.

``X-Voicebot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` where the MAC is over
``<t>.<the body's bytes>`` with ``VOICEBOT_OUTCOME_SECRET`` as the key: the scheme
jambonz and Stripe use for their webhooks, so receivers have code for it. The time
inside the MAC lets a receiver refuse a push replayed later (``verify``'s tolerance);
a push retried by the outbox is signed again at each attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Voicebot-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: bytes, body: bytes, now: float | None = None) -> str:
    """The header's value for ``body``, signed now (or at ``now``)."""
    stamp = int(time.time() if now is None else now)
    mac = hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def verify(
    secret: bytes,
    header: str,
    body: bytes,
    *,
    now: float | None = None,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within ``tolerance_seconds`` of
    now: what a receiver does (docs/outcomes.md shows it in a few lines)."""
    fields = dict(part.partition("=")[::2] for part in header.split(",") if "=" in part)
    stamp, given = fields.get("t", ""), fields.get("v1", "")
    if not stamp.isdigit() or not given:
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance_seconds:
        return False
    expected = hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)
