"""The language model as the conversation sees it: its three uses, the per-call budget,
and where a flow turns each use on (``llm:`` of the flow and of its steps)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from bot import metrics
from bot.config import LLMSettings
from bot.dialog.state import CallState
from bot.errors import ConfigError
from bot.llm.answers import GroundedAnswers
from bot.llm.cassette import Cassette
from bot.llm.guard import GuardedModel
from bot.llm.intents import IntentFallback
from bot.llm.model import LanguageModel, Use
from bot.llm.summaries import CallSummaries

logger = logging.getLogger(__name__)

Warm = Callable[[str, CallState], None]
"""Starts making the speech of a sentence the call may say next (the call handler's)."""


class Assistant:
    """The uses of one language model.

    Args:
        model: What answers (guarded, or a cassette).
        settings: Timeouts, the per-call budget, whether to summarize.

    Attributes:
        warm: Told each grounded sentence as soon as it is streamed, to make its speech
            early; set by the call handler (the tools leave it None).
    """

    def __init__(self, model: LanguageModel, settings: LLMSettings) -> None:
        self.model = model
        self.intents = IntentFallback(model, timeout_seconds=settings.llm_intent_timeout_ms / 1000)
        self.answers = GroundedAnswers(model, timeout_seconds=settings.llm_answer_timeout_ms / 1000)
        self.summaries = (
            CallSummaries(model, timeout_seconds=settings.llm_summary_timeout_ms / 1000)
            if settings.llm_summaries
            else None
        )
        self._max_per_call = settings.llm_max_per_call
        self.warm: Warm | None = None

    def spend(self, state: CallState, use: Use) -> bool:
        """Whether ``state``'s call may ask the model once more (counted when it may): not
        while the model would not be sent it (cooling down, the minute spent), which
        leaves the call's budget for when it answers again."""
        if not self.model.available:
            metrics.count_llm(use, "skipped")
            return False
        if state.llm_requests >= self._max_per_call:
            metrics.count_llm(use, "skipped")
            logger.info(
                "call %s: no %s from the language model: %d requests made (VOICEBOT_LLM_MAX_PER_CALL)",
                state.call_id,
                use,
                state.llm_requests,
            )
            return False
        state.llm_requests += 1
        return True

    async def aclose(self) -> None:
        await self.model.aclose()


def step_wants(flow_setting: bool, step_setting: bool | None) -> bool:
    """A step's ``llm:`` (true or false) wins over its flow's setting for the use."""
    return flow_setting if step_setting is None else step_setting


def language_model(
    settings: LLMSettings, *, cassette: Path | None = None, record: bool = False
) -> LanguageModel | None:
    """The model ``settings`` configure, guarded; None without ``VOICEBOT_LLM_URL``.

    Args:
        settings: The ``llm_*`` settings.
        cassette: Recorded answers to replay (``voicebot chat``/``flows test``); the
            server is asked only with ``record``, for answers the cassette lacks.
        record: Ask the server for what the cassette lacks, and record it.

    Raises:
        ConfigError: ``record`` without a server, or a cassette that is not one.
    """
    if record and settings.llm_url is None:
        raise ConfigError("--record asks the model for answers — set VOICEBOT_LLM_URL and VOICEBOT_LLM_MODEL")
    server: LanguageModel | None = None
    if settings.llm_url is not None and (cassette is None or record):
        from bot.llm.openai_chat import OpenAIChat  # noqa: PLC0415  (imports the openai package)

        server = GuardedModel(
            OpenAIChat(
                url=str(settings.llm_url),
                model=settings.llm_model,
                key=settings.llm_key.get_secret_value() if settings.llm_key else None,
                json_schema=settings.llm_json_schema,
                stream=settings.llm_stream,
            ),
            concurrency=settings.llm_concurrency,
            per_minute=settings.llm_max_per_minute,
            # Recording asks for every answer a cassette lacks: none is skipped.
            cooldown_seconds=0 if record else settings.llm_cooldown_seconds,
        )
    if cassette is not None:
        return Cassette(cassette, server)
    return server
