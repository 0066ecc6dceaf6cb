"""Call scripts: what the CTI sends for one robot call, event by event, with its pacing.

A script is made from a seed and the call's number alone, so a run is reproducible and
call *n* is the same call whichever player plays it. What a call does (flows/yibao.yaml
for most calls, flows/survey.yaml for ``SURVEY_SHARE`` of them):

- it opens with the CTI's ``ready2speak`` after its silence timeout (the greeting), or
  with the caller speaking first (喂, 你好; the survey's callee answers so);
- yibao: one to three errands, each a claim status (the business, the ID card number
  read digit by digit or in the same breath, its confirmation), a card loss (the phone
  number read as 幺三八…), the service hours (a global question that resumes the step),
  or a free question the knowledge base answers; then goodbye (the bot hangs up), 转人工
  (the bot transfers) or the caller hanging up;
- survey: a score and a comment, or another day and time (dates and times as slots);
- before the caller's words: sometimes a silence (a later ``ready2speak``: the bot's
  re-prompt) or a backchannel while the prompt plays (嗯, 对, 啊 with ``playing=true``:
  answered ``continue``); the words themselves are sometimes a barge-in (sent with
  ``playing=true`` while an interruptible prompt plays);
- ``HANGUP_SHARE`` of the calls are cut at a random moment by the caller's hang-up
  (``txt=hungup``), during a prompt or after it;
- every call ends with the CTI's hang-up push (``/cti/hangup?…&business=robot``, GX §41).

Pacing is in each event (``Timing``): after the current prompt has played (the caller's
reaction, the time to say the words and the ASR's end-pointing; the CTI's silence
timeout for ``ready2speak``), at a share of the prompt (barge-ins, backchannels), or
after the previous answer (the push after a hang-up). The players (bench/calls_player.py)
know the prompts' durations; scripts only say when, relative to them.

No two consecutive callbacks of a call are the same (``txt`` and ``playing``): played
without pacing, the bot would take the second for the CTI's retry of the first
(``VOICEBOT_RETRY_WINDOW_MS``) and answer it without a turn.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from urllib.parse import quote

from bench import calls_words as words

SURVEY_SHARE = 0.15
HANGUP_SHARE = 0.12  # calls cut by the caller at a random moment
BARGE_IN_SHARE = 0.15  # of the caller's words that may interrupt
BACKCHANNEL_SHARE = 0.2  # of the caller's turns after the first
SILENCE_SHARE = 0.08  # of the caller's turns after the first

SILENCE_TIMEOUT_SECONDS = 1.0  # the CTI's ai.entrance.customer.silence.process.time (GX §52.3's example)
SECONDS_PER_CHARACTER = 0.2  # a caller's speech, about five syllables a second
END_POINTING_SECONDS = 0.4  # the ASR's wait for the end of speech
REACTION_SECONDS = (0.3, 1.5)
ACTION_MARGIN_SECONDS = 0.8  # VOICEBOT_ACTION_MARGIN_MS: the robot leg ends after the last prompt and this


class Kind(StrEnum):
    """What an event is, as the report groups latencies."""

    READY2SPEAK = "ready2speak"  # the call's first ready2speak: the greeting
    SILENCE = "silence"  # a later ready2speak: nothing said after a prompt
    UTTERANCE = "utterance"  # the business, a confirmation, a hello, goodbye
    BARGE_IN = "barge_in"  # words while an interruptible prompt plays (playing=true)
    BACKCHANNEL = "backchannel"  # 嗯, 对, 啊 while the bot talks (playing=true)
    KNOWLEDGE = "knowledge"  # a free question for the knowledge base
    SLOT = "slot"  # an ID card or phone number, a date, a time, a score
    TRANSFER = "transfer"  # 转人工
    HANGUP = "hangup"  # txt=hungup
    HANGUP_PUSH = "hangup_push"  # /cti/hangup, business=robot


class Timing(Enum):
    AFTER_PROMPT = "after_prompt"  # ``seconds`` after the current prompt has played
    DURING_PROMPT = "during_prompt"  # once ``fraction`` of the current prompt has played
    AFTER_ANSWER = "after_answer"  # ``seconds`` after the previous answer


@dataclass(frozen=True)
class CallEvent:
    kind: Kind
    txt: str  # ready2speak, hungup or the words; "" for the hang-up push
    playing: bool = False
    timing: Timing = Timing.AFTER_PROMPT
    seconds: float = 0.0
    fraction: float = 0.0


@dataclass(frozen=True)
class CallScript:
    call_id: str
    telnum: str
    flow: str
    events: tuple[CallEvent, ...]

    def path(self, event: CallEvent) -> str:
        """The request the CTI sends for ``event``, percent-encoded."""
        call_id = quote(self.call_id, safe="")
        if event.kind is Kind.HANGUP_PUSH:
            return f"/cti/hangup?callid={call_id}&caller={self.telnum}&callee=1000&robotid=2&business=robot"
        path = f"/cti/ai?flow={self.flow}&telnum={self.telnum}&callid={call_id}&txt={quote(event.txt)}"
        return path + "&playing=true" if event.playing else path


def speech_seconds(text: str) -> float:
    """How long a caller takes to say ``text``, end-pointing included."""
    return len(text) * SECONDS_PER_CHARACTER + END_POINTING_SECONDS


@dataclass
class _Call:
    """A script being written: the caller's turns, with what may precede them."""

    rng: random.Random
    events: list[CallEvent] = field(default_factory=list)

    def pick(self, choices: Sequence[str]) -> str:
        """One of ``choices``, not the words just said (the same callback twice in a row
        would be a retry)."""
        last = self.events[-1].txt if self.events else None
        return self.rng.choice([c for c in choices if c != last] or list(choices))

    def open(self, hellos: Sequence[str], caller_first: float) -> None:
        if self.rng.random() < caller_first:
            self.events.append(CallEvent(Kind.UTTERANCE, self.pick(hellos), seconds=self._wait_for(".")))
        else:
            self.events.append(CallEvent(Kind.READY2SPEAK, "ready2speak", seconds=SILENCE_TIMEOUT_SECONDS))

    def say(self, kind: Kind, text: str, *, may_interrupt: bool = True) -> None:
        """The caller's words after the current prompt; maybe a silence or a backchannel
        first; maybe as a barge-in."""
        roll = self.rng.random()
        if roll < SILENCE_SHARE and self.events[-1].txt != "ready2speak":
            self.events.append(CallEvent(Kind.SILENCE, "ready2speak", seconds=SILENCE_TIMEOUT_SECONDS))
        elif roll < SILENCE_SHARE + BACKCHANNEL_SHARE:
            fraction = self.rng.uniform(0.1, 0.5)
            said = self.pick(words.BACKCHANNELS)
            self.events.append(
                CallEvent(Kind.BACKCHANNEL, said, True, Timing.DURING_PROMPT, fraction=fraction)
            )
        if may_interrupt and self.rng.random() < BARGE_IN_SHARE:
            fraction = self.rng.uniform(0.55, 0.9)
            self.events.append(CallEvent(Kind.BARGE_IN, text, True, Timing.DURING_PROMPT, fraction=fraction))
        else:
            self.events.append(CallEvent(kind, text, seconds=self._wait_for(text)))

    def end_after_prompt(self) -> None:
        """The bot ends the call (goodbye, transfer): the push once its prompt has played."""
        wait = ACTION_MARGIN_SECONDS + self.rng.uniform(0.1, 0.5)
        self.events.append(CallEvent(Kind.HANGUP_PUSH, "", seconds=wait))

    def hang_up(self) -> None:
        """The caller hangs up, while the prompt plays or after it; then the push."""
        if self.rng.random() < 0.5:
            hangup = CallEvent(Kind.HANGUP, "hungup", timing=Timing.DURING_PROMPT, fraction=self.rng.random())
        else:
            hangup = CallEvent(Kind.HANGUP, "hungup", seconds=self.rng.uniform(0.2, 3.0))
        self.events.append(hangup)
        self.events.append(CallEvent(Kind.HANGUP_PUSH, "", timing=Timing.AFTER_ANSWER, seconds=0.1))

    def _wait_for(self, text: str) -> float:
        return self.rng.uniform(*REACTION_SECONDS) + speech_seconds(text)


def _number(call: _Call, number: str) -> str:
    """A number as the ASR may write it: spoken digits mostly, Arabic digits sometimes."""
    return number if call.rng.random() < 0.3 else words.spoken(number)


def _claim(call: _Call) -> None:
    number = _number(call, call.pick(words.ID_CARDS))
    if call.rng.random() < 0.3:
        call.say(Kind.SLOT, call.pick(words.QUERY_WITH_ID).format(number))
    else:
        call.say(Kind.UTTERANCE, call.pick(words.QUERY_PROGRESS))
        call.say(Kind.SLOT, number)
    call.say(Kind.UTTERANCE, call.pick(words.CONFIRMATIONS), may_interrupt=False)


def _card_loss(call: _Call) -> None:
    number = _number(call, call.pick(words.PHONES))
    if call.rng.random() < 0.3:
        call.say(Kind.SLOT, call.pick(words.CARD_LOSS_WITH_PHONE).format(number))
    else:
        call.say(Kind.UTTERANCE, call.pick(words.CARD_LOSS))
        call.say(Kind.SLOT, number)
    call.say(Kind.UTTERANCE, call.pick(words.CONFIRMATIONS), may_interrupt=False)


def _hours(call: _Call) -> None:
    call.say(Kind.UTTERANCE, call.pick(words.HOURS))


def _knowledge(call: _Call) -> None:
    call.say(Kind.KNOWLEDGE, call.pick(words.KNOWLEDGE))


ERRANDS: tuple[tuple[Callable[[_Call], None], float], ...] = (
    (_claim, 0.30),
    (_card_loss, 0.20),
    (_hours, 0.15),
    (_knowledge, 0.35),
)


def _yibao(call: _Call) -> None:
    call.open(words.HELLOS, caller_first=0.3)
    for _ in range(call.rng.choice((1, 1, 2, 2, 3))):
        errand = call.rng.choices([e for e, _ in ERRANDS], weights=[w for _, w in ERRANDS])[0]
        errand(call)
    ending = call.rng.random()
    if ending < 0.4:
        call.say(Kind.UTTERANCE, call.pick(words.GOODBYES), may_interrupt=False)
        call.end_after_prompt()
    elif ending < 0.7:
        call.say(Kind.TRANSFER, call.pick(words.TRANSFERS))
        call.end_after_prompt()
    else:
        call.hang_up()


def _survey(call: _Call) -> None:
    call.open(words.HELLOS, caller_first=0.5)
    if call.rng.random() < 0.6:
        call.say(Kind.UTTERANCE, call.pick(words.SURVEY_AFFIRM), may_interrupt=False)
        call.say(Kind.SLOT, call.pick(words.RATINGS))
        if call.rng.random() < 0.6:
            call.say(Kind.UTTERANCE, call.pick(words.NO_COMMENT), may_interrupt=False)
        else:
            call.say(Kind.UTTERANCE, call.pick(words.COMMENTS))
    else:
        call.say(Kind.UTTERANCE, call.pick(words.SURVEY_BUSY))
        call.say(Kind.SLOT, call.pick(words.DATES))
        call.say(Kind.SLOT, call.pick(words.TIMES))
        call.say(Kind.UTTERANCE, call.pick(words.SURVEY_CONFIRM), may_interrupt=False)
    call.end_after_prompt()


def _cut(call: _Call) -> None:
    """The caller hangs up at a random moment of the call instead of its end."""
    at = call.rng.randrange(1, max(2, len(call.events) - 1))
    del call.events[at:]
    call.hang_up()


class ScriptWriter:
    """Call scripts from a seed: ``call(n)`` is the same for the same seed and ``n``;
    call ids are ``<prefix>-<seed>-<n>``, so runs of different prefixes never share a call."""

    def __init__(self, seed: int, prefix: str) -> None:
        self.seed, self.prefix = seed, prefix

    def call(self, n: int) -> CallScript:
        rng = random.Random(f"{self.seed}:{n}")
        call = _Call(rng)
        flow = "survey" if rng.random() < SURVEY_SHARE else "yibao"
        (_survey if flow == "survey" else _yibao)(call)
        if rng.random() < HANGUP_SHARE:
            _cut(call)
        telnum = "1" + rng.choice("3589") + "".join(rng.choices("0123456789", k=9))
        return CallScript(f"{self.prefix}-{self.seed}-{n}", telnum, flow, tuple(call.events))

    def calls(self, start: int = 0) -> Iterator[CallScript]:
        n = start
        while True:
            yield self.call(n)
            n += 1


def interleaved(writer: ScriptWriter, lanes: int, *, pushes: bool = True) -> Iterator[tuple[Kind, str]]:
    """Requests of ``lanes`` calls at a time, round robin, without pacing: each lane plays
    its call's events in order and starts a new call when one ends, so a call's next
    event comes ``lanes`` requests after its previous one (it has been answered by then
    whenever fewer than ``lanes`` requests are in flight). ``pushes=False`` leaves out
    the hang-up pushes (the bare endpoints of the saturation runs serve /cti/ai alone)."""
    scripts = writer.calls()
    playing = [(next(scripts), 0) for _ in range(lanes)]
    while True:
        for lane in range(lanes):
            script, index = playing[lane]
            if index == len(script.events):
                script, index = next(scripts), 0
            event = script.events[index]
            playing[lane] = (script, index + 1)
            if pushes or event.kind is not Kind.HANGUP_PUSH:
                yield event.kind, script.path(event)


def warm_up_scripts(prefix: str) -> list[CallScript]:
    """Calls that say every value the generated calls read back (each ID card and phone
    number, knowledge answer, date and time, score, comment), once, so the templated
    prompts and joined answers are synthesized before anything is timed."""
    plans: list[tuple[str, list[tuple[Kind, str]]]] = []
    ready, bye = (Kind.READY2SPEAK, "ready2speak"), (Kind.UTTERANCE, words.GOODBYES[0])
    for number in words.ID_CARDS:
        plans.append(
            ("yibao", [ready, (Kind.UTTERANCE, words.QUERY_PROGRESS[0]), (Kind.SLOT, words.spoken(number))])
        )
        plans[-1][1].extend([(Kind.UTTERANCE, "对的"), (Kind.UTTERANCE, words.HOURS[0]), bye])
    for number in words.PHONES:
        said = words.CARD_LOSS_WITH_PHONE[0].format(words.spoken(number))
        plans.append(("yibao", [ready, (Kind.SLOT, said), (Kind.UTTERANCE, "对"), bye]))
    for start in range(0, len(words.KNOWLEDGE), 6):
        asked = [(Kind.KNOWLEDGE, q) for q in words.KNOWLEDGE[start : start + 6]]
        plans.append(("yibao", [(Kind.UTTERANCE, words.HELLOS[0]), (Kind.UTTERANCE, words.HOURS[1]), *asked]))
        plans[-1][1].append((Kind.TRANSFER, words.TRANSFERS[0]))
    for date in words.DATES:
        for time_said in words.TIMES:
            busy = (Kind.UTTERANCE, words.SURVEY_BUSY[0])
            plans.append(
                ("survey", [ready, busy, (Kind.SLOT, date), (Kind.SLOT, time_said), (Kind.UTTERANCE, "对")])
            )
    for rating in words.RATINGS:
        for comment in (words.NO_COMMENT[0], *words.COMMENTS):
            affirm = (Kind.UTTERANCE, words.SURVEY_AFFIRM[0])
            plans.append(("survey", [ready, affirm, (Kind.SLOT, rating), (Kind.UTTERANCE, comment)]))
    plans.append(("survey", [(Kind.UTTERANCE, words.HELLOS[1]), (Kind.UTTERANCE, words.SURVEY_AFFIRM[1])]))
    return [
        CallScript(f"{prefix}-{n}", "13800138000", flow, tuple(CallEvent(kind, txt) for kind, txt in plan))
        for n, (flow, plan) in enumerate(plans)
    ]
