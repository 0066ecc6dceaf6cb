"""docs/flows.md runs: its example flows load cleanly and their conversation tests pass.

The reference marks its runnable examples with the fence's info string:

* ```` ```yaml flow=NAME ````: a whole flow, written to ``<flows>/NAME.yaml``;
* ```` ```csv table=NAME ```` (or ``yaml table=NAME``): a lookup table, written to
  ``<flows>/data/NAME.csv`` (``.yaml``);
* ```` ```yaml flowtest=NAME ````: a conversation test of flow NAME, written to
  ``<flows>/tests/NAME.yaml`` (``NAME-2.yaml``… when there are several).

A recording an example names (``audio:``) is written as a short tone, standing in for
what a voice talent would record.

All examples share one flows directory, as a call center's flows do, so one example
may ``call:`` another. Every key of the flow format and of the test format, every slot
type and every expression function must appear in an example: a key added to the
models without an example in the reference fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from bot.authoring import flowtest
from bot.config import Settings
from bot.errors import FlowValidationError
from bot.language import flow as flow_format
from bot.language.expressions import FUNCTIONS
from bot.language.loader import load_flows
from bot.language.slots import BUILTIN_KINDS
from bot.text.segmenter import Segmenter
from tests.loopback import tts_wav

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "flows.md"

_FENCE = re.compile(
    r"^```(?P<lang>\w+) (?P<kind>flow|flowtest|table)=(?P<name>[A-Za-z0-9_]+)[ \t]*\n"
    r"(?P<body>.*?)^```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_FENCE_OPENING = re.compile(r"^```\w*[ \t]+\S*=", re.MULTILINE)


@dataclass(frozen=True)
class Block:
    """One runnable fenced block of the reference."""

    kind: str  # flow, flowtest or table
    lang: str  # yaml or csv
    name: str
    body: str
    line: int

    @property
    def where(self) -> str:
        return f"docs/flows.md:{self.line}"


def doc_blocks() -> list[Block]:
    text = DOC.read_text(encoding="utf-8")
    return [
        Block(m["kind"], m["lang"], m["name"], m["body"], text.count("\n", 0, m.start()) + 1)
        for m in _FENCE.finditer(text)
    ]


BLOCKS = doc_blocks()
FLOWS = [b for b in BLOCKS if b.kind == "flow"]
TESTS = [b for b in BLOCKS if b.kind == "flowtest"]
TABLES = [b for b in BLOCKS if b.kind == "table"]


def flowtest_file_names() -> list[str]:
    """The file each flowtest block is written to, in document order."""
    seen: dict[str, int] = {}
    names = []
    for block in TESTS:
        seen[block.name] = seen.get(block.name, 0) + 1
        count = seen[block.name]
        names.append(f"{block.name}.yaml" if count == 1 else f"{block.name}-{count}.yaml")
    return names


@pytest.fixture(scope="module")
def flows_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples written out as a flows directory."""
    directory = tmp_path_factory.mktemp("doc") / "flows"
    (directory / "data").mkdir(parents=True)
    (directory / "tests").mkdir()
    for block in FLOWS:
        (directory / f"{block.name}.yaml").write_text(block.body, encoding="utf-8")
    for block in TABLES:
        (directory / "data" / f"{block.name}.{block.lang}").write_text(block.body, encoding="utf-8")
    for block, name in zip(TESTS, flowtest_file_names(), strict=True):
        (directory / "tests" / name).write_text(block.body, encoding="utf-8")
    for name in recordings_named(FLOWS):
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(tts_wav(name))
    return directory


def recordings_named(blocks: list[Block]) -> set[str]:
    """The ``audio:`` files the example flows name."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("audio"), str):
                found.add(value["audio"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for block in blocks:
        walk(yaml.safe_load(block.body))
    return found


def test_the_examples_are_well_formed() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert len(_FENCE_OPENING.findall(text)) == len(BLOCKS), "a fence with `x=name` that is not an example"
    assert FLOWS
    assert TESTS
    for kind in ("flow", "table"):
        names = [b.name for b in BLOCKS if b.kind == kind]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        assert not duplicates, f"{kind} names used twice: {duplicates}"
    for block in BLOCKS:
        assert block.lang in (("csv", "yaml") if block.kind == "table" else ("yaml",)), block.where
    flow_names = {b.name for b in FLOWS}
    for block in TESTS:
        assert block.name in flow_names, f"{block.where}: flowtest of an unknown flow {block.name!r}"
        assert yaml.safe_load(block.body)["flow"] == block.name, f"{block.where}: `flow:` is not {block.name}"
    untested = sorted(flow_names - {b.name for b in TESTS})
    assert not untested, f"example flows without a conversation test: {untested}"


def test_every_example_flow_loads_without_errors_or_warnings(flows_dir: Path) -> None:
    try:
        sources = load_flows(flows_dir)
    except FlowValidationError as exc:
        pytest.fail(f"the examples of docs/flows.md do not load:\n{exc}")
    assert set(sources) == {b.name for b in FLOWS}
    warnings = [str(w) for source in sources.values() for w in source.warnings]
    assert not warnings, "\n".join(warnings)


@pytest.mark.parametrize("name", flowtest_file_names())
async def test_example_conversations_pass(name: str, flows_dir: Path, segmenter: Segmenter) -> None:
    results = await flowtest.run_file(
        flows_dir / "tests" / name, flows_dir, Settings(flows_dir=flows_dir), segmenter=segmenter
    )
    assert results
    assert all(r.passed for r in results), flowtest.report(results)


# --- every key, slot type and function has an example ------------------------------------


def keys_of(model: type[BaseModel]) -> set[str]:
    """The keys a model accepts in YAML: each field's alias, or its name."""
    return {field.alias or name for name, field in model.model_fields.items()}


def _mappings(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _flow_parts(data: dict[str, Any]) -> Iterator[tuple[type[BaseModel], dict[str, Any]]]:
    """Each part of a flow file with the model that reads it."""
    yield flow_format.Flow, data
    yield from ((flow_format.Intent, i) for i in _mappings(list((data.get("intents") or {}).values())))
    yield from ((flow_format.NLUOptions, n) for n in _mappings(data.get("nlu")))
    yield from ((flow_format.GradeRule, g) for g in _mappings(data.get("grading")))
    ladders = []
    for defaults in _mappings(data.get("defaults")):
        yield flow_format.Defaults, defaults
        ladders += _mappings([defaults.get("silence"), defaults.get("no_match")])
    prompts = []
    for step in _mappings(list((data.get("steps") or {}).values())):
        yield flow_format.Step, step
        ladders += _mappings([step.get("silence"), step.get("no_match")])
        prompts += _mappings(step.get("say"))
        for collect in _mappings(step.get("collect")):
            yield flow_format.Collect, collect
            prompts += _mappings([collect.get("prompt"), collect.get("confirm"), *collect.get("invalid", [])])
        yield from ((flow_format.Lookup, lookup) for lookup in _mappings(step.get("lookup")))
        yield from ((flow_format.HttpCall, http) for http in _mappings(step.get("http")))
        yield from ((flow_format.Call, call) for call in _mappings(step.get("call")))
        yield from ((flow_format.Branch, branch) for branch in _mappings(step.get("if")))
    for ladder in ladders:
        yield flow_format.Ladder, ladder
        prompts += _mappings(ladder.get("prompts"))
    yield from ((flow_format.Prompt, prompt) for prompt in prompts)


def _test_parts(data: dict[str, Any]) -> Iterator[tuple[type[BaseModel], dict[str, Any]]]:
    """Each part of a conversation test file with the model that reads it."""
    yield flowtest.FlowTestSpec, data
    for conversation in _mappings(data.get("conversations")):
        yield flowtest.ConversationSpec, conversation
        yield from ((flowtest.TurnSpec, turn) for turn in _mappings(conversation.get("turns")))
        yield from ((flowtest.EndSpec, end) for end in _mappings(conversation.get("end")))


def used_keys(blocks: list[Block], parts: Any) -> dict[type[BaseModel], set[str]]:
    used: dict[type[BaseModel], set[str]] = {}
    for block in blocks:
        for model, mapping in parts(yaml.safe_load(block.body)):
            used.setdefault(model, set()).update(str(key) for key in mapping)
    return used


FLOW_MODELS = (
    flow_format.Flow,
    flow_format.Step,
    flow_format.Collect,
    flow_format.HttpCall,
    flow_format.Lookup,
    flow_format.Call,
    flow_format.Branch,
    flow_format.GradeRule,
    flow_format.Intent,
    flow_format.NLUOptions,
    flow_format.Defaults,
    flow_format.Ladder,
    flow_format.Prompt,
)
TEST_MODELS = (flowtest.FlowTestSpec, flowtest.ConversationSpec, flowtest.TurnSpec, flowtest.EndSpec)


@pytest.mark.parametrize("model", FLOW_MODELS, ids=lambda m: m.__name__)
def test_every_key_of_the_flow_format_has_an_example(model: type[BaseModel]) -> None:
    used = used_keys(FLOWS, _flow_parts).get(model, set())
    missing = sorted(keys_of(model) - used)
    assert not missing, f"keys of {model.__name__} without an example flow in docs/flows.md: {missing}"


@pytest.mark.parametrize("model", TEST_MODELS, ids=lambda m: m.__name__)
def test_every_key_of_the_test_format_has_an_example(model: type[BaseModel]) -> None:
    used = used_keys(TESTS, _test_parts).get(model, set())
    missing = sorted(keys_of(model) - used)
    assert not missing, f"keys of {model.__name__} without an example test in docs/flows.md: {missing}"


def test_every_slot_type_has_an_example() -> None:
    used = {
        str(slot.get("type"))
        for block in FLOWS
        for slot in _mappings(list((yaml.safe_load(block.body).get("slots") or {}).values()))
    }
    missing = sorted(set(BUILTIN_KINDS) - used)
    assert not missing, f"slot types without an example flow in docs/flows.md: {missing}"


def test_every_expression_function_has_an_example() -> None:
    text = "\n".join(block.body for block in FLOWS)
    missing = sorted(name for name in FUNCTIONS if not re.search(rf"\b{name}\(", text))
    assert not missing, f"functions without an example flow in docs/flows.md: {missing}"
