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
    ) -> None:
        self.conversation = conversation
        self.flows = conversation.flows
        self._sessions = sessions
        self._transcripts = transcripts
        self._speech = speech
        self._pbx = pbx
        self._default_flow = default_flow

    async def handle(self, callback: Callback, *, audio_base_url: str) -> Answer:
        """Answer one callback. Callbacks of one call run one at a time, in arrival order.

        A turn is all or nothing: it works on a copy of the call's state, stored only
        when the turn completes; and it completes even when the CTI stops waiting
        (its HTTP timeout cancels the request), so a transfer or hang-up that was
        requested is never forgotten by the state.

        Raises:
            UnknownFlowError: a new call names a flow that is not loaded.
        """
        return await asyncio.shield(self._handle(callback, audio_base_url))

    async def _handle(self, callback: Callback, audio_base_url: str) -> Answer:
        started = time.perf_counter()
        async with self._sessions.lock(callback.call_id):
            stored = await self._sessions.get(callback.call_id)
            state = stored.copy() if stored else await self._new_call(callback)
            turn = Turn(
                at=iso(time.time()),
                event=callback.event.value,
                text=callback.text,
                playing=callback.playing,
                encoding=callback.encoding,
            )
            answer = await self._run(state, callback, turn, audio_base_url)
            turn.step = state.step
            turn.ms = round((time.perf_counter() - started) * 1000, 2)
            self._transcripts.record(state, turn)
            await self._sessions.put(state)
        return answer

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
        interruptible = "true" if reply.interruptible else "false"
        return f"{audio_base_url}/audio/{clip.key}.wav?canbeinterrupted={interruptible}"

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

    async def close_idle(self, idle_seconds: float) -> int:
        """Close calls with no callback for ``idle_seconds`` (their ``hungup`` was lost)."""
        closed = await self._sessions.pop_idle(idle_seconds)
        for state in closed:
            if not state.ended:
                self.conversation.dialog.abandon(state, f"no callback for {idle_seconds:.0f} s")
                self._transcripts.record(state)
        return len(closed)
