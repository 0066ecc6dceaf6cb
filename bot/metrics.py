"""Every Prometheus metric of the service, defined once, and the one-line calls that move them.

Operators alert on these (docs/metrics.md); ``GET /metrics`` (``bot/web/metrics.py``)
serves them. Each is named with its unit (``_seconds``, ``_total``) and labelled only
with values from a bounded set (flows, intents, backends, outcomes, reasons: never a
call id, a number or a text), so the series stay few.

Call-level metrics carry ``kind``: ``cti`` for the CTI's calls, ``test`` for the
console's test calls, read from the :data:`CALL_KIND` context variable that the
console sets for its requests (tasks started by a request inherit it).

Cost: the turn path moves a handful of these per turn. A child of a labelled metric
is bound once per label values and then found with a dictionary lookup
(:class:`_Children`), because ``labels()`` validates and joins the values on every
call; an increment is then ≈ 0.3 µs (docs/metrics.md has the measurement).

Several processes (``voicebot serve --workers N``): the supervisor points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before the workers start
(``bot/workers.py``); prometheus_client then keeps each worker's values in files there
and any worker's ``/metrics`` answers the sum. Gauges say how they combine
(``multiprocess_mode``): a figure read from a shared store at scrape time (live calls,
the outbox) is the most recent one; one of this process (rows waiting) is summed over
the live workers.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any, TypeVar

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

from bot import request_facts

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

CALL_KIND: ContextVar[str] = ContextVar("voicebot_call_kind", default="cti")
"""``cti`` or ``test`` (a call placed from the console): the ``kind`` label of call-level metrics."""

# Turns take milliseconds (a cached answer) to seconds (a slow knowledge or http: step).
TURN_BUCKETS_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# A synthesis takes tens of milliseconds (espeak-ng) to seconds (a vendor's HTTP TTS).
TTS_BUCKETS_SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

M = TypeVar("M", bound=MetricWrapperBase)


class _Children(dict[Any, M]):
    """A labelled metric's children by label values (a tuple, or the one value), each
    bound on first use: ``FAMILY[a, b]`` is then a dictionary lookup."""

    def __init__(self, metric: M) -> None:
        super().__init__()
        self.metric = metric

    def __missing__(self, key: str | tuple[str, ...]) -> M:
        child = self[key] = self.metric.labels(*(key if isinstance(key, tuple) else (key,)))
        return child


# --- calls and turns -------------------------------------------------------------------

TURN_SECONDS = _Children(
    Histogram(
        "voicebot_turn_seconds",
        "Time to answer one callback of a call (the CTI's wait, without HTTP), by event.",
        ["kind", "event"],
        buckets=TURN_BUCKETS_SECONDS,
    )
)
CALLBACKS = _Children(
    Counter(
        "voicebot_callbacks",
        "Requests to the CTI's endpoints (/cti/*), by route, event (/cti/ai) and HTTP status.",
        ["endpoint", "event", "status"],
    )
)
CALLS_STARTED = _Children(Counter("voicebot_calls_started", "Calls begun.", ["kind"]))
CALLS_ENDED = _Children(
    Counter("voicebot_calls_ended", "Calls ended, by how they ended (first end).", ["kind", "outcome"])
)
LIVE_CALLS = Gauge(
    "voicebot_live_calls",
    "Calls in progress in the session store (shared by every instance with Redis), read at scrape time.",
    multiprocess_mode="mostrecent",
)
READY = Gauge(
    "voicebot_ready",
    "1 once flows are loaded and prompts rendered (the least over the workers).",
    multiprocess_mode="livemin",
)

# --- understanding ---------------------------------------------------------------------

UTTERANCES = _Children(
    Counter(
        "voicebot_utterances",
        "Caller's words the bot answered (barge-ins ignored excluded).",
        ["kind", "flow"],
    )
)
INTENTS = _Children(
    Counter("voicebot_intents", "Intents recognised in the caller's words.", ["kind", "flow", "intent"])
)
NO_MATCH = _Children(
    Counter(
        "voicebot_no_match",
        "Words the waiting step did not take: no intent of an ask step, no value of a collect step.",
        ["kind", "flow"],
    )
)
KNOWLEDGE = _Children(
    Counter(
        "voicebot_knowledge_answers",
        "Knowledge steps' questions, by result: answered, clarified, not_found, error.",
        ["kind", "result"],
    )
)

# --- telephony and speech --------------------------------------------------------------

PBX_ACTIONS = _Children(
    Counter(
        "voicebot_pbx_actions",
        "Transfers, hang-ups and plays asked of the PBX, by result: ok, error, or dropped "
        "(the caller hung up before it was due).",
        ["kind", "action", "result"],
    )
)
AGENT_STATUS = _Children(
    Counter(
        "voicebot_agent_status",
        "Whether anyone can answer a transfer with busy:, by vendor and result: free, busy, "
        "cached_free, cached_busy, unknown (a failure or an answer to go by) or slow (past the budget).",
        ["kind", "vendor", "result"],
    )
)
TTS_SECONDS = _Children(
    Histogram(
        "voicebot_tts_seconds",
        "Time of one synthesis by a speech backend, conversion to 8 kHz included.",
        ["backend"],
        buckets=TTS_BUCKETS_SECONDS,
    )
)
TTS_FAILURES = _Children(
    Counter("voicebot_tts_failures", "Syntheses a speech backend failed or timed out.", ["backend"])
)
TTS_CACHE = _Children(
    Counter(
        "voicebot_tts_cache",
        "Texts to say, by backend and result: hit (a clip in memory or on disk) or miss (synthesized).",
        ["backend", "result"],
    )
)
# A model's answer takes tenths of a second (an intent) to seconds (an answer, a summary).
LLM_BUCKETS_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LLM_REQUESTS = _Children(
    Counter(
        "voicebot_llm_requests",
        "Requests to the language model by use (intent, answer, summary) and result: ok, rejected "
        "(an answer outside its use's contract, dropped), error, timeout, or skipped (cooling down or "
        "over a budget: not sent).",
        ["use", "result"],
    )
)
LLM_SECONDS = _Children(
    Histogram(
        "voicebot_llm_seconds",
        "Time of one request to the language model that got an answer, by use.",
        ["use"],
        buckets=LLM_BUCKETS_SECONDS,
    )
)
LLM_TOKENS = _Children(
    Counter(
        "voicebot_llm_tokens",
        "Tokens the language model's server counted, by use and kind (prompt, completion).",
        ["use", "kind"],
    )
)

# --- storage, outbox, access -----------------------------------------------------------

STORAGE_ERRORS = _Children(
    Counter(
        "voicebot_storage_errors",
        "Failed reads or writes of a store: sessions, transcripts, outbox (a failing write is "
        "tried again every second, and counted each time).",
        ["store"],
    )
)
STORAGE_LOST_ROWS = _Children(
    Counter("voicebot_storage_lost_rows", "Rows dropped after too many waited to be stored.", ["store"])
)
STORAGE_UNWRITTEN_ROWS = Gauge(
    "voicebot_storage_unwritten_rows",
    "Rows waiting in memory to be stored, at scrape time (summed over the workers).",
    ["store"],
    multiprocess_mode="livesum",
)
STORAGE_FAILING = Gauge(
    "voicebot_storage_failing",
    "1 while a store refuses writes, at scrape time (the most of the workers).",
    ["store"],
    multiprocess_mode="livemax",
)
OUTBOX_PUSHES = Gauge(
    "voicebot_outbox_pushes",
    "Outcome pushes in the outbox by state (pending, delivered, rejected), at scrape time.",
    ["state"],
    multiprocess_mode="mostrecent",
)
OUTBOX_OLDEST_PENDING_SECONDS = Gauge(
    "voicebot_outbox_oldest_pending_seconds",
    "How long the oldest pending outcome push has waited (0: none), at scrape time.",
    multiprocess_mode="mostrecent",
)
REFUSED = _Children(
    Counter("voicebot_refused_requests", "Requests refused before any endpoint ran, by reason.", ["reason"])
)
CALL_RECORDS = _Children(
    Counter(
        "voicebot_call_records",
        "The CTI's pushed call records (GX §31), by result: stored (new), repeated (pushed again), "
        "refused (not the manual's format) or failed (the store failed).",
        ["result"],
    )
)


# --- the calls the code makes ----------------------------------------------------------


def observe_turn(event: str, seconds: float) -> None:
    """A callback of ``event`` was answered in ``seconds``."""
    TURN_SECONDS[CALL_KIND.get(), event].observe(seconds)
    facts = request_facts.CURRENT.get()
    if facts is not None:  # the callbacks' counter, counted by the edge once answered
        facts.event = event


def count_call_started() -> None:
    CALLS_STARTED[CALL_KIND.get()].inc()


def count_call_ended(outcome: str) -> None:
    CALLS_ENDED[CALL_KIND.get(), outcome].inc()


def count_heard(flow: str, intent: str | None) -> None:
    """The caller's words were answered in ``flow``, read as ``intent`` (None: none reached
    the threshold)."""
    kind = CALL_KIND.get()
    UTTERANCES[kind, flow].inc()
    if intent is not None:
        INTENTS[kind, flow, intent].inc()


def count_no_match(flow: str) -> None:
    NO_MATCH[CALL_KIND.get(), flow].inc()


def count_knowledge(result: str) -> None:
    """A knowledge step's question: ``answered``, ``clarified``, ``not_found`` or ``error``."""
    KNOWLEDGE[CALL_KIND.get(), result].inc()


def count_pbx(action: str, result: str, *, test: bool = False) -> None:
    """A PBX ``action`` (transfer, hangup, play) came to ``result`` (ok, error, dropped);
    ``test``: of a test call, whatever the context (an action taken over after a restart)."""
    PBX_ACTIONS["test" if test else CALL_KIND.get(), action, result].inc()


def count_agent_status(vendor: str, result: str) -> None:
    """A question of a ``transfer:`` with ``busy:`` to the PBX's agent status (gx, hwd)
    came to ``result`` (free, busy, cached_free, cached_busy, unknown, slow)."""
    AGENT_STATUS[CALL_KIND.get(), vendor, result].inc()


def count_tts(backend: str, *, hit: bool) -> None:
    TTS_CACHE[backend, "hit" if hit else "miss"].inc()


def count_llm(use: str, result: str) -> None:
    """A request of ``use`` (intent, answer, summary) to the model came to ``result``."""
    LLM_REQUESTS[use, result].inc()


def observe_llm(use: str, seconds: float, prompt_tokens: int, completion_tokens: int) -> None:
    """The model answered a request of ``use`` in ``seconds``, with these token counts."""
    LLM_SECONDS[use].observe(seconds)
    LLM_TOKENS[use, "prompt"].inc(prompt_tokens)
    LLM_TOKENS[use, "completion"].inc(completion_tokens)


def count_call_records(result: str, records: int) -> None:
    """``records`` pushed call records came to ``result`` (stored, repeated, refused, failed)."""
    if records:
        CALL_RECORDS[result].inc(records)


def count_storage_error(store: str) -> None:
    STORAGE_ERRORS[store].inc()


def count_lost_rows(store: str, rows: int) -> None:
    STORAGE_LOST_ROWS[store].inc(rows)


def count_refused(reason: str) -> None:
    """A request refused by access control or a guard; ``reason`` from a fixed set
    (cti_token, cti_network, unauthenticated, role, csrf, host, too_large, metrics_token…)."""
    REFUSED[reason].inc()


def multiprocess_dir() -> str | None:
    """The directory of ``voicebot serve --workers N``'s values, or None (one process)."""
    return os.environ.get(MULTIPROC_ENV) or None
