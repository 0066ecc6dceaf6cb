"""The call core as the transports see it: answer an event, close a call, shut down.

``CallHandler`` wires the parts: ``TurnRunner`` (one turn under the call's lock),
``LateAnswers`` (the filler and pushed answers), ``Voice`` (replies → clips),
``Actions`` (transfers and hang-ups after their announcement), ``Endings`` (how calls
end and are handed over), and ``RecentCallbacks`` (the CTI's retries).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from bot import metrics
from bot.calls.actions import Actions
from bot.calls.capacity import Capacity
from bot.calls.ending import Endings, OnCallEnd
from bot.calls.events import Callback, Event, PlacedCalls
from bot.calls.followups import FollowUps
from bot.calls.handoff import HandoffSummaries
from bot.calls.late import LateAnswers
from bot.calls.record import PBXRecorder
from bot.calls.retry import RecentCallbacks
from bot.calls.turn import TurnRunner
from bot.calls.voice import AudioLinks, RelativeAudioLinks, Voice
from bot.dialog.conversation import Conversation
from bot.dialog.state import Answer
from bot.errors import StorageError
from bot.logs import calling
from bot.pbx.base import PBX
from bot.pbx.split import SplitPBX
from bot.speech.synthesizer import SpeechSynthesizer
from bot.store.sessions import SessionStore

if TYPE_CHECKING:
    from bot.store.pg_transcripts import AnyTranscriptStore

logger = logging.getLogger(__name__)

RECOVERY_INTERVAL_SECONDS = 1.0


class CallHandler:
    """Answers the CTI's events, and carries out what the answers announce.

    Args:
        filler_seconds: How long a turn may take before the caller hears the wait
            words; None never says them.
        action_margin_seconds: Between the end of an announcement and the transfer or
            hang-up it announces.
        push_timeout_seconds: The longest a late answer's push may hold the call.
        retry_window_seconds: The same callback again this soon after its answer is
            a retry of it (0: never).
        capacity: The cap on calls in progress, and what a caller beyond it hears.
        on_call_end: Called (in the background) with (a copy of) every call that ended
            for good: ended, and nothing left to do or say.
        links: How audio URLs are made for actions taken over before any callback
            (the configured public URL); later, the last callback's.
        followup_late_seconds: A transfer or hang-up taken over this long after its
            time is recorded as failed instead of carried out.
        placed: The calls the bot placed (outbound campaigns): a new call to one of
            their numbers starts in the campaign's flow with the number's data.
    """

    def __init__(
        self,
        *,
        conversation: Conversation,
        sessions: SessionStore,
        transcripts: AnyTranscriptStore,
        speech: SpeechSynthesizer,
        pbx: PBX,
        default_flow: str,
        filler_seconds: float | None = None,
        action_margin_seconds: float = 0.8,
        push_timeout_seconds: float = 3.0,
        retry_window_seconds: float = 1.5,
        capacity: Capacity | None = None,
        on_call_end: OnCallEnd | None = None,
        links: AudioLinks | None = None,
        followup_late_seconds: float = 10.0,
        placed: PlacedCalls | None = None,
    ) -> None:
        self.conversation = conversation
        pbx = SplitPBX(pbx)  # test calls from the console: their actions are recorded only
        self.capacity = capacity or Capacity()
        self.followups = FollowUps()
        self.voice = Voice(speech, conversation.flows)
        assistant = conversation.assistant
        summaries = None
        if assistant is not None:
            assistant.warm = self.voice.warm  # grounded sentences' speech made as they stream
            if assistant.summaries is not None:
                summaries = HandoffSummaries(assistant.summaries, conversation.flows, transcripts.get_call)
        self.handoff_summaries = summaries  # the model's, for agents' screens and the call's end
        self.endings = Endings(
            conversation=conversation,
            sessions=sessions,
            transcripts=transcripts,
            followups=self.followups,
            on_call_end=on_call_end,
        )
        actions = Actions(
            pbx=pbx,
            dialog=conversation.dialog,
            voice=self.voice,
            sessions=sessions,
            recorder=PBXRecorder(sessions, transcripts),
            followups=self.followups,
            endings=self.endings,
            margin_seconds=action_margin_seconds,
            summaries=summaries,
        )
        self._late = LateAnswers(
            voice=self.voice,
            pbx=pbx,
            filler_seconds=filler_seconds,
            push_timeout_seconds=push_timeout_seconds,
            default_wait=lambda: conversation.flows.get(default_flow).flow.defaults.wait,
        )
        self._turns = TurnRunner(
            conversation=conversation,
            sessions=sessions,
            transcripts=transcripts,
            voice=self.voice,
            late=self._late,
            actions=actions,
            endings=self.endings,
            default_flow=default_flow,
            retry_window_seconds=retry_window_seconds,
            capacity=self.capacity,
            placed=placed,
        )
        self._recent = RecentCallbacks(retry_window_seconds)
        self._sessions = sessions
        self._actions = actions
        self._links = links  # where recovered actions' audio is fetched; then the last callback's
        self._followup_late_seconds = followup_late_seconds
        self._recovery: asyncio.Task[None] | None = None

    async def prepare(self) -> None:
        """Make ready before the first call: the apology and the busy words are rendered,
        and the transfers and hang-ups left by stopped instances are taken over (now,
        then every second)."""
        await self.voice.prepare()
        if self.capacity.max_live_calls:
            await self.voice.speak(self.capacity.busy_reply())
        await self._recover_dues()
        self._recovery = asyncio.create_task(self._recover_forever())

    async def _recover_forever(self) -> None:
        while True:
            await asyncio.sleep(RECOVERY_INTERVAL_SECONDS)
            try:
                await self._recover_dues()
            except Exception:  # a store that fails now is tried again in a second
                logger.exception("taking over due transfers and hang-ups failed")

    async def _recover_dues(self) -> None:
        for state in await self._sessions.orphaned_dues():
            if not self.followups.busy(state.call_id):
                links = self._links or RelativeAudioLinks()
                with calling(state.call_id):
                    await self._actions.take_over(state, links, late_seconds=self._followup_late_seconds)

    async def handle(self, callback: Callback, links: AudioLinks) -> Answer:
        """Answer one callback. Callbacks of one call run one at a time, in arrival order.

        A turn completes even when the CTI stops waiting (its HTTP timeout cancels the
        request), so a transfer or hang-up that was requested is never forgotten. A
        slow turn is answered with the filler (``LateAnswers``). The same callback again
        within the retry window gets the same answer and is not run again.

        Raises:
            UnknownFlowError: a new call names a flow that is not loaded.
        """
        started = time.perf_counter()
        if not callback.test:  # a console's links are relative: never the PBX's
            self._links = links
        answer = self._recent.find(callback)
        if answer is not None:
            logger.info("call %s: the CTI repeated a callback in flight; same answer", callback.call_id)
        else:
            answer = asyncio.ensure_future(
                self._late.answer(
                    lambda delivery: self._turns.run(callback, links, delivery),
                    may_be_late=callback.event is not Event.HUNGUP,
                )
            )
            self._recent.track(callback, answer)
        try:
            return await asyncio.shield(answer)
        except StorageError as exc:  # never silence on the line: the apology plays
            logger.error("call %s: the turn could not run: %s", callback.call_id, exc)
            return Answer(await self.voice.apology())
        finally:
            metrics.observe_turn(callback.event.value, time.perf_counter() - started)

    async def hangup_pushed(self, call_id: str, telnum: str | None) -> bool:
        """The CTI's hang-up push; see ``Endings.hangup_pushed``."""
        return await self.endings.hangup_pushed(call_id, telnum)

    async def close_idle(self, idle_seconds: float) -> int:
        """Close calls with no callback for ``idle_seconds`` (their ``hungup`` was lost)."""
        return await self.endings.close_idle(idle_seconds)

    async def finish(self) -> None:
        """At shutdown: let turns under way finish; carry out the transfers and hang-ups
        still waiting for their announcement (one process), or leave them to the other
        instances (a shared store: each is due with its call); hand over ended calls
        (without the model's summaries still being written: they are given up)."""
        assistant = self.conversation.assistant
        if assistant is not None and assistant.summaries is not None:
            assistant.summaries.stop()
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        await self._late.finish()
        if self._sessions.shared:
            await self.followups.hand_over()
        else:
            await self.followups.finish()
        await self.endings.finish()
        await self.voice.finish()
        if self.handoff_summaries is not None:
            await self.handoff_summaries.aclose()
