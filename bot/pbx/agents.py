"""Whether anyone can answer a transfer target, from the PBX's agent status: what a
flow's ``transfer:`` step with ``busy:`` asks (``bot.dialog.agents.AgentStatus``).

The vendors' queries live beside their clients (``gx_status.py``: GX manual §23 and
§40; ``hwd_status.py``: HWD manual §2.2.3 and §2.3.2). What they share is here:

- **A brief cache.** Each target's answer is kept ``cache_seconds``
  (``VOICEBOT_AGENT_STATUS_CACHE_MS``): a burst of calls asking for agents makes one
  query, as the GX manual's own advice is to poll §23 no more than every 2 s. Calls
  asking about a target whose query is under way wait for that query.
- **A time budget.** A turn waits at most ``timeout_seconds``
  (``VOICEBOT_AGENT_STATUS_TIMEOUT_MS``) for an answer, well inside the CTI's wait for
  its callback; the query itself goes on and fills the cache for the next call.
- **No answer counts as free.** A query that fails, is too slow, or answers nothing
  to go by (an unknown target) lets the transfer be tried as if the step had no
  ``busy:``: a refusal is then handled as every refused transfer is (the flow's
  ``transfer_failed`` words). Sending a caller to "all agents are busy" on a fault of
  the status query would turn away callers an agent could have taken.
- **The transcript.** The queries' requests and answers (and a cached answer, or a
  budget overrun, as an exchange that says so) are appended to the journal of the
  turn asking, which ``journal_into`` names: the turn's transcript row shows them as
  it shows the PBX's other exchanges.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from bot import metrics
from bot.errors import PBXError
from bot.pbx.base import Exchange, TransferTarget

logger = logging.getLogger(__name__)

ACTION = "agents"  # the exchanges' action in the transcript
_journal: ContextVar[list[Exchange] | None] = ContextVar("voicebot_agent_status_journal", default=None)


@contextlib.contextmanager
def journal_into(exchanges: list[Exchange]) -> Iterator[None]:
    """Status queries asked inside (in this task, and tasks it starts) append their
    exchanges to ``exchanges``."""
    token = _journal.set(exchanges)
    try:
        yield
    finally:
        _journal.reset(token)


class StatusQuery(Protocol):
    """One vendor's question: is anyone free to answer ``target`` now?"""

    vendor: str

    async def free(self, target: TransferTarget, journal: list[Exchange]) -> bool | None:
        """True: someone can answer; False: nobody can; None: the answer says neither
        (e.g. the PBX knows no such number). Appends its exchanges to ``journal``.

        Raises:
            PBXError: no usable answer (unreachable, refused, not the manual's format).
        """
        ...

    async def aclose(self) -> None:
        """Release its connections (at shutdown)."""
        ...


@dataclass
class _Answer:
    free: bool | None
    exchanges: list[Exchange]
    error: str | None = None
    at: float = field(default=0.0)


class CachedAgentStatus:
    """The dialog's ``AgentStatus`` over one vendor's ``StatusQuery``.

    Args:
        query: The vendor's question.
        cache_seconds: How long a target's answer is used again (0: asked every time).
        timeout_seconds: The longest a turn waits for an answer.
        clock: Monotonic seconds (tests move it).
    """

    def __init__(
        self,
        query: StatusQuery,
        *,
        cache_seconds: float,
        timeout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._query = query
        self._cache_seconds = cache_seconds
        self._timeout_seconds = timeout_seconds
        self._clock = clock
        self._answers: dict[TransferTarget, _Answer] = {}
        self._asking: dict[TransferTarget, asyncio.Task[_Answer]] = {}

    @property
    def vendor(self) -> str:
        return self._query.vendor

    async def can_answer(self, target: str, *, call_id: str) -> bool:
        """Whether someone can answer ``target``; True when that cannot be told in time."""
        parsed = TransferTarget.parse(target)
        if parsed.kind == "ivr":  # a menu of the PBX always answers
            return True
        journal = _journal.get()
        cached = self._answers.get(parsed)
        if cached is not None and self._clock() - cached.at < self._cache_seconds:
            return self._cached(parsed, cached, journal)
        task = self._asking.get(parsed) or self._ask(parsed)
        try:
            async with asyncio.timeout(self._timeout_seconds):
                answer = await asyncio.shield(task)
        except TimeoutError:
            return self._slow(parsed, call_id, journal)
        if journal is not None:
            journal.extend(answer.exchanges)
        result = {True: "free", False: "busy", None: "unknown"}[answer.free]
        metrics.count_agent_status(self.vendor, result)
        if answer.error is not None:
            logger.warning(
                "call %s: agent status of %s unknown (%s); transferring", call_id, target, answer.error
            )
        return answer.free is not False

    async def aclose(self) -> None:
        """Cancel the queries still under way and close the vendor's client (at shutdown)."""
        tasks = list(self._asking.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._query.aclose()

    def _ask(self, target: TransferTarget) -> asyncio.Task[_Answer]:
        task = asyncio.create_task(self._run(target))
        self._asking[target] = task
        task.add_done_callback(lambda _: self._asking.pop(target, None))
        return task

    async def _run(self, target: TransferTarget) -> _Answer:
        exchanges: list[Exchange] = []
        try:
            answer = _Answer(await self._query.free(target, exchanges), exchanges)
        except PBXError as exc:
            answer = _Answer(None, exchanges, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a status query never fails the turn: the transfer is tried
            logger.exception("agent status query of %s failed", target)
            answer = _Answer(None, exchanges, f"{type(exc).__name__}: {exc}")
        answer.at = self._clock()
        self._answers[target] = answer  # a failure too: a PBX that is down is not asked per call
        return answer

    def _cached(self, target: TransferTarget, answer: _Answer, journal: list[Exchange] | None) -> bool:
        result = {True: "cached_free", False: "cached_busy", None: "unknown"}[answer.free]
        metrics.count_agent_status(self.vendor, result)
        if journal is not None:
            age_ms = round((self._clock() - answer.at) * 1000)
            said = {True: "free", False: "busy", None: "unknown"}[answer.free]
            text = f"{said} (the answer of {age_ms} ms ago, VOICEBOT_AGENT_STATUS_CACHE_MS)"
            journal.append(Exchange(ACTION, "CACHE", "cache:", {"target": str(target)}, None, text, 0.0))
        return answer.free is not False

    def _slow(self, target: TransferTarget, call_id: str, journal: list[Exchange] | None) -> bool:
        budget_ms = round(self._timeout_seconds * 1000)
        metrics.count_agent_status(self.vendor, "slow")
        logger.warning(
            "call %s: no agent status of %s within %d ms; transferring", call_id, target, budget_ms
        )
        if journal is not None:
            error = f"no answer within {budget_ms} ms (VOICEBOT_AGENT_STATUS_TIMEOUT_MS): counted as free"
            request = {"target": str(target)}
            journal.append(Exchange(ACTION, "GET", "status:", request, None, None, float(budget_ms), error))
        return True
