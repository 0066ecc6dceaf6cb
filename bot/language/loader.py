"""Loading flow files: YAML with line numbers, pydantic validation, reference checks.

Every problem is reported as ``path:line:col: what is wrong — how to fix it`` so a
flow author can find and fix it without reading Python.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from bot.errors import FlowProblem, FlowTextError, FlowValidationError, TableError
from bot.language.flow import RESERVED_NAMES, Flow, Ladder, Step
from bot.language.lint import did_you_mean, lint
from bot.language.outgoing import HostAllowlist, check_http_hosts
from bot.language.recordings import check_recordings
from bot.language.tables import Table, read_table, table_path
from bot.language.templates import SPOKEN_KINDS
from bot.language.voice import check_voice
from bot.language.yaml_mistakes import Mistake, explain_syntax_error, scalar_mistake

Location = tuple[int, int]  # 1-based line and column
KeyPath = tuple[str | int, ...]
Finding = tuple[KeyPath, str, str]  # where, what is wrong, how to fix it
DATA_DIR = "data"  # lookup tables live in <flows dir>/data/


@dataclass(frozen=True)
class FlowSource:
    """A validated flow with where it came from."""

    name: str
    path: Path
    version: str  # sha256 of the file's bytes, first 12 hex chars
    flow: Flow
    warnings: tuple[FlowProblem, ...] = ()  # it runs, but its author should look
    tables: dict[str, Table] = dataclasses.field(default_factory=dict)  # for `lookup:` steps


def load_flow(
    path: Path,
    *,
    flow_names: set[str] | None = None,
    check_audio: bool = True,
    allowlist: HostAllowlist | None = None,
    speech_backends: Sequence[str] | None = None,
) -> FlowSource:
    """Read, validate and cross-check one flow file.

    Args:
        path: The flow file.
        flow_names: The flows a ``call:`` or ``link:`` may name; by default the flow
            files beside this one.
        check_audio: Check that every recording (``audio:``) exists beside the flow and
            plays. An older version rebuilt from the shared archive
            (``bot.dialog.flow_versions``) has no recordings beside it: it is loaded
            without the check, and a recording missing when a prompt is played is
            replaced by its synthesized text.
        allowlist: The hosts ``http:`` steps may call (``VOICEBOT_OUTGOING_HOSTS``);
            None checks none.
        speech_backends: The backends ``VOICEBOT_TTS`` lists, one of which the flow's
            ``voice:`` must be; None does not check it.

    Raises:
        FlowValidationError: with every problem found, each located in the file.
    """
    shown = str(path)
    if flow_names is None:
        flow_names = {p.stem for p in flow_files(path.parent)} | {path.stem}
    raw, text = read_author_file(path, unreadable_fix="check the path and permissions")
    data, places = parse_yaml(text, shown)
    try:
        flow = Flow.model_validate(data)
    except ValidationError as exc:
        raise FlowValidationError(explain_validation_error(shown, places, exc, Flow)) from exc
    text_warnings = places.warnings(shown)
    digest = hashlib.sha256(raw)
    tables, table_problems = _load_tables(flow, path.parent / DATA_DIR, digest)
    findings = [*table_problems, *check_references(flow, flow_names), *check_http_hosts(flow, allowlist)]
    findings += check_voice(flow.voice, speech_backends)
    if check_audio:
        findings += check_recordings(flow, path.parent)
    problems = [places.locate(shown, loc, msg, _suggested(msg, fix)) for loc, msg, fix in findings]
    if problems:
        raise FlowValidationError(problems)
    warnings = (
        *text_warnings,
        *(
            dataclasses.replace(places.locate(shown, loc, msg, fix), severity="warning")
            for loc, msg, fix in lint(flow)
        ),
    )
    return FlowSource(
        name=path.stem,
        path=path,
        version=digest.hexdigest()[:12],
        flow=flow,
        warnings=warnings,
        tables=tables,
    )


def _load_tables(flow: Flow, data_dir: Path, digest: Any) -> tuple[dict[str, Table], list[Finding]]:
    """Read the tables the flow's lookups name; their bytes join the flow's version, so
    an edited table reloads the flow."""
    tables: dict[str, Table] = {}
    problems: list[Finding] = []
    for name, step in flow.steps.items():
        if not step.lookup:
            continue
        where: KeyPath = ("steps", name, "lookup", "table")
        table = tables.get(step.lookup.table)
        if table is None:
            path = table_path(data_dir, step.lookup.table)
            if path is None:
                problems.append(
                    (where, f"no table {step.lookup.table!r}", f"create {data_dir}/{step.lookup.table}.csv")
                )
                continue
            try:
                raw = path.read_bytes()
                table = read_table(path, raw)
            except (OSError, TableError) as exc:
                what, _, fix = str(exc).partition(" — ")
                problems.append((where, what, fix or "check the file"))
                continue
            digest.update(raw)
            tables[table.name] = table
        unknown = [c for c in step.lookup.match if c not in table.columns]
        if unknown:
            problems.append(
                (
                    ("steps", name, "lookup", "match", unknown[0]),
                    f"table {table.name!r} has no column {unknown[0]!r}",
                    f"use one of: {', '.join(table.columns)}",
                )
            )
            continue
        table.index(list(step.lookup.match))
    return tables, problems


def read_author_file(path: Path, *, unreadable_fix: str) -> tuple[bytes, str]:
    """The bytes and UTF-8 text of a file an author wrote (a flow, a flow test, a hook file).

    Raises:
        FlowValidationError: it cannot be read (``unreadable_fix`` says what to do), or
            it is not UTF-8.
    """
    shown = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem = FlowProblem(shown, 1, 1, f"cannot read the file ({exc.strerror})", unreadable_fix)
        raise FlowValidationError([problem]) from exc
    try:
        return raw, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = FlowProblem(shown, 1, 1, f"the file is not UTF-8 ({exc.reason})", "save it as UTF-8")
        raise FlowValidationError([problem]) from exc


def load_flows(
    directory: Path,
    *,
    allowlist: HostAllowlist | None = None,
    speech_backends: Sequence[str] | None = None,
) -> dict[str, FlowSource]:
    """Load every ``*.yaml`` / ``*.yml`` file of ``directory``; all problems are reported
    together. ``allowlist`` and ``speech_backends`` as for :func:`load_flow`."""
    if not directory.is_dir():
        problem = FlowProblem(
            str(directory), 1, 1, "the flows directory does not exist", "create it or set VOICEBOT_FLOWS_DIR"
        )
        raise FlowValidationError([problem])
    sources: dict[str, FlowSource] = {}
    problems: list[FlowProblem] = []
    paths = flow_files(directory)
    names = {p.stem for p in paths}
    for path in paths:
        try:
            source = load_flow(path, flow_names=names, allowlist=allowlist, speech_backends=speech_backends)
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


@dataclass
class Places:
    """Where each key path starts in the file, and where each text value starts."""

    keys: dict[KeyPath, Location]
    texts: dict[KeyPath, tuple[int, int, str | None]]  # line, column, YAML style of a scalar
    # Texts YAML most likely did not read as meant (`say：…`, a folded `- ` line), by key path.
    mistakes: dict[KeyPath, Mistake] = dataclasses.field(default_factory=dict)

    def mistake_under(self, loc: KeyPath) -> tuple[KeyPath, Mistake] | None:
        """The first such text at ``loc`` or inside it: the likely cause of an error there."""
        inside = [(path, m) for path, m in self.mistakes.items() if path[: len(loc)] == loc]
        return min(inside, key=lambda item: (item[1].line, item[1].column), default=None)

    def warnings(self, shown: str) -> list[FlowProblem]:
        """The texts worth a warning although the file loads."""
        return [
            _mistake_problem(shown, path, mistake, "warning")
            for path, mistake in self.mistakes.items()
            if mistake.warns
        ]

    def locate(
        self, shown: str, loc: KeyPath, message: str, fix: str, text_column: int | None = None
    ) -> FlowProblem:
        """A problem at key path ``loc`` (its closest known ancestor); ``text_column`` is
        a position inside that key's text value (an expression, a template)."""
        if text_column is not None:
            for path in (loc, (*loc, "text")):
                if path in self.texts:
                    line, col, style = self.texts[path]
                    if style in (None, '"', "'"):  # on one line: point at the character
                        col += text_column - 1 + (1 if style else 0)
                    else:  # a block (| or >): its text starts on the next line
                        line += 1
                    return _problem(shown, (line, col), loc, message, fix)
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.keys:
                return _problem(shown, self.keys[loc[:end]], loc, message, fix)
        return _problem(shown, (1, 1), loc, message, fix)


def _mistake_problem(
    shown: str, loc: KeyPath, mistake: Mistake, severity: Literal["error", "warning"]
) -> FlowProblem:
    problem = _problem(shown, (mistake.line, mistake.column), loc, mistake.message, mistake.fix)
    return dataclasses.replace(problem, severity=severity)


def _problem(shown: str, at: Location, loc: KeyPath, message: str, fix: str) -> FlowProblem:
    where = ".".join(str(p) for p in loc)
    return FlowProblem(shown, *at, f"{where}: {message}" if where else message, fix)


_LAST_NAME = re.compile(r"'([^']+)'[^']*$")  # the last quoted name of a message
_CHOICES = re.compile(r"(?:use one of|options of '[^']*'|of the flows directory): (.+)$")


def _suggested(message: str, fix: str) -> str:
    """``fix`` led by "did you mean …?" when the message names something unknown and the
    fix lists what exists (``unknown step 'ask_busines'`` — ``use one of: …``)."""
    name, choices = _LAST_NAME.search(message), _CHOICES.search(fix)
    if name is None or choices is None or fix.startswith("did you mean"):
        return fix
    return did_you_mean(name[1], choices[1].split(", ")) + fix


def parse_yaml(text: str, shown: str) -> tuple[Any, Places]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError as exc:
        problem = FlowProblem(shown, 1, 1, "the file is nested too deeply", "flatten it")
        raise FlowValidationError([problem]) from exc
    except yaml.MarkedYAMLError as exc:
        mistake = explain_syntax_error(text, exc)
        problem = FlowProblem(shown, mistake.line, mistake.column, mistake.message, mistake.fix)
        raise FlowValidationError([problem]) from exc
    except yaml.YAMLError as exc:
        raise FlowValidationError([FlowProblem(shown, 1, 1, f"YAML error: {exc}", "fix the YAML")]) from exc
    if node is None:
        raise FlowValidationError([FlowProblem(shown, 1, 1, "the file is empty", "add `steps:`")])
    builder = _Builder(text.split("\n"))
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
    return data, Places(builder.locations, builder.texts, builder.mistakes)


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

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.locations: dict[KeyPath, Location] = {}
        self.texts: dict[KeyPath, tuple[int, int, str | None]] = {}
        self.mistakes: dict[KeyPath, Mistake] = {}
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
                self._check_text(key_node, (*path, key), in_flow_list=False)
                if key in result:
                    raise _Unusable(key_node, f"the key {key!r} appears twice", "keep only one of them")
                self.locations[(*path, key)] = _where(key_node)
                result[key] = self.build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            # Items of `[a, b]` lists are phrases (examples, keywords…), except prompts: sentences.
            phrases = node.flow_style and path[-1:] not in (("prompts",), ("invalid",))
            for i, item in enumerate(node.value):
                if isinstance(item, yaml.ScalarNode) and phrases:
                    self._check_text(item, (*path, i), in_flow_list=True)
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        self.texts.setdefault(path, (*_where(node), getattr(node, "style", None)))
        if isinstance(node, yaml.ScalarNode):
            self._check_text(node, path, in_flow_list=False)
        return _scalar(node)

    def _check_text(self, node: yaml.ScalarNode, path: KeyPath, *, in_flow_list: bool) -> None:
        mistake = scalar_mistake(node, self.lines, in_flow_list=in_flow_list)
        if mistake is not None:
            self.mistakes.setdefault(path, mistake)


_SCALARS = yaml.SafeLoader("")  # only its constructor is used, never its reader
# Numbers as people write them; YAML 1.1 also reads 0101 as 65 and 0x1F as 31.
_PLAIN_NUMBER = re.compile(r"[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def _scalar(node: yaml.Node) -> Any:
    """A value with its YAML 1.1 type (true, 3, 0.5, null), except that anything else
    that is not text (0101, 2024-01-01, 0x1F) stays the text it was written as."""
    try:
        value = _SCALARS.construct_object(node, deep=True)
    except ValueError:  # looks like a date or time but is none (2026-02-30): keep the text
        return node.value
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int | float) and _PLAIN_NUMBER.fullmatch(node.value):
        return value
    return node.value


# --- turning errors into author-friendly problems --------------------------------------


def explain_validation_error(
    shown: str, places: Places, exc: ValidationError, model: type[BaseModel] | None = None
) -> list[FlowProblem]:
    """Every error of a pydantic validation, located in the file and worded for an author.

    An error at a text YAML most likely did not read as meant (``say：…`` read as text
    where a mapping was expected) is reported as that mistake, once. With the ``model``
    validated (a flow), a misspelt key or name gets a "did you mean".
    """
    problems: list[FlowProblem] = []
    for err in exc.errors():
        loc, message, fix, column = _explain(err)
        if err["type"] == "extra_forbidden" and model is not None:
            fix = did_you_mean(str(loc[-1]), _keys_at(model, loc[:-1])) + fix
        elif model is not None:
            fix = _suggested(message, fix)
        cause = places.mistake_under(loc)
        if cause is None:
            problems.append(places.locate(shown, loc, message, fix, column))
            continue
        problem = _mistake_problem(shown, cause[0], cause[1], "error")
        if problem not in problems:
            problems.append(problem)
    return problems


def _keys_at(model: type[BaseModel], loc: KeyPath) -> list[str]:
    """The keys a mapping at ``loc`` of ``model`` may have (aliases as authors write them)."""
    annotation: Any = model
    for part in loc:
        annotation = _inside(annotation, part)
    found = [m for m in _members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)]
    return [field.alias or name for m in found for name, field in m.model_fields.items()]


def _inside(annotation: Any, part: str | int) -> Any:
    """The type of key ``part`` of a value typed ``annotation``; None when unknown."""
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel) and isinstance(part, str):
            for name, field in member.model_fields.items():
                if part in (name, field.alias):
                    return field.annotation
        origin, args = typing.get_origin(member), typing.get_args(member)
        if origin is dict and isinstance(part, str):
            return args[1]
        if origin is list and isinstance(part, int):
            return args[0]
    return None


def _members(annotation: Any) -> list[Any]:
    """The types an annotation allows: ``Annotated`` unwrapped, unions flattened."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [] if annotation is None else [annotation]


def _explain(err: Any) -> tuple[KeyPath, str, str, int | None]:
    """Translate one pydantic error into (path, message, fix, column in the text) for a
    flow author."""
    loc, message, fix = _explain_key(err)
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, FlowTextError):
        return loc, cause.message, cause.fix, cause.column
    if message.startswith("slot type"):  # make_slot_type's own messages
        return (*loc, "type") if "unknown slot type" in message else loc, message, fix, None
    return loc, message, fix, None


def _explain_key(err: Any) -> tuple[KeyPath, str, str]:
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


def check_references(flow: Flow, flow_names: set[str]) -> Iterator[Finding]:
    """Problems a schema cannot see: references to steps, intents, slots and flows that
    do not exist, waiting steps without ladders, reserved variable names."""
    refs = _References(flow, flow_names)
    if flow.start is not None:
        yield from refs.step(("start",), flow.start)
    for kind in ("silence", "no_match"):
        ladder: Ladder | None = getattr(flow.defaults, kind)
        if ladder:
            yield from refs.step(("defaults", kind, "then"), ladder.then)
    for intent, target in flow.global_.items():
        yield from refs.intent(("global", intent), intent)
        yield from refs.step(("global", intent), target)
    for name in flow.slots:
        yield from refs.variable(("slots", name), name)
    for name, kind in flow.say_as.items():
        if kind not in SPOKEN_KINDS:
            yield (
                ("say_as", name),
                f"unknown way to say a value: {kind!r}",
                f"use one of: {', '.join(sorted(SPOKEN_KINDS))}",
            )
    for name, step in flow.steps.items():
        yield from _step_references(flow, refs, name, step)
    yield from _goto_cycles(flow)


class _References:
    """Checks that a name refers to something the flow (or the flows directory) has."""

    def __init__(self, flow: Flow, flow_names: set[str]) -> None:
        self._flow = flow
        self._flow_names = flow_names

    def step(self, loc: KeyPath, target: str) -> Iterator[Finding]:
        if target not in self._flow.steps:
            yield loc, f"unknown step {target!r}", f"use one of: {', '.join(sorted(self._flow.steps))}"

    def intent(self, loc: KeyPath, intent: str) -> Iterator[Finding]:
        if intent not in self._flow.intents:
            known = ", ".join(sorted(self._flow.intents)) or "none declared"
            yield loc, f"unknown intent {intent!r}", f"declare it under `intents:` or use one of: {known}"

    def flow(self, loc: KeyPath, name: str) -> Iterator[Finding]:
        if name not in self._flow_names:
            known = ", ".join(sorted(self._flow_names))
            yield loc, f"unknown flow {name!r}", f"name a flow file of the flows directory: {known}"

    def slot(self, loc: KeyPath, name: str) -> Iterator[Finding]:
        if name not in self._flow.slots:
            known = ", ".join(sorted(self._flow.slots)) or "none declared"
            yield (
                loc,
                f"unknown slot {name!r}",
                f"declare it under `slots:` (e.g. `{name}: {{type: phone}}`) or use one of: {known}",
            )

    def variable(self, loc: KeyPath, name: str) -> Iterator[Finding]:
        if name in RESERVED_NAMES:
            yield loc, f"{name!r} is a name the bot provides", "choose another variable name"


def _step_references(flow: Flow, refs: _References, name: str, step: Step) -> Iterator[Finding]:
    at: KeyPath = ("steps", name)
    for path, target in step.targets():
        yield from refs.step((*at, *path), target)
    for intent in step.ask or {}:
        yield from refs.intent((*at, "ask", intent), intent)
    assigned: list[tuple[KeyPath, str]] = [(("set", v), v) for v in step.set]
    if step.lookup:
        assigned.append((("lookup", "as"), step.lookup.as_))
    if step.http:
        assigned += [(("http", "save", v), v) for v in step.http.save]
        assigned += [(("http", "as"), step.http.as_)] if step.http.as_ else []
    if step.knowledge and step.knowledge.as_:
        assigned.append((("knowledge", "as"), step.knowledge.as_))
    for path, variable in assigned:
        yield from refs.variable((*at, *path), variable)
    if step.call:
        yield from refs.flow((*at, "call", "flow"), step.call.flow)
    if step.link:
        yield from refs.flow((*at, "link"), step.link)
    if step.collect:
        yield from refs.slot((*at, "collect", "slot"), step.collect.slot)
        if step.collect.fail is None and flow.no_match_ladder(name) is None:
            yield (
                (*at, "collect"),
                "nothing says where to go after the last failed attempt",
                "add `fail: <step>` here or `defaults: no_match:` to the flow",
            )
    kinds = ("silence", "no_match") if step.ask else ("silence",) if step.waits else ()
    for kind in kinds:
        if getattr(step, kind) is None and getattr(flow.defaults, kind) is None:
            yield (
                at,
                f"the asking step has no {kind} ladder and the flow has no default",
                f"add `{kind}:` to this step or `defaults: {kind}:` to the flow",
            )


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
