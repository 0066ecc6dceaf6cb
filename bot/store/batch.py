"""Write-when-idle batching for the stores that must not lose a row.

Callers add rows and may wait for them (``flush``). One writer task writes everything
added since its last write in one call of ``write`` (one transaction, one hop to the
database's thread or server): while a write is under way, new rows gather for the
next one, so a quiet service writes each row at once and a busy one writes many per
transaction, with no timer.

A write that fails (disk full, database down) is kept and tried again every
``retry_seconds``, in front of what came after it, while ``write_error`` says why;
waiters are released after the failed attempt (the caller keeps hearing answers),
and past ``max_unwritten`` rows the oldest are dropped and counted in ``lost_rows``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Generic, TypeVar

from bot import metrics

R = TypeVar("R")
logger = logging.getLogger(__name__)

RETRY_WRITE_SECONDS = 1.0


class BatchWriter(Generic[R]):
    """Batches rows for ``write``; see the module's docstring.

    Args:
        write: Stores a batch, all or nothing; raises when it cannot.
        name: What the rows are, for log lines ("transcript rows").
        max_unwritten: The most rows kept while writes fail.
        retry_seconds: Between attempts while writes fail.
        store: The ``store`` label of its failures in the metrics (default: ``name``).
    """

    def __init__(
        self,
        write: Callable[[list[R]], Awaitable[None]],
        *,
        name: str,
        max_unwritten: int,
        retry_seconds: float = RETRY_WRITE_SECONDS,
        store: str | None = None,
    ) -> None:
        self._write = write
        self._name = name
        self._store = store or name
        self._max_unwritten = max_unwritten
        self._retry_seconds = retry_seconds
        self._queued: list[R] = []
        self._writing: list[R] = []  # the batch being written
        self._barriers: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.write_error: str | None = None  # why the last write failed, until one succeeds
        self.lost_rows = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Write what is queued (one attempt), then stop."""
        if self._task is None:
            return
        await self.flush()
        if self.unwritten:
            logger.error("%d %s could not be stored before stopping", self.unwritten, self._name)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def add(self, row: R) -> None:
        self._queued.append(row)
        self._wake.set()

    async def flush(self) -> None:
        """Return once everything added before has been written, or tried once and kept."""
        if self._task is None:
            raise RuntimeError(f"{self._name}: used before start()")
        barrier = asyncio.get_running_loop().create_future()
        self._barriers.append(barrier)
        self._wake.set()
        await barrier

    def pending(self) -> Iterator[R]:
        """The rows not stored yet, oldest first."""
        yield from self._writing
        yield from self._queued

    @property
    def unwritten(self) -> int:
        return len(self._queued) + len(self._writing)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queued = self._queued, []
            barriers, self._barriers = self._barriers, []
            self._writing = batch
            try:
                if batch:
                    await self._write(batch)
                if self.write_error is not None:
                    logger.warning("%s are stored again", self._name)
                self.write_error = None
            except Exception as exc:  # a failed write must not stop later ones
                self._keep(batch, exc)
            finally:
                self._writing = []
            for barrier in barriers:
                if not barrier.done():
                    barrier.set_result(None)
            if self.write_error is not None:
                await asyncio.sleep(self._retry_seconds)
                self._wake.set()

    def _keep(self, batch: list[R], exc: Exception) -> None:
        metrics.count_storage_error(self._store)
        if self.write_error is None:
            logger.error("%s cannot be stored (%s); keeping them to try again", self._name, exc)
        self.write_error = f"{type(exc).__name__}: {exc}"
        self._queued[:0] = batch
        excess = len(self._queued) - self._max_unwritten
        if excess > 0:
            del self._queued[:excess]
            self.lost_rows += excess
            metrics.count_lost_rows(self._store, excess)
            logger.error("%d %s lost: over %d waited to be stored", excess, self._name, self._max_unwritten)
