"""Late answers: a turn slower than the filler threshold (a knowledge lookup, a business
API) is answered at once with the flow's ``defaults: wait:`` words; its own answer is
pushed with the PBX's play-voice when it is ready, or, if the PBX cannot, answers the
call's next callback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from bot import metrics
from bot.calls.record import call_ref, exchanges_json
from bot.calls.voice import AudioLinks, Voice
from bot.dialog.state import Answer, CallState, Playback
from bot.errors import PBXError
from bot.language.flow import Prompt
from bot.pbx.base import PBX, Exchange
from bot.speech.voices import VoiceChoice
from bot.store.transcripts import Turn

logger = logging.getLogger(__name__)


@dataclass
class Delivery:
    """Who answers a turn: the callback itself, or (``late``) the turn, by pushing.

    The two sides set their flag without awaiting in between, so exactly one of them
    ends up answering.
    """

    answered: bool = False  # the turn's answer went (or goes) back as the response
    late: bool = False  # the response was the filler; the turn pushes its answer
    wait: Prompt | None = None  # the call's flow's filler words, once the state is read
    voice: VoiceChoice | None = None  # and its voice (None: VOICEBOT_TTS's chain)
    filler: Playback | None = None
    filler_at: float = 0.0  # epoch seconds, when the filler was the answer

    def answer_now(self) -> bool:
        """Called by the turn when its answer is ready: whether it is the response
        (else it was late, and the turn must push it)."""
        if not self.late:
            self.answered = True
        return self.answered


@dataclass(kw_only=True, eq=False)
class LateAnswers:
    """Answers with the filler when a turn is slow, and delivers the turn's answer later."""

    voice: Voice
    pbx: PBX
    filler_seconds: float | None  # how long a turn may take before the wait words (None: never)
    push_timeout_seconds: float  # the longest a late answer's push may hold the call
    default_wait: Callable[[], Prompt]  # the default flow's wait words
    _turns: set[asyncio.Future[Answer]] = field(default_factory=set, init=False)

    async def answer(self, run: Callable[[Delivery], Awaitable[Answer]], *, may_be_late: bool) -> Answer:
        """The turn's answer, or the filler when it takes longer than the threshold.

        The turn completes even when the CTI stops waiting (its HTTP timeout cancels
        the request): ``asyncio.wait`` never cancels it, and a late turn is kept here.
        """
        delivery = Delivery()
        turn = asyncio.ensure_future(run(delivery))
        self._turns.add(turn)  # a task nobody references may be collected before it ends
        turn.add_done_callback(self._turns.discard)
        turn.add_done_callback(partial(_log_if_lost, delivery))
        if self.filler_seconds is None or not may_be_late:
            return await asyncio.shield(turn)
        await asyncio.wait({turn}, timeout=self.filler_seconds)
        if turn.done():  # the usual case: its answer (or its error) now, without a shield
            return turn.result()
        if delivery.answered:
            return await asyncio.shield(turn)
        wait = delivery.wait or self.default_wait()
        filler = await self.voice.filler(wait, delivery.voice)
        if turn.done() or delivery.answered:  # it got ready while the filler was fetched
            return await asyncio.shield(turn)
        delivery.late, delivery.filler, delivery.filler_at = True, filler, time.time()
        return Answer(filler)

    async def deliver(self, state: CallState, answer: Answer, turn: Turn, links: AudioLinks) -> bool:
        """Push a late answer into the call; what cannot be pushed waits for the next
        callback. Returns whether it went out now."""
        if answer.playback is None or state.outcome == "hung_up_by_caller":
            return False
        exchanges: list[Exchange] = []
        try:
            async with asyncio.timeout(self.push_timeout_seconds):
                call = call_ref(state)
                await self.pbx.play(call, links.url(answer.playback), journal=exchanges)
            turn.delivered = "play"
            metrics.count_pbx("play", "ok")
            return True
        except (PBXError, TimeoutError) as exc:
            logger.warning(
                "call %s: late answer not pushed (%s); the next callback gets it", state.call_id, exc
            )
            state.undelivered, turn.delivered = answer.playback, "next callback"
            metrics.count_pbx("play", "error")
            return False
        finally:  # after the exchanges of the turn itself (agents' status), if any
            turn.pbx = (turn.pbx or []) + (exchanges_json(exchanges) or []) or None

    async def finish(self) -> None:
        """Let the turns under way finish (at shutdown), those that answered with a
        filler included; they are bounded by the knowledge and business API timeouts."""
        if self._turns:
            await asyncio.gather(*self._turns, return_exceptions=True)


def _log_if_lost(delivery: Delivery, turn: asyncio.Future[Answer]) -> None:
    """A late turn that failed has nobody to tell: the caller heard only the wait words."""
    if delivery.late and not turn.cancelled() and (error := turn.exception()) is not None:
        logger.error("a late turn failed; its answer is lost", exc_info=error)
