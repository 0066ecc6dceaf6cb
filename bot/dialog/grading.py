"""How a call ends, and its grade by the grading rules of the flow it started in.

A call is graded when it ends, and again whenever how it ended is revised after the
fact (a transfer the PBX refused, a caller who hung up before the transfer was
carried out): the rules see ``outcome``, so a grade given for ``transferred`` must
not outlive the transfer.
"""

from __future__ import annotations

import time

from bot import metrics
from bot.dialog.context import FlowContext
from bot.dialog.state import CallState, Grade, Outcome
from bot.language.expressions import truthy


def end_call(context: FlowContext, state: CallState, outcome: Outcome, reason: str) -> None:
    """End the call once and grade it; a later end (a ``hungup`` after a transfer) keeps the first."""
    if state.ended:
        return
    state.end(outcome, reason)
    metrics.count_call_ended(outcome)
    state.stack, state.pending = (), None  # nothing to return to after the end
    state.grade = grade(context, state)


def revise_end(context: FlowContext, state: CallState, outcome: Outcome, reason: str) -> None:
    """Change how the call ended to ``outcome`` for ``reason`` (the end reason from now
    on), and grade it again; a call still in progress simply ends so."""
    if not state.ended:
        end_call(context, state, outcome, reason)
        return
    state.outcome, state.end_reason = outcome, reason
    state.ended_at = state.ended_at or time.time()
    state.grade = grade(context, state)


def grade(context: FlowContext, state: CallState) -> Grade | None:
    """The first grading rule of the call's first flow that holds."""
    rules = context.first(state).flow.grading
    variables = context.variables(state)
    for i, rule in enumerate(rules):
        if rule.when is None or truthy(rule.when.evaluate(variables)):
            reason = rule.reason or (f"rule {i + 1}: {rule.when.source}" if rule.when else f"rule {i + 1}")
            return Grade(rule.grade, rule.score, reason)
    return None
