"""HTTP to a PBX, shared by the vendor clients: one pooled client, timeouts, bounded
retries, and every exchange appended to the call's journal.

Retries are safe by construction: a request that never reached the PBX (refused,
connect timeout) is retried for every action; a request that may have reached it
(read timeout, 5xx) only for idempotent ones (hang-up, token), so a transfer or a
play is never done twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from bot.errors import PBXUnavailableError
from bot.pbx.base import Exchange

logger = logging.getLogger(__name__)

# Never in a transcript or a log (the account names neither: transcripts reach the CRM).
SECRET_KEYS = frozenset(
    {"password", "client_secret", "refresh_token", "access_token", "username", "client_id"}
)
ANSWER_CHARS = 500
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class _ServerError(Exception):
    """A 5xx answer, raised only to let the retry loop see it."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response


def masked(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``values`` with secrets replaced, fit for a transcript or a log."""
    if values is None:
        return None
    return {k: "***" if k in SECRET_KEYS else v for k, v in values.items()}


class PBXHttp:
    """Requests to one PBX's base URL.

    Args:
        base_url: e.g. ``http://10.0.0.2:12121``; paths are appended to it.
        vendor: ``gx`` or ``hwd``, for messages.
        timeout_seconds: Longest time for the whole of one attempt.
        retries: Further attempts after the first, when a retry is safe.
        verify_tls: Check the PBX's HTTPS certificate.
        client: An HTTP client to use instead of a new one (tests, sharing).
    """

    def __init__(
        self,
        base_url: str,
        *,
        vendor: str,
        timeout_seconds: float,
        retries: int,
        verify_tls: bool = True,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor
        self._timeout_seconds = timeout_seconds
        self._retries = retries
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
            trust_env=False,  # a PBX on the LAN is never reached through a proxy
            verify=verify_tls,  # PBXs often serve HTTPS with their own certificate
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(
        self,
        action: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool,
        journal: list[Exchange] | None,
        record_answer: bool = True,
    ) -> httpx.Response:
        """One request, retried where that is safe; the answer whatever its status.

        Raises:
            PBXUnavailableError: no answer (refused, timed out), or a 5xx after the retries.
        """
        url = self.base_url + path

        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, _NEVER_SENT) or (
                idempotent and isinstance(exc, _ServerError | httpx.TransportError)
            )

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retries + 1),
            wait=wait_exponential(multiplier=0.2, max=2),
            retry=retry_if_exception(retryable),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._attempt(
                        action,
                        method,
                        url,
                        params=params,
                        json=json,
                        headers=headers,
                        journal=journal,
                        record_answer=record_answer,
                    )
                    if response.status_code >= 500:
                        raise _ServerError(response)
        except _ServerError as exc:
            return exc.response  # the caller turns the status into an error with its words
        except httpx.HTTPError as exc:
            raise PBXUnavailableError(
                f"{self.vendor} PBX {action}: no answer from {url} ({type(exc).__name__}: {exc})"
            ) from exc
        return response

    async def _attempt(
        self,
        action: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        json: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        journal: list[Exchange] | None,
        record_answer: bool,
    ) -> httpx.Response:
        started = time.perf_counter()
        request = masked(params) if params is not None else masked(json)
        # Every reserved character percent-encoded (httpx leaves some as they are): GX
        # wants biz_data as URL-encoded JSON, and a voiceurl's own query must survive.
        target = f"{url}?{urlencode(params, quote_via=quote, safe='')}" if params else url
        try:
            # httpx bounds each phase (connect, write, read) alone; this bounds the attempt.
            async with asyncio.timeout(self._timeout_seconds):
                response = await self._client.request(method, target, json=json, headers=headers)
        except TimeoutError as exc:
            ms = round((time.perf_counter() - started) * 1000, 1)
            logger.warning("%s PBX %s %s: no answer in %.0f ms", self.vendor, action, url, ms)
            if journal is not None:
                journal.append(Exchange(action, method, url, request, None, None, ms, "timed out"))
            raise httpx.ReadTimeout(f"no answer within {self._timeout_seconds:g} s") from exc
        except httpx.HTTPError as exc:
            ms = round((time.perf_counter() - started) * 1000, 1)
            error = f"{type(exc).__name__}: {exc}".rstrip(": ")
            logger.warning("%s PBX %s %s: %s after %.0f ms", self.vendor, action, url, error, ms)
            if journal is not None:
                journal.append(Exchange(action, method, url, request, None, None, ms, error))
            raise
        ms = round((time.perf_counter() - started) * 1000, 1)
        answer = response.text[:ANSWER_CHARS] if record_answer else "(not recorded: it holds tokens)"
        logger.info("%s PBX %s %s → %d in %.0f ms", self.vendor, action, url, response.status_code, ms)
        if journal is not None:
            journal.append(Exchange(action, method, url, request, response.status_code, answer, ms))
        return response
