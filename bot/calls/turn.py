"""One turn of a call: under the call's lock, load its state, let the conversation answer
the event, make the answer audible, record the turn and store the state.

A turn is all or nothing: it works on a copy of the call's state, stored only when
the turn completes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.calls import retry
from bot.calls.actions import Actions
from bot.calls.capacity import Capacity
from bot.calls.ending import Endings
from bot.calls.events import Callback, Event, PlacedCalls
from bot.calls.late import Delivery, LateAnswers
from bot.calls.record import exchanges_json
from bot.calls.voice import AudioLinks, Spoken, Voice
from bot.dialog.conversation import Conversation
from bot.dialog.state import Answer, CallState, Reply
from bot.llm.asking import journal_requests_into
from bot.pbx.agents import journal_into
from bot.pbx.base import Exchange
from bot.store.sessions import SessionStore
from bot.store.transcripts import Turn, iso

if TYPE_CHECKING:
    from bot.store.pg_transcripts import AnyTranscriptStore

logger = logging.getLogger(__name__)

Said = tuple[Reply, Spoken]  # a reply with something to follow it, and how it was said


@dataclass(kw_only=True, eq=False)
class TurnRunner:
    """Runs the turns of every call; callbacks of one call run one at a time."""

    conversation: Conversation
    sessions: SessionStore
    transcripts: AnyTranscriptStore
    voice: Voice
    late: LateAnswers
    actions: Actions
    endings: Endings
    default_flow: str
    retry_window_seconds: float
    capacity: Capacity
    placed: PlacedCalls | None = None  # outbound campaigns' calls

    async def run(self, callback: Callback, links: AudioLinks, delivery: Delivery) -> Answer:
        """Answer ``callback`` (``delivery`` tells whether the answer is late).

        Raises:
            UnknownFlowError: a new call names a flow that is not loaded.
        """
        started = time.perf_counter()
        async with self.sessions.lock(callback.call_id):
            stored = await self.sessions.get(callback.call_id)
            if stored is not None and self._is_retry(stored, callback):
                assert stored.answered is not None
                delivery.answer_now()
                return stored.answered.answer
            state = stored.copy() if stored else await self._new_call(callback)
            if (shared := self.conversation.flows.shared) is not None:
                await shared.ensure(state)  # a version this instance never loaded: from the archive
            was_ended = state.ended
            flow = self.conversation.flows.get(*state.position).flow
            delivery.wait, delivery.voice = flow.defaults.wait, flow.voice
            turn = _turn(callback)
            said: Said | None
            if await self._over_capacity(stored, state, callback):
                answer, said = await self._turn_away(state, turn)
            else:
                exchanges: list[Exchange] = []  # the agents' status asked on the way (busy:)
                asked: list[dict[str, Any]] = []  # the language model's requests and answers
                with journal_into(exchanges), journal_requests_into(asked):
                    answer, said = await self._converse(state, callback, turn)
                turn.pbx = exchanges_json(exchanges)
                turn.llm = asked or None
            turn.audio_url = links.url(answer.playback) if answer.playback else None
            heard_now = await self._deliver(state, callback, answer, turn, links=links, delivery=delivery)
            if said is not None and heard_now:
                self.actions.follow(state, *said, links)
            turn.step = state.step
            turn.ms = round((time.perf_counter() - started) * 1000, 2)
            self.transcripts.record(state, turn)
            # Both stored before the answer leaves: a crash after it loses nothing.
            await self.sessions.put(state)
            await self.transcripts.flush()
        # A call forgotten after it ended comes back from its transcript, without its
        # variables: it was reported when it ended, and is not again.
        rebuilt = stored is None and was_ended
        if not rebuilt and (not was_ended or callback.event is Event.HUNGUP):
            self.endings.report_if_settled(state)
        return answer

    def _is_retry(self, stored: CallState, callback: Callback) -> bool:
        if not retry.repeats(
            stored.answered, callback, now=time.time(), window_seconds=self.retry_window_seconds
        ):
            return False
        logger.info("call %s: the CTI repeated a callback; same answer", callback.call_id)
        return True

    async def _deliver(
        self,
        state: CallState,
        callback: Callback,
        answer: Answer,
        turn: Turn,
        *,
        links: AudioLinks,
        delivery: Delivery,
    ) -> bool:
        """Send the answer: as the response, or pushed when the filler was the response.
        Returns whether the caller hears it now (else the next callback gets it)."""
        if delivery.answer_now():
            state.answered = retry.answered(callback, answer, time.time())
            return True
        assert delivery.filler is not None
        state.answered = retry.answered(callback, Answer(delivery.filler), delivery.filler_at)
        turn.filler = links.url(delivery.filler)
        return await self.late.deliver(state, answer, turn, links)

    async def _new_call(self, callback: Callback) -> CallState:
        """A call not in the session store: new, or one we forgot (a restart, an expiry)."""
        ended = await self.transcripts.ended_call(callback.call_id)
        if ended is not None:
            # It ended on our side or the caller's: keep it ended, never act again.
            return ended
        placed = await self.placed.placed_call(callback.telnum) if self.placed and not callback.test else None
        flow = self.conversation.flows.get(callback.flow or (placed and placed.flow) or self.default_flow)
        metrics.count_call_started()
        state = CallState(
            call_id=callback.call_id,
            telnum=callback.telnum,
            flow=flow.name,
            flow_version=flow.version,
            test=callback.test,
            direction=flow.flow.direction,
        )
        if placed is not None:  # the robot called: the number's data is the flow's `customer`
            state.direction, state.campaign = "outbound", placed.campaign
            state.variables["customer"] = dict(placed.data)
        return state

    async def _converse(self, state: CallState, callback: Callback, turn: Turn) -> tuple[Answer, Said | None]:
        """The turn's answer, and the reply when something is to follow it (an action,
        or text the CTI must speak)."""
        if callback.event is Event.HUNGUP:
            self.endings.caller_hung_up(state)
            return Answer(), None
        if state.undelivered:
            return await self._owed(state, turn)
        if callback.event is Event.READY:
            reply = await self.conversation.silence(state)
        else:
            assert callback.text is not None
            heard = await self.conversation.hear(state, callback.text, playing=callback.playing)
            if heard.reply is None:
                turn.continued = True
                return Answer(keep_playing=True), None
            reply, turn.intent, turn.confidence = heard.reply, heard.intent, heard.confidence
            if heard.by_model:  # the confidence was another intent's, under the threshold
                turn.confidence, turn.intent_by = None, "model"
        spoken = await self._say(reply, turn, state)
        follows = spoken.push is not None or reply.action is not None
        return Answer(spoken.playback), (reply, spoken) if follows else None

    async def _say(self, reply: Reply, turn: Turn, state: CallState) -> Spoken:
        """The reply made audible in the call's voice, and the turn told what was said
        and what said it."""
        spoken = await self.voice.speak(reply, self.voice.of(state))
        turn.reply, turn.tts = reply.text, spoken.backend or None
        if spoken.push:
            turn.tts = "unavailable: the apology played, the text was pushed to the CTI's TTS"
        return spoken

    async def _over_capacity(self, stored: CallState | None, state: CallState, callback: Callback) -> bool:
        """Whether ``state`` is a new call beyond the cap (asked of new calls only)."""
        if stored is not None or state.ended or callback.event is Event.HUNGUP:
            return False
        return self.capacity.full(await self.sessions.count_live())

    async def _turn_away(self, state: CallState, turn: Turn) -> tuple[Answer, Said]:
        """A new call beyond the cap: the busy words, then the hang-up (or transfer)."""
        reply = self.capacity.busy_reply()
        reason = f"busy: {self.capacity.max_live_calls} calls in progress (VOICEBOT_MAX_LIVE_CALLS)"
        self.conversation.dialog.revise_end(state, self.capacity.outcome(), reason)
        state.turns, state.last_reply = state.turns + 1, reply
        spoken = await self._say(reply, turn, state)
        logger.warning("call %s turned away: %s", state.call_id, reason)
        return Answer(spoken.playback), (reply, spoken)

    async def _owed(self, state: CallState, turn: Turn) -> tuple[Answer, Said | None]:
        """A late answer the PBX could not push is this callback's answer; the words said
        meanwhile ("喂？") are recorded, not acted on. Its action follows it now."""
        playback, state.undelivered = state.undelivered, None
        assert playback is not None
        turn.delivered = "next callback"
        reply = state.last_reply
        if reply is None or reply.action is None:
            return Answer(playback), None
        return Answer(playback), (reply, Spoken(playback, await self.voice.seconds(playback)))


def _turn(callback: Callback) -> Turn:
    return Turn(
        at=iso(time.time()),
        event=callback.event.value,
        text=callback.text,
        playing=callback.playing,
        encoding=callback.encoding,
    )
