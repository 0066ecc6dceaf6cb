"""One turn of a conversation, without telephony: what the bot answers to an event.

The CTI callback (``bot.calls``), the terminal simulator (``voicebot chat``) and the
conversation tests (``voicebot flows test``) all run a call through this, so a flow
behaves the same in each: barge-in rules, intent recognition, the dialog engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import metrics
from bot.dialog.backchannel import BackchannelDetector
from bot.dialog.engine import Dialog
from bot.dialog.nlu import IntentScore, ParseResult
from bot.dialog.registry import FlowRegistry
from bot.dialog.state import CallState, Reply
from bot.language.builtins import builtin_intents
from bot.language.flow import Flow
from bot.llm.assistant import Assistant, step_wants
from bot.llm.intents import MAX_EXAMPLES, Offered
from bot.text.greetings import only_greets


@dataclass(frozen=True)
class Heard:
    """What the bot made of an utterance.

    Attributes:
        reply: What it answers; None when it let its prompt play on (barge-in ignored).
        intent: The recognized intent, if one reached the threshold.
        confidence: The intent's confidence, or the best score when none reached it.
        second_opinion: The intent is the classifier's second opinion's
            (``bot.dialog.nlu_opinion``): shown to authors by chat and flow tests.
        by_model: The intent is the language model's choice (``bot.llm.intents``):
            no intent reached the threshold.
        rival: A built-in intent the flow does not use fitted the words clearly
            better than its best intent, which was therefore not taken
            (``bot.dialog.nlu``, "Rivals").
    """

    reply: Reply | None
    intent: str | None = None
    confidence: float | None = None
    second_opinion: bool = False
    by_model: bool = False
    rival: IntentScore | None = None

    @property
    def rival_note(self) -> str:
        """What authors are shown when a rival took the words (chat, flow tests), else ""."""
        if self.rival is None or self.intent is not None:
            return ""
        return f" (built-in {self.rival.name} fits better: {self.rival.confidence:.2f})"


class Conversation:
    """Runs the turns of any number of calls; a call's progress is in its ``CallState``.

    Every event counts as a turn (``state.turns``), counted before the engine runs,
    so grading rules and expressions see the number of the current turn.
    """

    def __init__(
        self,
        flows: FlowRegistry,
        dialog: Dialog,
        backchannel: BackchannelDetector,
        assistant: Assistant | None = None,
    ) -> None:
        self.flows = flows
        self.dialog = dialog
        self.assistant = assistant
        self._is_backchannel = backchannel

    async def silence(self, state: CallState) -> Reply:
        """The caller is silent (``ready2speak``): greet, or re-prompt."""
        state.turns += 1
        reply = await self.dialog.silence(state)
        state.last_reply = reply
        return reply

    async def hear(self, state: CallState, text: str, *, playing: bool = False) -> Heard:
        """The caller said ``text``; ``playing``: while the bot's prompt still played.

        As a call's first event (the caller spoke before any ``ready2speak``), words
        that only greet or acknowledge ("喂", "你好", "嗯") get the flow's greeting, and
        so do words the start step does not understand; words it understands are
        answered, led by the flow's ``defaults: caller_first:`` (``Dialog.answer``).
        """
        state.turns += 1
        if playing and state.greeted and self._keeps_playing(state, text):
            return Heard(None)
        if state.greeted:
            bot_said = state.last_reply.text if state.last_reply else None
            parsed, intent, by_model = await self._understand(state, text, bot_said)
            reply = await self.dialog.answer(state, text, intent)
        else:
            greeting = await self.dialog.greet(state)
            greets = only_greets(text, self._is_backchannel)  # answered with the greeting alone
            # Read where the greeting left the call: its start step may be in another flow.
            parsed, intent, by_model = await self._understand(
                state, text, greeting.text, ask_model=not greets
            )
            reply = await self.dialog.answer_first(state, greeting, text, intent, only_greets=greets)
        state.last_reply = reply
        # The intent's confidence, or the best score when no intent reached the threshold.
        best = parsed.intent or (parsed.ranking[0] if parsed.ranking else None)
        confidence = best.confidence if best else None
        return Heard(reply, intent, confidence, parsed.second_opinion, by_model, parsed.rival)

    async def _understand(
        self, state: CallState, text: str, bot_said: str | None, *, ask_model: bool = True
    ) -> tuple[ParseResult, str | None, bool]:
        """What the classifier of the flow the call is in makes of ``text`` and, when no
        intent reached the threshold (and ``ask_model``), the language model's choice
        (counted): the parse, the intent, and whether the model chose it."""
        parsed = self.flows.get(*state.position).nlu.parse(text)
        intent = parsed.intent.name if parsed.intent else None
        by_model = False
        if intent is None and ask_model and self.assistant is not None:
            intent = await self._ask_model(self.assistant, state, text, bot_said)
            by_model = intent is not None
        metrics.count_heard(state.position[0], intent)
        return parsed, intent, by_model

    async def _ask_model(
        self, assistant: Assistant, state: CallState, text: str, bot_said: str | None
    ) -> str | None:
        """The intent fallback, where the flow and the step let it: the model chooses
        among the intents the waiting step acts on, for words the step would not take
        otherwise (a ``collect`` step's value is taken, never second-guessed)."""
        if state.step is None or state.ended:
            return None
        flow = self.flows.get(*state.position).flow
        if not step_wants(flow.llm.intents, flow.steps[state.step].llm):
            return None
        names = self.dialog.offered_intents(state)
        if not names or self.dialog.understands(state, text, None) or not assistant.spend(state, "intent"):
            return None
        return await assistant.intents.choose(text, offered(flow, names), bot_said=bot_said)

    def hung_up(self, state: CallState) -> None:
        state.turns += 1
        self.dialog.caller_hung_up(state)

    def _keeps_playing(self, state: CallState, text: str) -> bool:
        """Barge-in is ignored after the call ended, during a protected prompt, and for
        mere backchannels. (Before the greeting nothing plays: the words are heard.)"""
        playing = state.last_reply
        return (
            state.ended or (playing is not None and not playing.interruptible) or self._is_backchannel(text)
        )


def offered(flow: Flow, names: list[str]) -> list[Offered]:
    """The intents ``names`` as the model is told them: the author's ``description``,
    else the built-in intent's meaning, else nothing but examples; a few examples each."""
    library = builtin_intents()
    intents = []
    for name in names:
        intent = flow.intents.get(name)
        builtins = [library[b] for b in intent.builtins] if intent else []
        meaning = (intent.description if intent else None) or "; ".join(b.meaning for b in builtins) or name
        examples = (*(intent.examples if intent else ()), *(t for b in builtins for t in b.examples))
        intents.append(Offered(name, meaning, examples[:MAX_EXAMPLES]))
    return intents
