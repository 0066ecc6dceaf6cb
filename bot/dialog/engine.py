"""The dialog engine: given a call's state and what happened, walk the flow.

Pure and synchronous: no I/O, no clock but the state's own bookkeeping, so every
rule of a flow can be tested without a server.
"""

from __future__ import annotations

from bot.dialog.flow import Flow, Ladder
from bot.dialog.state import CallState, Reply


class Dialog:
    """Runs one flow for any number of calls; the call's ``CallState`` holds its progress."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def greet(self, state: CallState) -> Reply:
        """The first ``ready2speak``: enter the flow's entry step."""
        state.greeted = True
        return self._go(state, self.flow.entry, cause="greeting")

    def enter_silently(self, state: CallState) -> None:
        """A call we never greeted arrives with text: take the entry path without speaking it."""
        state.greeted = True
        self._go(state, self.flow.entry, cause="entry without greeting")

    def silence(self, state: CallState) -> Reply:
        """A ``ready2speak`` after our prompt: climb the step's silence ladder."""
        if not state.greeted:
            return self.greet(state)
        if state.ended or state.step is None:
            return self.replay(state)
        state.silence_count += 1
        ladder = self.flow.silence_ladder(state.step)
        return self._climb(state, ladder, state.silence_count, "silence")

    def answer(self, state: CallState, intent: str | None) -> Reply:
        """The caller said something that NLU read as ``intent`` (None: no match)."""
        if not state.greeted:
            self.enter_silently(state)
        if state.ended or state.step is None:
            return self.replay(state)
        state.silence_count = 0
        step = self.flow.steps[state.step]
        target = (step.ask or {}).get(intent) if intent else None
        if target is None:
            state.no_match_count += 1
            ladder = self.flow.no_match_ladder(state.step)
            return self._climb(state, ladder, state.no_match_count, "no match")
        return self._go(state, target, cause=f"intent {intent!r} at step {state.step!r}")

    def caller_hung_up(self, state: CallState) -> None:
        state.end("hung_up_by_caller", f"caller hung up at step {state.step!r}")

    def replay(self, state: CallState) -> Reply:
        """After the call ended on our side, repeat the last words; never act again."""
        prompts = state.last_reply.prompts if state.last_reply else ()
        return Reply(tuple(p.model_copy(update={"interruptible": False}) for p in prompts))

    def _climb(self, state: CallState, ladder: Ladder | None, count: int, what: str) -> Reply:
        # The loader guarantees every asking step a ladder.
        assert state.step is not None
        assert ladder is not None
        if count <= len(ladder.prompts):
            return Reply((ladder.prompts[count - 1],))
        cause = f"{what}: {count} times at step {state.step!r} ({len(ladder.prompts)} re-prompts)"
        return self._go(state, ladder.then, cause=cause)

    def _go(self, state: CallState, name: str, *, cause: str) -> Reply:
        """Walk from step ``name`` through `goto`s to the next ask, transfer or hang-up."""
        prompts = []
        # The loader rejects goto rings, so this walk ends within len(steps) hops.
        for _ in range(len(self.flow.steps)):
            step = self.flow.steps[name]
            if step.say:
                prompts.append(step.say)
            if step.goto:
                name = step.goto
                continue
            if step.ask:
                state.step, state.silence_count, state.no_match_count = name, 0, 0
                return Reply(tuple(prompts))
            if step.transfer:
                state.step = name
                state.end("transferred", f"{cause} → transfer to {step.transfer} at step {name!r}")
                return Reply(tuple(prompts), action="transfer", target=step.transfer)
            state.step = name
            state.end("hung_up_by_bot", f"{cause} → hang-up at step {name!r}")
            return Reply(tuple(prompts), action="hangup")
        raise AssertionError(f"goto ring through step {name!r} escaped the loader")
