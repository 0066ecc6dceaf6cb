"""Aliyun access tokens: the CreateToken call of Alibaba Cloud's POP API, signed with HMAC-SHA1.

Alibaba Cloud documents the call on "通过OpenAPI获取Token" (Obtain a token using OpenAPI,
https://help.aliyun.com/document_detail/113251.html): a GET or POST to
``nls-meta.cn-shanghai.aliyuncs.com/`` whose parameters are ``Action=CreateToken``,
``Version=2019-02-28``, the AccessKey ID, a UTC timestamp, a fresh nonce and a
``Signature``: HMAC-SHA1, keyed with ``<AccessKey secret>&``, of
``<method>&%2F&<percent-encoded canonical query>``, base64-encoded. The canonical
query is every parameter but ``Signature``, sorted by name, each name and value
encoded per RFC 3986 (only ``A-Z a-z 0-9 - _ . ~`` left as they are; a space is
``%20``). We POST the parameters as a form body, so that neither the AccessKey ID nor
the signature is in a URL that an HTTP library's log would show.

The answer's ``Token.Id`` is the token and ``Token.ExpireTime`` its expiry in Unix
seconds; a refusal is JSON with the POP error ``Code`` and ``Message``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from bot.errors import TTSError, VendorAuthError, VendorError, VendorRateLimitedError
from bot.speech.vendors.common import post

logger = logging.getLogger(__name__)

VENDOR = "aliyun"
API_VERSION = "2019-02-28"

_POP_ERRORS: dict[str, tuple[type[VendorError], str]] = {
    # Alibaba Cloud's common POP error codes (its "错误代码表" / API error center).
    "InvalidAccessKeyId.NotFound": (VendorAuthError, "the AccessKey ID does not exist"),
    "InvalidAccessKeyId.Inactive": (VendorAuthError, "the AccessKey is disabled"),
    "SignatureDoesNotMatch": (VendorAuthError, "the signature does not match: wrong AccessKey secret?"),
    "IncompleteSignature": (VendorAuthError, "the signature is incomplete"),
    "InvalidTimeStamp.Expired": (VendorAuthError, "this machine's clock is more than 15 minutes off"),
    "InvalidTimeStamp.Format": (VendorError, "the timestamp is malformed"),
    "IllegalTimestamp": (VendorError, "the timestamp is missing or malformed"),
    "SignatureNonceUsed": (VendorError, "the signature nonce was used already"),
    "Forbidden": (VendorAuthError, "the AccessKey may not call CreateToken"),
    "Forbidden.RAM": (VendorAuthError, "the RAM user may not call CreateToken (grant AliyunNLSFullAccess)"),
    "Forbidden.RiskControl": (VendorAuthError, "forbidden by Alibaba Cloud's risk control"),
    "Forbidden.UserVerification": (VendorAuthError, "the account has no real-name verification"),
    "Throttling": (VendorRateLimitedError, "token requests throttled"),
    "Throttling.User": (VendorRateLimitedError, "token requests throttled for this account"),
    "Throttling.Api": (VendorRateLimitedError, "token requests throttled for this API"),
    "MissingParameter": (VendorError, "a required parameter is missing"),
    "InvalidParameter": (VendorError, "a parameter is invalid"),
    "InvalidApi.NotFound": (VendorError, "no such API: wrong token URL or region?"),
    "InvalidAction.NotFound": (VendorError, "no such action: wrong token URL or region?"),
    "UnsupportedHTTPMethod": (VendorError, "the HTTP method is not supported"),
    "InternalError": (VendorError, "Alibaba Cloud failed internally"),
    "ServiceUnavailable": (VendorError, "the token service is unavailable"),
}


def percent_encode(value: str) -> str:
    """A name or value encoded as POP signing wants it (RFC 3986 on UTF-8)."""
    return quote(value, safe="~")


def canonical_query(params: Mapping[str, str]) -> str:
    """The parameters sorted by name, each ``name=value`` percent-encoded, joined by ``&``."""
    return "&".join(f"{percent_encode(name)}={percent_encode(params[name])}" for name in sorted(params))


def pop_signature(params: Mapping[str, str], access_key_secret: str, *, method: str = "GET") -> str:
    """The ``Signature`` of a POP RPC request with these parameters (``Signature`` itself left out).

    Args:
        params: Every query parameter but ``Signature``.
        access_key_secret: The AccessKey secret.
        method: The HTTP method of the request.

    Returns:
        The base64 HMAC-SHA1 signature, not yet percent-encoded.
    """
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"
    key = f"{access_key_secret}&".encode()
    return base64.b64encode(hmac.new(key, string_to_sign.encode(), hashlib.sha1).digest()).decode("ascii")


class CreateToken:
    """Fetches Aliyun access tokens (a :data:`~bot.speech.vendors.common.TokenFetch`).

    Args:
        client: The backend's pooled HTTP client (its timeout applies).
        url: The CreateToken endpoint, ``https://nls-meta.cn-shanghai.aliyuncs.com/``.
        access_key_id: The AccessKey ID.
        access_key_secret: The AccessKey secret.
        region: The ``RegionId`` parameter (``cn-shanghai``).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        access_key_id: str,
        access_key_secret: str,
        region: str,
    ) -> None:
        self._client, self.url, self.region = client, url, region
        self._access_key_id, self._access_key_secret = access_key_id, access_key_secret

    def __repr__(self) -> str:
        return f"CreateToken({self.url}, region={self.region!r})"

    def signed_form(self) -> str:
        """The form body of one CreateToken POST, ``Signature`` included."""
        timestamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = {
            "AccessKeyId": self._access_key_id,
            "Action": "CreateToken",
            "Format": "JSON",
            "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "Timestamp": timestamp,
            "Version": API_VERSION,
        }
        signature = pop_signature(params, self._access_key_secret, method="POST")
        return f"{canonical_query(params)}&Signature={percent_encode(signature)}"

    async def __call__(self) -> tuple[str, float]:
        """Ask for a new token.

        Returns:
            ``(token, expires_at)``, the expiry in Unix seconds.

        Raises:
            VendorAuthError: The AccessKey was refused.
            VendorRateLimitedError: Token requests are throttled.
            VendorError: Another error code.
            TTSError: No answer in time, or an answer without a token.
        """
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        response = await post(
            self._client,
            VENDOR,
            self.url,
            what="CreateToken",
            redact=self.redacted,
            content=self.signed_form().encode(),
            headers=headers,
        )
        return self._token(response)

    def redacted(self, text: str) -> str:
        """``text`` without the AccessKey ID or secret, should a vendor or library echo them."""
        for secret in (self._access_key_secret, self._access_key_id):
            text = text.replace(secret, "***") if secret else text
        return text

    def _token(self, response: httpx.Response) -> tuple[str, float]:
        body = json_or_none(response)
        token = body.get("Token") if isinstance(body, dict) else None
        if response.is_success and isinstance(token, dict):
            token_id, expire_time = token.get("Id"), token.get("ExpireTime")
            if isinstance(token_id, str) and token_id and isinstance(expire_time, int | float):
                logger.info("%s: new access token, valid until %s", VENDOR, _utc(expire_time))
                return token_id, float(expire_time)
        raise self._refusal(response, body)

    def _refusal(self, response: httpx.Response, body: Any) -> TTSError:
        fields = body if isinstance(body, dict) else {}
        code = fields.get("Code")
        message = self.redacted(str(fields.get("Message") or fields.get("ErrMsg") or ""))
        if not isinstance(code, str) or not code:
            kind = response.headers.get("content-type", "no content type")
            return TTSError(
                f"{VENDOR}: CreateToken answered HTTP {response.status_code} without a token "
                f"({len(response.content)} bytes of {kind}{f': {message}' if message else ''})",
                backend=VENDOR,
            )
        error, what = _POP_ERRORS.get(code, (_by_prefix(code), ""))
        return error(VENDOR, code, message or response.reason_phrase, what=f"CreateToken: {what or code}")


def _by_prefix(code: str) -> type[VendorError]:
    if code.startswith(("InvalidAccessKeyId", "Signature", "Forbidden")):
        return VendorAuthError
    return VendorRateLimitedError if code.startswith("Throttling") else VendorError


def json_or_none(response: httpx.Response) -> Any:
    """The answer's JSON, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def _utc(unix_seconds: float) -> str:
    try:
        return dt.datetime.fromtimestamp(unix_seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"Unix time {unix_seconds}"
