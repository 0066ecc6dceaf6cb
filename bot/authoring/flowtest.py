"""Conversation tests for flows: calls written down in YAML, played against the flows.

A flow author writes, in ``<flows dir>/tests/<any name>.yaml``, what callers do and
what the bot must answer; ``voicebot flows test`` plays every conversation through the
same ``Conversation`` the CTI callback uses (intent recognition, barge-in rules, the
engine) and says which ones went as written::

    flow: yibao                 # the flow the calls start in (required)
    date: 2026-11-21            # the calls' date, for 明天 or 下周三 (default: today)
    telnum: "13900000000"       # the caller's number (default 13800000000)
    agents: free                # free or busy: can anyone answer a transfer with busy:?
    conversations:
      - name: 查询报销进度         # shown in the report
        telnum: "13912345678"   # this call's number (default: the file's telnum)
        agents: busy            # this call's agents (default: the file's, else free)
        turns:
          - silence: true               # the caller says nothing (the first time: greeting)
            bot: 欢迎致电
            step: greeting
          - caller: 我想查报销进度
            intent: query_progress
            bot: [好的, 报销进度]
          - caller: 嗯
            playing: true               # said while the bot still spoke (barge-in)
            continue: true              # … and the bot let its prompt play on
          - hangup: true                # the caller hangs up
        end:
          outcome: hung_up_by_caller

Each turn has exactly one event: ``silence: true``, ``caller: <text>`` (with
``playing: true`` when said over the bot) or ``hangup: true``. What may be expected
after it (only the keys written are checked):

=================  ===========================================================
``bot``            a text, or a list of texts, the bot's answer contains
``bot_not``        a text, or a list of texts, the answer must not contain
``intent``         the intent recognized (``null``: none); ``caller:`` turns only
``continue``       ``true``: the bot let its prompt play on; ``caller:`` turns only
``step``           the step the call waits at afterwards
``slots``          variables (slots, ``set:``) and their values; ``null``: not set.
                   ``customer.name`` names a key of a mapping (a lookup row)
``action``         ``transfer``, ``hangup`` or ``none``
``transfer``       the transfer target
``interruptible``  whether the caller could cut the answer off
``outcome``        in_progress, transferred, hung_up_by_bot or hung_up_by_caller
``grade``          the call's grade (``null``: none yet)
=================  ===========================================================

``end:`` checks the call after its last turn: ``outcome``, ``transfer`` (the target of
the last transfer), ``grade``, ``score`` and ``slots``. Values are compared as YAML
reads them: ``13812345678`` is a number and ``"13812345678"`` is text (a phone or ID
slot holds text: quote it); ``2026-11-25`` and ``0101`` stay text.

A conversation stops at its first turn that does not go as written. The report names
the file and line of that turn, each expectation that failed (``expected … / got …``)
and the conversation up to there. A test file with a mistake in it (a misspelt key, two
events in one turn, an unknown flow, intent or variable) is reported like a flow
problem: ``file:line:col: what is wrong — how to fix it``. A ``slots:`` name no flow
can set is an error when a value is expected of it (the check could never pass) and a
warning when ``null`` is (it could never fail).

With ``--coverage`` the report ends with the steps and branches no conversation
reached, per flow (``bot.authoring.coverage``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, get_args

import click
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from bot.authoring import coverage as cover
from bot.authoring.runtime import open_conversation
from bot.authoring.variable_names import find, is_provided, provided_names
from bot.config import Settings, load_settings
from bot.dialog.agents import FixedAgents
from bot.dialog.conversation import Conversation, Heard
from bot.dialog.state import CallState, Outcome
from bot.errors import ConfigError, FlowProblem, FlowValidationError
from bot.language.lint import did_you_mean
from bot.language.loader import (
    KeyPath,
    Places,
    explain_validation_error,
    flow_files,
    parse_yaml,
    read_author_file,
)
from bot.llm.assistant import language_model
from bot.llm.cassette import Cassette
from bot.llm.model import LanguageModel
from bot.text.segmenter import Segmenter

TESTS_DIR = "tests"  # conversation tests live in <flows dir>/tests/
DEFAULT_TELNUM = "13800000000"
EVENTS = ("silence", "caller", "hangup")
OUTCOMES: tuple[str, ...] = get_args(Outcome)
ACTIONS = ("transfer", "hangup", "none")
AGENTS = ("free", "busy")  # what a transfer step with busy: finds (bot.dialog.agents)


# --- the file format -----------------------------------------------------------------


def _true_only(key: str) -> Any:
    def check(value: Any) -> Any:
        if value is False:
            raise ValueError(
                f"`{key}: false` means nothing — write `{key}: true` for this event, or remove the key"
            )
        return value

    return BeforeValidator(check)


def _one_of(what: str, choices: Sequence[str]) -> Any:
    def check(value: Any) -> Any:
        if value is not None and value not in choices:
            raise ValueError(f"unknown {what} {value!r} — use one of: {', '.join(choices)}")
        return value

    return BeforeValidator(check)


def _as_list(value: Any) -> Any:
    """``bot: 欢迎`` is short for ``bot: [欢迎]``."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [value]
    return value


def _as_date(value: Any) -> Any:
    """The loader leaves ``2026-11-21`` as the text it was written as."""
    if value is None or isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value.strip())
    raise ValueError(f"expected a date such as 2026-11-21, found {value!r} — write the date as YYYY-MM-DD")


Text = Annotated[str, Field(min_length=1)]
Texts = Annotated[list[Text], Field(min_length=1), BeforeValidator(_as_list)]
Slots = dict[str, Any]


class _Spec(BaseModel):
    # Texts written as numbers are text (`caller: 12345`, `transfer: 8001`, `step: 2`).
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class TurnSpec(_Spec):
    """One event of a call and what must hold after it."""

    silence: Annotated[bool | None, _true_only("silence")] = None
    caller: Text | None = None
    playing: bool = False
    hangup: Annotated[bool | None, _true_only("hangup")] = None
    bot: Texts | None = None
    bot_not: Texts | None = None
    intent: str | None = None
    continue_: bool | None = Field(None, alias="continue")
    step: str | None = None
    slots: Slots | None = None
    action: Annotated[str | None, _one_of("action", ACTIONS)] = None
    transfer: str | None = None
    interruptible: bool | None = None
    outcome: Annotated[str | None, _one_of("outcome", OUTCOMES)] = None
    grade: str | None = None

    @model_validator(mode="after")
    def _one_event(self) -> TurnSpec:
        events = [name for name in EVENTS if getattr(self, name) is not None]
        if len(events) != 1:
            found = ", ".join(events) if events else "none"
            raise ValueError(
                f"a turn needs exactly one event (found: {found}) — write `silence: true`, "
                "`caller: <what the caller says>` or `hangup: true`; put the next event in a new `- ` turn"
            )
        event = events[0]
        if self.playing and event != "caller":
            raise ValueError("`playing: true` goes with `caller:` — remove it, or make this a `caller:` turn")
        for key, field in (("intent", "intent"), ("continue", "continue_")):
            if event != "caller" and field in self.model_fields_set:
                raise ValueError(
                    f"`{key}:` can only be checked on a `caller:` turn — remove it from this turn"
                )
        if event == "hangup":
            checks = ("bot", "bot_not", "action", "transfer", "interruptible")
            given = [k for k in checks if k in self.model_fields_set]
            if given:
                raise ValueError(
                    f"the bot answers nothing to a hang-up, so `{given[0]}:` cannot be checked here — "
                    "remove it, or check `outcome:`, `step:`, `slots:` or `grade:`"
                )
        return self

    @property
    def event(self) -> str:
        if self.silence:
            return "silence"
        if self.hangup:
            return "hangup"
        return "caller (while the bot spoke)" if self.playing else "caller"

    def describe(self) -> str:
        """The event as the report shows it."""
        if self.caller is not None:
            return f"{self.event}: {self.caller}"
        return self.event


class EndSpec(_Spec):
    """What must hold of the call after its last turn."""

    outcome: Annotated[str | None, _one_of("outcome", OUTCOMES)] = None
    transfer: str | None = None
    grade: str | None = None
    score: int | None = None
    slots: Slots | None = None


class ConversationSpec(_Spec):
    """One call: its name, its turns, what must hold at its end."""

    name: Text
    telnum: Text | None = None  # the file's telnum when not given
    agents: Annotated[str | None, _one_of("agents", AGENTS)] = None  # the file's when not given
    turns: list[TurnSpec] = Field(min_length=1)
    end: EndSpec | None = None


class FlowTestSpec(_Spec):
    """A test file: the conversations of one flow."""

    flow: Text
    date: Annotated[dt.date | None, BeforeValidator(_as_date)] = None
    telnum: Text = DEFAULT_TELNUM
    agents: Annotated[str, _one_of("agents", AGENTS)] = "free"
    conversations: list[ConversationSpec] = Field(min_length=1)


@dataclass(frozen=True)
class FlowTestFile:
    """A validated test file with where each of its keys is."""

    path: Path
    spec: FlowTestSpec
    places: Places

    @property
    def shown(self) -> str:
        return str(self.path)

    def problem(self, loc: KeyPath, message: str, fix: str) -> FlowProblem:
        return self.places.locate(self.shown, loc, message, fix)

    def line(self, *loc: str | int) -> int:
        return self.problem(loc, "", "").line


def load_test_file(path: Path) -> FlowTestFile:
    """Read and validate one conversation test file.

    Raises:
        FlowValidationError: with every problem found, each located in the file.
    """
    shown = str(path)
    _, text = read_author_file(path, unreadable_fix="check the path")
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        problem = FlowProblem(shown, 1, 1, "the file is empty", "add `flow:` and `conversations:`")
        raise FlowValidationError([problem])
    data, places = parse_yaml(text, shown)
    try:
        spec = FlowTestSpec.model_validate(data)
    except ValidationError as exc:
        raise FlowValidationError(explain_validation_error(shown, places, exc)) from exc
    return FlowTestFile(path, spec, places)


def test_files(paths: Sequence[Path]) -> list[Path]:
    """The test files of ``paths``: a directory's ``*.yaml`` / ``*.yml`` in name order,
    a file as given."""
    return [found for path in paths for found in (flow_files(path) if path.is_dir() else [path])]


# --- results -----------------------------------------------------------------------


@dataclass(frozen=True)
class TurnFailure:
    """The turn a conversation stopped at, and every expectation of it that failed.

    Attributes:
        turn: 1-based turn number; None for the ``end:`` checks.
        event: The event as shown (``caller: 我想查报销进度``, ``silence``, ``end``).
        mismatches: One ``what: expected … / got …`` line per failed expectation.
    """

    file: str
    line: int
    turn: int | None
    event: str
    mismatches: tuple[str, ...]

    @property
    def where(self) -> str:
        at = f"turn {self.turn} ({self.event})" if self.turn is not None else "the end checks"
        return f"{self.file}:{self.line}: {at}"

    def __str__(self) -> str:
        return "\n".join([self.where, *(f"  {m}" for m in self.mismatches)])


@dataclass(frozen=True)
class ConversationResult:
    """How one conversation of a test file went."""

    name: str
    file: str
    line: int
    passed: bool
    failure: TurnFailure | None
    transcript: tuple[str, ...]  # `caller: …` / `bot: …  [step=…]` lines, up to where it stopped

    @property
    def failure_text(self) -> str:
        return str(self.failure) if self.failure else ""

    def details(self) -> str:
        """The failure (if any) and the transcript, for the report."""
        if self.failure is None:
            head = [f"PASS {self.name} — {self.file}:{self.line}"]
        else:
            head = [f"FAIL {self.name} — {self.failure.where}", *(f"  {m}" for m in self.failure.mismatches)]
        return "\n".join([*head, "  transcript:", *(f"    {line}" for line in self.transcript)])


def report(results: Sequence[ConversationResult], *, verbose: bool = False) -> str:
    """One ``PASS``/``FAIL`` line per conversation with its ``file:line``, the failures'
    details (and with ``verbose`` the transcripts of the passing ones), then a count."""
    lines = [f"{'PASS' if r.passed else 'FAIL'} {r.name} — {r.file}:{r.line}" for r in results]
    for result in results:
        if verbose or not result.passed:
            lines += ["", result.details()]
    failed = sum(not r.passed for r in results)
    lines += ["", f"{len(results) - failed} passed, {failed} failed"]
    return "\n".join(lines)


# --- running -----------------------------------------------------------------------


class InvalidFlowsError(FlowValidationError):
    """The flows the tests run against are invalid (not the test file)."""


class _Clock:
    """The calls' date, and whether agents are free: one conversation serves test files
    of different dates and conversations of free and busy agents."""

    def __init__(self, date: dt.date) -> None:
        self.date = date
        self.agents = FixedAgents()

    def __call__(self) -> dt.date:
        return self.date


async def run_file(
    path: Path, flows_dir: Path, settings: Settings, *, segmenter: Segmenter | None = None
) -> list[ConversationResult]:
    """Play every conversation of one test file against the flows of ``flows_dir``.

    A conversation that does not go as written is a failed result, never an exception.

    Raises:
        FlowValidationError: the test file is invalid (located problems).
        InvalidFlowsError: a flow of ``flows_dir`` is invalid.
    """
    test_file = load_test_file(path)
    clock = _Clock(settings.today())
    async with contextlib.AsyncExitStack() as stack:
        conversation = await _open(stack, flows_dir, settings, clock, segmenter)
        results, _ = await _run_test_file(test_file, conversation, clock, settings)
        return results


async def _open(
    stack: contextlib.AsyncExitStack,
    flows_dir: Path,
    settings: Settings,
    clock: _Clock,
    segmenter: Segmenter | None,
    *,
    model: LanguageModel | None = None,
) -> Conversation:
    try:
        return await stack.enter_async_context(
            open_conversation(
                flows_dir, settings, today=clock, segmenter=segmenter, agents=clock.agents, model=model
            )
        )
    except FlowValidationError as exc:
        raise InvalidFlowsError(exc.problems) from exc


async def _run_test_file(
    test_file: FlowTestFile,
    conversation: Conversation,
    clock: _Clock,
    settings: Settings,
    coverage: cover.Coverage | None = None,
) -> tuple[list[ConversationResult], list[FlowProblem]]:
    """The results of a test file's conversations, and the warnings about the file."""
    warnings = _check_names(test_file, conversation)
    spec = test_file.spec
    clock.date = spec.date or settings.today()
    results = []
    for i, conversation_spec in enumerate(spec.conversations):
        clock.agents.free = (conversation_spec.agents or spec.agents) == "free"
        results.append(await _run_conversation(test_file, conversation, i, coverage))
    return results, warnings


def _check_names(test_file: FlowTestFile, conversation: Conversation) -> list[FlowProblem]:
    """The flow, intents, steps and variables a test names must exist: a typo would only
    ever fail (or, for a variable expected to be ``null``, only ever pass: a warning).

    Returns:
        The warnings.
    """
    names = conversation.flows.names()
    spec = test_file.spec
    if spec.flow not in names:
        problem = test_file.problem(
            ("flow",),
            f"unknown flow {spec.flow!r}",
            f"name a flow file of the flows directory: {', '.join(names)}",
        )
        raise FlowValidationError([problem])
    # A call may move into other flows (call:, link:): any flow's intents and steps count.
    intents = {name for loaded in conversation.flows for name in loaded.flow.intents}
    steps = {name for loaded in conversation.flows for name in loaded.flow.steps}
    home = conversation.flows.get(spec.flow).flow
    problems: list[FlowProblem] = []
    for i, conv in enumerate(spec.conversations):
        for j, turn in enumerate(conv.turns):
            at: KeyPath = ("conversations", i, "turns", j)
            if turn.intent is not None and turn.intent not in intents:
                known = ", ".join(sorted(home.intents)) or "none declared"
                problems.append(
                    test_file.problem(
                        (*at, "intent"), f"unknown intent {turn.intent!r}", f"use one of: {known}"
                    )
                )
            if turn.step is not None and turn.step not in steps:
                problems.append(
                    test_file.problem(
                        (*at, "step"), f"unknown step {turn.step!r}", f"use one of: {', '.join(home.steps)}"
                    )
                )
    found = _check_variables(test_file, provided_names(loaded.flow for loaded in conversation.flows))
    problems += [p for p in found if p.severity == "error"]
    if problems:
        raise FlowValidationError(problems)
    return [p for p in found if p.severity == "warning"]


def _check_variables(test_file: FlowTestFile, provided: set[str]) -> list[FlowProblem]:
    """``slots:`` names no flow can set (nor a dotted head of them: ``customer`` of
    ``customer.name``): an error when a value is expected, a warning for ``null``."""
    problems: list[FlowProblem] = []
    for at, name, want in _slot_checks(test_file.spec):
        if is_provided(name, provided):
            continue
        hint = did_you_mean(name, provided) or did_you_mean(name.split(".")[0], provided)
        if want is None:
            message = f"no flow sets {name!r}: expecting null of it always passes"
            problem = test_file.problem(at, message, f"{hint}check the spelling, or remove the check")
            problems.append(dataclasses.replace(problem, severity="warning"))
        else:
            message = f"no flow sets {name!r}: this check could never pass"
            fix = f"{hint}name a slot, or a variable of a `set:`, lookup, http or knowledge step"
            problems.append(test_file.problem(at, message, fix))
    return problems


def _slot_checks(spec: FlowTestSpec) -> Iterator[tuple[KeyPath, str, Any]]:
    """Every ``slots:`` name of a test file, where it is written and the value expected."""
    for i, conv in enumerate(spec.conversations):
        for j, turn in enumerate(conv.turns):
            for name, want in (turn.slots or {}).items():
                yield ("conversations", i, "turns", j, "slots", name), name, want
        for name, want in ((conv.end.slots if conv.end else None) or {}).items():
            yield ("conversations", i, "end", "slots", name), name, want


async def _run_conversation(
    test_file: FlowTestFile, conversation: Conversation, index: int, coverage: cover.Coverage | None
) -> ConversationResult:
    spec = test_file.spec.conversations[index]
    loaded = conversation.flows.get(test_file.spec.flow)
    call = cover.TracedCallState if coverage is not None else CallState
    state = call(
        call_id=f"test-{index + 1}",
        telnum=spec.telnum or test_file.spec.telnum,
        flow=loaded.name,
        flow_version=loaded.version,
    )
    transcript: list[str] = []
    last_transfer: str | None = None
    failure: TurnFailure | None = None

    def failed(turn: int | None, event: str, mismatches: Sequence[str], *loc: str | int) -> TurnFailure:
        line = test_file.line("conversations", index, *loc)
        return TurnFailure(test_file.shown, line, turn, event, tuple(mismatches))

    for j, turn in enumerate(spec.turns):
        try:
            heard = await _play(conversation, state, turn, coverage)
        except Exception as exc:  # a bug in the flow or the engine: this conversation fails, not the run
            problem = f"the bot failed: {type(exc).__name__}: {exc}"
            failure = failed(j + 1, turn.describe(), [problem], "turns", j)
            break
        transcript += _transcribe(turn, heard, state)
        if heard.reply is not None and heard.reply.action == "transfer":
            last_transfer = heard.reply.target
        mismatches = _check_turn(turn, heard, state, conversation.dialog.variables(state))
        if mismatches:
            failure = failed(j + 1, turn.describe(), mismatches, "turns", j)
            break
    else:
        variables = conversation.dialog.variables(state)
        mismatches = _check_end(spec.end, state, last_transfer, variables) if spec.end else []
        if mismatches:
            failure = failed(None, "end", mismatches, "end")
    return ConversationResult(
        name=spec.name,
        file=test_file.shown,
        line=test_file.line("conversations", index),
        passed=failure is None,
        failure=failure,
        transcript=tuple(transcript),
    )


async def _play(
    conversation: Conversation, state: CallState, turn: TurnSpec, coverage: cover.Coverage | None
) -> Heard:
    """One event, as the CTI callback would send it; with ``coverage``, what it reached
    is counted."""
    if coverage is None or not isinstance(state, cover.TracedCallState):
        return await _event(conversation, state, turn)
    before, recorder = coverage.new_turn(state)
    try:
        heard = await _event(conversation, state, turn)
    finally:
        state.record(None)
    event = "silence" if turn.silence else "hangup" if turn.hangup else "caller"
    coverage.end_turn(state, before, recorder, event, heard.intent)
    return heard


async def _event(conversation: Conversation, state: CallState, turn: TurnSpec) -> Heard:
    if turn.silence:
        return Heard(await conversation.silence(state))
    if turn.hangup:
        conversation.hung_up(state)
        return Heard(None)
    assert turn.caller is not None  # exactly one event, checked at load
    return await conversation.hear(state, turn.caller, playing=turn.playing)


# --- expectations --------------------------------------------------------------------


def _check_turn(turn: TurnSpec, heard: Heard, state: CallState, variables: Mapping[str, object]) -> list[str]:
    out = _check_reply(turn, heard)
    if "intent" in turn.model_fields_set and turn.intent != heard.intent:
        out.append(f"intent: expected {turn.intent or 'no intent'} / got {_intent(heard)}")
    if turn.step is not None and turn.step != state.step:
        out.append(f"step: expected {turn.step} / got {state.step or 'none'}")
    out += _check_call(turn.outcome, turn.model_fields_set, turn.grade, state)
    out += _check_slots(turn.slots, state, variables)
    return out


def _check_reply(turn: TurnSpec, heard: Heard) -> list[str]:
    """The expectations on what the bot answered: continue, bot, action, transfer…"""
    out: list[str] = []
    reply = heard.reply
    said = _said(heard)
    if turn.continue_ is not None and turn.continue_ != (reply is None):
        if turn.continue_:
            out.append(f"continue: expected the bot to let its prompt play on / got an answer: {said}")
        else:
            out.append("continue: expected an answer / got none: the bot let its prompt play on")
    missing = [t for t in turn.bot or [] if reply is None or t not in reply.text]
    if missing:
        out.append(f"bot: expected the answer to contain {_texts(missing)} / got {said}")
    present = [t for t in turn.bot_not or [] if reply is not None and t in reply.text]
    if present:
        out.append(f"bot_not: expected the answer not to contain {_texts(present)} / got {said}")
    if turn.action is not None:
        got = "no answer" if reply is None else reply.action or "none"
        if got != turn.action:
            out.append(f"action: expected {turn.action} / got {got}")
    if turn.transfer is not None:
        target = reply.target if reply is not None and reply.action == "transfer" else None
        if target != turn.transfer:
            out.append(f"transfer: expected {turn.transfer} / got {target or 'no transfer'}")
    if turn.interruptible is not None:
        if reply is None:
            out.append(f"interruptible: expected {_value(turn.interruptible)} / got no answer")
        elif reply.interruptible != turn.interruptible:
            out.append(
                f"interruptible: expected {_value(turn.interruptible)} / got {_value(reply.interruptible)}"
            )
    return out


def _check_end(
    end: EndSpec, state: CallState, last_transfer: str | None, variables: Mapping[str, object]
) -> list[str]:
    out: list[str] = []
    if end.transfer is not None and end.transfer != last_transfer:
        out.append(f"transfer: expected {end.transfer} / got {last_transfer or 'no transfer'}")
    out += _check_call(end.outcome, end.model_fields_set, end.grade, state)
    out += _check_slots(end.slots, state, variables)
    if end.score is not None:
        got = state.grade.score if state.grade else None
        if got != end.score:
            out.append(f"score: expected {end.score} / got {got if got is not None else 'no grade'}")
    return out


def _check_call(outcome: str | None, given: set[str], grade: str | None, state: CallState) -> list[str]:
    """The expectations a turn and ``end:`` share: outcome, grade."""
    out: list[str] = []
    if outcome is not None and outcome != state.outcome:
        reason = f" ({state.end_reason})" if state.end_reason else ""
        out.append(f"outcome: expected {outcome} / got {state.outcome}{reason}")
    if "grade" in given:
        got = state.grade.grade if state.grade else None
        if got != grade:
            shown = f"{got} ({state.grade.reason})" if state.grade else "no grade"
            out.append(f"grade: expected {grade or 'no grade'} / got {shown}")
    return out


def _check_slots(slots: Slots | None, state: CallState, variables: Mapping[str, object]) -> list[str]:
    """``slots:``: each (dotted) name's value among what expressions see."""
    out: list[str] = []
    for key, want in (slots or {}).items():
        found = find(variables, key)
        have = found.value
        if found.problem is not None and want is not None:
            out.append(f"slots.{key}: expected {_value(want)} / got nothing: {found.problem}")
            continue
        if _same(want, have):
            continue
        line = f"slots.{key}: expected {_value(want)} / got {_value(have)}"
        if have is None and state.pending is not None and state.pending[0] == key:
            line += f" (still waiting for the caller to confirm {_value(state.pending[1])})"
        elif isinstance(have, str) and not isinstance(want, str) and want is not None and have == _text(want):
            line += f' — the bot holds text: quote the value in the test ("{have}")'
        out.append(line)
    return out


def _same(want: object, have: object) -> bool:
    """Equal, with true/false never equal to 1/0."""
    if isinstance(want, bool) or isinstance(have, bool):
        return type(want) is type(have) and want == have
    if isinstance(want, dict) and isinstance(have, dict):
        return want.keys() == have.keys() and all(_same(want[k], have[k]) for k in want)
    if isinstance(want, list | tuple) and isinstance(have, list | tuple):
        return len(want) == len(have) and all(_same(w, h) for w, h in zip(want, have, strict=True))
    return want == have


def _text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _value(value: object) -> str:
    return "null (not set)" if value is None else _text(value)


def _texts(texts: Sequence[str]) -> str:
    return ", ".join(_text(t) for t in texts)


def _said(heard: Heard) -> str:
    if heard.reply is None:
        return "no answer (the bot let its prompt play on)"
    return _text(heard.reply.text) if heard.reply.text else "an answer with nothing said"


def _intent(heard: Heard) -> str:
    if heard.intent is not None:
        return f"{heard.intent} ({heard.confidence:.2f})" if heard.confidence is not None else heard.intent
    if heard.confidence is not None:
        return f"no intent (best score {heard.confidence:.2f})"
    return "no intent"


def _transcribe(turn: TurnSpec, heard: Heard, state: CallState) -> list[str]:
    if turn.silence:
        caller = "caller: (silence)"
    elif turn.hangup:
        return [f"caller: (hangs up)  [outcome={state.outcome}]"]
    else:
        caller = f"caller: {turn.caller}" + ("  (while the bot spoke)" if turn.playing else "")
    if heard.reply is None:
        return [caller, "bot: (lets its prompt play on)"]
    notes = [f"step={state.step}"]
    if turn.caller is not None:
        score = f" {heard.confidence:.2f}" if heard.confidence is not None else ""
        if heard.by_model:  # the classifier's best score was another intent's, under the threshold
            score = f" (model{',' + score.replace(' ', ' best score ') if score else ''})"
        score += " (second opinion)" if heard.second_opinion else ""
        notes.append(f"intent={heard.intent or 'none'}{score}{heard.rival_note}")
    if heard.reply.action == "transfer":
        notes.append(f"transfer {heard.reply.target}")
    elif heard.reply.action == "hangup":
        notes.append("hangup")
    text = heard.reply.text or "(says nothing)"
    return [caller, f"bot: {text}  [{', '.join(notes)}]"]


# --- the command ----------------------------------------------------------------------


@dataclass
class TestRun:
    """What a run of test files gave.

    Attributes:
        results: One per conversation played.
        problems: The test files' located problems, warnings included.
        coverage: What the conversations reached, when asked for.
        coverage_report: Its report, per flow (``bot.authoring.coverage.report``).
        cassette_missing: Requests to the language model that ``--cassette`` had no
            answer for (each was answered "none": record them with ``--record``).
        cassette_unrecorded: With ``--record``, requests the server gave no answer
            for: the cassette still lacks them.
    """

    __test__ = False  # not a test class, for pytest

    results: list[ConversationResult]
    problems: list[FlowProblem]
    coverage: cover.Coverage | None = None
    coverage_report: str = ""
    cassette_missing: int = 0  # the language model's requests its cassette had no answer for
    cassette_unrecorded: int = 0  # with --record: requests the server gave no answer for

    @property
    def errors(self) -> list[FlowProblem]:
        return [p for p in self.problems if p.severity == "error"]


async def run_files(
    files: Sequence[Path],
    flows_dir: Path,
    settings: Settings,
    *,
    segmenter: Segmenter | None = None,
    coverage: bool = False,
    model: LanguageModel | None = None,
) -> TestRun:
    """Every test file against one conversation over the flows (loaded once); an invalid
    test file is a problem of the run, the others still run. ``model``: the language
    model's recorded answers (a ``Cassette``); without one, none is asked.

    Raises:
        InvalidFlowsError: a flow of ``flows_dir`` is invalid.
    """
    loaded: list[FlowTestFile] = []
    run = TestRun([], [])
    for path in files:
        try:
            loaded.append(load_test_file(path))
        except FlowValidationError as exc:
            run.problems += exc.problems
    if not loaded:
        return run
    clock = _Clock(settings.today())
    async with contextlib.AsyncExitStack() as stack:
        conversation = await _open(stack, flows_dir, settings, clock, segmenter, model=model)
        if coverage:
            run.coverage = cover.Coverage({f.name: f.flow for f in conversation.flows})
        for test_file in loaded:
            try:
                played = await _run_test_file(test_file, conversation, clock, settings, run.coverage)
            except FlowValidationError as exc:
                run.problems += exc.problems
                continue
            run.results += played[0]
            run.problems += played[1]
        if run.coverage is not None:
            sources = sorted((f.name, f.flow, f.source.path) for f in conversation.flows)
            run.coverage_report = cover.report(sources, run.coverage.reached)
    if isinstance(model, Cassette):
        run.cassette_missing, run.cassette_unrecorded = model.missing, model.unrecorded
    return run


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--flows-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The flows to test (default: VOICEBOT_FLOWS_DIR).",
)
@click.option("-v", "--verbose", is_flag=True, help="Print the transcripts of passing conversations too.")
@click.option(
    "--coverage",
    is_flag=True,
    help="After the results, list the steps and branches of each flow that no conversation reached.",
)
@click.option(
    "--cassette",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The language model's recorded answers to replay (docs/llm.md); without it no model is asked.",
)
@click.option(
    "--record",
    is_flag=True,
    help="Ask VOICEBOT_LLM_URL for the answers --cassette lacks, and add them to it.",
)
@click.pass_context
def flows_test_command(  # noqa: PLR0917  (click passes every option)
    ctx: click.Context,
    paths: tuple[Path, ...],
    flows_dir: Path | None,
    verbose: bool,
    coverage: bool,
    cassette: Path | None,
    record: bool,
) -> None:
    """Play conversation tests against the flows (default: the flows directory's tests/).

    Exit status 0 when every conversation goes as written, 1 when one does not or a
    test file is invalid, 2 when the flows themselves are invalid. Coverage and
    warnings do not change it.
    """
    try:
        settings = load_settings()
    except ConfigError as exc:
        click.echo(f"voicebot: {exc}", err=True)
        ctx.exit(2)
    flows_dir = flows_dir or settings.flows_dir
    targets = list(paths) or [flows_dir / TESTS_DIR]
    files = test_files([t for t in targets if t.exists()])
    if not files:
        where = ", ".join(str(t) for t in targets)
        click.echo(f"no conversation tests in {where} — write one: <flows dir>/tests/<name>.yaml", err=True)
        ctx.exit(1)
    logging.getLogger("jieba").setLevel(logging.WARNING)  # its dictionary loading notice
    # A Segmenter handed in as the context object is shared (tests load jieba once).
    segmenter = ctx.find_object(Segmenter) or Segmenter()
    if record and cassette is None:
        click.echo("--record adds answers to a cassette: name it with --cassette FILE", err=True)
        ctx.exit(2)
    try:
        model = language_model(settings, cassette=cassette, record=record) if cassette else None
        run = asyncio.run(
            run_files(files, flows_dir, settings, segmenter=segmenter, coverage=coverage, model=model)
        )
    except ConfigError as exc:
        click.echo(f"voicebot: {exc}", err=True)
        ctx.exit(2)
    except InvalidFlowsError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        click.echo(f"the flows of {flows_dir} are invalid: no conversation was played", err=True)
        ctx.exit(2)
    for problem in run.problems:
        click.echo(str(problem))
    if run.results:
        click.echo(report(run.results, verbose=verbose))
    if run.coverage_report:
        click.echo("\n" + run.coverage_report)
    if run.cassette_missing:
        click.echo(
            f"{run.cassette_missing} request(s) to the language model were not in {cassette}: each was "
            "answered none — record them with --record and VOICEBOT_LLM_URL",
            err=True,
        )
    if run.cassette_unrecorded:
        click.echo(
            f"{run.cassette_unrecorded} request(s) got no answer from VOICEBOT_LLM_URL and were not "
            f"recorded in {cassette} (the log says why): run again",
            err=True,
        )
    if run.errors:
        invalid = len({p.flow_file for p in run.errors})
        click.echo(f"{invalid} invalid test file{'s' * (invalid != 1)}: fix and run again", err=True)
    failed = run.errors or run.cassette_unrecorded or not all(r.passed for r in run.results)
    ctx.exit(1 if failed else 0)
