"""What a flow author should fix although the flow runs: unreachable steps, intents
the bot cannot tell apart. Reported as warnings by the loader (the service starts)
and as failures by ``voicebot flows check``."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from bot.dialog.flow import Flow, Ladder

Finding = tuple[tuple[str | int, ...], str, str]  # key path, what is wrong, how to fix it


def lint(flow: Flow) -> Iterator[Finding]:
    """Every warning for ``flow``, in file order where possible."""
    yield from unreachable_steps(flow)
    yield from colliding_phrases(flow)


def unreachable_steps(flow: Flow) -> Iterator[Finding]:
    reachable = _reachable(flow)
    for name in flow.steps:
        if name not in reachable:
            yield (
                ("steps", name),
                f"step {name!r} is never reached from the start step {flow.entry!r}",
                "lead to it from another step (goto, ask or a ladder's then) or delete it",
            )


def _reachable(flow: Flow) -> set[str]:
    seen: set[str] = set()
    todo = [flow.entry]
    while todo:
        name = todo.pop()
        step = flow.steps.get(name)
        if step is None or name in seen:
            continue
        seen.add(name)
        todo += [t for t in (step.goto,) if t]
        todo += list((step.ask or {}).values())
        if step.ask:
            ladders: list[Ladder | None] = [flow.silence_ladder(name), flow.no_match_ladder(name)]
            todo += [ladder.then for ladder in ladders if ladder]
    return seen


def colliding_phrases(flow: Flow) -> Iterator[Finding]:
    """The same example or keyword under two intents: the bot cannot tell them apart."""
    owner: dict[str, str] = {}
    for intent, spec in flow.intents.items():
        phrases = [("examples", i, text) for i, text in enumerate(spec.examples)]
        phrases += [("keywords", i, text) for i, text in enumerate(spec.keywords)]
        for kind, index, text in phrases:
            key = _plain(text)
            other = owner.setdefault(key, intent)
            if other != intent:
                yield (
                    ("intents", intent, kind, index),
                    f"{text!r} is also under intent {other!r}",
                    "keep it under one intent only, or reword one of them",
                )


def _plain(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())
