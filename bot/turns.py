"""One callback of the CTI, end to end: state, NLU, dialog, speech, PBX, transcript.

``TurnHandler.handle`` is the whole service as the CTI sees it; the HTTP layer
(``bot.cti.callback``) only parses the request and writes the answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from bot.cti.params import Callback, Event
from bot.dialog.conversation import Conversation
from bot.dialog.flow import Prompt
from bot.dialog.state import CallState, Reply
from bot.errors import PBXError
from bot.pbx.base import PBX, CallRef
from bot.speech.synthesizer import SpeechSynthesizer
from bot.store.sessions import SessionStore
from bot.store.transcripts import TranscriptStore, Turn, iso

logger = logging.getLogger(__name__)

CONTINUE = "continue"


@dataclass(frozen=True)
class Answer:
    """The body of the callback's response: an audio URL, ``continue``, or nothing."""

    body: str


@dataclass
class _Delivery:
    """Who answers a turn: the callback itself, or (``late``) the turn, by pushing.

    The two sides set their flag without awaiting in between, so exactly one of them
    ends up answering.
    """

    answered: bool = False  # the turn's answer went (or goes) back as the response
    late: bool = False  # the response was the filler; the turn pushes its answer
    wait: Prompt | None = None  # the call's flow's filler words, once the state is read
    filler: str | None = None


class TurnHandler:
    """Answers the CTI's AI speech callbacks."""

    def __init__(
        self,
        *,
        conversation: Conversation,
        sessions: SessionStore,
        transcripts: TranscriptStore,
        speech: SpeechSynthesizer,
        pbx: PBX,
        default_flow: str,
        filler_seconds: float | None = None,
    ) -> None:
        """``filler_seconds``: how long a turn may take before the caller hears the
        wait words; None never says them."""
        self.conversation = conversation
        self.flows = conversation.flows
        self._sessions = sessions
        self._transcripts = transcripts
        self._speech = speech
        self._pbx = pbx
        self._default_flow = default_flow
        self._filler_seconds = filler_seconds
        self._late: set[asyncio.Future[Answer]] = set()

    async def handle(self, callback: Callback, *, audio_base_url: str) -> Answer:
        """Answer one callback. Callbacks of one call run one at a time, in arrival order.

        A turn is all or nothing: it works on a copy of the call's state, stored only
        when the turn completes; and it completes even when the CTI stops waiting
        (its HTTP timeout cancels the request), so a transfer or hang-up that was
        requested is never forgotten by the state.

        A turn slower than the filler threshold (a knowledge lookup, a business API)
        is answered at once with the flow's ``defaults: wait:`` words; its own answer
        is pushed with the PBX's play-voice when it is ready, or, if the PBX cannot,
        answers the call's next callback.

        Raises:
            UnknownFlowError: a new call names a flow that is not loaded.
        """
        delivery = _Delivery()
        turn = asyncio.ensure_future(self._handle(callback, audio_base_url, delivery))
        if self._filler_seconds is None or callback.event is Event.HUNGUP:
            return await asyncio.shield(turn)
        # asyncio.wait never cancels the turn, not even when this request is cancelled.
        await asyncio.wait({turn}, timeout=self._filler_seconds)
        if turn.done() or delivery.answered:
            return await asyncio.shield(turn)
        delivery.late = True  # from here on the turn pushes its answer itself
        self._late.add(turn)  # a task nobody references may be collected before it ends
        turn.add_done_callback(self._late.discard)
        wait = delivery.wait or self.flows.get(self._default_flow).flow.defaults.wait
        clip = await self._speech.render(wait.text)
        delivery.filler = self._audio_url(clip.key, audio_base_url, interruptible=wait.interruptible)
        return Answer(delivery.filler)

    async def _handle(self, callback: Callback, audio_base_url: str, delivery: _Delivery) -> Answer:
        started = time.perf_counter()
        async with self._sessions.lock(callback.call_id):
            stored = await self._sessions.get(callback.call_id)
            state = stored.copy() if stored else await self._new_call(callback)
            delivery.wait = self.flows.get(*state.position).flow.defaults.wait
            turn = Turn(
                at=iso(time.time()),
                event=callback.event.value,
                text=callback.text,
                playing=callback.playing,
                encoding=callback.encoding,
            )
            answer = await self._run(state, callback, turn, audio_base_url)
            if delivery.late:
                turn.filler = delivery.filler
                await self._deliver_late(state, answer, turn)
            else:
                delivery.answered = True
            turn.step = state.step
            turn.ms = round((time.perf_counter() - started) * 1000, 2)
            self._transcripts.record(state, turn)
            await self._sessions.put(state)
        return answer

    async def _deliver_late(self, state: CallState, answer: Answer, turn: Turn) -> None:
        """Push a late answer into the call; what cannot be pushed waits for the next callback."""
        if not answer.body or answer.body == CONTINUE or state.outcome == "hung_up_by_caller":
            return
        try:
            await self._pbx.play(CallRef(state.call_id, state.telnum), answer.body)
            turn.delivered = "play"
        except PBXError as exc:
            logger.warning(
                "call %s: late answer not pushed (%s); the next callback gets it", state.call_id, exc
            )
            state.undelivered, turn.delivered = answer.body, "next callback"

    async def _new_call(self, callback: Callback) -> CallState:
        """A call not in the session store: new, or one we forgot (a restart, an expiry)."""
        ended = await self._transcripts.ended_call(callback.call_id)
        if ended is not None:
            # It ended on our side or the caller's: keep it ended, never act again.
            return ended
        flow = self.flows.get(callback.flow or self._default_flow)
        return CallState(
            call_id=callback.call_id, telnum=callback.telnum, flow=flow.name, flow_version=flow.version
        )

    async def _run(self, state: CallState, callback: Callback, turn: Turn, audio_base_url: str) -> Answer:
        if callback.event is Event.HUNGUP:
            self.conversation.hung_up(state)
            return Answer("")
        if state.undelivered:
            # A late answer the PBX could not push is this callback's answer; the words
            # said meanwhile ("喂？") are recorded, not acted on.
            url, state.undelivered = state.undelivered, None
            turn.audio_url, turn.delivered = url, "next callback"
            return Answer(url)
        if callback.event is Event.READY:
            reply = await self.conversation.silence(state)
        else:
            assert callback.text is not None
            heard = await self.conversation.hear(state, callback.text, playing=callback.playing)
            if heard.reply is None:
                turn.continued = True
                return Answer(CONTINUE)
            reply, turn.intent, turn.confidence = heard.reply, heard.intent, heard.confidence
        url = await self._speak(reply, audio_base_url)
        turn.reply, turn.audio_url = reply.text, url
        await self._act(state, reply)
        return Answer(url)

    async def _speak(self, reply: Reply, audio_base_url: str) -> str:
        if reply.prompts:
            clips = [await self._speech.render(p.text) for p in reply.prompts]
            clip = await self._speech.join(clips)
        else:
            clip = await self._speech.silence()
        return self._audio_url(clip.key, audio_base_url, interruptible=reply.interruptible)

    @staticmethod
    def _audio_url(key: str, audio_base_url: str, *, interruptible: bool) -> str:
        return f"{audio_base_url}/audio/{key}.wav?canbeinterrupted={'true' if interruptible else 'false'}"

    async def _act(self, state: CallState, reply: Reply) -> None:
        call = CallRef(state.call_id, state.telnum)
        try:
            if reply.action == "transfer" and reply.target:
                await self._pbx.transfer(call, reply.target)
            elif reply.action == "hangup":
                await self._pbx.hangup(call)
        except PBXError as exc:
            # The caller already hears the notice; the transcript keeps what went wrong.
            logger.warning("pbx %s failed for call %s: %s", reply.action, state.call_id, exc)
            state.end_reason = f"{state.end_reason}; PBX {reply.action} failed: {exc}"

    async def finish_late_turns(self) -> None:
        """Let turns that answered with a filler finish (at shutdown); they are bounded by
        the knowledge and business API timeouts."""
        if self._late:
            await asyncio.gather(*self._late, return_exceptions=True)

    async def close_idle(self, idle_seconds: float) -> int:
        """Close calls with no callback for ``idle_seconds`` (their ``hungup`` was lost)."""
        closed = await self._sessions.pop_idle(idle_seconds)
        for state in closed:
            if not state.ended:
                self.conversation.dialog.abandon(state, f"no callback for {idle_seconds:.0f} s")
                self._transcripts.record(state)
        return len(closed)
