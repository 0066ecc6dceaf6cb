"""One callback of the CTI, end to end: state, NLU, dialog, speech, PBX, transcript.

``TurnHandler.handle`` is the whole service as the CTI sees it; the HTTP layer
(``bot.cti.callback``) only parses the request and writes the answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.calls.events import Callback, Event
from bot.calls.followups import FollowUps
from bot.calls.handoff import biz_data
from bot.dialog.conversation import Conversation
from bot.dialog.state import CallState, Reply
from bot.errors import PBXError, TTSError
from bot.language.flow import Prompt
from bot.pbx.base import PBX, CallRef, Exchange, TransferTarget
from bot.speech.synthesizer import AudioClip, SpeechSynthesizer
from bot.store.sessions import SessionStore
from bot.store.transcripts import TranscriptStore, Turn, iso

logger = logging.getLogger(__name__)

CONTINUE = "continue"
# Said when no speech backend works; the reply's own words then go to the CTI's TTS.
APOLOGY = "抱歉，请您稍等。"
# Said when a transfer the caller was promised fails; the bot then hangs up.
TRANSFER_FAILED = "抱歉，坐席暂时无法接通，请您稍后再拨，再见。"
# How long the CTI's own TTS takes per character of pushed text, for the wait before acting.
PUSHED_TEXT_SECONDS_PER_CHAR = 0.25
# A goodbye the PBX cannot push waits for the next callback at most this long (the
# CTI's silence timeout sends one); then the bot hangs up anyway.
OWED_GOODBYE_WAIT_SECONDS = 10.0

OnCallEnd = Callable[[str], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Answer:
    """The body of the callback's response: an audio URL, ``continue``, or nothing."""

    body: str


@dataclass(frozen=True)
class _Spoken:
    """A reply made audible: its URL, how long it plays, the text the CTI must speak
    itself when no speech backend could (``push``), and the action it announces."""

    url: str
    seconds: float
    base_url: str
    push: str | None = None
    backend: str = ""  # what made the audio (espeak-ng, hwd, recording…), for the transcript
    action: str | None = None
    target: str | None = None

    @property
    def follows(self) -> bool:
        """Whether something is to be done once it has played."""
        return self.push is not None or self.action is not None


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
    """Answers the CTI's AI speech callbacks, and carries out what the answers announce."""

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
        action_margin: float = 0.8,
        push_timeout: float = 3.0,
        on_call_end: OnCallEnd | None = None,
    ) -> None:
        """``filler_seconds``: how long a turn may take before the caller hears the
        wait words; None never says them. ``action_margin``: seconds between the end of
        an announcement and the transfer or hang-up it announces. ``push_timeout``: the
        longest a late answer's push may hold the call (its callbacks wait meanwhile).
        ``on_call_end``: called (in the background) with the id of every call that
        ended for good: ended, and nothing left to do or say."""
        self.conversation = conversation
        self.flows = conversation.flows
        self._sessions = sessions
        self._transcripts = transcripts
        self._speech = speech
        self._pbx = pbx
        self._default_flow = default_flow
        self._filler_seconds = filler_seconds
        self._margin = action_margin
        self._push_timeout = push_timeout
        self._on_call_end = on_call_end
        self._late: set[asyncio.Future[Answer]] = set()
        self._background: set[asyncio.Task[None]] = set()
        self.followups = FollowUps()
        self._apology: AudioClip | None = None

    async def prepare(self) -> None:
        """Render the apology before the first call, so that it plays when no speech
        backend works; silence stands in when none works even now."""
        try:
            self._apology = await self._speech.render(APOLOGY)
        except TTSError as exc:
            logger.error("no speech backend can say the apology (%s); silence stands in for it", exc)
            self._apology = await self._speech.silence()

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

        A transfer or hang-up runs once its announcement has played (its duration
        plus the margin), unless the caller hangs up first.

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
        try:
            clip = await self._speech.render_prompt(wait)
        except TTSError:
            clip = self._apology or await self._speech.silence()
        delivery.filler = self._audio_url(clip.key, audio_base_url, interruptible=wait.interruptible)
        return Answer(delivery.filler)

    async def _handle(self, callback: Callback, audio_base_url: str, delivery: _Delivery) -> Answer:
        started = time.perf_counter()
        async with self._sessions.lock(callback.call_id):
            stored = await self._sessions.get(callback.call_id)
            state = stored.copy() if stored else await self._new_call(callback)
            was_ended = state.ended
            delivery.wait = self.flows.get(*state.position).flow.defaults.wait
            turn = Turn(
                at=iso(time.time()),
                event=callback.event.value,
                text=callback.text,
                playing=callback.playing,
                encoding=callback.encoding,
            )
            answer, spoken = await self._run(state, callback, turn, audio_base_url)
            if delivery.late:
                turn.filler = delivery.filler
                pushed = await self._deliver_late(state, answer, turn)
            else:
                delivery.answered, pushed = True, True
            if spoken is not None and pushed:
                self._follow(state, spoken)
            turn.step = state.step
            turn.ms = round((time.perf_counter() - started) * 1000, 2)
            self._transcripts.record(state, turn)
            await self._sessions.put(state)
        settled = not was_ended or callback.event is Event.HUNGUP
        if settled and state.ended and not _owes_action(state) and not self.followups.busy(state.call_id):
            self._call_ended(state.call_id)  # else what is left to do reports the end
        return answer

    async def _deliver_late(self, state: CallState, answer: Answer, turn: Turn) -> bool:
        """Push a late answer into the call; what cannot be pushed waits for the next
        callback. Returns whether it went out now."""
        if not answer.body or answer.body == CONTINUE or state.outcome == "hung_up_by_caller":
            return False
        journal: list[Exchange] = []
        try:
            async with asyncio.timeout(self._push_timeout):
                await self._pbx.play(CallRef(state.call_id, state.telnum), answer.body, journal=journal)
            turn.delivered = "play"
            return True
        except (PBXError, TimeoutError) as exc:
            logger.warning(
                "call %s: late answer not pushed (%s); the next callback gets it", state.call_id, exc
            )
            state.undelivered, turn.delivered = answer.body, "next callback"
            return False
        finally:
            turn.pbx = _journal(journal)

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

    async def _run(
        self, state: CallState, callback: Callback, turn: Turn, audio_base_url: str
    ) -> tuple[Answer, _Spoken | None]:
        """The turn's answer, and what was said when the reply has something to follow it
        (an action, or text the CTI must speak)."""
        if callback.event is Event.HUNGUP:
            self._caller_hung_up(state)
            return Answer(""), None
        if state.undelivered:
            # A late answer the PBX could not push is this callback's answer; the words
            # said meanwhile ("喂？") are recorded, not acted on.
            url, state.undelivered = state.undelivered, None
            turn.audio_url, turn.delivered = url, "next callback"
            return Answer(url), await self._spoken_again(url, state.last_reply, audio_base_url)
        if callback.event is Event.READY:
            reply = await self.conversation.silence(state)
        else:
            assert callback.text is not None
            heard = await self.conversation.hear(state, callback.text, playing=callback.playing)
            if heard.reply is None:
                turn.continued = True
                return Answer(CONTINUE), None
            reply, turn.intent, turn.confidence = heard.reply, heard.intent, heard.confidence
        spoken = await self._speak(reply, audio_base_url)
        turn.reply, turn.audio_url, turn.tts = reply.text, spoken.url, spoken.backend or None
        if spoken.push:
            turn.tts = "unavailable: the apology played, the text was pushed to the CTI's TTS"
        return Answer(spoken.url), spoken if spoken.follows else None

    def _caller_hung_up(self, state: CallState) -> None:
        dropped = self.followups.cancel(state.call_id)
        if dropped is None and _owes_action(state):  # a late answer still to be said
            assert state.last_reply is not None
            dropped = state.last_reply.action
        state.undelivered = None  # nobody is left to hear it
        if dropped in ("transfer", "hangup"):
            logger.info("call %s: caller hung up before the %s", state.call_id, dropped)
        if dropped == "transfer" and state.outcome == "transferred":
            # The transfer never happened: the call ended with the caller's hang-up.
            state.outcome = "hung_up_by_caller"
            state.end_reason = f"caller hung up before the transfer ({state.end_reason})"
        self.conversation.hung_up(state)

    async def _speak(self, reply: Reply, audio_base_url: str) -> _Spoken:
        try:
            if reply.prompts:
                clips = [await self._speech.render_prompt(p) for p in reply.prompts]
                clip = await self._speech.join(clips)
            else:
                clip = await self._speech.silence()
        except TTSError as exc:
            if not reply.text:
                raise
            logger.error("no speech for a reply (%s): the apology plays, the CTI speaks the text", exc)
            apology = self._apology or await self._speech.silence()
            url = self._audio_url(apology.key, audio_base_url, interruptible=False)
            return _Spoken(
                url,
                apology.duration_seconds,
                audio_base_url,
                push=reply.text,
                action=reply.action,
                target=reply.target,
            )
        url = self._audio_url(clip.key, audio_base_url, interruptible=reply.interruptible)
        return _Spoken(
            url,
            clip.duration_seconds,
            audio_base_url,
            backend=clip.backend,
            action=reply.action,
            target=reply.target,
        )

    async def _spoken_again(self, url: str, reply: Reply | None, audio_base_url: str) -> _Spoken | None:
        """An undelivered answer played at last: its action follows it now."""
        if reply is None or reply.action is None:
            return None
        key = url.rsplit("/", 1)[-1].split(".", 1)[0]
        clip = await self._speech.clip(key)
        seconds = clip.duration_seconds if clip else 0.0
        return _Spoken(url, seconds, audio_base_url, action=reply.action, target=reply.target)

    @staticmethod
    def _audio_url(key: str, audio_base_url: str, *, interruptible: bool) -> str:
        return f"{audio_base_url}/audio/{key}.wav?canbeinterrupted={'true' if interruptible else 'false'}"

    # --- what follows an answer ---------------------------------------------------------

    def _follow(self, state: CallState, spoken: _Spoken) -> None:
        """Schedule what the answer announces, for when the caller has heard it."""
        call = CallRef(state.call_id, state.telnum)
        if spoken.push is not None:
            then = partial(self._push_text, call, spoken.push, spoken)
            self.followups.schedule(call.call_id, "play", spoken.seconds, then, announces=spoken.action)
        else:
            self._act_after(call, spoken, spoken.seconds)

    def _act_after(self, call: CallRef, spoken: _Spoken, seconds: float) -> None:
        """Schedule the action ``spoken`` announces, for ``seconds`` (the time it takes
        to be heard) plus the margin."""
        if spoken.action is not None:
            act = partial(self._perform, call, spoken)
            self.followups.schedule(call.call_id, spoken.action, seconds + self._margin, act)

    async def _push_text(self, call: CallRef, text: str, spoken: _Spoken) -> None:
        """The CTI speaks the reply itself (no speech backend works); the action follows."""
        journal: list[Exchange] = []
        error: PBXError | None = None
        try:
            await self._pbx.play(call, text, journal=journal)
        except PBXError as exc:
            error = exc
            logger.warning("call %s: the reply's text could not be pushed either: %s", call.call_id, exc)
        await self._record_pbx(call, "play", text, journal, error)
        self._act_after(call, spoken, len(text) * PUSHED_TEXT_SECONDS_PER_CHAR)

    async def _perform(self, call: CallRef, spoken: _Spoken) -> None:
        """Transfer or hang up, record the PBX's answers, and handle a refusal."""
        action, target = spoken.action, spoken.target
        journal: list[Exchange] = []
        error: PBXError | None = None
        try:
            if action == "transfer":
                state = await self._sessions.get(call.call_id)
                data = biz_data(state) if state else None
                await self._pbx.transfer(
                    call, TransferTarget.parse(target or ""), biz_data=data, journal=journal
                )
            else:
                await self._pbx.hangup(call, journal=journal)
        except PBXError as exc:
            error = exc
            logger.warning("call %s: PBX %s failed: %s", call.call_id, action, exc)
        except ValueError as exc:  # a target the flow check let through
            error = PBXError(str(exc), call_id=call.call_id)
        if error is not None and action == "transfer":
            await self._transfer_failed(call, spoken.base_url, journal, error)
            return
        await self._record_pbx(call, action or "", target, journal, error)
        if self.followups.waiting(call.call_id) is None:
            self._call_ended(call.call_id)

    async def _transfer_failed(
        self, call: CallRef, audio_base_url: str, journal: list[Exchange], error: PBXError
    ) -> None:
        """Tell the caller the agent cannot be reached, then hang up.

        The goodbye becomes the call's pending answer in the same step that records the
        failure, so a callback arriving meanwhile already gets it; then it is pushed,
        and the hang-up follows it (or, when the PBX cannot push, the next callback).
        """
        if self.followups.gone(call.call_id):  # the caller hung up meanwhile: only record it
            await self._record_pbx(call, "transfer", None, journal, error)
            self._call_ended(call.call_id)
            return
        goodbye = Reply((Prompt(text=TRANSFER_FAILED, interruptible=False),), action="hangup")
        spoken = await self._speak(goodbye, audio_base_url)

        def owe_goodbye(state: CallState) -> None:
            if spoken.push is None:
                state.undelivered, state.last_reply = spoken.url, goodbye

        await self._record_pbx(call, "transfer", None, journal, error, change=owe_goodbye)
        voice = spoken.push or spoken.url  # text for the CTI's TTS when no backend speaks
        played: list[Exchange] = []
        try:
            await self._pbx.play(call, voice, journal=played)
        except PBXError as exc:
            await self._record_pbx(call, "play", TRANSFER_FAILED, played, exc)
            # The next callback says it and hangs up after it; without one, hang up anyway
            # (at once when nothing can say it).
            self._act_after(call, spoken, 0.0 if spoken.push else spoken.seconds + OWED_GOODBYE_WAIT_SECONDS)
            return

        def paid(state: CallState) -> None:
            if state.undelivered == spoken.url:
                state.undelivered = None

        await self._record_pbx(call, "play", TRANSFER_FAILED, played, None, change=paid)
        self._act_after(
            call, spoken, len(voice) * PUSHED_TEXT_SECONDS_PER_CHAR if spoken.push else spoken.seconds
        )

    async def _record_pbx(
        self,
        call: CallRef,
        action: str,
        argument: str | None,
        journal: list[Exchange],
        error: PBXError | None,
        *,
        change: Callable[[CallState], None] | None = None,
    ) -> CallState | None:
        """The exchanges of an action, as a turn of the call's transcript; a failed
        transfer changes how the call ended, and ``change`` may change the call's state
        in the same step."""
        turn = Turn(at=iso(time.time()), event="pbx", text=f"{action} {argument or ''}".strip())
        turn.pbx = _journal(journal)
        if error is not None:
            turn.error = f"{type(error).__name__}: {error}"
        async with self._sessions.lock(call.call_id):
            stored = await self._sessions.get(call.call_id)
            state = stored.copy() if stored else await self._transcripts.ended_call(call.call_id)
            if state is None:
                logger.warning("call %s: %s done for a call no longer known", call.call_id, action)
                return None
            if error is not None:
                state.end_reason = f"{state.end_reason}; PBX {action} failed: {error}"
                if action == "transfer" and state.outcome == "transferred":
                    state.outcome = "transfer_failed"
            if change is not None:
                change(state)
            turn.step = state.step
            self._transcripts.record(state, turn)
            if stored is not None:
                await self._sessions.put(state)
        return state

    def _call_ended(self, call_id: str) -> None:
        if self._on_call_end is None:
            return
        task = asyncio.create_task(self._on_call_end(call_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- the CTI's other news and the service's life ---------------------------------

    async def hangup_pushed(self, call_id: str, telnum: str | None) -> bool:
        """The CTI's hang-up push (GX §41, ``business=robot``): close the call as its
        ``hungup`` callback would, if that was missed. Idempotent; returns whether this
        push closed the call."""
        async with self._sessions.lock(call_id):
            stored = await self._sessions.get(call_id)
            if stored is None:  # unknown here, or long closed
                return False
            if stored.ended and self.followups.waiting(call_id) is None and not _owes_action(stored):
                return False  # closed already: by its hungup callback, an earlier push, or us
            state = stored.copy()
            turn = Turn(at=iso(time.time()), event="hangup_push", text=telnum)
            self._caller_hung_up(state)
            turn.step = state.step
            self._transcripts.record(state, turn)
            await self._sessions.put(state)
        if not self.followups.busy(call_id):  # else the running action reports the end
            self._call_ended(call_id)
        return True

    async def finish_late_turns(self) -> None:
        """At shutdown: let turns that answered with a filler finish (they are bounded
        by the knowledge and business API timeouts), carry out the transfers and
        hang-ups still waiting for their announcement, and hand over the ended calls."""
        if self._late:
            await asyncio.gather(*self._late, return_exceptions=True)
        await self.followups.finish()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def close_idle(self, idle_seconds: float) -> int:
        """Close calls with no callback for ``idle_seconds`` (their ``hungup`` was lost)."""
        closed = await self._sessions.pop_idle(idle_seconds)
        for state in closed:
            if not state.ended:
                self.conversation.dialog.abandon(state, f"no callback for {idle_seconds:.0f} s")
                self._transcripts.record(state)
                self._call_ended(state.call_id)
        return len(closed)


def _owes_action(state: CallState) -> bool:
    """Whether the call still owes the caller an answer that announces an action."""
    return (
        state.undelivered is not None and state.last_reply is not None and state.last_reply.action is not None
    )


def _journal(exchanges: list[Exchange]) -> list[dict[str, object]] | None:
    return [e.as_json() for e in exchanges] or None
