"""Which steps and branches of the flows conversation tests reach (``voicebot flows
test --coverage``).

What counts, per flow (each item is located where it is written):

* every step;
* every way a step may go that depends on the call: each ``ask`` intent, each ``if``
  branch and its "no condition held", ``lookup`` found / not found, ``http`` ok /
  error, ``collect`` filled (or confirmed) / failed, ``knowledge`` answered / not
  found / error, a ``call:`` returned, a ``transfer`` with ``busy:`` made / busy;
* each re-prompt and the ``then`` of the silence and no-match ladders (a step's own,
  or the flow's ``defaults`` for every step without one), and each ``global`` intent.

How it is recorded, with nothing added to the engine: the call of a conversation test
is a :class:`TracedCallState`, whose attribute writes a :class:`TurnRecorder` sees.
The walk (``bot.dialog.walk.Walker.go``) sets ``state.step`` on every step it enters;
``greeted`` and ``last_text`` are set before the greeting's and the answer's walks;
``stack`` loses its last frame when a flow returns. From the steps entered, one
after another, and what the turn was (silence, which intent, the counts after it),
each turn's ways are told apart. Two ways out of one step that lead to the same step
(an ``if`` branch and the step's ``goto`` both to ``agent``) cannot be told apart this
way and are counted together. Runs without ``--coverage`` use a plain ``CallState``:
the engine and the CTI callback never pay for any of this.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.dialog.state import CallState, Frame
from bot.errors import FlowValidationError
from bot.language.flow import Flow, Ladder, Step
from bot.language.loader import KeyPath, Places, parse_yaml, read_author_file

CONDITION_LIMIT = 40
"""Characters of an ``if`` condition shown in the report."""

ItemKey = tuple[str, KeyPath]
"""A flow's name and the key path of a step or branch in its file."""


# --- what there is to reach ----------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A step or a branch of a flow; ``step``: the step it belongs to (None: the flow's)."""

    loc: KeyPath
    label: str
    step: str | None


def items_of(flow: Flow) -> list[Item]:
    """The steps and branches of ``flow``, in file order."""
    items: list[Item] = []
    for name, step in flow.steps.items():
        items.append(Item(("steps", name), f"step {name}", None))
        branches = _branches(flow, step)
        items += [Item(("steps", name, *loc), f"{name}: {label}", name) for loc, label in branches]
    for kind in ("silence", "no_match"):
        ladder: Ladder | None = getattr(flow.defaults, kind)
        if ladder is not None:
            ladders = _ladder(("defaults", kind), kind, ladder)
            items += [Item(loc, f"defaults: {label}", None) for loc, label in ladders]
    items += [Item(("global", i), f"global intent {i} → {t}", None) for i, t in flow.global_.items()]
    return items


def _branches(flow: Flow, step: Step) -> Iterator[tuple[KeyPath, str]]:
    if step.lookup:
        yield ("lookup",), "lookup found"
        yield ("lookup", "not_found"), f"lookup not found → {step.lookup.not_found}"
    if step.http:
        yield ("http",), "http ok"
        yield ("http", "on_error"), f"http error → {step.http.on_error}"
    for i, branch in enumerate(step.if_):
        yield ("if", i), f"if {_short(branch.when.source)} → {branch.goto}"
    if step.if_:
        yield ("if",), "no condition held"
    for intent, target in (step.ask or {}).items():
        yield ("ask", intent), f"intent {intent} → {target}"
    if step.collect:
        done = "confirmed" if step.collect.confirm else "filled"
        yield ("collect", "then"), f"{step.collect.slot} {done} → {step.collect.then}"
        fail = _collect_fail(flow, step)
        if fail is not None:
            yield _collect_fail_loc(step), f"{step.collect.slot} failed → {fail}"
    if step.knowledge:
        yield ("knowledge", "then"), f"knowledge answered → {step.knowledge.then}"
        if step.knowledge.not_found:
            yield ("knowledge", "not_found"), f"knowledge not found → {step.knowledge.not_found}"
        yield ("knowledge", "on_error"), f"knowledge error → {step.knowledge.on_error}"
    if step.call:
        yield ("call", "then"), f"returned from {step.call.flow} → {step.call.then}"
    yield from _transfer_branches(step)
    for kind in ("silence", "no_match"):
        ladder: Ladder | None = getattr(step, kind)
        if ladder is not None:
            yield from _ladder((kind,), kind, ladder)


def _transfer_branches(step: Step) -> Iterator[tuple[KeyPath, str]]:
    """A transfer with ``busy:``: made (someone could answer), or its ``busy:`` taken."""
    if step.busy:
        yield ("transfer",), f"someone can answer → transfer {step.transfer}"
        yield ("busy",), f"nobody can answer → {step.busy}"


def _ladder(at: KeyPath, kind: str, ladder: Ladder) -> Iterator[tuple[KeyPath, str]]:
    what = kind.replace("_", "-")
    count = len(ladder.prompts)
    for i in range(count):
        yield (*at, "prompts", i), f"{what} re-prompt {i + 1}/{count}"
    yield (*at, "then"), f"{what} → {ladder.then}"


def _collect_fail(flow: Flow, step: Step) -> str | None:
    assert step.collect is not None
    ladder = flow.defaults.no_match  # a collect step has no no_match of its own
    return step.collect.fail or (ladder.then if ladder else None)


def _collect_fail_loc(step: Step) -> KeyPath:
    assert step.collect is not None
    return ("collect", "fail") if step.collect.fail else ("collect",)


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= CONDITION_LIMIT else line[: CONDITION_LIMIT - 1] + "…"


# --- recording a call ----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A step a walk entered; ``returned``: the frame a ``return`` popped to get here."""

    flow: str
    step: str
    returned: Frame | None = None

    @property
    def resumed(self) -> bool:
        """Back from a digression: the step's work (set, lookup, http, if) is not redone."""
        return self.returned is not None and self.returned.resume


@dataclass
class TurnRecorder:
    """The walks of one turn: the steps each entered, in order."""

    walks: list[list[Entry]] = field(default_factory=lambda: [[]])
    _returned: Frame | None = None

    def saw(self, state: CallState, name: str, value: Any) -> None:
        """``state.<name> = value`` is about to happen."""
        if name == "step" and value is not None:
            walk, flow = self.walks[-1], state.position[0]
            if walk and (walk[-1].flow, walk[-1].step) == (flow, value):
                return  # the step waits (`wait_at`): not entered again
            walk.append(Entry(flow, value, self._returned))
            self._returned = None
        elif name in ("greeted", "last_text") and self.walks[-1]:
            self.walks.append([])  # the greeting's walk is over; the answer's begins
        elif name == "stack" and len(value) == len(state.stack) - 1:
            self._returned = state.stack[-1]

    def entries(self) -> Iterator[Entry]:
        for walk in self.walks:
            yield from walk


class TracedCallState(CallState):
    """A call whose every attribute write is shown to its recorder first (see the module
    docstring). The recorder is set per turn with :meth:`record`."""

    def __setattr__(self, name: str, value: Any) -> None:
        recorder: TurnRecorder | None = self.__dict__.get("_recorder")
        if recorder is not None:
            recorder.saw(self, name, value)
        super().__setattr__(name, value)

    def record(self, recorder: TurnRecorder | None) -> None:
        object.__setattr__(self, "_recorder", recorder)


@dataclass(frozen=True)
class Before:
    """What a turn started from."""

    greeted: bool
    flow: str
    step: str | None
    silence_count: int
    no_match_count: int

    @classmethod
    def of(cls, state: CallState) -> Before:
        flow = state.position[0]
        return cls(state.greeted, flow, state.step, state.silence_count, state.no_match_count)


# --- what a turn reached -------------------------------------------------------------


class Coverage:
    """The steps and branches every conversation of a run reached.

    Args:
        flows: The flows by name, as the run's conversation has them.
    """

    def __init__(self, flows: Mapping[str, Flow]) -> None:
        self._flows = flows
        self.reached: set[ItemKey] = set()

    def new_turn(self, state: TracedCallState) -> tuple[Before, TurnRecorder]:
        """Start recording a turn of ``state``'s call."""
        recorder = TurnRecorder()
        state.record(recorder)
        return Before.of(state), recorder

    def end_turn(
        self,
        state: TracedCallState,
        before: Before,
        recorder: TurnRecorder,
        event: str,
        intent: str | None,
    ) -> None:
        """Count what the turn reached; ``event``: ``silence``, ``caller`` or ``hangup``."""
        state.record(None)
        walks = [walk for walk in recorder.walks if walk]
        for entry in recorder.entries():
            self._add(entry.flow, ("steps", entry.step))
        for walk in walks:
            for here, there in itertools.pairwise(walk):
                self._went(here, there)
            self._stayed(walk[-1])
        waiting, answer = self._waiting(before, walks)
        if waiting is not None:
            first = answer[0] if answer else None
            _Answer(self, waiting, before, state, first).credit(event, intent)

    def _add(self, flow: str, loc: KeyPath) -> None:
        self.reached.add((flow, loc))

    def flow(self, name: str) -> Flow | None:
        return self._flows.get(name)

    @staticmethod
    def _waiting(before: Before, walks: list[list[Entry]]) -> tuple[Entry | None, list[Entry]]:
        """The step the caller answered at, and the walk that answer started."""
        if before.greeted:
            waiting = Entry(before.flow, before.step) if before.step else None
            return waiting, walks[0] if walks else []
        # The call's first event: the greeting's walk, then (caller first) maybe an answer.
        if len(walks) < 2:
            return None, []
        return walks[0][-1], walks[1]

    def _went(self, here: Entry, there: Entry) -> None:
        """One walk went from ``here`` to ``there``."""
        flow = self._flows.get(here.flow)
        if flow is None or here.step not in flow.steps:
            return
        step = flow.steps[here.step]
        if there.returned is not None and not there.returned.resume:
            self._returned_to(there)
        if not here.resumed and there.flow == here.flow:
            for loc, to in _work_exits(step):
                if to == there.step:
                    self._add(here.flow, ("steps", here.step, *loc))
        target = (there.flow, there.step)
        onward = [loc for loc, to in self._action_exits(step, here.flow) if to == target]
        if step.return_ and there.returned is not None:
            onward.append(())
        if onward:
            for loc in onward:
                if loc:
                    self._add(here.flow, ("steps", here.step, *loc))
            if not here.resumed:
                self._fell_through(here.flow, here.step, step)

    def _action_exits(self, step: Step, here: str) -> Iterator[tuple[KeyPath, tuple[str, str]]]:
        flow = self._flows[here]
        yield from _action_exits(flow, step, here)
        moved = step.call.flow if step.call else step.link
        entered = self._flows.get(moved) if moved else None
        if moved and entered is not None:
            yield (), (moved, entered.entry)

    def _stayed(self, last: Entry) -> None:
        """A walk ended at ``last``: it waits, or the call ended there."""
        flow = self._flows.get(last.flow)
        if flow is None or last.step not in flow.steps or last.resumed:
            return
        step = flow.steps[last.step]
        if not (step.goto or step.call or step.link):
            self._fell_through(last.flow, last.step, step)

    def _fell_through(self, flow: str, name: str, step: Step) -> None:
        """The step's work took no branch: its action ran."""
        worked = ((("lookup",), step.lookup), (("http",), step.http), (("if",), step.if_))
        for loc, present in (*worked, (("transfer",), step.busy)):
            if present:
                self._add(flow, ("steps", name, *loc))

    def _returned_to(self, there: Entry) -> None:
        """A called flow returned to ``there``: the ``call:`` steps that go on there."""
        assert there.returned is not None
        flow = self._flows.get(there.returned.flow)
        for name, step in flow.steps.items() if flow else ():
            if step.call and step.call.then == there.step:
                self._add(there.returned.flow, ("steps", name, "call", "then"))


def _work_exits(step: Step) -> Iterator[tuple[KeyPath, str]]:
    """The branches a step's work may take, with the step each goes to."""
    if step.lookup:
        yield ("lookup", "not_found"), step.lookup.not_found
    if step.http:
        yield ("http", "on_error"), step.http.on_error
    for i, branch in enumerate(step.if_):
        yield ("if", i), branch.goto
    if step.busy:
        yield ("busy",), step.busy


def _action_exits(flow: Flow, step: Step, here: str) -> Iterator[tuple[KeyPath, tuple[str, str]]]:
    """Where a step's action goes on within a walk, in its own flow: ``(flow, step)``
    for each way (a key path of () when the way is the only one)."""
    if step.goto:
        yield (), (here, step.goto)
    if step.collect:  # filled earlier, or from the words that led here
        yield ("collect", "then"), (here, step.collect.then)
    if step.knowledge:
        for key in ("then", "not_found", "on_error"):
            target = getattr(step.knowledge, key)
            if target:
                yield ("knowledge", key), (here, target)


@dataclass
class _Answer:
    """The answer walk of a turn, from the step the caller was at."""

    coverage: Coverage
    waiting: Entry
    before: Before
    state: CallState
    first: Entry | None

    def credit(self, event: str, intent: str | None) -> None:
        flow = self.coverage.flow(self.waiting.flow)
        if flow is None or self.waiting.step not in flow.steps:
            return
        step = flow.steps[self.waiting.step]
        if event == "silence":
            self._ladder(flow, "silence", step.silence is not None, self.before.silence_count)
        elif event == "caller":
            self._caller(flow, step, intent)

    def _goes_to(self, target: str | None) -> bool:
        return target is not None and self.first is not None and self._at(self.first, target)

    def _at(self, entry: Entry, target: str) -> bool:
        return (entry.flow, entry.step) == (self.waiting.flow, target)

    def _add(self, *loc: str | int) -> None:
        self.coverage.reached.add((self.waiting.flow, loc))

    def _caller(self, flow: Flow, step: Step, intent: str | None) -> None:
        name = self.waiting.step
        if step.ask and intent in step.ask and self._goes_to(step.ask[intent]):
            self._add("steps", name, "ask", intent)
        elif intent in flow.global_ and self._goes_to(flow.global_[intent]):
            self._add("global", intent)
        elif step.collect:
            slot = step.collect.slot
            if self._goes_to(step.collect.then) and self.state.variables.get(slot) is not None:
                self._add("steps", name, "collect", "then")
            elif self._goes_to(_collect_fail(flow, step)) and self.state.variables.get(slot) is None:
                self._add("steps", name, *_collect_fail_loc(step))
        elif step.knowledge:
            for key in ("then", "not_found", "on_error"):
                if self._goes_to(getattr(step.knowledge, key)):
                    self._add("steps", name, "knowledge", key)
        elif step.ask:
            self._ladder(flow, "no_match", step.no_match is not None, self.before.no_match_count)

    def _ladder(self, flow: Flow, kind: str, own: bool, count_before: int) -> None:
        """A silence or no-match: a re-prompt of the ladder, or its ``then``."""
        name = self.waiting.step
        ladder: Ladder | None = getattr(flow.steps[name], kind) if own else getattr(flow.defaults, kind)
        if ladder is None:
            return
        at: KeyPath = ("steps", name, kind) if own else ("defaults", kind)
        count = self.state.silence_count if kind == "silence" else self.state.no_match_count
        repeats_question = kind == "silence" and not own and flow.steps[name].collect is not None
        if self.first is None and count > count_before and not repeats_question:
            if count <= len(ladder.prompts):
                self._add(*at, "prompts", count - 1)
        elif self._goes_to(ladder.then):
            self._add(*at, "then")


# --- the report ------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowCoverage:
    """What the tests reached of one flow.

    Attributes:
        missed: ``(line, label)`` of each step not reached, and of each branch not
            taken of the steps reached, in line order.
        hidden: Branches of steps never reached (not listed one by one).
    """

    name: str
    path: str
    total: int
    reached: int
    missed: tuple[tuple[int, str], ...]
    hidden: int

    def lines(self) -> list[str]:
        share = f"{self.reached}/{self.total} steps and branches ({100 * self.reached // self.total}%)"
        if self.reached == self.total:
            return [f"coverage of flow {self.name} ({self.path}): {share}"]
        if self.reached == 0:
            return [f"coverage of flow {self.name} ({self.path}): {share} — no test reaches it"]
        out = [f"coverage of flow {self.name} ({self.path}): {share}; not reached:"]
        out += [f"  {self.path}:{line}: {label}" for line, label in self.missed]
        if self.hidden:
            out.append(f"  (and {self.hidden} branch{'es' * (self.hidden != 1)} of the steps not reached)")
        return out


def flow_coverage(name: str, flow: Flow, path: Path, reached: set[ItemKey]) -> FlowCoverage:
    """How much of ``flow`` (the file ``path``) the run reached."""
    shown = str(path)
    places = _places(path, shown)
    items = items_of(flow)
    got = [item for item in items if (name, item.loc) in reached]
    unreached_steps = {i.loc[1] for i in items if i.step is None and i.loc[0] == "steps" and i not in got}
    missed: list[tuple[int, str]] = []
    hidden = 0
    for item in items:
        if item in got:
            continue
        if item.step in unreached_steps:
            hidden += 1
            continue
        line = places.locate(shown, item.loc, "", "").line if places else 1
        missed.append((line, item.label))
    return FlowCoverage(name, shown, len(items), len(got), tuple(sorted(missed)), hidden)


def _places(path: Path, shown: str) -> Places | None:
    """Where each key of the flow file is (it was valid when loaded; None if it no longer is)."""
    try:
        _, text = read_author_file(path, unreadable_fix="")
        _, places = parse_yaml(text, shown)
    except FlowValidationError:
        return None
    return places


def report(flows: Iterable[tuple[str, Flow, Path]], reached: set[ItemKey]) -> str:
    """The coverage of each flow, one block each."""
    lines: list[str] = []
    for name, flow, path in flows:
        lines += flow_coverage(name, flow, path, reached).lines()
    return "\n".join(lines)
