"""``knowledge`` steps: the caller's words go to the knowledge service, its answer is
said, its clarification said and waited on. Where the service finds related entries
but no answer, and the flow lets it, the language model words an answer from them
(``bot.llm.answers``); one it cannot ground is dropped for the "not found"."""

from __future__ import annotations

import logging

from bot import metrics
from bot.dialog.context import FlowContext, wait_at
from bot.dialog.knowledge import KnowledgeAnswer, KnowledgeClient, ReplyType, sender_of
from bot.dialog.state import CallState, Reply
from bot.errors import KnowledgeError
from bot.language.flow import Knowledge, Prompt
from bot.llm.assistant import Assistant, step_wants

logger = logging.getLogger(__name__)

Said = tuple[list[Prompt], str | Reply]
"""What a knowledge step says, and then either the step to go on at or the end of the
walk (the step waits: what is still to say)."""


class Consultant:
    """Runs ``knowledge`` steps; without a knowledge client they take ``on_error``."""

    def __init__(
        self, context: FlowContext, knowledge: KnowledgeClient | None, assistant: Assistant | None = None
    ) -> None:
        self._context = context
        self._knowledge = knowledge
        self._assistant = assistant

    async def enter(self, state: CallState, name: str, knowledge: Knowledge, text: str | None) -> Said:
        """Arriving at a knowledge step: the words that led here are the question; with
        none, the step asks for one."""
        if text is None or not text.strip():
            wait_at(state, name)
            return [], Reply((self._context.render(state, knowledge.prompt),))
        return await self.consult(state, name, knowledge, text)

    async def consult(self, state: CallState, name: str, knowledge: Knowledge, text: str) -> Said:
        """Ask the knowledge service. An answer is said and the flow goes on at ``then``;
        a clarification is said and the step waits; "not found" goes to ``not_found``
        (or is said, and the step waits for other words); an error goes to ``on_error``."""
        try:
            if self._knowledge is None:
                raise KnowledgeError("no knowledge service is configured")
            answer = await self._knowledge.ask(sender_of(state.call_id, state.telnum), text)
        except KnowledgeError as exc:
            logger.warning("call %s: knowledge step %r failed: %s", state.call_id, name, exc)
            metrics.count_knowledge("error")
            if knowledge.as_:
                state.variables[knowledge.as_] = None
            return [], knowledge.on_error
        if not answer.found and answer.related:
            grounded = await self._grounded(state, name, knowledge, text, answer)
            if grounded is not None:
                return grounded
        if knowledge.as_:
            state.variables[knowledge.as_] = {
                "type": answer.type,
                "title": answer.title,
                "found": answer.found,
            }
        said = Prompt(text=answer.spoken)
        metrics.count_knowledge(
            "answered" if answer.answered else "clarified" if answer.found else "not_found"
        )
        if answer.answered:
            return [said], knowledge.then
        if not answer.found and knowledge.not_found:
            return [], knowledge.not_found
        wait_at(state, name)
        return [], Reply((said,))

    async def _grounded(
        self, state: CallState, name: str, knowledge: Knowledge, text: str, answer: KnowledgeAnswer
    ) -> Said | None:
        """The model's answer from the related entries of a "not found", when the flow
        and the step let it answer and it passed the check; else None."""
        assistant = self._assistant
        if assistant is None:
            return None
        flow = self._context.here(state).flow
        if not step_wants(flow.llm.answers, flow.steps[name].llm) or not assistant.spend(state, "answer"):
            return None
        warm = assistant.warm
        grounded = await assistant.answers.answer(
            text,
            answer.related,
            today=self._context.slot_context().today,
            on_sentence=(lambda sentence: warm(sentence, state)) if warm else None,
        )
        if grounded is None:
            return None
        metrics.count_knowledge("grounded")
        if knowledge.as_:
            titles = [e.title for e in answer.related if e.id in grounded.cited]
            state.variables[knowledge.as_] = {
                "type": int(ReplyType.ANSWER),
                "title": "、".join(titles),
                "found": True,
                "grounded": True,
            }
        return [Prompt(text=sentence) for sentence in grounded.sentences], knowledge.then
