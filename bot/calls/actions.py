"""What follows an answer: the transfer or hang-up it announces, once the caller has
heard it, and the goodbye when a promised transfer fails.

Each action waits in ``FollowUps`` for its announcement's duration plus a margin, and
is dropped when the caller hangs up first. The PBX's requests and answers go into the
call's transcript; how the call ended is revised by the dialog, never here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.calls.ending import Endings
from bot.calls.followups import Action as FollowUp
from bot.calls.followups import FollowUps
from bot.calls.handoff import HandoffSummaries, biz_data
from bot.calls.record import PBXRecorder, call_ref
from bot.calls.voice import PUSHED_TEXT_SECONDS_PER_CHAR, AudioLinks, Spoken, Voice
from bot.dialog.engine import Dialog
from bot.dialog.state import Action, CallState, Due, Reply
from bot.errors import PBXError
from bot.llm.summaries import ModelSummary
from bot.pbx.base import PBX, CallRef, Exchange, TransferTarget
from bot.store.sessions import SessionStore

logger = logging.getLogger(__name__)

# A goodbye the PBX cannot push waits for the next callback at most this long (the
# CTI's silence timeout sends one); then the bot hangs up anyway.
OWED_GOODBYE_WAIT_SECONDS = 10.0


@dataclass(kw_only=True, eq=False)
class Actions:
    """Carries out the transfers and hang-ups that answers announce."""

    pbx: PBX
    dialog: Dialog
    voice: Voice
    sessions: SessionStore
    recorder: PBXRecorder
    followups: FollowUps
    endings: Endings
    margin_seconds: float
    summaries: HandoffSummaries | None = None  # the model's, for the agent's screen

    def follow(self, state: CallState, reply: Reply, spoken: Spoken, links: AudioLinks) -> None:
        """Schedule what an answer announces, for when the caller has heard it: the
        reply's text pushed to the CTI's TTS (no speech backend could say it), and
        the reply's action. The action is also written into ``state.due``, stored
        with the call, so that another instance (or this one after a restart)
        carries it out if this process cannot."""
        call = call_ref(state)
        heard_seconds = spoken.seconds
        if spoken.push is not None:
            then = partial(self._push_text, call, spoken.push, reply, links)
            self._schedule(call, "play", spoken.seconds, then, announces=reply.action)
            heard_seconds += len(spoken.push) * PUSHED_TEXT_SECONDS_PER_CHAR
        else:
            self._act_after(call, reply, links, spoken.seconds)
        if reply.action is not None:
            at = time.time() + heard_seconds + self.margin_seconds
            state.due = Due(reply.action, reply.target, at)
        if reply.action == "transfer" and self.summaries is not None:
            self.summaries.start(state)

    async def take_over(self, state: CallState, links: AudioLinks, *, late_seconds: float) -> None:
        """Carry out a due action that its announcer left (a restart, a crashed instance):
        at its time if that is still to come or just past, else record it as failed,
        ``late_seconds`` being how late is too late."""
        due = state.due
        if due is None:
            return
        call = call_ref(state)
        lateness = time.time() - due.at
        if lateness <= late_seconds:
            logger.info("call %s: the %s announced before a restart is carried out", call.call_id, due.action)
            act = partial(self._perform, call, due.action, due.target, links)
            self._schedule(call, due.action, max(0.0, -lateness), act)
            return
        if not await self.sessions.claim_due(call.call_id):
            return
        reason = f"{due.action} not made: found {lateness:.1f} s after its time (VOICEBOT_FOLLOWUP_LATE_MS)"
        logger.warning("call %s: %s", call.call_id, reason)

        async def too_late(state: CallState) -> None:
            state.due = None
            outcome = "transfer_failed" if state.outcome == "transferred" else state.outcome
            self.dialog.revise_end(state, outcome, f"{state.end_reason}; {reason}")

        error = PBXError(reason, call_id=call.call_id)
        settled = await self.recorder.record(call, due.action, due.target, [], error, change=too_late)
        if settled is not None:
            self.endings.report_if_settled(settled)

    def _act_after(self, call: CallRef, reply: Reply, links: AudioLinks, seconds: float) -> None:
        """Schedule the reply's action for ``seconds`` (the time it takes to be heard)
        plus the margin."""
        if reply.action is not None:
            act = partial(self._perform, call, reply.action, reply.target, links)
            self._schedule(call, reply.action, seconds + self.margin_seconds, act)

    def _schedule(
        self, call: CallRef, name: str, seconds: float, act: FollowUp, *, announces: str | None = None
    ) -> None:
        """Schedule ``act``; once it has run, the call is handed over if it has ended for
        good (whatever happened meanwhile: a caller who hung up while it ran, say)."""

        async def act_then_settle() -> None:
            try:
                await act()
            finally:
                state = await self.recorder.current(call.call_id)
                if state is not None:
                    self.endings.report_if_settled(state)

        self.followups.schedule(call.call_id, name, seconds, act_then_settle, announces=announces)

    async def _push_text(self, call: CallRef, text: str, reply: Reply, links: AudioLinks) -> None:
        """The CTI speaks the reply itself (no speech backend works); the action follows."""
        exchanges: list[Exchange] = []
        error: PBXError | None = None
        try:
            await self.pbx.play(call, text, journal=exchanges)
        except PBXError as exc:
            error = exc
            logger.warning("call %s: the reply's text could not be pushed either: %s", call.call_id, exc)
        await self.recorder.record(call, "play", text, exchanges, error)
        self._act_after(call, reply, links, len(text) * PUSHED_TEXT_SECONDS_PER_CHAR)

    async def _perform(self, call: CallRef, action: Action, target: str | None, links: AudioLinks) -> None:
        """Transfer or hang up, record the PBX's answers, and handle a refusal. The
        call's due action is claimed first: taken already (by another instance, or
        dropped by the caller's hang-up there), it is not done twice."""
        if not await self.sessions.claim_due(call.call_id):
            logger.info("call %s: the %s was taken or dropped elsewhere", call.call_id, action)
            return
        exchanges: list[Exchange] = []
        asked: list[dict[str, Any]] = []  # the model's summary for the agent, if it went
        try:
            await self._request(call, action, target, exchanges, asked)
        except PBXError as error:
            logger.warning("call %s: PBX %s failed: %s", call.call_id, action, error)
            if action == "transfer":
                await self._transfer_failed(call, links, exchanges, error)
                return
            failed = partial(self._hung_up, error)
            await self.recorder.record(call, action, target, exchanges, error, change=failed)
            return
        change = partial(self._hung_up, None) if action == "hangup" else _done
        await self.recorder.record(call, action, target, exchanges, None, change=change, llm=asked)

    async def _request(
        self,
        call: CallRef,
        action: Action,
        target: str | None,
        exchanges: list[Exchange],
        asked: list[dict[str, Any]],
    ) -> None:
        if action == "hangup":
            await self.pbx.hangup(call, journal=exchanges)
            return
        try:
            parsed = TransferTarget.parse(target or "")
        except ValueError as exc:  # a target the flow check let through
            raise PBXError(str(exc), call_id=call.call_id) from exc
        state = await self.sessions.get(call.call_id)
        summary: ModelSummary | None = None
        if self.summaries is not None:
            summary, exchanges_of_model = self.summaries.take(call.call_id)
            asked.extend(exchanges_of_model)
        data = biz_data(state, summary["summary"] if summary else None) if state else None
        await self.pbx.transfer(call, parsed, biz_data=data, journal=exchanges)

    async def _hung_up(self, error: PBXError | None, state: CallState) -> None:
        """The bot's last act: nothing is owed to the caller after it; a failed hang-up
        leaves its reason with the call's end."""
        state.undelivered, state.due = None, None
        if error is not None:
            self.dialog.revise_end(state, state.outcome, f"{state.end_reason}; PBX hangup failed: {error}")

    async def _transfer_failed(
        self, call: CallRef, links: AudioLinks, exchanges: list[Exchange], error: PBXError
    ) -> None:
        """Tell the caller the agent cannot be reached, then hang up.

        The goodbye becomes the call's pending answer in the same step that records the
        failure, so a callback arriving meanwhile already gets it; then it is pushed,
        and the hang-up follows it (or, when the PBX cannot push, the next callback).
        """
        said: list[tuple[Reply, Spoken]] = []

        async def owe_goodbye(state: CallState) -> None:
            state.due = None
            if self.followups.gone(call.call_id) or state.outcome == "hung_up_by_caller":
                await self._refused(error, state)  # the caller hung up meanwhile: only record it
                return
            goodbye = self.dialog.transfer_failed(state, _transfer_failure(state, error))
            spoken = await self.voice.speak(goodbye, self.voice.of(state))
            if spoken.push is None:
                state.undelivered, state.last_reply = spoken.playback, goodbye
            # The hang-up after the goodbye, at the latest (the goodbye may wait for the
            # next callback): due with the call, like any announced action.
            latest = spoken.seconds + OWED_GOODBYE_WAIT_SECONDS + self.margin_seconds
            state.due = Due("hangup", None, time.time() + latest)
            said.append((goodbye, spoken))

        await self.recorder.record(call, "transfer", None, exchanges, error, change=owe_goodbye)
        if said:
            await self._say_goodbye(call, links, *said[0])

    async def _refused(self, error: PBXError, state: CallState) -> None:
        """A refused transfer nobody is left to hear about: its reason stays with the end."""
        outcome = "transfer_failed" if state.outcome == "transferred" else state.outcome
        self.dialog.revise_end(state, outcome, _transfer_failure(state, error))

    async def _say_goodbye(self, call: CallRef, links: AudioLinks, goodbye: Reply, spoken: Spoken) -> None:
        """Push the goodbye of a failed transfer; the hang-up follows once it is heard."""
        voice = spoken.push or links.url(spoken.playback)  # text for the CTI's TTS when no backend speaks
        exchanges: list[Exchange] = []
        try:
            await self.pbx.play(call, voice, journal=exchanges)
        except PBXError as exc:
            await self.recorder.record(call, "play", goodbye.text, exchanges, exc)
            # The next callback says it and hangs up after it; without one, hang up anyway
            # (at once when nothing can say it).
            wait_seconds = 0.0 if spoken.push else spoken.seconds + OWED_GOODBYE_WAIT_SECONDS
            self._act_after(call, goodbye, links, wait_seconds)
            return

        async def paid(state: CallState) -> None:
            if state.undelivered == spoken.playback:
                state.undelivered = None

        await self.recorder.record(call, "play", goodbye.text, exchanges, None, change=paid)
        heard = len(voice) * PUSHED_TEXT_SECONDS_PER_CHAR if spoken.push else spoken.seconds
        self._act_after(call, goodbye, links, heard)


async def _done(state: CallState) -> None:
    """A transfer made: nothing is due any more."""
    state.due = None


def _transfer_failure(state: CallState, error: PBXError) -> str:
    return f"{state.end_reason}; PBX transfer failed: {error}"
