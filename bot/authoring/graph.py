"""Pictures of a flow: Mermaid and Graphviz DOT text, and rendering DOT to SVG or PNG.

Why: a flow file is a list of steps whose connections are scattered over many keys
(``ask`` intents, ``collect.then``, ``if`` branches, ladders, ``global`` intents…).
Authors who would rather look than read want the whole conversation as one
picture, and reviewers want to see which steps can be reached from where.

Both formats draw the same graph, built once by :func:`_build` so that they cannot
drift apart:

* one node per step, in file order, labelled with its name, what it says (``say``,
  shortened) and its action; the shape tells the action: rounded for steps that
  wait for the caller (``ask``/``collect``), a plain box for steps that go on
  (``goto``/``call``/``link``/``return``), a hexagon for ``transfer`` and an end
  shape for ``hangup``. A "start" node points at the entry step, which also has
  a bold border. A target that names no step gets a red dashed node, so a broken
  flow still draws and shows its mistake.
* one labelled edge per way to leave a step: intents, ``filled``/``confirmed`` and
  ``fail`` of ``collect``, ``if`` conditions (their source text), ``not found`` of
  ``lookup``, ``error`` of ``http``, ``returned`` of ``call``, ``busy`` of
  ``transfer`` (nobody can answer), and the silence and
  no-match ladders of waiting steps (``silence ×2`` = two re-prompts, then the
  edge). Ladders inherited from ``defaults`` and ``global`` intents (drawn from one
  "any step" node) are dashed: they apply everywhere, so they are the background.

Step names and prompts are authors' text and may hold anything (Chinese, quotes,
``|``, ``<>``, ``#``, ``;``, newlines). Mermaid node ids are therefore generated
(``s0``, ``s1``, … in file order) and labels are quoted with Mermaid entity codes;
DOT ids are the step names, quoted and escaped. Output is deterministic: the same
flow always gives the same text, so it can be committed and diffed.

:func:`render_dot` runs Graphviz's ``dot`` program, which comes from the Debian
package ``graphviz`` (``make test`` installs it). It is meant for the command line,
so it blocks. A PNG is drawn with the fonts of this machine: without a font that has
Chinese, every Chinese character would be an empty box, so a PNG of Chinese text is
refused (:class:`FontMissingError`) when fontconfig (``fc-list :lang=zh``) knows no such
font. SVG, DOT and Mermaid keep the text as text, drawn by the viewer's fonts.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from bot.errors import VoicebotError
from bot.language.flow import Collect, Flow, Knowledge, Step

__all__ = [
    "CJK_FONT_FIX",
    "FONTNAME",
    "LABEL_TEXT_LIMIT",
    "RENDER_TIMEOUT_SECONDS",
    "FontMissingError",
    "GraphvizError",
    "GraphvizMissingError",
    "cjk_fonts",
    "render_dot",
    "to_dot",
    "to_mermaid",
]

LABEL_TEXT_LIMIT = 30
"""Characters of a prompt shown in a step's node; longer prompts end in "…"."""
CONDITION_LIMIT = 60
"""Characters of an ``if`` condition shown on its edge."""
RENDER_TIMEOUT_SECONDS = 30.0
"""Seconds ``dot`` may take to render one picture."""
FONTNAME = "Noto Sans CJK SC,WenQuanYi Zen Hei,sans-serif"
"""Font hints for Graphviz: CJK fonts first so Chinese shows when they are installed."""

CJK_FONT_FIX = "install fonts-wqy-zenhei (Debian) or another CJK font"
"""What to do when no installed font can draw Chinese."""
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")  # CJK scripts and full-width forms

_MISSING_MESSAGE = "graphviz is not installed — install the Debian package graphviz (make test installs it)"


class GraphvizError(VoicebotError):
    """Graphviz's ``dot`` could not render a picture (it failed or took too long)."""


class GraphvizMissingError(GraphvizError):
    """The ``dot`` program is not on PATH."""

    def __init__(self, message: str = _MISSING_MESSAGE) -> None:
        super().__init__(message)


class FontMissingError(GraphvizError):
    """No installed font can draw Chinese, so a PNG would show boxes instead of characters."""


NodeKind = Literal["waits", "plain", "transfer", "hangup", "missing", "start", "any"]
NodeKey = tuple[str, str]
"""``("step", name)``, ``("missing", name)``, ``("start", "")`` or ``("any", "")``."""

_START: NodeKey = ("start", "")
_ANY: NodeKey = ("any", "")


@dataclass(frozen=True)
class _Node:
    key: NodeKey
    lines: tuple[str, ...]  # display text, one line each, not yet escaped
    kind: NodeKind
    entry: bool = False


@dataclass(frozen=True)
class _Edge:
    source: NodeKey
    target: NodeKey
    label: str | None
    dashed: bool = False


@dataclass(frozen=True)
class _Graph:
    title: str | None
    nodes: tuple[_Node, ...]
    edges: tuple[_Edge, ...]


# --- the graph, shared by both formats -------------------------------------------------------------


def _one_line(text: str) -> str:
    """Text with control characters and runs of whitespace (newlines too) as single spaces."""
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return " ".join(cleaned.split())


def _shorten(text: str, limit: int) -> str:
    line = _one_line(text)
    if len(line) <= limit:
        return line
    return line[: limit - 1].rstrip() + "…"


def _ladder_edge(source: NodeKey, target: NodeKey, kind: str, count: int, own: bool) -> _Edge:
    """``count``: how many re-prompts come before the edge is taken."""
    return _Edge(source, target, f"{kind} ×{count}" if count else kind, dashed=not own)


class _Builder:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.missing: dict[str, None] = {}  # insertion-ordered set

    def target(self, name: str) -> NodeKey:
        if name in self.flow.steps:
            return ("step", name)
        self.missing.setdefault(name)
        return ("missing", name)

    def build(self, title: str | None) -> _Graph:
        flow = self.flow
        entry = self.target(flow.entry)
        nodes = [_Node(_START, ("start",), "start")]
        edges = [_Edge(_START, entry, None)]
        for name, step in flow.steps.items():
            nodes.append(self.step_node(name, step, entry=entry == ("step", name)))
            edges.extend(self.step_edges(name, step))
        for intent, target in flow.global_.items():
            edges.append(_Edge(_ANY, self.target(target), intent, dashed=True))
        nodes.extend(
            _Node(
                ("missing", name),
                (_one_line(name), "(no such step)"),
                "missing",
                entry=entry == ("missing", name),
            )
            for name in self.missing
        )
        if flow.global_:
            nodes.append(_Node(_ANY, ("any step",), "any"))
        shown_title = _one_line(flow.title if title is None else title) or None
        return _Graph(shown_title, tuple(nodes), tuple(edges))

    @staticmethod
    def step_node(name: str, step: Step, *, entry: bool) -> _Node:
        lines = [_one_line(name)]
        if step.lookup:
            lines.append(f"lookup {_shorten(step.lookup.table, LABEL_TEXT_LIMIT)}")
        if step.http:
            lines.append(_shorten(f"http {step.http.method} {step.http.url.text}", LABEL_TEXT_LIMIT))
        said = step.say or (step.collect.prompt if step.collect else None)
        if said:
            lines.append(_shorten(said.text, LABEL_TEXT_LIMIT))
        kind: NodeKind = "plain"
        if step.ask:
            kind = "waits"
        elif step.collect:
            kind = "waits"
            lines.append(f"collect {_one_line(step.collect.slot)}")
        elif step.knowledge:
            kind = "waits"
            lines.append("ask the knowledge base")
        elif step.call:
            lines.append(f"call {_one_line(step.call.flow)}")
        elif step.link:
            lines.append(f"link {_one_line(step.link)}")
        elif step.return_:
            lines.append("return")
        elif step.transfer:
            kind = "transfer"
            lines.append(f"transfer {_one_line(step.transfer)}")
        elif step.hangup:
            kind = "hangup"
            lines.append("hang up")
        return _Node(("step", name), tuple(lines), kind, entry=entry)

    def knowledge_edges(self, source: NodeKey, knowledge: Knowledge) -> Iterator[_Edge]:
        yield _Edge(source, self.target(knowledge.then), "answered")
        if knowledge.not_found:
            yield _Edge(source, self.target(knowledge.not_found), "not found")
        yield _Edge(source, self.target(knowledge.on_error), "error")

    def step_edges(self, name: str, step: Step) -> Iterator[_Edge]:
        source: NodeKey = ("step", name)
        if step.lookup:
            yield _Edge(source, self.target(step.lookup.not_found), "not found")
        if step.http:
            yield _Edge(source, self.target(step.http.on_error), "error")
        for branch in step.if_:
            yield _Edge(source, self.target(branch.goto), _shorten(branch.when.source, CONDITION_LIMIT))
        for intent, target in (step.ask or {}).items():
            yield _Edge(source, self.target(target), intent)
        if step.collect:
            yield from self.collect_edges(name, step.collect)
        if step.knowledge:
            yield from self.knowledge_edges(source, step.knowledge)
        if step.goto:
            yield _Edge(source, self.target(step.goto), None)
        if step.call:
            yield _Edge(source, self.target(step.call.then), "returned")
        if step.busy:
            yield _Edge(source, self.target(step.busy), "busy")
        if step.waits:
            yield from self.ladder_edges(name, step)

    def collect_edges(self, name: str, collect: Collect) -> Iterator[_Edge]:
        """A value (``filled``/``confirmed``), or too many answers without one: ``fail``,
        or the no-match ladder's step when the step has no ``fail:`` (bot.dialog.collect)."""
        source: NodeKey = ("step", name)
        yield _Edge(source, self.target(collect.then), "confirmed" if collect.confirm else "filled")
        if collect.fail:
            yield _Edge(source, self.target(collect.fail), "fail")
            return
        no_match = self.flow.no_match_ladder(name)
        if no_match:
            yield _Edge(source, self.target(no_match.then), "fail", dashed=True)

    def ladder_edges(self, name: str, step: Step) -> Iterator[_Edge]:
        """The ladders a waiting step really climbs (bot.dialog.engine): silence always;
        no match only at ``ask`` steps, as collect and knowledge steps leave by their own keys."""
        source: NodeKey = ("step", name)
        silence = self.flow.silence_ladder(name)
        if silence:
            own = step.silence is not None
            count = len(silence.prompts)
            if step.collect and not own:  # it repeats its own question instead, at least once
                count = max(1, count)
            yield _ladder_edge(source, self.target(silence.then), "silence", count, own)
        no_match = self.flow.no_match_ladder(name) if step.ask else None
        if no_match:
            own = step.no_match is not None
            yield _ladder_edge(source, self.target(no_match.then), "no match", len(no_match.prompts), own)


def _build(flow: Flow, title: str | None) -> _Graph:
    return _Builder(flow).build(title)


# --- Mermaid -------------------------------------------------------------------------------------

_MERMAID_ENTITIES = str.maketrans(
    {
        # Mermaid reads `#name;` / `#123;` in labels as entities, so `#` itself must be one.
        "#": "#35;",
        '"': "#quot;",
        "<": "#lt;",
        ">": "#gt;",
        "&": "#amp;",
        "|": "#124;",
        "`": "#96;",
        "%": "#37;",
        # Mermaid's entity pre-pass mangles lines matching `style…:…#…;`; no bare ':' avoids it.
        ":": "#58;",
        ";": "#59;",
        "\\": "#92;",
    }
)

_MERMAID_SHAPES: dict[NodeKind, tuple[str, str]] = {
    "waits": ("(", ")"),
    "plain": ("[", "]"),
    "transfer": ("{{", "}}"),
    "hangup": ("([", "])"),
    "missing": ("[", "]"),
    "start": ("((", "))"),
    "any": ("[", "]"),
}

_MERMAID_CLASSES: tuple[tuple[NodeKind, str], ...] = (
    ("waits", "fill:#e8f1fb,stroke:#2b6cb0"),
    ("transfer", "fill:#fdecea,stroke:#c0392b"),
    ("hangup", "fill:#eeeeee,stroke:#555555"),
    ("missing", "fill:#ffffff,stroke:#c0392b,color:#c0392b,stroke-dasharray:5 3"),
    ("start", "fill:#222222,stroke:#222222,color:#ffffff"),
    ("any", "fill:#ffffff,stroke:#888888,stroke-dasharray:5 3"),
)


def _mermaid_text(text: str) -> str:
    return f'"{text.translate(_MERMAID_ENTITIES)}"'


def _mermaid_ids(graph: _Graph) -> dict[NodeKey, str]:
    ids: dict[NodeKey, str] = {_START: "start", _ANY: "anystep"}
    steps = [node.key for node in graph.nodes if node.key[0] == "step"]
    missing = [node.key for node in graph.nodes if node.key[0] == "missing"]
    ids.update({key: f"s{i}" for i, key in enumerate(steps)})
    ids.update({key: f"m{i}" for i, key in enumerate(missing)})
    return ids


def to_mermaid(flow: Flow, *, title: str | None = None) -> str:
    """Draw a flow as a Mermaid ``flowchart TD``.

    Args:
        flow: The flow to draw.
        title: Shown above the chart; ``None`` uses the flow's own ``title`` (none if empty).

    Returns:
        Mermaid text ending in a newline; the same flow always gives the same text.
    """
    graph = _build(flow, title)
    ids = _mermaid_ids(graph)
    out: list[str] = []
    if graph.title:
        # Front matter is YAML; a JSON string is a valid YAML double-quoted scalar.
        out += ["---", f"title: {json.dumps(graph.title, ensure_ascii=False)}", "---"]
    out.append("flowchart TD")
    for node in graph.nodes:
        opening, closing = _MERMAID_SHAPES[node.kind]
        label = "<br>".join(line.translate(_MERMAID_ENTITIES) for line in node.lines)
        out.append(f'    {ids[node.key]}{opening}"{label}"{closing}')
    for edge in graph.edges:
        arrow = "-.->" if edge.dashed else "-->"
        label = f"|{_mermaid_text(edge.label)}|" if edge.label else ""
        out.append(f"    {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
    used = {node.kind for node in graph.nodes}
    for kind, style in _MERMAID_CLASSES:
        if kind in used:
            members = ",".join(ids[node.key] for node in graph.nodes if node.kind == kind)
            out += [f"    classDef {kind} {style}", f"    class {members} {kind}"]
    out.extend(f"    style {ids[node.key]} stroke-width:3px" for node in graph.nodes if node.entry)
    return "\n".join(out) + "\n"


# --- Graphviz DOT --------------------------------------------------------------------------------


def _dot_quote(text: str) -> str:
    r"""A DOT quoted string.

    Backslashes are doubled so that label escapes (``\n``, ``\N``, ``\l``…) cannot come
    from an author's text; a quote is ``\"``; newlines and other control characters are
    written as escapes so that every statement stays on one line. The mapping is
    one-to-one, so distinct step names stay distinct ids.
    """
    parts: list[str] = []
    for char in text:
        if char == "\\":
            parts.append("\\\\")
        elif char == '"':
            parts.append('\\"')
        elif char == "\n":
            parts.append("\\n")
        elif char == "\r":
            parts.append("\\r")
        elif unicodedata.category(char) == "Cc":
            parts.append(f"\\x{ord(char):02x}")
        else:
            parts.append(char)
    return '"' + "".join(parts) + '"'


_DOT_NODE_STYLES: dict[NodeKind, str] = {
    "waits": 'shape=box, style="rounded,filled", fillcolor="#e8f1fb", color="#2b6cb0"',
    "plain": "shape=box",
    "transfer": 'shape=hexagon, style=filled, fillcolor="#fdecea", color="#c0392b"',
    "hangup": 'shape=ellipse, peripheries=2, style=filled, fillcolor="#eeeeee", color="#555555"',
    "missing": 'shape=box, style=dashed, color="#c0392b", fontcolor="#c0392b"',
    "start": 'shape=circle, style=filled, fillcolor="#222222", fontcolor="#ffffff", fontsize=9',
    "any": 'shape=box, style="rounded,dashed", color="#888888"',
}


def _dot_ids(graph: _Graph) -> dict[NodeKey, str]:
    """Step and missing-step nodes by name; "start" and "any step" renamed if a step has that name."""
    ids = {node.key: node.key[1] for node in graph.nodes if node.key[0] in ("step", "missing")}
    taken = set(ids.values())
    for key, wanted in ((_START, "start"), (_ANY, "any step")):
        name = wanted
        while name in taken:
            name += "_"
        ids[key] = name
        taken.add(name)
    return {key: _dot_quote(name) for key, name in ids.items()}


def to_dot(flow: Flow, *, title: str | None = None) -> str:
    """Draw a flow as a Graphviz ``digraph`` (render it with :func:`render_dot`).

    Args:
        flow: The flow to draw.
        title: Shown above the graph; ``None`` uses the flow's own ``title`` (none if empty).

    Returns:
        DOT text ending in a newline; the same flow always gives the same text.
    """
    graph = _build(flow, title)
    ids = _dot_ids(graph)
    font = _dot_quote(FONTNAME)
    out = ["digraph flow {"]
    graph_attributes = f"rankdir=TB, fontname={font}"
    if graph.title:
        graph_attributes += f", label={_dot_quote(graph.title)}, labelloc=t, fontsize=16"
    out += [
        f"    graph [{graph_attributes}];",
        f"    node [fontname={font}, fontsize=11];",
        f"    edge [fontname={font}, fontsize=10];",
    ]
    for node in graph.nodes:
        attributes = [f"label={_dot_quote(chr(10).join(node.lines))}", _DOT_NODE_STYLES[node.kind]]
        classes = [node.kind, "entry"] if node.entry else [node.kind]
        if node.entry:
            attributes.append("penwidth=3")
        attributes.append(f"class={_dot_quote(' '.join(classes))}")
        out.append(f"    {ids[node.key]} [{', '.join(attributes)}];")
    for edge in graph.edges:
        attributes = []
        if edge.label:
            attributes.append(f"label={_dot_quote(edge.label)}")
        if edge.dashed:
            attributes.append("style=dashed")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        out.append(f"    {ids[edge.source]} -> {ids[edge.target]}{suffix};")
    out.append("}")
    return "\n".join(out) + "\n"


def render_dot(dot: str, fmt: Literal["svg", "png"]) -> bytes:
    """Render DOT text with Graphviz's ``dot`` program.

    Args:
        dot: DOT text, e.g. from :func:`to_dot`.
        fmt: ``"svg"`` or ``"png"``.

    Returns:
        The picture's bytes.

    Raises:
        ValueError: ``fmt`` is neither ``"svg"`` nor ``"png"``.
        GraphvizMissingError: ``dot`` is not on PATH.
        FontMissingError: a PNG of Chinese text, and no font can draw Chinese.
        GraphvizError: ``dot`` rejected the text or took longer than :data:`RENDER_TIMEOUT_SECONDS`.
    """
    if fmt not in ("svg", "png"):
        raise ValueError(f"cannot render {fmt!r} — use 'svg' or 'png'")
    if fmt == "png" and _CJK.search(dot) and not cjk_fonts():
        raise FontMissingError(
            f"no installed font can draw Chinese (fc-list :lang=zh finds none), so the PNG would show "
            f"boxes — how to fix: {CJK_FONT_FIX}; or draw --format svg"
        )
    program = shutil.which("dot")
    if program is None:
        raise GraphvizMissingError
    try:
        result = subprocess.run(
            [program, f"-T{fmt}"],
            input=dot.encode("utf-8"),
            capture_output=True,
            timeout=RENDER_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as exc:  # removed between which() and run()
        raise GraphvizMissingError from exc
    except subprocess.TimeoutExpired as exc:
        raise GraphvizError(
            f"dot took longer than {RENDER_TIMEOUT_SECONDS:g} s — the flow may be too large to draw"
        ) from exc
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip() or "no message"
        raise GraphvizError(f"dot failed with exit code {result.returncode}: {detail}")
    return result.stdout


def cjk_fonts() -> list[str]:
    """The font families that can draw Chinese, as fontconfig lists them (``fc-list :lang=zh``).

    fontconfig is what Graphviz finds its fonts with, and it reads the same environment
    (``FONTCONFIG_FILE``), so a test can point it at a configuration with no fonts.
    Empty when ``fc-list`` (Debian package ``fontconfig``, which Graphviz's pango needs)
    is missing or fails.
    """
    program = shutil.which("fc-list")
    if program is None:
        return []
    try:
        result = subprocess.run(
            [program, ":lang=zh", "family"],
            capture_output=True,
            timeout=RENDER_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    text = result.stdout.decode("utf-8", "replace")
    return sorted({line.strip() for line in text.splitlines() if line.strip()})
