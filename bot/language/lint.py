"""What a flow author should fix although the flow runs: unreachable steps, intents
the bot cannot tell apart, variables no step ever sets, an ``llm:`` that does nothing.
Reported as warnings by the loader (the service starts) and as failures by
``voicebot flows check``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from bot.language.flow import CAMPAIGN_DATA, RESERVED_NAMES, Flow, HttpCall, Ladder, Step, plain_phrase

Finding = tuple[tuple[str | int, ...], str, str]  # key path, what is wrong, how to fix it


def lint(flow: Flow) -> Iterator[Finding]:
    """Every warning for ``flow``, in file order where possible."""
    yield from unreachable_steps(flow)
    yield from colliding_phrases(flow)
    yield from excluded_phrases(flow)
    yield from unset_variables(flow)
    yield from idle_llm_switches(flow)


def idle_llm_switches(flow: Flow) -> Iterator[Finding]:
    """A step's ``llm:`` where the language model is never asked: a step that does not
    wait for the caller (it has no ``ask:``, ``collect`` or ``knowledge``)."""
    for name, step in flow.steps.items():
        if step.llm is not None and not (step.ask or step.collect or step.knowledge):
            yield (
                ("steps", name, "llm"),
                f"step {name!r} never waits for the caller, so its "
                f"`llm: {str(step.llm).lower()}` does nothing",
                "remove it, or put it on the ask, collect or knowledge step it was meant for (docs/llm.md)",
            )


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"did you mean 'ask_business'? "`` for the choice closest to a misspelt ``name``
    (difflib's ratio, at least 0.6), or ``""`` when none is close."""
    close = difflib.get_close_matches(name, [c for c in choices if c != name], n=1)
    return f"did you mean {close[0]!r}? " if close else ""


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
    todo = [flow.entry, *flow.global_.values()]  # global intents lead there from any step
    while todo:
        name = todo.pop()
        step = flow.steps.get(name)
        if step is None or name in seen:
            continue
        seen.add(name)
        todo += [target for _, target in step.targets()]
        if step.waits:
            own_exit = step.knowledge or (step.collect and step.collect.fail)
            no_match = None if own_exit else flow.no_match_ladder(name)
            ladders: list[Ladder | None] = [flow.silence_ladder(name), no_match]
            todo += [ladder.then for ladder in ladders if ladder]
    return seen


def colliding_phrases(flow: Flow) -> Iterator[Finding]:
    """The same example or keyword under two intents: the bot cannot tell them apart.
    (A flow's own phrase that the library has under another intent is not one: the
    flow's wins, see ``flow.taught``.)"""
    owner: dict[str, str] = {}
    for intent, spec in flow.intents.items():
        phrases = [("examples", i, text) for i, text in enumerate(spec.examples)]
        phrases += [("keywords", i, text) for i, text in enumerate(spec.keywords)]
        for kind, index, text in phrases:
            key = plain_phrase(text)
            other = owner.setdefault(key, intent)
            if other != intent:
                yield (
                    ("intents", intent, kind, index),
                    f"{text!r} is also under intent {other!r}",
                    "keep it under one intent only, or reword one of them",
                )


def excluded_phrases(flow: Flow) -> Iterator[Finding]:
    """An example or keyword that holds a word its own intent's ``exclude:`` lists: the
    intent refuses it, so it teaches nothing."""
    for intent, spec in flow.intents.items():
        excluded = [(word, plain_phrase(word)) for word in spec.exclude]
        phrases = [("examples", i, text) for i, text in enumerate(spec.examples)]
        phrases += [("keywords", i, text) for i, text in enumerate(spec.keywords)]
        for kind, index, text in phrases:
            held = next((word for word, plain in excluded if plain and plain in plain_phrase(text)), None)
            if held is not None:
                yield (
                    ("intents", intent, kind, index),
                    f"{text!r} holds {held!r}, which intent {intent!r} excludes, so it can never match",
                    f"remove {held!r} from `exclude:` or reword the {kind[:-1]}",
                )


def unset_variables(flow: Flow) -> Iterator[Finding]:
    """A template or expression naming a variable that no slot, ``set:``, lookup, http
    step or ``say_as`` provides: most likely a typo, said as nothing during calls."""
    provided = provided_names(flow)
    used = [
        (("steps", name, *where), names) for name, step in flow.steps.items() for where, names in _used(step)
    ]
    for kind in ("silence", "no_match"):
        ladder: Ladder | None = getattr(flow.defaults, kind)
        for i, prompt in enumerate(ladder.prompts if ladder else []):
            used.append((("defaults", kind, "prompts", i), prompt.template.names))
    for moment in ("wait", "caller_first", "transfer_failed"):
        used.append((("defaults", moment), getattr(flow.defaults, moment).template.names))
    for i, rule in enumerate(flow.grading):
        if rule.when is not None:
            used.append((("grading", i, "when"), rule.when.names))
    for where, names in used:
        for variable in sorted(names):
            root = variable.split(".")[0]
            if root not in provided:
                yield (
                    where,
                    f"no slot, set:, lookup or http step provides {root!r}",
                    f"{did_you_mean(root, provided)}check the spelling, or set it in an earlier step",
                )


def provided_names(flow: Flow) -> set[str]:
    """Every variable ``flow`` can set (slots, ``set:``, lookups, http and knowledge
    steps, ``say_as``) and the names the bot provides (``telnum``, ``step``…)."""
    # A name under say_as is declared too: a sub-flow called with `call:` may set it.
    provided = {*RESERVED_NAMES, CAMPAIGN_DATA, *flow.slots, *(name.split(".")[0] for name in flow.say_as)}
    for step in flow.steps.values():
        provided |= set(step.set)
        if step.lookup:
            provided.add(step.lookup.as_)
        if step.http:
            provided |= set(step.http.save) | ({step.http.as_} if step.http.as_ else set())
        if step.knowledge and step.knowledge.as_:
            provided.add(step.knowledge.as_)
    return provided


Names = frozenset[str]


def _used(step: Step) -> Iterator[tuple[tuple[str | int, ...], Names]]:
    """The variables each template and expression of a step reads, with its key path."""
    for variable, expression in step.set.items():
        yield ("set", variable), expression.names
    if step.lookup:
        for column, expression in step.lookup.match.items():
            yield ("lookup", "match", column), expression.names
    if step.http:
        yield from _used_by_http(step.http)
    for i, branch in enumerate(step.if_):
        yield ("if", i, "when"), branch.when.names
    if step.say:
        yield ("say",), step.say.template.names
    if step.collect:
        yield ("collect", "prompt"), step.collect.prompt.template.names
        for i, prompt in enumerate(step.collect.invalid):
            yield ("collect", "invalid", i), prompt.template.names
        if step.collect.confirm:
            yield ("collect", "confirm"), step.collect.confirm.template.names
    if step.knowledge:
        yield ("knowledge", "prompt"), step.knowledge.prompt.template.names
    for kind in ("silence", "no_match"):
        ladder: Ladder | None = getattr(step, kind)
        for i, prompt in enumerate(ladder.prompts if ladder else []):
            yield (kind, "prompts", i), prompt.template.names


def _used_by_http(http: HttpCall) -> Iterator[tuple[tuple[str | int, ...], Names]]:
    yield ("http", "url"), http.url.names
    for key, template in http.query.items():
        yield ("http", "query", key), template.names
    for key, template in http.headers.items():
        yield ("http", "headers", key), template.names
    for key, expression in (http.json_ or {}).items():
        yield ("http", "json", key), expression.names
