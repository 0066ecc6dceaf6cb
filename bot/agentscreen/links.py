"""Signed links to one call's agent page: ``<public url>/agent/<call id>?k=<expiry>.<mac>``.

The link goes in ``biz_data`` (GX §10), which the CTI forwards to the agent's desktop
untouched and which must fit 1,500 characters, so it is short: the expiry in base 36
and 16 bytes of HMAC-SHA256 in base64url, over the call id and the expiry, keyed by a
key derived from ``VOICEBOT_SECRET_KEY`` (the same on every instance). Whoever holds
the link sees that call and no other, until it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

MAC_BYTES = 16
_PURPOSE = b"voicebot agent page link v1"


class LinkRefused(Exception):
    """A link that shows nothing; ``reason`` says why, for the 403 page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AgentLinks:
    """Makes and checks the links; ``base`` is the public URL (no trailing slash)."""

    secret: bytes
    base: str | None
    lifetime_seconds: int
    clock: Callable[[], float] = time.time

    @classmethod
    def of(cls, secret: str, base: str | None, lifetime_seconds: int) -> AgentLinks:
        key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()
        return cls(key, base.rstrip("/") if base else None, lifetime_seconds)

    def key(self, call_id: str) -> str:
        """The ``k`` parameter of a new link to ``call_id``."""
        expires = int(self.clock()) + self.lifetime_seconds
        stamp = _base36(expires)
        return f"{stamp}.{self._mac(call_id, stamp)}"

    def url(self, call_id: str) -> str | None:
        """A new link to ``call_id``'s agent page; None without a public URL to put in it."""
        if self.base is None:
            return None
        return f"{self.base}/agent/{quote(call_id, safe='@')}?k={self.key(call_id)}"

    def check(self, call_id: str, key: str) -> None:
        """Return if ``key`` opens ``call_id``'s page now.

        Raises:
            LinkRefused: The key is missing or malformed, signs another call (or was
                changed), or has expired.
        """
        stamp, _, mac = key.partition(".")
        if not key:
            raise LinkRefused("the link has no key (k=): open it as the call's pop-up gave it")
        try:
            expires = int(stamp, 36)
        except ValueError:
            raise LinkRefused("the link's key is malformed: it was cut or changed") from None
        if not hmac.compare_digest(mac.encode("utf-8", "replace"), self._mac(call_id, stamp).encode()):
            raise LinkRefused(
                "the link's signature does not match this call: it was changed, or is another call's"
            )
        if expires < self.clock():
            raise LinkRefused("the link has expired: the call's pop-up of a newer transfer has a fresh one")

    def _mac(self, call_id: str, stamp: str) -> str:
        digest = hmac.new(self.secret, f"{stamp}\n{call_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:MAC_BYTES]).rstrip(b"=").decode()


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out
