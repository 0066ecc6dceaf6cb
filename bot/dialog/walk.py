"""The walk of a flow: from a step to the next one that waits for the caller or ends
the call, doing each step's work and joining what the steps say into one reply."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.dialog.agents import AgentStatus, FixedAgents
from bot.dialog.business import BusinessAPI
from bot.dialog.consult import Consultant
from bot.dialog.context import FlowContext, RunnableFlow, wait_at
from bot.dialog.grading import end_call
from bot.dialog.state import CallState, Frame, Reply
from bot.language.expressions import truthy
from bot.language.flow import Collect, Ladder, Prompt, Step
from bot.language.slots import SlotMatch

logger = logging.getLogger(__name__)

MAX_HOPS = 100
"""Steps one walk may take without waiting for the caller; a flow that loops through
``if:`` branches longer than this is ended rather than left spinning."""
MAX_STACK = 8
"""Nested ``call:`` flows and digressions kept; deeper, the oldest return is forgotten."""


@dataclass(frozen=True)
class Hop:
    """The next step of a walk; ``resume``: back from a digression, skip its work."""

    step: str
    resume: bool = False


@dataclass
class Walk:
    """The utterance a walk started from, the slots already filled from it, and the
    spans of the words that filled them (no other slot reads a value out of those:
    the 两 of 下午两点 is not also an amount of 2)."""

    text: str
    consumed: set[str] = field(default_factory=set)
    spans: list[tuple[int, int]] = field(default_factory=list)

    def free(self, start: int, end: int) -> bool:
        """Whether ``text[start:end]`` overlaps no words an earlier slot took."""
        return all(end <= taken_start or start >= taken_end for taken_start, taken_end in self.spans)


def walk_of(text: str | None) -> Walk | None:
    return Walk(text) if text else None


def in_doubt(found: SlotMatch, *, answered: bool) -> bool:
    """Whether a value is to be asked back before it is stored (unless the step says
    ``clarify: false``).

    A value with other readings (两点: 14:00 or 02:00) always is. One that is unsure
    only for a missing word (三千五 with no 元) is when it came from words said for
    something else (slot-first), not when it ``answered`` the step's own question:
    asked "多少钱？", the question gave the unit.
    """
    return found.unsure and (bool(found.alternatives) or not answered)


class Walker:
    """Walks the flows of ``context`` for any number of calls."""

    def __init__(
        self,
        context: FlowContext,
        business: BusinessAPI,
        consultant: Consultant,
        agents: AgentStatus | None = None,
    ) -> None:
        self._context = context
        self._business = business
        self._consultant = consultant
        self._agents = agents or FixedAgents()

    async def enter(self, state: CallState, cause: str) -> Reply:
        """Walk from the entry step of the flow the call is in."""
        return await self.go(state, self._context.here(state).flow.entry, None, cause)

    async def climb(
        self, state: CallState, ladder: Ladder | None, count: int, what: str, *, text: str | None = None
    ) -> Reply:
        """Re-prompt, or past the last re-prompt go to the ladder's step; ``text`` (the
        words not understood) goes along, for a ``knowledge`` or ``collect`` step there."""
        # The loader guarantees every waiting step a ladder.
        assert state.step is not None
        assert ladder is not None
        if count <= len(ladder.prompts):
            return self._context.reply(state, [ladder.prompts[count - 1]])
        cause = f"{what}: {count} times at step {state.step!r} ({len(ladder.prompts)} re-prompts)"
        state.pending = None
        return await self.go(state, ladder.then, walk_of(text), cause)

    async def digress(self, state: CallState, intent: str | None) -> Reply | None:
        """A global intent interrupts the step; its steps may ``return: true`` to resume it.
        None when ``intent`` is not one of the flow's global intents."""
        here = self._context.here(state)
        target = here.flow.global_.get(intent) if intent else None
        if target is None or state.step is None:
            return None
        self._push(state, Frame(here.name, here.version, state.step, resume=True))
        state.pending = None
        return await self.go(state, target, None, f"global intent {intent!r} at step {state.step!r}")

    async def go(
        self, state: CallState, name: str, walk: Walk | None, cause: str, *, said: list[Prompt] | None = None
    ) -> Reply:
        """Walk from step ``name`` to the next step that waits or ends the call.

        Args:
            state: The call.
            name: The step to walk from.
            walk: The utterance that led here: a ``collect`` step on the way takes its
                slot from it if it is there (slot-first), once per slot; a
                ``knowledge`` step asks it.
            cause: Why the walk started, for the end reason.
            said: What the reply already says.
        """
        said = list(said or ())
        hop = Hop(name)
        for _ in range(MAX_HOPS):
            here = self._context.here(state)
            step = here.flow.steps[hop.step]
            state.step = hop.step  # `step` in expressions is the step running
            branch = None if hop.resume else await self._work(state, here, step)
            if branch is not None:
                hop = Hop(branch)
                continue
            if step.say:
                said.append(self._context.render(state, step.say))
            if step.knowledge and not hop.resume:
                spoken, then = await self._consultant.enter(
                    state, hop.step, step.knowledge, walk.text if walk else None
                )
                said += spoken
                outcome: Hop | Reply = Hop(then) if isinstance(then, str) else then
            else:
                outcome = self._act(state, here, hop.step, step, walk=walk, cause=cause)
            if isinstance(outcome, Hop):
                hop = outcome
                continue
            return Reply((*said, *outcome.prompts), action=outcome.action, target=outcome.target)
        logger.error(
            "call %s: flow %s walked %d steps without waiting", state.call_id, state.position, MAX_HOPS
        )
        cause = f"{cause} → the flow looped for {MAX_HOPS} steps at {hop.step!r}"
        end_call(self._context, state, "hung_up_by_bot", cause)
        return Reply(tuple(said), action="hangup")

    def _act(
        self, state: CallState, here: RunnableFlow, name: str, step: Step, *, walk: Walk | None, cause: str
    ) -> Hop | Reply:
        """A step's action: the next step to walk to, or the end of the walk (what is
        still to say, and what to do)."""
        onward = self._onward(state, here, step)
        if onward is not None:
            return onward
        if step.ask:
            wait_at(state, name)
            return Reply(())
        if step.collect:
            wait_at(state, name)
            return self._enter_collect(state, here, step.collect, walk)
        if step.knowledge:  # back from a digression: ask for the question again
            wait_at(state, name)
            return Reply((self._context.render(state, step.knowledge.prompt),))
        if step.transfer:
            cause = f"{cause} → transfer to {step.transfer} at step {name!r}"
            end_call(self._context, state, "transferred", cause)
            return Reply((), action="transfer", target=step.transfer)
        if step.return_:  # with nothing to return to
            cause = f"{cause} → return from the call's own flow at {name!r}"
        else:
            cause = f"{cause} → hang-up at step {name!r}"
        end_call(self._context, state, "hung_up_by_bot", cause)
        return Reply((), action="hangup")

    def _onward(self, state: CallState, here: RunnableFlow, step: Step) -> Hop | None:
        """The next step of an action that goes on (goto, call, link, return), or None."""
        if step.goto:
            return Hop(step.goto)
        if step.call:
            self._push(state, Frame(here.name, here.version, step.call.then))
            return Hop(self._move(state, step.call.flow))
        if step.link:
            return Hop(self._move(state, step.link))
        if step.return_ and state.stack:
            frame, state.stack = state.stack[-1], state.stack[:-1]
            state.move_to(frame.flow, frame.version)
            # Back from a digression, the interrupted step is asked again, its work
            # (set, lookup, http, if) not done twice.
            return Hop(frame.step, resume=frame.resume)
        return None

    def _enter_collect(
        self, state: CallState, here: RunnableFlow, collect: Collect, walk: Walk | None
    ) -> Hop | Reply:
        """Arriving at a collect step: a slot filled earlier goes on; a value in the
        utterance that led here is taken (slot-first), or read back first when the step
        confirms or the value is unsure; else the question."""
        if state.variables.get(collect.slot) is not None:
            return Hop(collect.then)
        found = None
        if walk is not None and collect.slot not in walk.consumed:
            kind = here.flow.slots[collect.slot].kind
            matches = kind.extract_all(walk.text, self._context.slot_context())
            found = next((m for m in matches if walk.free(m.start, m.end)), None)
        if found is None:
            return Reply((self._context.render(state, collect.prompt),))
        assert walk is not None
        walk.consumed.add(collect.slot)  # never refilled from the same words (a not-found loop)
        walk.spans.append((found.start, found.end))
        if collect.reads_back(in_doubt(found, answered=False)):  # a confirmation, or a guess asked back
            state.pending = (collect.slot, found.value)
            return Reply((self._context.render(state, collect.read_back(), pending=True),))
        state.variables[collect.slot] = found.value
        return Hop(collect.then)

    async def _work(self, state: CallState, here: RunnableFlow, step: Step) -> str | None:
        """A step's work before it speaks: set, lookup, http, if, and a transfer's
        ``busy:`` when nobody can answer. Returns a step to branch to."""
        view = self._context.variables(state)  # what expressions see, kept in step with the assignments

        def assign(values: Mapping[str, object]) -> None:
            state.variables.update(values)
            view.update(values)

        for variable, expression in step.set.items():
            assign({variable: expression.evaluate(view)})
        if step.lookup:
            values = {column: e.evaluate(view) for column, e in step.lookup.match.items()}
            row = None if None in values.values() else here.tables[step.lookup.table].find(values)
            assign({step.lookup.as_: None if row is None else dict(row)})
            if row is None:
                return step.lookup.not_found
        if step.http:
            outcome = await self._business.call(step.http, view)
            if not outcome.ok:
                logger.warning("call %s: http step %r failed: %s", state.call_id, state.step, outcome.error)
                names = (*step.http.save, *([step.http.as_] if step.http.as_ else []))
                assign(dict.fromkeys(names))  # no stale value from an earlier call
                return step.http.on_error
            assign(outcome.variables)
        for branch in step.if_:
            if truthy(branch.when.evaluate(view)):
                return branch.goto
        if step.busy and not await self._can_answer(state, step):
            logger.info(
                "call %s: nobody can answer %s; step %r goes to busy",
                state.call_id,
                step.transfer,
                state.step,
            )
            return step.busy
        return None

    async def _can_answer(self, state: CallState, step: Step) -> bool:
        """Whether anyone can answer the step's transfer (asked only with ``busy:``)."""
        assert step.transfer is not None  # the flow model allows busy: only with transfer:
        return await self._agents.can_answer(step.transfer, call_id=state.call_id)

    def _move(self, state: CallState, flow_name: str) -> str:
        """Go into another flow (its current version); returns its entry step."""
        target = self._context.flows.get(flow_name)
        state.move_to(target.name, target.version)
        return target.flow.entry

    def _push(self, state: CallState, frame: Frame) -> None:
        state.stack = (*state.stack, frame)[-MAX_STACK:]
