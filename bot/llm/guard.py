"""The bounds around a language model: requests at once, requests a minute, and a
cooldown after a failure, like the speech chain's (``bot.speech.chain``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from bot.errors import LLMError
from bot.llm.model import ChatAnswer, ChatRequest, LanguageModel, OnText

logger = logging.getLogger(__name__)

MINUTE_SECONDS = 60.0


class GuardedModel:
    """``model``, asked only within its bounds; a request outside them is not sent.

    Args:
        model: What answers.
        concurrency: Requests at once; one more waits for a slot within its own timeout.
        per_minute: Requests sent in any 60 s; 0: no cap.
        cooldown_seconds: After a failure or a timeout, requests are not sent for this
            long (the first after it is); an answer ends the cooldown.
    """

    def __init__(
        self, model: LanguageModel, *, concurrency: int, per_minute: int, cooldown_seconds: float
    ) -> None:
        self.name = model.name
        self._model = model
        self._slots = asyncio.Semaphore(concurrency)
        self._per_minute = per_minute
        self._cooldown_seconds = cooldown_seconds
        self._sent: deque[float] = deque()  # monotonic times of the last minute's requests
        self._down_until = 0.0

    async def aclose(self) -> None:
        await self._model.aclose()

    async def chat(self, request: ChatRequest, *, on_text: OnText | None = None) -> ChatAnswer:
        now = time.monotonic()
        if now < self._down_until:
            raise LLMError(f"{self.name}: cooling down after a failure", result="skipped")
        if self._per_minute:
            while self._sent and self._sent[0] <= now - MINUTE_SECONDS:
                self._sent.popleft()
            if len(self._sent) >= self._per_minute:
                raise LLMError(
                    f"{self.name}: {self._per_minute} requests this minute (VOICEBOT_LLM_MAX_PER_MINUTE)",
                    result="skipped",
                )
            self._sent.append(now)
        try:
            async with asyncio.timeout(request.timeout_seconds):
                async with self._slots:
                    answer = await self._model.chat(request, on_text=on_text)
        except TimeoutError as exc:
            self._failed("no answer in time")
            ms = round(request.timeout_seconds * 1000)
            raise LLMError(f"{self.name}: no answer within {ms} ms", result="timeout") from exc
        except LLMError as exc:
            self._failed(str(exc))
            raise
        if self._down_until:
            self._down_until = 0.0
            logger.info("language model %s answers again", self.name)
        return answer

    def _failed(self, reason: str) -> None:
        if not self._cooldown_seconds:
            return
        self._down_until = time.monotonic() + self._cooldown_seconds
        logger.warning(
            "language model %s failed (%s); not asked for %g s", self.name, reason, self._cooldown_seconds
        )
