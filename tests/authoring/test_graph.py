"""Flow pictures: every action and edge kind is drawn, nasty text is escaped, output is stable."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from bot.authoring.graph import (
    LABEL_TEXT_LIMIT,
    GraphvizError,
    GraphvizMissingError,
    render_dot,
    to_dot,
    to_mermaid,
)
from bot.errors import VoicebotError
from bot.language.flow import Flow
from bot.language.loader import load_flow
from tests.conftest import FLOWS_DIR, ROOT

FONT = 'fontname="Noto Sans CJK SC,WenQuanYi Zen Hei,sans-serif"'


def every_kind() -> dict[str, Any]:
    """A flow using every action and every kind of edge."""
    return {
        "title": "全部动作",
        "start": "welcome",
        "slots": {"phone": {"type": "phone"}, "ok": {"type": "yes_no"}},
        "defaults": {
            "silence": {"prompts": ["还在吗？"], "then": "bye"},
            "no_match": {"prompts": ["没听清。", "请再说一遍。"], "then": "agent"},
        },
        "global": {"transfer_agent": "agent", "goodbye": "bye"},
        "steps": {
            "welcome": {
                "say": "欢迎致电",
                "ask": {"check": "get_phone", "order": "fetch_order", "bill": "run_sub"},
                "silence": {"prompts": ["您好？", "您还在吗？"], "then": "bye"},
            },
            "get_phone": {
                "collect": {
                    "slot": "phone",
                    "prompt": "请说您的手机号",
                    "confirm": "是{{phone}}吗？",
                    "then": "find_policy",
                    "fail": "agent",
                }
            },
            "get_ok": {
                "say": "确认吗？",
                "collect": {"slot": "ok", "prompt": "请说是或不是", "then": "route"},
            },
            "find_policy": {
                "lookup": {
                    "table": "policies",
                    "match": {"phone": "phone"},
                    "as": "policy",
                    "not_found": "agent",
                },
                "goto": "get_ok",
            },
            "fetch_order": {
                "http": {"url": "https://api.example.com/orders/{{phone}}", "on_error": "agent"},
                "goto": "route",
            },
            "route": {
                "if": [
                    {"when": 'policy.status == "active"', "goto": "run_sub"},
                    {"when": "turns > 2", "goto": "agent"},
                ],
                "goto": "bye",
            },
            "run_sub": {"call": {"flow": "billing", "then": "after_sub"}},
            "after_sub": {"say": "转到问卷", "link": "survey"},
            "back": {"return": True},
            "agent": {"say": "正在转人工", "transfer": "8001"},
            "bye": {"say": "再见", "hangup": True},
        },
    }


@pytest.fixture(scope="module")
def yibao() -> Flow:
    return load_flow(FLOWS_DIR / "yibao.yaml").flow


@pytest.fixture(scope="module")
def kinds() -> Flow:
    return Flow.model_validate(every_kind())


_MERMAID_NODE = re.compile(r'^    (\w+)(\(\(|\(\[|\{\{|\(|\[)"(.*)"(\)\)|\]\)|\}\}|\)|\])$', re.MULTILINE)
_MERMAID_EDGE = re.compile(r'^    (\w+) (-->|-\.->)(?:\|"(.*)"\|)? (\w+)$', re.MULTILINE)
_MERMAID_SAFE = re.compile(r'(?:[^"<>|#&`%:;\\\n]|<br>|#\w+;)*')
_NAMED = {"quot": '"', "lt": "<", "gt": ">", "amp": "&"}


def mermaid_decode(label: str) -> str:
    """What Mermaid shows for a quoted label: entity codes decoded, ``<br>`` as a line break."""

    def entity(match: re.Match[str]) -> str:
        code = match[1]
        return chr(int(code)) if code.isdigit() else _NAMED[code]

    return re.sub(r"#(\w+);", entity, label.replace("<br>", "\n"))


def mermaid_nodes(text: str) -> dict[str, tuple[str, str]]:
    """Node id -> (shape opening, decoded label)."""
    return {m[1]: (m[2], mermaid_decode(m[3])) for m in _MERMAID_NODE.finditer(text)}


def mermaid_ids(text: str) -> dict[str, str]:
    """Step name (first label line) -> generated node id."""
    return {label.split("\n")[0]: node_id for node_id, (_, label) in mermaid_nodes(text).items()}


def mermaid_edges(text: str) -> list[tuple[str, str, str | None, str]]:
    """(source name, arrow, decoded label, target name) using the first label line as the name."""
    names = {node_id: label.split("\n")[0] for node_id, (_, label) in mermaid_nodes(text).items()}
    return [
        (names[m[1]], m[2], mermaid_decode(m[3]) if m[3] is not None else None, names[m[4]])
        for m in _MERMAID_EDGE.finditer(text)
    ]


# --- Mermaid ------------------------------------------------------------------------------------


def test_yibao_mermaid(yibao: Flow) -> None:
    text = to_mermaid(yibao)
    assert text.startswith('---\ntitle: "医保服务热线"\n---\nflowchart TD\n')
    ids = mermaid_ids(text)
    assert [ids[name] for name in yibao.steps] == [f"s{i}" for i in range(len(yibao.steps))]
    g, transfer, goodbye = ids["greeting"], ids["transfer"], ids["goodbye"]
    assert f"    start --> {g}" in text.splitlines()
    assert f'    {g} -->|"transfer_agent"| {transfer}' in text
    assert f'    {g} -.->|"silence ×2"| {ids["silence_goodbye"]}' in text  # default ladder: dashed
    assert f'    {g} -.->|"no match"| {ids["knowledge"]}' in text  # no re-prompt: straight there
    assert f'    {ids["offer_transfer"]} -->|"no match ×1"| {transfer}' in text  # its own ladder: solid
    assert f"    {ids['claim_paid']} --> {ids['menu']}" in text.splitlines()  # goto: no label
    assert f'    {ids["query_progress"]} -->|"confirmed"| {ids["find_claim"]}' in text
    assert f'    {ids["query_progress"]} -->|"fail"| {ids["offer_agent"]}' in text
    assert f'    {ids["find_claim"]} -->|"not found"| {ids["claim_not_found"]}' in text
    nodes = mermaid_nodes(text)
    assert nodes[g] == ("(", "greeting\n您好，欢迎致电医保服务热线。您可以说：查询报销进度、医保卡…")
    assert nodes[transfer] == ("{{", "transfer\n好的，正在为您转接人工客服，请稍候。\ntransfer 8001")
    assert nodes[goodbye][0] == "(["
    assert f"    class {transfer} transfer" in text
    assert f"    style {g} stroke-width:3px" in text
    # Every way out of every step, the default ladders of waiting steps, globals and the start.
    ways_out = sum(len(list(step.targets())) for step in yibao.steps.values())
    defaults = sum(  # only ask steps climb the no-match ladder; collect steps leave by `fail`
        (step.silence is None) + (step.no_match is None and bool(step.ask))
        for step in yibao.steps.values()
        if step.waits
    )
    assert len(mermaid_edges(text)) == ways_out + defaults + len(yibao.global_) + 1


def test_mermaid_shapes_of_every_action(kinds: Flow) -> None:
    text = to_mermaid(kinds)
    nodes = {label.split("\n")[0]: (shape, label) for shape, label in mermaid_nodes(text).values()}
    assert nodes["welcome"] == ("(", "welcome\n欢迎致电")
    assert nodes["get_phone"] == ("(", "get_phone\n请说您的手机号\ncollect phone")
    assert nodes["get_ok"] == ("(", "get_ok\n确认吗？\ncollect ok")
    assert nodes["find_policy"] == ("[", "find_policy\nlookup policies")
    assert nodes["fetch_order"] == ("[", "fetch_order\nhttp GET https://api.example.…")
    assert nodes["route"] == ("[", "route")
    assert nodes["run_sub"] == ("[", "run_sub\ncall billing")
    assert nodes["after_sub"] == ("[", "after_sub\n转到问卷\nlink survey")
    assert nodes["back"] == ("[", "back\nreturn")
    assert nodes["agent"] == ("{{", "agent\n正在转人工\ntransfer 8001")
    assert nodes["bye"] == ("([", "bye\n再见\nhang up")
    assert nodes["start"] == ("((", "start")
    assert nodes["any step"] == ("[", "any step")
    ids = mermaid_ids(text)
    assert f"    class {ids['welcome']},{ids['get_phone']},{ids['get_ok']} waits" in text
    assert f"    class {ids['agent']} transfer" in text
    assert f"    class {ids['bye']} hangup" in text


def test_mermaid_edges_of_every_kind(kinds: Flow) -> None:
    edges = mermaid_edges(to_mermaid(kinds))
    expected = [
        ("start", "-->", None, "welcome"),
        ("welcome", "-->", "check", "get_phone"),
        ("welcome", "-->", "order", "fetch_order"),
        ("welcome", "-->", "bill", "run_sub"),
        ("welcome", "-->", "silence ×2", "bye"),  # own ladder
        ("welcome", "-.->", "no match ×2", "agent"),  # default ladder
        ("get_phone", "-->", "confirmed", "find_policy"),
        ("get_phone", "-->", "fail", "agent"),  # its own fail: no no-match ladder
        ("get_phone", "-.->", "silence ×1", "bye"),
        ("get_ok", "-->", "filled", "route"),
        ("get_ok", "-.->", "fail", "agent"),  # no fail: the default no-match ladder's step
        ("get_ok", "-.->", "silence ×1", "bye"),
        ("find_policy", "-->", "not found", "agent"),
        ("find_policy", "-->", None, "get_ok"),
        ("fetch_order", "-->", "error", "agent"),
        ("fetch_order", "-->", None, "route"),
        ("route", "-->", 'policy.status == "active"', "run_sub"),
        ("route", "-->", "turns > 2", "agent"),
        ("route", "-->", None, "bye"),
        ("run_sub", "-->", "returned", "after_sub"),
        ("any step", "-.->", "transfer_agent", "agent"),
        ("any step", "-.->", "goodbye", "bye"),
    ]
    assert edges == expected


def test_entry_is_marked_even_when_not_first() -> None:
    data = every_kind()
    data["start"] = "route"
    flow = Flow.model_validate(data)
    text = to_mermaid(flow)
    ids = mermaid_ids(text)
    assert f"    start --> {ids['route']}" in text.splitlines()
    assert [line for line in text.splitlines() if "stroke-width:3px" in line] == [
        f"    style {ids['route']} stroke-width:3px"
    ]
    dot = to_dot(flow)
    assert '    "start" -> "route";' in dot.splitlines()
    assert [line.split(" [")[0] for line in dot.splitlines() if "penwidth=3" in line] == ['    "route"']


def test_title_argument_and_flows_without_title(kinds: Flow) -> None:
    assert to_mermaid(kinds, title="我的 流程").startswith('---\ntitle: "我的 流程"\n---\nflowchart TD\n')
    assert 'label="我的 流程", labelloc=t' in to_dot(kinds, title="我的 流程")
    untitled = Flow.model_validate({"steps": {"only": {"hangup": True}}})
    assert to_mermaid(untitled).startswith("flowchart TD\n")
    assert "labelloc" not in to_dot(untitled)
    assert to_mermaid(kinds, title="").startswith("flowchart TD\n")


def test_long_prompts_are_shortened() -> None:
    text = "一二三四五六七八九十" * 5
    flow = Flow.model_validate({"steps": {"long": {"say": text, "hangup": True}}})
    (_, label) = mermaid_nodes(to_mermaid(flow))["s0"]
    shown = label.split("\n")[1]
    assert shown == text[: LABEL_TEXT_LIMIT - 1] + "…"
    assert len(shown) == LABEL_TEXT_LIMIT
    assert f'label="long\\n{shown}\\nhang up"' in to_dot(flow)


def test_unknown_targets_are_drawn_not_fatal() -> None:
    flow = Flow.model_validate({"start": "nowhere", "steps": {"a": {"goto": "gone"}, "b": {"goto": "gone"}}})
    text = to_mermaid(flow)
    assert '    m0["nowhere<br>(no such step)"]' in text
    assert '    m1["gone<br>(no such step)"]' in text
    assert "    start --> m0" in text
    assert "    s0 --> m1" in text
    assert "    s1 --> m1" in text
    dot = to_dot(flow)
    assert '    "a" -> "gone";' in dot
    assert '"gone" [label="gone\\n(no such step)"' in dot


# --- DOT ----------------------------------------------------------------------------------------


def test_yibao_dot(yibao: Flow) -> None:
    dot = to_dot(yibao)
    lines = dot.splitlines()
    assert lines[0] == "digraph flow {"
    assert lines[-1] == "}"
    assert f"    node [{FONT}, fontsize=11];" in lines
    assert f"    edge [{FONT}, fontsize=10];" in lines
    assert FONT in lines[1]
    assert '    "start" -> "greeting";' in lines
    assert '    "greeting" -> "transfer" [label="transfer_agent"];' in lines
    assert '    "greeting" -> "silence_goodbye" [label="silence ×2", style=dashed];' in lines
    assert '    "offer_transfer" -> "transfer" [label="no match ×1"];' in lines
    assert '    "claim_paid" -> "menu";' in lines
    transfer = next(line for line in lines if line.startswith('    "transfer" ['))
    assert "shape=hexagon" in transfer
    assert 'class="transfer"' in transfer
    assert 'label="transfer\\n好的，正在为您转接人工客服，请稍候。\\ntransfer 8001"' in transfer
    greeting = next(line for line in lines if line.startswith('    "greeting" ['))
    assert 'style="rounded,filled"' in greeting
    assert 'class="waits entry"' in greeting
    assert "penwidth=3" in greeting


def test_dot_edges_of_every_kind(kinds: Flow) -> None:
    lines = to_dot(kinds).splitlines()
    for edge in [
        '"welcome" -> "get_phone" [label="check"]',
        '"welcome" -> "bye" [label="silence ×2"]',
        '"welcome" -> "agent" [label="no match ×2", style=dashed]',
        '"get_phone" -> "find_policy" [label="confirmed"]',
        '"get_phone" -> "agent" [label="fail"]',
        '"get_ok" -> "route" [label="filled"]',
        '"find_policy" -> "agent" [label="not found"]',
        '"find_policy" -> "get_ok"',
        '"fetch_order" -> "agent" [label="error"]',
        '"route" -> "run_sub" [label="policy.status == \\"active\\""]',
        '"route" -> "agent" [label="turns > 2"]',
        '"route" -> "bye"',
        '"run_sub" -> "after_sub" [label="returned"]',
        '"any step" -> "agent" [label="transfer_agent", style=dashed]',
        '"any step" -> "bye" [label="goodbye", style=dashed]',
    ]:
        assert f"    {edge};" in lines
    shapes = {
        "get_phone": 'label="get_phone\\n请说您的手机号\\ncollect phone", shape=box, style="rounded,filled"',
        "run_sub": 'label="run_sub\\ncall billing", shape=box, class="plain"',
        "after_sub": 'label="after_sub\\n转到问卷\\nlink survey", shape=box, class="plain"',
        "back": 'label="back\\nreturn", shape=box, class="plain"',
        "bye": 'label="bye\\n再见\\nhang up", shape=ellipse, peripheries=2',
        "any step": 'label="any step", shape=box, style="rounded,dashed"',
    }
    for name, attributes in shapes.items():
        assert any(line.startswith(f'    "{name}" [{attributes}') for line in lines), name


# --- escaping -----------------------------------------------------------------------------------

NASTY = '问"候" <b>|#1; [x]{y}\n第二行 %% `c` a:b'
NASTY_TEXT = 'He said "hi" <&> | #quot; ; \\n [a]\n第二'


def nasty_flow() -> Flow:
    return Flow.model_validate(
        {
            "title": 'T "#1" <x>',
            "global": {"x#y;": "end", 'q"|': NASTY},
            "steps": {
                NASTY: {"say": NASTY_TEXT, "ask": {"a|b": "end", 'q"]': NASTY}},
                "end": {"say": "bye", "hangup": True},
                "start": {"goto": "end"},  # clashes with the DOT start node's id
                "any step": {"goto": "start"},  # clashes with the DOT "any step" node's id
            },
        }
    )


def test_mermaid_escapes_names_and_text() -> None:
    text = to_mermaid(nasty_flow())
    body = text.split("flowchart TD\n", 1)[1]
    for line in body.splitlines():
        assert line.startswith("    "), line
    node_lines = _MERMAID_NODE.findall(body)
    edge_lines = _MERMAID_EDGE.findall(body)
    assert len(node_lines) == 6  # start, four steps, any step
    assert len(edge_lines) == 7
    for node_id, _, label, _ in node_lines:
        assert re.fullmatch(r"start|anystep|s\d+", node_id)
        assert _MERMAID_SAFE.fullmatch(label), label
    for _, _, label, _ in edge_lines:
        assert _MERMAID_SAFE.fullmatch(label), label
    nodes = mermaid_nodes(text)
    one_line_name = NASTY.replace("\n", " ")
    assert nodes["s0"] == ("(", f'{one_line_name}\nHe said "hi" <&> | #quot; ; \\…')
    edges = mermaid_edges(text)
    assert (one_line_name, "-->", "a|b", "end") in edges
    assert (one_line_name, "-->", 'q"]', one_line_name) in edges
    assert ("any step", "-.->", "x#y;", "end") in edges
    assert ("start", "-->", None, "end") in edges  # the step named "start" is s2, not the start node
    assert "    start --> s0" in body
    assert text.startswith('---\ntitle: "T \\"#1\\" <x>"\n---\n')


_DOT_STRING = r'"(?:[^"\\\n]|\\.)*"'
_DOT_STATEMENT = re.compile(rf"    (?:graph|node|edge|{_DOT_STRING}(?: -> {_DOT_STRING})?)(?: \[.*\])?;")


def svg_texts(svg: bytes) -> tuple[list[str], list[str]]:
    """(titles of nodes, all text lines) of an SVG made by Graphviz."""
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    titles = [
        g.findtext(f"{ns}title") or ""
        for g in root.iter(f"{ns}g")
        if g.get("class", "").split()[:1] == ["node"]
    ]
    return titles, [t.text or "" for t in root.iter(f"{ns}text")]


def test_dot_escapes_names_and_text() -> None:
    dot = to_dot(nasty_flow())
    lines = dot.splitlines()
    for line in lines[1:-1]:
        assert _DOT_STATEMENT.fullmatch(line), line
    escaped_name = '"问\\"候\\" <b>|#1; [x]{y}\\n第二行 %% `c` a:b"'
    assert f'    "start_" -> {escaped_name};' in lines
    assert f'    {escaped_name} -> "end" [label="a|b"];' in lines
    assert '    "any step_" -> "end" [label="x#y;", style=dashed];' in lines
    assert '    "start" -> "end";' in lines
    assert '    "any step" -> "start";' in lines
    assert 'label="T \\"#1\\" <x>"' in lines[1]

    titles, texts = svg_texts(render_dot(dot, "svg"))
    # Graphviz read every id as one node: the four steps keep their names, the extra nodes get "_".
    assert sorted(titles) == sorted(
        ['问"候" <b>|#1; [x]{y}\\n第二行 %% `c` a:b', "end", "start", "any step", "start_", "any step_"]
    )
    assert NASTY.replace("\n", " ") in texts
    assert 'He said "hi" <&> | #quot; ; \\…' in texts
    assert 'T "#1" <x>' in texts
    assert 'q"]' in texts


def test_backslashes_cannot_become_dot_escapes() -> None:
    flow = Flow.model_validate({"steps": {"a\\N\\": {"say": "x\\ly\\", "hangup": True}}})
    dot = to_dot(flow)
    assert '    "a\\\\N\\\\" [label="a\\\\N\\\\\\nx\\\\ly\\\\\\nhang up"' in dot
    _, texts = svg_texts(render_dot(dot, "svg"))
    assert [t for t in texts if t != "start"] == ["a\\N\\", "x\\ly\\", "hang up"]


# --- determinism --------------------------------------------------------------------------------


def test_output_is_deterministic_and_in_file_order() -> None:
    first, second = Flow.model_validate(every_kind()), Flow.model_validate(every_kind())
    assert to_mermaid(first) == to_mermaid(second) == to_mermaid(first)
    assert to_dot(first) == to_dot(second) == to_dot(first)
    ids = mermaid_ids(to_mermaid(first))
    assert [ids[name] for name in first.steps] == [f"s{i}" for i in range(len(first.steps))]

    data = every_kind()
    data["steps"] = dict(reversed(data["steps"].items()))
    reordered = Flow.model_validate(data)
    ids = mermaid_ids(to_mermaid(reordered))
    assert ids["bye"] == "s0"
    assert ids["welcome"] == f"s{len(reordered.steps) - 1}"
    dot_nodes = [
        line.split(" [")[0].strip()
        for line in to_dot(reordered).splitlines()
        if line.startswith('    "') and " -> " not in line
    ]
    assert dot_nodes == ['"start"', *(f'"{name}"' for name in reordered.steps), '"any step"']


# --- rendering ----------------------------------------------------------------------------------


def test_render_svg_and_png(yibao: Flow) -> None:
    dot = to_dot(yibao)
    svg = render_dot(dot, "svg")
    assert svg.startswith(b"<?xml") or b"<svg" in svg
    titles, texts = svg_texts(svg)
    assert set(yibao.steps) <= set(titles)
    assert "transfer 8001" in texts
    png = render_dot(dot, "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 1000


def test_render_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="use 'svg' or 'png'"):
        render_dot("digraph {}", "pdf")  # type: ignore[arg-type]
    with pytest.raises(GraphvizError, match="dot failed with exit code"):
        render_dot("digraph { this is not dot", "svg")


def test_missing_graphviz_is_reported(tmp_path: Path) -> None:
    assert issubclass(GraphvizMissingError, VoicebotError)
    script = textwrap.dedent(
        """
        from bot.authoring.graph import GraphvizMissingError, render_dot
        try:
            render_dot("digraph {}", "svg")
        except GraphvizMissingError as exc:
            print(exc)
        else:
            raise SystemExit("rendered without dot on PATH")
        """
    )
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={"PATH": str(empty), "PYTHONIOENCODING": "utf-8"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "graphviz is not installed — install the Debian package graphviz (make test installs it)"
    )
