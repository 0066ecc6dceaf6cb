"""What the service remembers about one call between callbacks, and what it answers."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Literal

from bot.language.flow import Prompt
from bot.pbx.base import Direction

Outcome = Literal["in_progress", "transferred", "transfer_failed", "hung_up_by_bot", "hung_up_by_caller"]
Action = Literal["transfer", "hangup"]


@dataclass(frozen=True)
class Reply:
    """What the bot says in answer to one callback, and what it does afterwards."""

    prompts: tuple[Prompt, ...]
    action: Action | None = None
    target: str | None = None  # transfer target (extension, queue, group)

    @property
    def interruptible(self) -> bool:
        # One non-interruptible part (a transfer notice) protects the whole reply; a
        # reply with nothing to say (a silent pause before acting) is not worth cutting.
        return bool(self.prompts) and all(p.interruptible for p in self.prompts)

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.prompts)


@dataclass(frozen=True)
class Playback:
    """Audio the caller is to hear: a clip of the audio cache, by its key, and whether
    speaking over it interrupts it. The transport turns it into its own form (the CTI:
    an audio URL)."""

    key: str
    interruptible: bool


@dataclass(frozen=True)
class Answer:
    """What a callback is answered: audio to play, ``keep_playing`` (the caller's words
    do not interrupt what plays), or nothing (after the caller hung up)."""

    playback: Playback | None = None
    keep_playing: bool = False


@dataclass(frozen=True)
class Answered:
    """A call's last callback and its answer, to recognise the PBX's retry of it."""

    event: str
    text: str | None
    playing: bool
    at: float  # epoch seconds, when it was answered
    answer: Answer


@dataclass(frozen=True)
class Due:
    """A transfer or hang-up announced to the caller and not carried out yet. It is
    stored with the call, so that after a crash the restarted (or another) instance
    carries it out, or records why it came too late."""

    action: Action
    target: str | None  # the transfer's target
    at: float  # epoch seconds, when it is to be carried out


@dataclass(frozen=True)
class Frame:
    """Where to go on when the flow reaches ``return: true`` (after ``call:`` or a
    global intent's digression)."""

    flow: str
    version: str
    step: str
    resume: bool = False  # back from a digression: ask the step again without redoing its work


@dataclass(frozen=True)
class Grade:
    """The grade a flow's rules gave a call at its end."""

    grade: str
    score: int
    reason: str


@dataclass
class CallState:
    """The conversation state of one call (one CTI ``callid``).

    Every field holds an immutable value except ``variables``, whose values are
    replaced, never changed in place; ``copy()`` gives an independent state for a
    turn to work on.
    """

    call_id: str
    telnum: str
    flow: str
    flow_version: str
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    step: str | None = None  # the asking step waiting for the caller
    active_flow: str | None = None  # the flow ``step`` belongs to, when not ``flow`` (call/link)
    active_version: str | None = None
    stack: tuple[Frame, ...] = ()
    variables: dict[str, object] = field(default_factory=dict)  # slots and `set:` variables
    pending: tuple[str, object] | None = None  # a slot value waiting for the caller's confirmation
    last_intent: str | None = None
    last_text: str | None = None  # what the caller said last
    intents: tuple[str, ...] = ()  # every intent recognized in the call, in order
    greeted: bool = False
    silence_count: int = 0
    no_match_count: int = 0
    last_reply: Reply | None = None
    outcome: Outcome = "in_progress"
    end_reason: str | None = None
    ended_at: float | None = None
    turns: int = 0
    grade: Grade | None = None
    undelivered: Playback | None = None  # a late answer the PBX could not play: the next callback's
    answered: Answered | None = None  # the last callback and its answer
    due: Due | None = None  # the announced transfer or hang-up still to be carried out
    test: bool = False  # placed from the console: its PBX actions are recorded only, never pushed
    direction: Direction = "inbound"  # outbound: the robot called the customer (the callee)
    campaign: str | None = None  # the outbound campaign that called this number
    llm_requests: int = 0  # intents and answers asked of the language model (its per-call budget)

    def copy(self) -> CallState:
        twin = copy.copy(self)
        twin.variables = dict(self.variables)
        return twin

    @property
    def position(self) -> tuple[str, str]:
        """The flow (name, version) the call is in now."""
        return self.active_flow or self.flow, self.active_version or self.flow_version

    def move_to(self, flow: str, version: str) -> None:
        if (flow, version) == (self.flow, self.flow_version):
            self.active_flow = self.active_version = None
        else:
            self.active_flow, self.active_version = flow, version

    @property
    def ended(self) -> bool:
        return self.outcome != "in_progress"

    def end(self, outcome: Outcome, reason: str) -> None:
        """Close the call once; a later end (a ``hungup`` after a transfer) keeps the first."""
        if self.ended:
            return
        self.outcome, self.end_reason, self.ended_at = outcome, reason, time.time()
