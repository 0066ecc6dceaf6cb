"""The outcome outbox: every ended call's summary, pushed to the receiver until it says yes.

A push is stored before it is sent, so a receiver that is down, or a restart of ours,
loses nothing. One delivery task sends what is due, oldest first and a few at a time,
and sleeps until the next push falls due or a new one arrives; it never polls.

How an answer is judged: a 2xx is delivered, and that push is never sent again. A 408,
a 429, a 5xx, a connection error or a timeout is tried again after an exponential wait
with jitter (1 s, 2 s, 4 s… plus up to 1 s, never more than the cap); ``Retry-After``
is not read. Any other status (a 4xx, a redirect) is final: the push is ``rejected``,
logged at ERROR with the status and the start of the body, and stays in the table for
a person to look at. The guarantee is at least once: a crash between the receiver's
2xx and our note of it sends that push again, with the same ``Idempotency-Key``.
Each attempt carries the configured headers (``VOICEBOT_OUTCOME_HEADERS``) and, with
``VOICEBOT_OUTCOME_SECRET``, a signature made at that attempt (bot/outcome/signing.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict
from urllib.parse import quote, urlsplit

import httpx
from tenacity import RetryCallState, Retrying, wait_exponential_jitter

from bot import metrics
from bot.logs import call_context
from bot.outcome.signing import SIGNATURE_HEADER, signature
from bot.outcome.store import OutboxRow, OutboxStore

if TYPE_CHECKING:
    from bot.outcome.pg_store import PostgresOutboxStore

logger = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({408, 429})
"""Besides every 5xx: the statuses that say "not now" rather than "never"."""
SNIPPET_BYTES = 500  # of a refusal's body, for the log and ``last_error``
PURGE_INTERVAL_SECONDS = 3600.0


class OutboxStats(TypedDict):
    """How the outbox is doing, for ``/healthz``."""

    pending: int
    delivered: int
    rejected: int
    oldest_pending_seconds: float | None  # how long the oldest undelivered push has waited


@dataclass(frozen=True)
class _Answer:
    """What one attempt came to: ``status`` None when no HTTP answer came."""

    verdict: Literal["delivered", "retry", "rejected"]
    status: int | None
    error: str = ""


class Outbox:
    """Stores outcome pushes and delivers each to ``url`` until it is accepted or refused.

    Args:
        path: The SQLite file (created if missing).
        url: Where each push is POSTed.
        timeout_seconds: Longest wait for one attempt, connecting to last byte.
        backoff_base_seconds: The wait before the first retry; each later one doubles.
        max_backoff_seconds: The longest wait between two attempts.
        keep_days: How long delivered pushes stay in the table.
        concurrency: How many pushes are in flight at most.
        store: Where the rows live when not in ``path`` (PostgreSQL, shared by every
            instance: each push is claimed by one).
    """

    def __init__(
        self,
        path: Path,
        url: str,
        *,
        timeout_seconds: float = 5.0,
        backoff_base_seconds: float = 1.0,
        max_backoff_seconds: float = 300.0,
        keep_days: float = 7.0,
        concurrency: int = 4,
        store: OutboxStore | PostgresOutboxStore | None = None,
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._store = store if store is not None else OutboxStore(path)
        self._url = url
        self._secret = secret.encode() if secret else None
        self._headers = dict(headers or {})
        self._url_for_logs = urlsplit(url)._replace(query="", fragment="").geturl()  # queries hold tokens
        self._timeout_seconds = timeout_seconds
        self._backoff_base_seconds = backoff_base_seconds
        # In units of the base: tenacity 8 has no ``multiplier``, 9 deprecates ``initial``.
        self._backoff_in_bases = wait_exponential_jitter(
            max=max_backoff_seconds / backoff_base_seconds, jitter=1
        )
        self._keep_seconds = keep_days * 86400
        self._concurrency = concurrency
        self._client: httpx.AsyncClient | None = None
        self._worker: asyncio.Task[None] | None = None
        self._sending: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._next_purge_at = 0.0

    async def open(self) -> None:
        """Open the table and start delivering; pushes left pending earlier are due at once."""
        await self._store.open(time.time())
        self._client = httpx.AsyncClient(timeout=self._timeout_seconds, follow_redirects=False)
        self._worker = asyncio.create_task(self._deliver_forever(), name="outbox")

    async def close(self) -> None:
        """Stop delivering. A push in flight stays pending and goes out after the next open."""
        tasks = [t for t in (self._worker, *self._sending.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._worker = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        await self._store.close()

    async def enqueue(self, call_id: str, payload: Mapping[str, Any]) -> bool:
        """Store ``payload`` as the push of ``call_id``, to be delivered soon.

        Returns:
            False, storing nothing, when ``call_id`` was enqueued before: each call is
            pushed once, whatever its later state.

        Raises:
            OutboxError: the table cannot be written (or the outbox is closed).
        """
        body = json.dumps(payload, ensure_ascii=False, default=str)
        added = await self._store.insert(call_id, body, time.time())
        if added:
            self._wake.set()
        return added

    async def get(self, call_id: str) -> OutboxRow | None:
        """The push of ``call_id`` as stored, in whatever state it is."""
        return await self._store.get(call_id)

    async def stats(self) -> OutboxStats:
        counts, oldest = await self._store.counts()
        return {
            "pending": counts["pending"],
            "delivered": counts["delivered"],
            "rejected": counts["rejected"],
            "oldest_pending_seconds": None if oldest is None else round(time.time() - oldest, 3),
        }

    def retry_delay_seconds(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt of one push."""
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = attempts
        return self._backoff_base_seconds * self._backoff_in_bases(state)

    async def _deliver_forever(self) -> None:
        while True:
            self._wake.clear()  # before looking: a push stored from now on wakes the next wait
            try:
                wait_seconds = await self._start_due()
            except Exception:  # a failing disk must not end delivery for good
                metrics.count_storage_error("outbox")
                logger.exception("outbox: cannot read the pushes due")
                wait_seconds = self.retry_delay_seconds(1)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_seconds):
                    await self._wake.wait()

    async def _start_due(self) -> float | None:
        """Start sending what is due; how long until something else is (None: only a wake)."""
        now = time.time()
        if now >= self._next_purge_at:
            if purged := await self._store.purge_delivered(now - self._keep_seconds):
                logger.info("outbox: removed %d delivered pushes older than the keep time", purged)
            self._next_purge_at = now + PURGE_INTERVAL_SECONDS
        free = self._concurrency - len(self._sending)
        rows, next_due = await self._store.take_due(now, max(free, 0), self._sending)
        for row in rows:
            self._sending[row.call_id] = asyncio.create_task(
                self._deliver(row), context=call_context(row.call_id)
            )
        if len(self._sending) >= self._concurrency:
            return None  # a finished push wakes the loop
        until_purge_seconds = self._next_purge_at - now
        if next_due is None:
            return until_purge_seconds
        return max(0.0, min(until_purge_seconds, next_due - now))

    async def _deliver(self, row: OutboxRow) -> None:
        try:
            answer = await self._post(row)
            await self._record(row, answer)
        except Exception:
            metrics.count_storage_error("outbox")
            logger.exception("outbox: cannot record the push of call %s", row.call_id)
            # Holding its slot keeps a push whose answer was not stored from going out
            # again at once, and again, while the disk is failing.
            await asyncio.sleep(self.retry_delay_seconds(row.attempts + 1))
        finally:
            del self._sending[row.call_id]
            self._wake.set()

    async def _post(self, row: OutboxRow) -> _Answer:
        assert self._client is not None, "Outbox used before open()"
        body = row.payload.encode()
        headers = {
            **self._headers,
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key(row.call_id),
        }
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = signature(self._secret, body)
        request = self._client.stream("POST", self._url, content=body, headers=headers)
        try:
            async with asyncio.timeout(self._timeout_seconds), request as reply:
                body = await _read_start(reply)
        except (TimeoutError, httpx.TimeoutException):
            return _Answer("retry", None, f"timeout after {self._timeout_seconds} s")
        except httpx.HTTPError as exc:
            return _Answer("retry", None, f"{type(exc).__name__}: {exc}")
        status = reply.status_code
        if 200 <= status < 300:
            return _Answer("delivered", status)
        error = f"HTTP {status}: {body.decode('utf-8', errors='replace')}"
        return _Answer("retry" if status in RETRIED_STATUSES or status >= 500 else "rejected", status, error)

    async def _record(self, row: OutboxRow, answer: _Answer) -> None:
        now, attempt, call_id = time.time(), row.attempts + 1, row.call_id
        if answer.verdict == "delivered":
            await self._store.mark_delivered(call_id, now)
            logger.info("outbox: call %s delivered (HTTP %s, attempt %d)", call_id, answer.status, attempt)
        elif answer.verdict == "retry":
            delay_seconds = self.retry_delay_seconds(attempt)
            await self._store.mark_retry(call_id, now, now + delay_seconds, answer.error)
            # The first failure says the receiver is in trouble; the rest would flood the log.
            level = logging.WARNING if attempt == 1 else logging.INFO
            logger.log(
                level,
                "outbox: call %s not delivered to %s (attempt %d: %s); next try in %.1f s",
                call_id,
                self._url_for_logs,
                attempt,
                answer.error,
                delay_seconds,
            )
        else:
            await self._store.mark_rejected(call_id, now, answer.error)
            logger.error("outbox: call %s rejected by %s: %s", call_id, self._url_for_logs, answer.error)


def idempotency_key(call_id: str) -> str:
    """The ``Idempotency-Key`` header of a call's push: its call id, percent-encoded
    (UTF-8) only when it holds anything but printable ASCII, which a header cannot carry."""
    if call_id.isascii() and call_id.isprintable():
        return call_id
    return quote(call_id, safe="")


async def _read_start(reply: httpx.Response) -> bytes:
    """Up to ``SNIPPET_BYTES`` of the body; a receiver's long error page is not read whole."""
    start = b""
    async for chunk in reply.aiter_bytes():
        start += chunk
        if len(start) >= SNIPPET_BYTES:
            break
    return start[:SNIPPET_BYTES]
