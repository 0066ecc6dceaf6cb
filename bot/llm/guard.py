"""The bounds around a language model: requests at once (summaries held to half of
them), requests a minute, and a cooldown after failures in a row, like the speech
chain's (``bot.speech.chain``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

from bot.errors import LLMError
from bot.llm.model import ChatAnswer, ChatRequest, LanguageModel, OnText

logger = logging.getLogger(__name__)

MINUTE_SECONDS = 60.0
FAILURES_BEFORE_COOLDOWN = 3
"""Failures in a row that start the cooldown: one slow answer is the model's bad moment,
three are a server in trouble."""


class GuardedModel:
    """``model``, asked only within its bounds; a request outside them is not sent.

    Args:
        model: What answers.
        concurrency: Requests at once; one more waits for a slot within its own timeout,
            and is not sent when none frees in time. Summaries, which take seconds and
            nobody waits on, hold half of the slots at most.
        per_minute: Requests sent in any 60 s; 0: no cap.
        cooldown_seconds: After ``FAILURES_BEFORE_COOLDOWN`` failures or timeouts in a
            row, nothing is sent for this long; then requests go again, and one more
            failure starts it again. An answer ends the run of failures.
    """

    def __init__(
        self, model: LanguageModel, *, concurrency: int, per_minute: int, cooldown_seconds: float
    ) -> None:
        self.name = model.name
        self._model = model
        self._slots = asyncio.Semaphore(concurrency)
        self._summary_slots = asyncio.Semaphore(max(1, concurrency // 2))
        self._per_minute = per_minute
        self._cooldown_seconds = cooldown_seconds
        self._sent: deque[float] = deque()  # monotonic times of the last minute's requests
        self._failures = 0  # in a row
        self._down_until = 0.0

    @property
    def available(self) -> bool:
        """Whether a request would be sent now (not cooling down, the minute not spent)."""
        now = time.monotonic()
        if now < self._down_until:
            return False
        while self._sent and self._sent[0] <= now - MINUTE_SECONDS:
            self._sent.popleft()
        return not self._per_minute or len(self._sent) < self._per_minute

    async def aclose(self) -> None:
        await self._model.aclose()

    async def chat(self, request: ChatRequest, *, on_text: OnText | None = None) -> ChatAnswer:
        if time.monotonic() < self._down_until:
            raise LLMError(f"{self.name}: cooling down after {self._failures} failures", result="skipped")
        if not self.available:
            raise LLMError(
                f"{self.name}: {self._per_minute} requests this minute (VOICEBOT_LLM_MAX_PER_MINUTE)",
                result="skipped",
            )
        sent = False
        share = self._summary_slots if request.use == "summary" else contextlib.nullcontext()
        try:
            async with asyncio.timeout(request.timeout_seconds):
                async with share, self._slots:
                    sent = True
                    self._sent.append(time.monotonic())
                    answer = await self._model.chat(request, on_text=on_text)
        except TimeoutError as exc:
            if not sent:  # every slot stayed busy: the model is not at fault
                raise LLMError(f"{self.name}: no free slot in time", result="skipped") from exc
            self._failed("no answer in time")
            ms = round(request.timeout_seconds * 1000)
            raise LLMError(f"{self.name}: no answer within {ms} ms", result="timeout") from exc
        except LLMError as exc:
            self._failed(str(exc))
            raise
        if self._failures >= FAILURES_BEFORE_COOLDOWN:
            logger.info("language model %s answers again", self.name)
        self._failures = 0
        return answer

    def _failed(self, reason: str) -> None:
        self._failures += 1
        if self._failures < FAILURES_BEFORE_COOLDOWN or not self._cooldown_seconds:
            return
        self._down_until = time.monotonic() + self._cooldown_seconds
        logger.warning(
            "language model %s failed %d times in a row (%s); not asked for %g s",
            self.name,
            self._failures,
            reason,
            self._cooldown_seconds,
        )
