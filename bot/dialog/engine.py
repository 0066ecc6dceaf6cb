"""The dialog engine: given a call's state and what happened, walk the flow.

No I/O of its own: the clock (``today``) and business API calls (``http:`` steps)
are handed in, so every rule of a flow can be tested without a server. One
``Dialog`` serves every call and every flow; the call's ``CallState`` holds its
place (flow, step, return stack, variables).

``Dialog`` answers the events of a call; the parts of the work live next to it:
the walk of steps (``bot.dialog.walk``), answers at ``collect`` steps
(``bot.dialog.collect``), ``knowledge`` steps (``bot.dialog.consult``), the end of a
call and its grade (``bot.dialog.grading``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot import metrics
from bot.dialog.agents import AgentStatus
from bot.dialog.business import BusinessAPI
from bot.dialog.collect import Collector
from bot.dialog.consult import Consultant
from bot.dialog.context import FlowContext, FlowLookup, RunnableFlow
from bot.dialog.grading import end_call, revise_end
from bot.dialog.knowledge import KnowledgeClient
from bot.dialog.state import CallState, Outcome, Reply
from bot.dialog.walk import Walk, Walker
from bot.language.flow import Knowledge
from bot.llm.assistant import Assistant

__all__ = ["Dialog", "FlowLookup", "RunnableFlow"]


class Dialog:
    """Runs flows for any number of calls.

    Args:
        flows: Where a call's flow (and the flows it calls or links to) are found.
        business: Runs ``http:`` steps.
        knowledge: Answers ``knowledge`` steps; without one they take ``on_error``.
        today: The date of a call, in the call center's time zone (relative dates).
        agents: Whether anyone can answer a ``transfer:`` with ``busy:``; without
            one, someone always can.
        assistant: The language model's uses (``bot.llm``); without one, none.
    """

    def __init__(
        self,
        flows: FlowLookup,
        *,
        business: BusinessAPI,
        knowledge: KnowledgeClient | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        agents: AgentStatus | None = None,
        assistant: Assistant | None = None,
    ) -> None:
        self._context = FlowContext(flows, today)
        self._consultant = Consultant(self._context, knowledge, assistant)
        self._walker = Walker(self._context, business, self._consultant, agents)
        self._collector = Collector(self._context, self._walker)

    # --- the events of a call ------------------------------------------------------

    async def greet(self, state: CallState) -> Reply:
        """The first ``ready2speak``: enter the flow's entry step."""
        state.greeted = True
        return await self._walker.enter(state, "greeting")

    async def silence(self, state: CallState) -> Reply:
        """A ``ready2speak`` after our prompt: climb the step's silence ladder."""
        if not state.greeted:
            return await self.greet(state)
        if state.ended or state.step is None:
            return self.replay(state)
        state.silence_count += 1
        flow = self._context.here(state).flow
        step, ladder = flow.steps[state.step], flow.silence_ladder(state.step)
        if step.collect and step.silence is None and ladder is not None:
            # A collecting step repeats its own question (not the flow's generic
            # re-prompts) as many times as the default ladder has prompts.
            if state.silence_count <= max(1, len(ladder.prompts)):
                question = step.collect.read_back() if state.pending is not None else step.collect.prompt
                return self._context.reply(state, [question], pending=True)
            ladder = ladder.model_copy(update={"prompts": []})
        return await self._walker.climb(state, ladder, state.silence_count, "silence")

    async def answer(
        self, state: CallState, text: str, intent: str | None, *, only_greets: bool = False
    ) -> Reply:
        """The caller said ``text``, which NLU read as ``intent`` (None: no match).

        The first event of a call may be text (the caller speaks first): the call is
        greeted as a ``ready2speak`` would greet it, and when the step it then waits
        at understands the words (see ``understands``) they are answered there, led by
        the flow's ``defaults: caller_first:`` words instead of the greeting.

        Args:
            state: The call.
            text: The words, as the ASR wrote them.
            intent: The intent recognized in them, if any.
            only_greets: The words only greet or acknowledge ("喂，你好", "嗯";
                ``bot.text.greetings.only_greets``): as a call's first words they are
                greeted, never answered.
        """
        if not state.greeted:
            greeting = await self.greet(state)
            return await self.answer_first(state, greeting, text, intent, only_greets=only_greets)
        return await self._answer(state, text, intent)

    async def answer_first(
        self, state: CallState, greeting: Reply, text: str, intent: str | None, *, only_greets: bool
    ) -> Reply:
        """The caller spoke first, and the call was just greeted with ``greeting``: the
        greeting, or the answer to the words led by ``caller_first`` when the step the
        greeting left the call at understands them (``intent`` is read there)."""
        if only_greets or not self.understands(state, text, intent):
            _heard(state, text, None if only_greets else intent)
            return greeting
        lead = self._context.render(state, self._context.here(state).flow.defaults.caller_first)
        reply = await self._answer(state, text, intent)
        return Reply((lead, *reply.prompts), action=reply.action, target=reply.target)

    def understands(self, state: CallState, text: str, intent: str | None) -> bool:
        """Whether the step the call waits at takes these words as an answer: an intent of
        its ``ask:``, a global intent, or a value of a ``collect`` step's slot. Anything
        else would be a no-match (or, at a ``knowledge`` step, a question)."""
        if state.ended or state.step is None:
            return False
        flow = self._context.here(state).flow
        step = flow.steps[state.step]
        if intent is not None and (intent in (step.ask or {}) or intent in flow.global_):
            return True
        return step.collect is not None and self._collector.finds(state, step.collect, text)

    def offered_intents(self, state: CallState) -> list[str]:
        """The intents the waiting step acts on, for the language model to choose among:
        an ``ask:`` step's own and the flow's global ones; at a ``collect`` step the
        global ones, and ``affirm`` and ``deny`` (when the flow has them) while a value
        waits for the caller's yes; none at a ``knowledge`` step (its words are a
        question) or after the call ended."""
        if state.ended or state.step is None:
            return []
        flow = self._context.here(state).flow
        step = flow.steps[state.step]
        if step.knowledge:
            return []
        own = list(step.ask or ())
        if step.collect and state.pending is not None:
            own += [name for name in ("affirm", "deny") if name in flow.intents]
        return list(dict.fromkeys([*own, *flow.global_]))

    def caller_hung_up(self, state: CallState) -> None:
        end_call(self._context, state, "hung_up_by_caller", f"caller hung up at step {state.step!r}")

    def abandon(self, state: CallState, reason: str) -> None:
        """No callback came for too long: the caller's ``hungup`` was lost."""
        end_call(self._context, state, "hung_up_by_caller", f"abandoned: {reason}")

    def revise_end(self, state: CallState, outcome: Outcome, reason: str) -> None:
        """How the call ended changed after the fact: record ``outcome`` and ``reason``
        (the call's end reason from now on) and grade the call again by its flow's
        rules, which see the new ``outcome``. A call still in progress ends so.

        For a refused transfer (``transfer_failed``, see ``transfer_failed``) and a
        caller who hung up before the transfer was carried out (``hung_up_by_caller``).
        """
        revise_end(self._context, state, outcome, reason)

    def transfer_failed(self, state: CallState, reason: str) -> Reply:
        """The PBX refused the transfer the call ended with: the call ends as
        ``transfer_failed`` (see ``revise_end``; a caller who hung up meanwhile keeps
        that end), and the reply is the flow's ``defaults: transfer_failed:`` words,
        after which the bot hangs up.

        Args:
            state: The call, ended by its transfer.
            reason: The call's end reason from now on (what the PBX said, with the
                reason of the transfer).
        """
        if state.outcome != "hung_up_by_caller":
            self.revise_end(state, "transfer_failed", reason)
        words = self._context.here(state).flow.defaults.transfer_failed
        return Reply((self._context.render(state, words),), action="hangup")

    def replay(self, state: CallState) -> Reply:
        """After the call ended on our side, repeat the last words; never act again."""
        prompts = state.last_reply.prompts if state.last_reply else ()
        return Reply(tuple(p.model_copy(update={"interruptible": False}) for p in prompts))

    def variables(self, state: CallState) -> dict[str, object]:
        """What expressions and templates see: the call's variables and the bot's own."""
        return self._context.variables(state)

    # --- answers ---------------------------------------------------------------------

    async def _answer(self, state: CallState, text: str, intent: str | None) -> Reply:
        _heard(state, text, intent)
        if state.ended or state.step is None:
            return self.replay(state)
        state.silence_count = 0
        step = self._context.here(state).flow.steps[state.step]
        if step.collect or step.knowledge:
            # A global intent ("转人工") wins over a value read into the slot (the 要 of
            # 我要转人工 is not a yes), and over a question for the knowledge service.
            digression = await self._walker.digress(state, intent)
            if digression is not None:
                return digression
            if step.collect:
                return await self._collector.answer(state, step.collect, text, intent)
            assert step.knowledge is not None
            return await self._answer_knowledge(state, step.knowledge, text)
        return await self._answer_ask(state, step.ask or {}, text, intent)

    async def _answer_ask(
        self, state: CallState, ask: dict[str, str], text: str, intent: str | None
    ) -> Reply:
        """At an ``ask:`` step: the step's own branch, else a global intent, else no match."""
        assert state.step is not None
        target = ask.get(intent) if intent else None
        if target is not None:
            cause = f"intent {intent!r} at step {state.step!r}"
            return await self._walker.go(state, target, Walk(text), cause)
        digression = await self._walker.digress(state, intent)
        if digression is not None:
            return digression
        state.no_match_count += 1
        metrics.count_no_match(state.position[0])
        ladder = self._context.here(state).flow.no_match_ladder(state.step)
        return await self._walker.climb(state, ladder, state.no_match_count, "no match", text=text)

    async def _answer_knowledge(self, state: CallState, knowledge: Knowledge, text: str) -> Reply:
        """Waiting at a knowledge step (after a clarification): the words go to the
        knowledge service in the same conversation."""
        assert state.step is not None
        said, then = await self._consultant.consult(state, state.step, knowledge, text)
        if isinstance(then, str):
            return await self._walker.go(state, then, None, "knowledge answered", said=said)
        return Reply((*said, *then.prompts), action=then.action, target=then.target)


def _heard(state: CallState, text: str, intent: str | None) -> None:
    state.last_intent, state.last_text = intent, text
    if intent:
        state.intents = (*state.intents, intent)
