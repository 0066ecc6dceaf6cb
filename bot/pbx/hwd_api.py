"""The HWD PBX REST API (protocols.md §7; HWD manual §1–§4): OAuth tokens, the
response envelope and the error table. The PBX client (``hwd.py``) and the HWD TTS
backend (``bot.speech.hwd``) share one ``HWDApi``, so they share one token.

Tokens: a password grant at first use; a refresh grant when less than
``REFRESH_MARGIN_FRACTION`` of the token's life is left (the manual: refresh within the 30
minutes), falling back to a new password grant when the refresh is refused; and
once more after a 401 (a token the PBX dropped early, e.g. after its restart). Token
requests run one at a time, so a burst of calls fetches one token.

Every answer is ``{"code": "200", "msg": "成功", "data": …}`` with ``code`` a string;
any other code is a failure even with HTTP 200, raised with the vendor's message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from bot.errors import PBXError, PBXRejectedError, PBXUnavailableError
from bot.pbx.base import Exchange
from bot.pbx.http import PBXHttp

logger = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"
HEADERS = {"Accept-Language": "zh-CN", "Content-Type": "application/json", "Accept": "application/json"}
REFRESH_MARGIN_FRACTION = 0.2  # refresh when a fifth of the token's life is left (6 of 30 minutes)
TOKEN_LIFETIME_SECONDS = 1800.0  # the manual's 30 minutes

# The manual's §4 error table.
ERROR_CODES = {
    "510000": "标记留言收取状态参数有误",
    "510001": "标记留言收取状态异常",
    "600000": "呼叫接口参数验证失败",
    "600001": "呼叫异常",
    "600002": "挂断异常",
    "600003": "保持异常",
    "600004": "接回保持异常",
    "600005": "转接参数验证失败",
    "600006": "转接异常",
    "600007": "取消咨询转异常",
    "600008": "代接电话参数验证失败",
    "600009": "代接电话失败",
    "600010": "强插参数验证失败",
    "600011": "强插失败",
    "600012": "监听参数验证失败",
    "600013": "监听失败",
    "600014": "督导参数验证失败",
    "600015": "督导失败",
    "600016": "驻留失败",
    "600017": "接回驻留参数验证失败",
    "600018": "驻留通话已挂断",
    "600019": "来电重定向参数验证失败",
    "600020": "来电重定向异常",
    "600021": "话机听取录音参数验证失败",
    "600022": "话机听取录音异常",
    "610000": "座席签入异常",
    "610001": "座席签出参数有误",
    "610002": "座席签出异常",
    "610003": "设置座席状态参数有误",
    "610004": "设置座席状态异常",
    "610005": "修改排队优先级参数有误",
    "610006": "修改排队优先级异常",
    "610007": "座席签入参数有误",
}


@dataclass(frozen=True)
class Credentials:
    """From the PBX's 系统应用对接 › API 接口授权 page, and an API user."""

    client_id: str
    client_secret: str
    username: str
    password: str


@dataclass
class _Token:
    access: str
    refresh: str | None
    expires_at: float  # monotonic
    lifetime_seconds: float

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - self.lifetime_seconds * REFRESH_MARGIN_FRACTION


class HWDApi:
    """Authenticated JSON requests to one HWD PBX."""

    def __init__(self, http: PBXHttp, credentials: Credentials) -> None:
        self._http = http
        self._credentials = credentials
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()
        self.tokens_fetched = 0  # password and refresh grants, for /health and tests

    @property
    def base_url(self) -> str:
        return self._http.base_url

    async def aclose(self) -> None:
        await self._http.aclose()

    async def post(
        self,
        action: str,
        path: str,
        body: dict[str, Any],
        *,
        idempotent: bool,
        journal: list[Exchange] | None,
    ) -> Any:
        """POST ``body`` and return the envelope's ``data``.

        Raises:
            PBXRejectedError: a non-"200" ``code`` (with the vendor's message) or a 4xx.
            PBXUnavailableError: unreachable, timed out, 5xx, or credentials refused.
        """
        send = partial(self._send, action, path, body=body, idempotent=idempotent, journal=journal)
        return _data(action, await self._authorized(send, journal))

    async def get(
        self, action: str, path: str, params: dict[str, str], *, journal: list[Exchange] | None
    ) -> Any:
        """GET ``path?params`` (a query, safe to repeat) and return the envelope's ``data``.

        Raises:
            PBXRejectedError: a non-"200" ``code`` (with the vendor's message) or a 4xx.
            PBXUnavailableError: unreachable, timed out, 5xx, or credentials refused.
        """
        send = partial(self._send, action, path, params=params, idempotent=True, journal=journal)
        return _data(action, await self._authorized(send, journal))

    async def _authorized(
        self, send: Callable[..., Awaitable[httpx.Response]], journal: list[Exchange] | None
    ) -> httpx.Response:
        """``send(token=…)`` with the current token, and once more with a new one when the
        PBX refuses it (401: a token it dropped early, e.g. after its restart)."""
        token = await self._access_token(journal)
        response = await send(token=token)
        if response.status_code == 401:
            logger.info("HWD PBX refused the token; fetching a new one")
            response = await send(token=await self._access_token(journal, stale=token))
        return response

    async def _send(
        self,
        action: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        token: str,
        idempotent: bool,
        journal: list[Exchange] | None,
    ) -> httpx.Response:
        headers = {**HEADERS, "Authorization": f"Bearer {token}"}
        method = "POST" if params is None else "GET"
        return await self._http.send(
            action,
            method,
            path,
            params=params,
            json=body,
            headers=headers,
            idempotent=idempotent,
            journal=journal,
        )

    async def _access_token(self, journal: list[Exchange] | None, *, stale: str | None = None) -> str:
        async with self._token_lock:
            token, now = self._token, time.monotonic()
            if token is not None and token.access != stale and token.fresh(now):
                return token.access
            if token is not None and token.refresh is not None:
                try:
                    self._token = await self._grant(
                        {"grant_type": "refresh_token", "refresh_token": token.refresh}, journal
                    )
                    return self._token.access
                except PBXError as exc:
                    logger.warning("HWD token refresh refused (%s); signing in again", exc)
            c = self._credentials
            self._token = await self._grant(
                {
                    "grant_type": "password",
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "username": c.username,
                    "password": c.password,
                },
                journal,
            )
            return self._token.access

    async def _grant(self, body: dict[str, str], journal: list[Exchange] | None) -> _Token:
        response = await self._http.send(
            "token",
            "POST",
            TOKEN_PATH,
            json=body,
            headers=HEADERS,
            idempotent=True,
            journal=journal,
            record_answer=False,
        )
        if response.status_code != 200:
            raise PBXUnavailableError(
                f"HWD PBX refused the {body['grant_type']} grant with HTTP {response.status_code}: "
                f"{response.text[:200]} — check VOICEBOT_HWD_CLIENT_ID/SECRET/USERNAME/PASSWORD",
                code=str(response.status_code),
            )
        try:
            answer = response.json()
            if "code" in answer and str(answer["code"]) != "200":  # an envelope around an error
                _data("token", response)
            document = answer.get("data") if isinstance(answer.get("data"), dict) else answer
            # The manual promises 30 minutes, yet its refresh example says 31622400 s: trust
            # no more than the 30 minutes, so a refresh always comes before the end.
            lifetime_seconds = min(
                float(document.get("expires_in") or TOKEN_LIFETIME_SECONDS), TOKEN_LIFETIME_SECONDS
            )
            access = str(document["access_token"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # Not the body: it may hold a token.
            raise PBXUnavailableError(f"HWD PBX token answer unusable ({type(exc).__name__})") from exc
        self.tokens_fetched += 1
        refresh = document.get("refresh_token")
        logger.info("HWD PBX %s grant: a token for %.0f s", body["grant_type"], lifetime_seconds)
        return _Token(
            access, str(refresh) if refresh else None, time.monotonic() + lifetime_seconds, lifetime_seconds
        )


def _data(action: str, response: httpx.Response) -> Any:
    """The envelope's ``data``, or the error its ``code`` (or HTTP status) says."""
    status = response.status_code
    try:
        envelope = response.json()
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict) or "code" not in envelope:
        kind = PBXUnavailableError if status >= 500 or status == 401 else PBXRejectedError
        raise kind(
            f"HWD PBX {action}: HTTP {status}, no JSON envelope: {response.text[:200]}", code=str(status)
        )
    code, message = str(envelope["code"]), str(envelope.get("msg") or "")
    if code == "200" and status < 400:
        return envelope.get("data")
    meaning = ERROR_CODES.get(code, message or "unknown error")
    vendor_message = message or meaning
    kind = PBXUnavailableError if status >= 500 or code in {"401", "500"} else PBXRejectedError
    raise kind(
        f"HWD PBX {action} failed: code {code} {vendor_message}", code=code, vendor_message=vendor_message
    )
