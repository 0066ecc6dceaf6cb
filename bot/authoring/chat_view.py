"""What ``voicebot chat`` prints: the bot's answers, with what it made of each turn on
a dim line below, the end of a call, and the call's state on ``/state``. Colours only
on a terminal."""

from __future__ import annotations

import json
from typing import Any

import click

from bot.dialog.conversation import Heard
from bot.dialog.state import CallState, Reply


class ChatView:
    """Prints a chat's turns; ``color``: style the text (stdout is a terminal)."""

    def __init__(self, *, color: bool) -> None:
        self._color = color

    def reply(self, reply: Reply, state: CallState, heard: Heard | None) -> None:
        """The answer, then the step, flow, intent, slots and what the answer does."""
        said = reply.text or "(says nothing)"
        click.echo(f"{self._bot()} {said}")
        parts = [f"step={state.step or '-'}"]
        flow = state.position[0]
        if flow != state.flow:
            parts.append(f"flow={flow}")
        if heard is not None:
            opinion = ", second opinion" if heard.second_opinion else ""
            confidence = f" ({heard.confidence:.2f}{opinion})" if heard.confidence is not None else ""
            if heard.by_model:  # the classifier's best score was another intent's
                best = f", best score {heard.confidence:.2f}" if heard.confidence is not None else ""
                confidence = f" (model{best})"
            parts.append(f"intent={heard.intent or '(none)'}{confidence}{heard.rival_note}")
        parts.append(f"slots={as_json(state.variables)}")
        if state.pending is not None:
            slot, value = state.pending
            parts.append(f"pending={slot}={as_json(value)}")
        self.info(" ".join(parts))
        if reply.action == "transfer":
            self.info(f"transfer → {reply.target or '?'}")
        elif reply.action == "hangup":
            self.info("hang up")
        if not reply.interruptible:
            self.info("not interruptible")

    def caller(self, line: str) -> None:
        """A line of the caller's, echoed (piped input shows nowhere else)."""
        said = line if line.strip() else "(silence)"
        click.echo(f"{self.style('you>', bold=True)} {said}")

    def continues(self) -> None:
        """The bot let its prompt play on (a barge-in it ignored)."""
        click.echo(f"{self._bot()} (continues playing)")

    def end(self, state: CallState) -> None:
        click.echo(self.style(f"call ended: {state.outcome} — {state.end_reason or '-'}", fg="yellow"))
        if state.grade is not None:
            grade = state.grade
            click.echo(self.style(f"grade: {grade.grade} ({grade.score}) — {grade.reason}", fg="yellow"))
        click.echo(self.dim("(the next line starts a new call: the caller's first words, or silence)"))

    def state(self, state: CallState | None) -> None:
        """``/state``: the call's step, variables, confirmation waiting, return points,
        intents and counts."""
        if state is None:
            click.echo("no call yet")
            return
        flow, version = state.position
        stack = " ← ".join(f"{f.flow}:{f.step}" for f in reversed(state.stack)) or "(empty)"
        pending = f"{state.pending[0]}={as_json(state.pending[1])}" if state.pending else "-"
        lines = [
            f"call:      {state.call_id}, telnum {state.telnum}, {state.turns} turns, {state.outcome}",
            f"step:      {state.step or '-'} (flow {flow}, version {version})",
            f"variables: {as_json(state.variables)}",
            f"pending:   {pending}",
            f"stack:     {stack}",
            f"intents:   {', '.join(state.intents) or '(none)'}",
            f"counts:    silence {state.silence_count}, no match {state.no_match_count}",
        ]
        if state.ended:
            lines.append(f"ended:     {state.end_reason or '-'}")
        if state.grade is not None:
            lines.append(f"grade:     {state.grade.grade} ({state.grade.score}) — {state.grade.reason}")
        click.echo("\n".join(lines))

    def style(self, text: str, **styles: Any) -> str:
        return click.style(text, **styles) if self._color else text

    def dim(self, text: str) -> str:
        return self.style(text, dim=True)

    def info(self, text: str) -> None:
        click.echo(self.dim(f"   [{text}]"))

    def error(self, message: str) -> None:
        click.echo(self.style(f"error: {message}", fg="red"))

    def _bot(self) -> str:
        return self.style("bot>", fg="cyan", bold=True)


def as_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
