"""The dialog engine: given a call's state and what happened, walk the flow.

No I/O of its own: the clock (``today``) and business API calls (``http:`` steps)
are handed in, so every rule of a flow can be tested without a server. One
``Dialog`` serves every call and every flow; the call's ``CallState`` holds its
place (flow, step, return stack, variables).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.dialog.business import BusinessAPI
from bot.dialog.knowledge import KnowledgeClient, sender_of
from bot.dialog.state import CallState, Frame, Grade, Outcome, Reply
from bot.errors import KnowledgeError
from bot.language.expressions import truthy
from bot.language.flow import Collect, Flow, Knowledge, Ladder, Prompt, Step
from bot.language.slots import SlotContext, SlotMatch, YesNoSlot
from bot.language.tables import Table

logger = logging.getLogger(__name__)

MAX_HOPS = 100
"""Steps one walk may take without waiting for the caller; a flow that loops through
``if:`` branches longer than this is ended rather than left spinning."""
MAX_STACK = 8
"""Nested ``call:`` flows and digressions kept; deeper, the oldest return is forgotten."""
_YES_NO = YesNoSlot.from_options({})


class RunnableFlow(Protocol):
    """A loaded flow as the engine needs it (``bot.dialog.registry.LoadedFlow``)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def flow(self) -> Flow: ...
    @property
    def tables(self) -> Mapping[str, Table]: ...


class FlowLookup(Protocol):
    def get(self, name: str, version: str | None = None) -> RunnableFlow: ...


class Dialog:
    """Runs flows for any number of calls.

    Args:
        flows: Where a call's flow (and the flows it calls or links to) are found.
        business: Runs ``http:`` steps.
        knowledge: Answers ``knowledge`` steps; without one they take ``on_error``.
        today: The date of a call, in the call center's time zone (relative dates).
    """

    def __init__(
        self,
        flows: FlowLookup,
        *,
        business: BusinessAPI,
        knowledge: KnowledgeClient | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self._flows = flows
        self._business = business
        self._knowledge = knowledge
        self._today = today

    # --- the events of a call ------------------------------------------------------

    async def greet(self, state: CallState) -> Reply:
        """The first ``ready2speak``: enter the flow's entry step."""
        state.greeted = True
        return await self._enter(state, None, "greeting")

    async def silence(self, state: CallState) -> Reply:
        """A ``ready2speak`` after our prompt: climb the step's silence ladder."""
        if not state.greeted:
            return await self.greet(state)
        if state.ended or state.step is None:
            return self.replay(state)
        state.silence_count += 1
        flow = self._here(state).flow
        step, ladder = flow.steps[state.step], flow.silence_ladder(state.step)
        if step.collect and step.silence is None and ladder is not None:
            # A collecting step repeats its own question (not the flow's generic
            # re-prompts) as many times as the default ladder has prompts.
            if state.silence_count <= max(1, len(ladder.prompts)):
                question = step.collect.confirm if state.pending is not None else step.collect.prompt
                return self._reply(state, [question], pending=True)
            ladder = ladder.model_copy(update={"prompts": []})
        return await self._climb(state, ladder, state.silence_count, "silence")

    async def answer(self, state: CallState, text: str, intent: str | None) -> Reply:
        """The caller said ``text``, which NLU read as ``intent`` (None: no match)."""
        state.last_intent, state.last_text = intent, text
        if intent:
            state.intents = (*state.intents, intent)
        if not state.greeted:
            # A call we never greeted arrives with text: take the entry path silently.
            state.greeted = True
            await self._enter(state, None, "entry without greeting")
        if state.ended or state.step is None:
            return self.replay(state)
        state.silence_count = 0
        step = self._here(state).flow.steps[state.step]
        if step.collect:
            return await self._answer_collect(state, step.collect, text, intent)
        if step.knowledge:
            return await self._answer_knowledge(state, step.knowledge, text, intent)
        target = (step.ask or {}).get(intent) if intent else None
        if target is not None:
            return await self._go(state, target, _Walk(text), f"intent {intent!r} at step {state.step!r}")
        digression = await self._global(state, text, intent)
        if digression is not None:
            return digression
        state.no_match_count += 1
        ladder = self._here(state).flow.no_match_ladder(state.step)
        return await self._climb(state, ladder, state.no_match_count, "no match", text=text)

    def caller_hung_up(self, state: CallState) -> None:
        self._end(state, "hung_up_by_caller", f"caller hung up at step {state.step!r}")

    def abandon(self, state: CallState, reason: str) -> None:
        """No callback came for too long: the caller's ``hungup`` was lost."""
        self._end(state, "hung_up_by_caller", f"abandoned: {reason}")

    def replay(self, state: CallState) -> Reply:
        """After the call ended on our side, repeat the last words; never act again."""
        prompts = state.last_reply.prompts if state.last_reply else ()
        return Reply(tuple(p.model_copy(update={"interruptible": False}) for p in prompts))

    def variables(self, state: CallState) -> dict[str, object]:
        """What expressions and templates see: the call's variables and the bot's own."""
        flow, _ = state.position
        return {
            **state.variables,
            "intent": state.last_intent,
            "text": state.last_text,
            "intents": list(state.intents),
            "step": state.step,
            "flow": flow,
            "telnum": state.telnum,
            "call_id": state.call_id,
            "turns": state.turns,
            "outcome": state.outcome,
            "today": self._today().isoformat(),
        }

    # --- collecting a slot ---------------------------------------------------------

    async def _answer_collect(
        self, state: CallState, collect: Collect, text: str, intent: str | None
    ) -> Reply:
        assert state.step is not None
        # A global intent ("转人工") wins over a value read into the slot (the 要 of
        # 我要转人工 is not a yes).
        digression = await self._global(state, text, intent)
        if digression is not None:
            return digression
        context = SlotContext(self._today())
        found = self._here(state).flow.slots[collect.slot].kind.extract(text, context)
        if state.pending is not None:
            confirmed = await self._answer_confirm(state, collect, text, intent, found)
            if confirmed is not None:
                return confirmed
        elif found is not None:
            return await self._fill(state, collect, found.value, text)
        state.no_match_count += 1
        if state.no_match_count >= collect.attempts:
            ladder = self._here(state).flow.no_match_ladder(state.step)
            fail = collect.fail or (ladder.then if ladder else None)
            assert fail is not None  # the loader demands one
            cause = f"{collect.slot}: {state.no_match_count} answers without a valid value"
            return await self._go(state, fail, None, cause)
        if state.pending is not None:
            return self._reply(state, [collect.confirm], pending=True)
        retry = (
            collect.invalid[min(state.no_match_count, len(collect.invalid)) - 1] if collect.invalid else None
        )
        return self._reply(state, [retry or collect.prompt])

    async def _answer_confirm(
        self, state: CallState, collect: Collect, text: str, intent: str | None, found: SlotMatch | None
    ) -> Reply | None:
        """The answer to "对吗？": a new value is a correction ("不对，是…"), the same
        value again is a yes, else yes or no; None when it is neither."""
        assert state.pending is not None
        if found is not None and found.value != state.pending[1]:
            return self._propose(state, collect, found.value)
        yes = True if found is not None else self._yes_no(text, SlotContext(self._today()), intent)
        if yes is True:
            state.variables[collect.slot] = state.pending[1]
            state.pending = None
            return await self._go(state, collect.then, None, f"{collect.slot} confirmed")
        if yes is False:
            state.pending = None
            return self._reply(state, [collect.prompt])
        return None

    async def _fill(self, state: CallState, collect: Collect, value: object, text: str) -> Reply:
        """An answer gave the slot's value. Other collect steps the walk reaches next
        may take their values from the same answer ("明天下午三点": a date, then a time)."""
        if collect.confirm is not None:
            return self._propose(state, collect, value)
        state.variables[collect.slot] = value
        walk = _Walk(text, consumed={collect.slot})
        return await self._go(state, collect.then, walk, f"{collect.slot} filled")

    def _propose(self, state: CallState, collect: Collect, value: object) -> Reply:
        state.pending = (collect.slot, value)
        return self._reply(state, [collect.confirm], pending=True)

    def _yes_no(self, text: str, context: SlotContext, intent: str | None) -> bool | None:
        if intent in ("affirm", "deny"):
            return intent == "affirm"
        found = _YES_NO.extract(text, context)
        return None if found is None else bool(found.value)

    # --- the knowledge service ---------------------------------------------------------

    async def _answer_knowledge(
        self, state: CallState, knowledge: Knowledge, text: str, intent: str | None
    ) -> Reply:
        """Waiting at a knowledge step (after a clarification): a global intent, else the
        words go to the knowledge service in the same conversation."""
        assert state.step is not None
        digression = await self._global(state, text, intent)
        if digression is not None:
            return digression
        said, outcome = await self._consult(state, state.step, knowledge, text)
        if isinstance(outcome, _Hop):
            return await self._go(state, outcome.step, None, "knowledge answered", said=said)
        return Reply((*said, *outcome.prompts), action=outcome.action, target=outcome.target)

    async def _enter_knowledge(
        self, state: CallState, name: str, knowledge: Knowledge, walk: _Walk | None
    ) -> tuple[list[Prompt], _Hop | Reply]:
        """Arriving at a knowledge step: the words that led here are the question; with
        none, the step asks for one."""
        if walk is None or not walk.text.strip():
            self._wait(state, name)
            return [], Reply((self._render(state, knowledge.prompt),))
        return await self._consult(state, name, knowledge, walk.text)

    async def _consult(
        self, state: CallState, name: str, knowledge: Knowledge, text: str
    ) -> tuple[list[Prompt], _Hop | Reply]:
        """Ask the knowledge service. An answer is said and the flow goes on at ``then``;
        a clarification is said and the step waits; "not found" goes to ``not_found``
        (or is said, and the step waits for other words); an error goes to ``on_error``."""
        try:
            if self._knowledge is None:
                raise KnowledgeError("no knowledge service is configured")
            answer = await self._knowledge.ask(sender_of(state.call_id, state.telnum), text)
        except KnowledgeError as exc:
            logger.warning("call %s: knowledge step %r failed: %s", state.call_id, name, exc)
            if knowledge.as_:
                state.variables[knowledge.as_] = None
            return [], _Hop(knowledge.on_error)
        if knowledge.as_:
            state.variables[knowledge.as_] = {
                "type": answer.type,
                "title": answer.title,
                "found": answer.found,
            }
        said = Prompt(text=answer.spoken)
        if answer.answered:
            return [said], _Hop(knowledge.then)
        if not answer.found and knowledge.not_found:
            return [], _Hop(knowledge.not_found)
        self._wait(state, name)
        return [], Reply((said,))

    # --- global intents --------------------------------------------------------------

    async def _global(self, state: CallState, text: str, intent: str | None) -> Reply | None:
        """A global intent interrupts the step; its steps may ``return: true`` to resume it."""
        here = self._here(state)
        target = here.flow.global_.get(intent) if intent else None
        if target is None or state.step is None:
            return None
        self._push(state, Frame(here.name, here.version, state.step, resume=True))
        state.pending = None
        return await self._go(state, target, None, f"global intent {intent!r} at step {state.step!r}")

    # --- walking ---------------------------------------------------------------------

    async def _enter(self, state: CallState, text: str | None, cause: str) -> Reply:
        here = self._here(state)
        return await self._go(state, here.flow.entry, _Walk(text) if text else None, cause)

    async def _climb(
        self, state: CallState, ladder: Ladder | None, count: int, what: str, *, text: str | None = None
    ) -> Reply:
        """Re-prompt, or past the last re-prompt go to the ladder's step; ``text`` (the
        words not understood) goes along, for a ``knowledge`` or ``collect`` step there."""
        # The loader guarantees every waiting step a ladder.
        assert state.step is not None
        assert ladder is not None
        if count <= len(ladder.prompts):
            return self._reply(state, [ladder.prompts[count - 1]])
        cause = f"{what}: {count} times at step {state.step!r} ({len(ladder.prompts)} re-prompts)"
        state.pending = None
        return await self._go(state, ladder.then, _Walk(text) if text else None, cause)

    async def _go(
        self, state: CallState, name: str, walk: _Walk | None, cause: str, *, said: list[Prompt] | None = None
    ) -> Reply:
        """Walk from step ``name`` to the next step that waits or ends the call.

        ``walk`` holds the utterance that led here: a ``collect`` step on the way
        takes its slot from it if it is there (slot-first), once per slot; a
        ``knowledge`` step asks it. ``said``: what the reply already says.
        """
        said = list(said or ())
        hop = _Hop(name)
        for _ in range(MAX_HOPS):
            here = self._here(state)
            step = here.flow.steps[hop.step]
            state.step = hop.step  # `step` in expressions is the step running
            branch = None if hop.resume else await self._work(state, here, step)
            if branch is not None:
                hop = _Hop(branch)
                continue
            if step.say:
                said.append(self._render(state, step.say))
            if step.knowledge and not hop.resume:
                spoken, outcome = await self._enter_knowledge(state, hop.step, step.knowledge, walk)
                said += spoken
            else:
                outcome = self._act(state, here, hop.step, step, walk=walk, cause=cause)
            if isinstance(outcome, _Hop):
                hop = outcome
                continue
            return Reply((*said, *outcome.prompts), action=outcome.action, target=outcome.target)
        logger.error(
            "call %s: flow %s walked %d steps without waiting", state.call_id, state.position, MAX_HOPS
        )
        self._end(state, "hung_up_by_bot", f"{cause} → the flow looped for {MAX_HOPS} steps at {hop.step!r}")
        return Reply(tuple(said), action="hangup")

    def _act(
        self, state: CallState, here: RunnableFlow, name: str, step: Step, *, walk: _Walk | None, cause: str
    ) -> _Hop | Reply:
        """A step's action: the next step to walk to, or the end of the walk (what is
        still to say, and what to do)."""
        onward = self._onward(state, here, step)
        if onward is not None:
            return onward
        if step.ask:
            self._wait(state, name)
            return Reply(())
        if step.collect:
            self._wait(state, name)
            return self._enter_collect(state, here, step.collect, walk)
        if step.knowledge:  # back from a digression: ask for the question again
            self._wait(state, name)
            return Reply((self._render(state, step.knowledge.prompt),))
        if step.transfer:
            self._end(state, "transferred", f"{cause} → transfer to {step.transfer} at step {name!r}")
            return Reply((), action="transfer", target=step.transfer)
        if step.return_:  # with nothing to return to
            self._end(state, "hung_up_by_bot", f"{cause} → return from the call's own flow at {name!r}")
        else:
            self._end(state, "hung_up_by_bot", f"{cause} → hang-up at step {name!r}")
        return Reply((), action="hangup")

    def _onward(self, state: CallState, here: RunnableFlow, step: Step) -> _Hop | None:
        """The next step of an action that goes on (goto, call, link, return), or None."""
        if step.goto:
            return _Hop(step.goto)
        if step.call:
            self._push(state, Frame(here.name, here.version, step.call.then))
            return _Hop(self._move(state, step.call.flow))
        if step.link:
            return _Hop(self._move(state, step.link))
        if step.return_ and state.stack:
            frame, state.stack = state.stack[-1], state.stack[:-1]
            state.move_to(frame.flow, frame.version)
            # Back from a digression, the interrupted step is asked again, its work
            # (set, lookup, http, if) not done twice.
            return _Hop(frame.step, resume=frame.resume)
        return None

    def _enter_collect(
        self, state: CallState, here: RunnableFlow, collect: Collect, walk: _Walk | None
    ) -> _Hop | Reply:
        """Arriving at a collect step: a slot filled earlier goes on; a value in the
        utterance that led here is taken (slot-first); else the question."""
        if state.variables.get(collect.slot) is not None:
            return _Hop(collect.then)
        found = None
        if walk is not None and collect.slot not in walk.consumed:
            kind = here.flow.slots[collect.slot].kind
            found = kind.extract(walk.text, SlotContext(self._today()))
        if found is None:
            return Reply((self._render(state, collect.prompt),))
        assert walk is not None
        walk.consumed.add(collect.slot)  # never refilled from the same words (a not-found loop)
        if collect.confirm is not None:
            state.pending = (collect.slot, found.value)
            return Reply((self._render(state, collect.confirm, pending=True),))
        state.variables[collect.slot] = found.value
        return _Hop(collect.then)

    async def _work(self, state: CallState, here: RunnableFlow, step: Step) -> str | None:
        """A step's work before it speaks: set, lookup, http, if. Returns a step to branch to."""
        view = self.variables(state)  # what the step's expressions see, kept in step with its assignments

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
        return None

    def _wait(self, state: CallState, name: str) -> None:
        state.step, state.silence_count, state.no_match_count, state.pending = name, 0, 0, None

    def _move(self, state: CallState, flow_name: str) -> str:
        """Go into another flow (its current version); returns its entry step."""
        target = self._flows.get(flow_name)
        state.move_to(target.name, target.version)
        return target.flow.entry

    def _push(self, state: CallState, frame: Frame) -> None:
        state.stack = (*state.stack, frame)[-MAX_STACK:]

    def _here(self, state: CallState) -> RunnableFlow:
        return self._flows.get(*state.position)

    def _reply(
        self,
        state: CallState,
        prompts: list[Prompt | None],
        *,
        pending: bool = False,
    ) -> Reply:
        return Reply(tuple(self._render(state, p, pending=pending) for p in prompts if p is not None))

    def _render(self, state: CallState, prompt: Prompt, *, pending: bool = False) -> Prompt:
        """Fill in a prompt's template as the flow the call is in says its values; the
        value being confirmed is visible to it."""
        if prompt.template.is_static:
            return prompt
        variables = self.variables(state)
        if pending and state.pending is not None:
            variables[state.pending[0]] = state.pending[1]
        kinds = self._here(state).flow.speech_kinds()
        return prompt.model_copy(update={"text": prompt.template.render(variables, kinds)})

    # --- the end ---------------------------------------------------------------------

    def _end(self, state: CallState, outcome: Outcome, reason: str) -> None:
        if state.ended:
            return
        state.end(outcome, reason)
        state.stack, state.pending = (), None  # nothing to return to after the end
        state.grade = self._grade(state)

    def _grade(self, state: CallState) -> Grade | None:
        """The first grading rule of the call's flow that holds."""
        rules = self._flows.get(state.flow, state.flow_version).flow.grading
        variables = self.variables(state)
        for i, rule in enumerate(rules):
            if rule.when is None or truthy(rule.when.evaluate(variables)):
                reason = rule.reason or (
                    f"rule {i + 1}: {rule.when.source}" if rule.when else f"rule {i + 1}"
                )
                return Grade(rule.grade, rule.score, reason)
        return None


@dataclass(frozen=True)
class _Hop:
    """The next step of a walk; ``resume``: back from a digression, skip its work."""

    step: str
    resume: bool = False


@dataclass
class _Walk:
    """The utterance a walk started from, and the slots already filled from it."""

    text: str
    consumed: set[str] = field(default_factory=set)
