"""Tencent Cloud API 3.0 request signatures: signature v3, TC3-HMAC-SHA256.

As "签名方法 v3" (Signature v3, https://cloud.tencent.com/document/api/1073/37990)
describes it: a canonical request (method, URI ``/``, empty query, the ``content-type``
and ``host`` headers in lower case, the SHA-256 of the body), its SHA-256 in a string
to sign with the timestamp and the scope ``<UTC date>/<service>/tc3_request``, and
an HMAC-SHA256 of that string keyed by a key derived from ``TC3<SecretKey>``, the
date, the service and ``tc3_request`` in turn.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

ALGORITHM = "TC3-HMAC-SHA256"
SIGNED_HEADERS = "content-type;host"
CONTENT_TYPE = "application/json; charset=utf-8"


def tc3_authorization(
    secret_id: str,
    secret_key: str,
    *,
    host: str,
    payload: bytes,
    timestamp: int,
    service: str,
    content_type: str = CONTENT_TYPE,
) -> str:
    """The ``Authorization`` header of an API 3.0 POST (signature v3, TC3-HMAC-SHA256).

    The signed headers are ``content-type`` and ``host``; the canonical URI is ``/``
    and the query empty, as for every API 3.0 POST.

    Args:
        secret_id: The SecretId (named in the header).
        secret_key: The SecretKey (derives the signing key).
        host: The ``Host`` header as sent (``tts.tencentcloudapi.com``).
        payload: The body exactly as sent.
        timestamp: ``X-TC-Timestamp``, Unix seconds; its UTC date is part of the scope.
        service: The product (``tts``), as in its host name.
        content_type: The ``Content-Type`` header as sent.

    Returns:
        ``TC3-HMAC-SHA256 Credential=…, SignedHeaders=content-type;host, Signature=…``.
    """
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    canonical_headers = f"content-type:{content_type.strip().lower()}\nhost:{host.strip().lower()}\n"
    canonical_request = "\n".join(
        ("POST", "/", "", canonical_headers, SIGNED_HEADERS, hashlib.sha256(payload).hexdigest())
    )
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        (ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest())
    )
    key = f"TC3{secret_key}".encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
    )
