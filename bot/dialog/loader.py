"""Loading flow files: YAML with line numbers, pydantic validation, reference checks.

Every problem is reported as ``path:line:col: what is wrong — how to fix it`` so a
flow author can find and fix it without reading Python.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.dialog.flow import Flow, Ladder
from bot.dialog.lint import lint
from bot.errors import FlowProblem, FlowValidationError

Location = tuple[int, int]  # 1-based line and column
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class FlowSource:
    """A validated flow with where it came from."""

    name: str
    path: Path
    version: str  # sha256 of the file's bytes, first 12 hex chars
    flow: Flow
    warnings: tuple[FlowProblem, ...] = ()  # it runs, but its author should look


def load_flow(path: Path) -> FlowSource:
    """Read, validate and cross-check one flow file.

    Raises:
        FlowValidationError: with every problem found, each located in the file.
    """
    shown = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem = FlowProblem(
            shown, 1, 1, f"cannot read the file ({exc.strerror})", "check the path and permissions"
        )
        raise FlowValidationError([problem]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = FlowProblem(shown, 1, 1, f"the file is not UTF-8 ({exc.reason})", "save it as UTF-8")
        raise FlowValidationError([problem]) from exc
    data, locations = _parse_yaml(text, shown)
    try:
        flow = Flow.model_validate(data)
    except ValidationError as exc:
        raise FlowValidationError(
            [_locate(shown, locations, *_explain(err)) for err in exc.errors()]
        ) from exc
    problems = [_locate(shown, locations, loc, msg, fix) for loc, msg, fix in check_references(flow)]
    if problems:
        raise FlowValidationError(problems)
    warnings = tuple(
        dataclasses.replace(_locate(shown, locations, loc, msg, fix), severity="warning")
        for loc, msg, fix in lint(flow)
    )
    version = hashlib.sha256(raw).hexdigest()[:12]
    return FlowSource(name=path.stem, path=path, version=version, flow=flow, warnings=warnings)


def load_flows(directory: Path) -> dict[str, FlowSource]:
    """Load every ``*.yaml`` / ``*.yml`` file of ``directory``; all problems are reported together."""
    if not directory.is_dir():
        problem = FlowProblem(
            str(directory), 1, 1, "the flows directory does not exist", "create it or set VOICEBOT_FLOWS_DIR"
        )
        raise FlowValidationError([problem])
    sources: dict[str, FlowSource] = {}
    problems: list[FlowProblem] = []
    for path in flow_files(directory):
        try:
            source = load_flow(path)
        except FlowValidationError as exc:
            problems += exc.problems
            continue
        if source.name in sources:
            problems.append(
                FlowProblem(
                    str(path),
                    1,
                    1,
                    f"a second flow named {source.name!r}",
                    "keep only one of the .yaml and .yml files",
                )
            )
        sources[source.name] = source
    if problems:
        raise FlowValidationError(problems)
    return sources


def flow_files(directory: Path) -> list[Path]:
    """The flow files of a directory, in name order."""
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


# --- YAML with locations -------------------------------------------------------------


def _parse_yaml(text: str, shown: str) -> tuple[Any, dict[KeyPath, Location]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError as exc:
        problem = FlowProblem(shown, 1, 1, "the file is nested too deeply", "flatten it")
        raise FlowValidationError([problem]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or "invalid YAML"
        problem = FlowProblem(
            shown,
            line,
            col,
            f"YAML syntax error: {what}",
            "check indentation (spaces, not tabs), colons and quotes on this line",
        )
        raise FlowValidationError([problem]) from exc
    except yaml.YAMLError as exc:
        raise FlowValidationError([FlowProblem(shown, 1, 1, f"YAML error: {exc}", "fix the YAML")]) from exc
    if node is None:
        raise FlowValidationError([FlowProblem(shown, 1, 1, "the file is empty", "add `steps:`")])
    builder = _Builder()
    try:
        data = builder.build(node, ())
    except _Unusable as exc:
        problem = FlowProblem(shown, *_where(exc.node), exc.message, exc.fix)
        raise FlowValidationError([problem]) from exc
    except yaml.MarkedYAMLError as exc:  # a merge key (<<) that merges something else than mappings
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = FlowProblem(shown, line, col, f"YAML error: {exc.problem}", "merge (<<) only mappings")
        raise FlowValidationError([problem]) from exc
    except RecursionError as exc:
        problem = FlowProblem(shown, 1, 1, "the file is nested too deeply", "flatten it")
        raise FlowValidationError([problem]) from exc
    return data, builder.locations


class _Unusable(Exception):
    """A YAML construct no flow can contain, with the node it is at."""

    def __init__(self, node: yaml.Node, message: str, fix: str) -> None:
        super().__init__(message)
        self.node, self.message, self.fix = node, message, fix


def _where(node: yaml.Node) -> Location:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    """Builds plain Python data from YAML nodes, recording where each key path starts.

    Keys are always their text (a step may be called ``1`` or ``yes``). An alias is
    built once and shared, so aliases of aliases cannot blow up; an alias inside
    what it names is refused.
    """

    def __init__(self) -> None:
        self.locations: dict[KeyPath, Location] = {}
        self._built: dict[int, Any] = {}
        self._building: set[int] = set()

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.locations.setdefault(path, _where(node))
        if id(node) in self._built:
            return self._built[id(node)]
        if id(node) in self._building:
            raise _Unusable(
                node,
                "an alias (*name) refers to something that contains it",
                "copy the content instead of using the alias",
            )
        self._building.add(id(node))
        try:
            value = self._build(node, path)
        finally:
            self._building.discard(id(node))
        self._built[id(node)] = value
        return value

    def _build(self, node: yaml.Node, path: KeyPath) -> Any:
        if isinstance(node, yaml.MappingNode):
            _SCALARS.flatten_mapping(node)  # merge keys: `<<: *defaults`
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _Unusable(
                        key_node, "a key must be plain text, not a list or mapping", "write the key as text"
                    )
                key = key_node.value
                if key in result:
                    raise _Unusable(key_node, f"the key {key!r} appears twice", "keep only one of them")
                self.locations[(*path, key)] = _where(key_node)
                result[key] = self.build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return _scalar(node)


_SCALARS = yaml.SafeLoader("")  # only its constructor is used, never its reader
# Numbers as people write them; YAML 1.1 also reads 0101 as 65 and 0x1F as 31.
_PLAIN_NUMBER = re.compile(r"[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def _scalar(node: yaml.Node) -> Any:
    """A value with its YAML 1.1 type (true, 3, 0.5, null), except that anything else
    that is not text (0101, 2024-01-01, 0x1F) stays the text it was written as."""
    value = _SCALARS.construct_object(node, deep=True)
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int | float) and _PLAIN_NUMBER.fullmatch(node.value):
        return value
    return node.value


# --- turning errors into author-friendly problems --------------------------------------


def _locate(
    shown: str, locations: dict[KeyPath, Location], loc: KeyPath, message: str, fix: str
) -> FlowProblem:
    for end in range(len(loc), -1, -1):
        if loc[:end] in locations:
            line, col = locations[loc[:end]]
            break
    else:
        line, col = 1, 1
    where = ".".join(str(p) for p in loc)
    return FlowProblem(shown, line, col, f"{where}: {message}" if where else message, fix)


def _explain(err: Any) -> tuple[KeyPath, str, str]:
    """Translate one pydantic error into (path, message, fix) for a flow author."""
    loc: KeyPath = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    kind = err["type"]
    if kind == "missing":
        return loc[:-1], f"the required key {loc[-1]!r} is missing", f"add `{loc[-1]}:` here"
    if kind == "extra_forbidden":
        return loc, f"unknown key {loc[-1]!r}", "check the spelling; docs/flows.md lists the keys"
    if kind == "value_error":
        # Our own validators write "what is wrong — how to fix it".
        message, _, fix = str(err["msg"]).removeprefix("Value error, ").partition(" — ")
        return loc, message, fix or "see docs/flows.md for this key"
    expected = {
        "string_type": "text",
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "dict_type": "a mapping of `key: value` lines",
        "list_type": "a list of `- item` lines",
        "model_type": "a mapping of `key: value` lines",
        "float_type": "a number",
        "float_parsing": "a number",
        "int_type": "a whole number",
        "int_parsing": "a whole number",
    }.get(kind)
    if expected == "text":
        return (
            loc,
            f"expected text, found {err['input']!r}",
            "write text here; quote it ('…') if YAML reads it as yes/no or a number",
        )
    if expected:
        return loc, f"expected {expected}, found {err['input']!r}", f"write {expected} here"
    return loc, str(err["msg"]), "see docs/flows.md for this key"


def check_references(flow: Flow) -> Iterator[tuple[KeyPath, str, str]]:
    """Problems a schema cannot see: references to steps and intents that do not exist."""
    steps, intents = set(flow.steps), set(flow.intents)
    known_steps = ", ".join(sorted(steps))

    def step_ref(loc: KeyPath, target: str) -> Iterator[tuple[KeyPath, str, str]]:
        if target not in steps:
            yield loc, f"unknown step {target!r}", f"use one of: {known_steps}"

    if flow.start is not None:
        yield from step_ref(("start",), flow.start)
    for kind in ("silence", "no_match"):
        ladder: Ladder | None = getattr(flow.defaults, kind)
        if ladder:
            yield from step_ref(("defaults", kind, "then"), ladder.then)
    for name, step in flow.steps.items():
        if step.goto:
            yield from step_ref(("steps", name, "goto"), step.goto)
        for intent, target in (step.ask or {}).items():
            if intent not in intents:
                yield (
                    ("steps", name, "ask", intent),
                    f"unknown intent {intent!r}",
                    f"declare it under `intents:` or use one of: {', '.join(sorted(intents))}",
                )
            yield from step_ref(("steps", name, "ask", intent), target)
        for kind in ("silence", "no_match"):
            own: Ladder | None = getattr(step, kind)
            if own:
                yield from step_ref(("steps", name, kind, "then"), own.then)
            elif step.ask and getattr(flow.defaults, kind) is None:
                yield (
                    ("steps", name),
                    f"the asking step has no {kind} ladder and the flow has no default",
                    f"add `{kind}:` to this step or `defaults: {kind}:` to the flow",
                )
    yield from _goto_cycles(flow)


def _goto_cycles(flow: Flow) -> Iterator[tuple[KeyPath, str, str]]:
    """A ring of steps that only `goto` each other would never wait for the caller."""
    for name in flow.steps:
        seen = [name]
        current = flow.steps[name].goto
        while current and current in flow.steps and current not in seen:
            seen.append(current)
            current = flow.steps[current].goto
        if current == name and name == min(seen):  # report each ring once
            ring = " → ".join([*seen, name])
            yield (
                ("steps", name, "goto"),
                f"these steps only go to each other: {ring}",
                "let one of them `ask`, `transfer` or `hangup`",
            )
