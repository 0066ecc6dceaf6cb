"""Every request to the language model goes through :func:`ask`: the answer read by its
use's contract, the request (without its system prompt, the same for every request of
a use) and its answer journaled for the call's transcript (masked as the logs are),
counted and timed in ``/metrics``, and any failure turned into None: the call goes on
as without a model."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from bot import metrics
from bot.errors import LLMError
from bot.llm.model import ChatAnswer, ChatRequest, LanguageModel, OnText
from bot.privacy import mask_json, mask_text

logger = logging.getLogger(__name__)

T = TypeVar("T")

_journal: ContextVar[list[dict[str, Any]] | None] = ContextVar("voicebot_llm_journal", default=None)


@contextlib.contextmanager
def journal_requests_into(exchanges: list[dict[str, Any]]) -> Iterator[None]:
    """Requests asked inside (in this task, and tasks it starts) append their exchange
    to ``exchanges``: what the transcript's turn keeps as ``llm``."""
    token = _journal.set(exchanges)
    try:
        yield
    finally:
        _journal.reset(token)


class Rejected(ValueError):
    """An answer outside its use's contract (not JSON, an intent not offered, a fact
    absent from the cited entries…); the message says which, for the transcript."""


async def ask(
    model: LanguageModel, request: ChatRequest, read: Callable[[str], T], *, on_text: OnText | None = None
) -> T | None:
    """``read`` (the use's contract: raises ``Rejected``) of the model's answer to
    ``request``; None when there is no answer or ``read`` rejects it."""
    began = time.perf_counter()
    try:
        answer = await model.chat(request, on_text=on_text)
    except LLMError as exc:
        _journal_exchange(model, request, None, exc.result, reason=str(exc), began=began)
        metrics.count_llm(request.use, exc.result)
        logger.info("language model, %s: %s", request.use, exc)
        return None
    except Exception as exc:  # a bug of ours on the way (a cassette, a listener): never the call's end
        logger.exception("language model, %s: the request failed", request.use)
        _journal_exchange(model, request, None, "error", reason=type(exc).__name__, began=began)
        metrics.count_llm(request.use, "error")
        return None
    metrics.observe_llm(request.use, answer.seconds, answer.prompt_tokens, answer.completion_tokens)
    try:
        value = read(answer.text)
    except Exception as exc:  # Rejected; anything else is a reader's bug, never the call's end
        if not isinstance(exc, Rejected):
            logger.exception("language model, %s: the answer could not be read", request.use)
        _journal_exchange(model, request, answer, "rejected", reason=str(exc), began=began)
        metrics.count_llm(request.use, "rejected")
        logger.info("language model, %s: answer dropped: %s", request.use, exc)
        return None
    _journal_exchange(model, request, answer, "ok", reason=None, began=began)
    metrics.count_llm(request.use, "ok")
    return value


def _journal_exchange(
    model: LanguageModel,
    request: ChatRequest,
    answer: ChatAnswer | None,
    result: str,
    *,
    reason: str | None,
    began: float,
) -> None:
    journal = _journal.get()
    if journal is None:
        return
    exchange: dict[str, Any] = {
        "use": request.use,
        "model": model.name,
        # The system prompt is the same for every request of a use (bot/llm/<use>.py).
        "messages": mask_json([dict(m) for m in request.messages if m.get("role") != "system"]),
        "answer": mask_text(answer.text) if answer is not None else None,
        "result": result,
        "ms": round((time.perf_counter() - began) * 1000, 1),
    }
    if reason is not None:
        exchange["reason"] = mask_text(reason)
    if answer is not None:
        exchange["prompt_tokens"], exchange["completion_tokens"] = (
            answer.prompt_tokens,
            answer.completion_tokens,
        )
    journal.append(exchange)
