"""Signed links to one call's agent page: ``<public url>/agent/<call id>?k=<time>.<mac>``.

The link goes in ``biz_data`` (GX §10), which the CTI forwards to the agent's desktop
untouched and which must fit 1,500 characters, so the key is short: the time it was
made and an HMAC-SHA256 over the call id and that time, as itsdangerous's
``TimestampSigner`` makes them (base64url, about 50 characters), keyed by a key derived
from ``VOICEBOT_SECRET_KEY`` (the same on every instance) for this purpose alone.
Whoever holds the link sees that call and no other, for ``VOICEBOT_AGENT_LINK_SECONDS``
after it was made.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

_PURPOSE = "voicebot agent page link v2"
_KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class LinkRefused(Exception):
    """A link that shows nothing; ``reason`` says why, for the 403 page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Signer(TimestampSigner):
    """itsdangerous's signer with the links' clock (tests set their own)."""

    def __init__(self, secret: str, clock: Callable[[], float]) -> None:
        super().__init__(secret, salt=_PURPOSE, key_derivation="hmac", digest_method=hashlib.sha256)
        self.clock = clock

    def get_timestamp(self) -> int:
        return int(self.clock())


@dataclass(frozen=True)
class AgentLinks:
    """Makes and checks the links; ``base`` is the public URL (no trailing slash)."""

    secret: str
    base: str | None
    lifetime_seconds: int
    clock: Callable[[], float] = time.time
    _signer: _Signer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_signer", _Signer(self.secret, self.clock))

    @classmethod
    def of(cls, secret: str, base: str | None, lifetime_seconds: int) -> AgentLinks:
        return cls(secret, base.rstrip("/") if base else None, lifetime_seconds)

    def key(self, call_id: str) -> str:
        """The ``k`` parameter of a new link to ``call_id``."""
        signed = self._signer.sign(call_id).decode()
        return signed[len(call_id) + 1 :]  # the call id is in the link's path already

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
        if not key:
            raise LinkRefused("the link has no key (k=): open it as the call's pop-up gave it")
        if not _KEY_SHAPE.fullmatch(key):
            raise LinkRefused("the link's key is malformed: it was cut or changed")
        try:
            self._signer.unsign(f"{call_id}.{key}", max_age=self.lifetime_seconds)
        except SignatureExpired:
            raise LinkRefused(
                "the link has expired: the call's pop-up of a newer transfer has a fresh one"
            ) from None
        except BadSignature:
            raise LinkRefused(
                "the link's signature does not match this call: it was changed, or is another call's"
            ) from None
