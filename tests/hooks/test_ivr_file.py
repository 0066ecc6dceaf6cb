"""ivr.yaml: what a valid file gives, and every problem located with its fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.errors import FlowValidationError
from bot.hooks.ivr_file import DEFAULT_UNKNOWN, load_ivr
from tests.conftest import FLOWS_DIR
from tests.hooks.flows import write_flows

PARCELS = "tracking_no,location,status\n1234567890,上海,运输中\n"


def test_the_sample_file_loads_with_its_table() -> None:
    loaded = load_ivr(FLOWS_DIR)
    assert loaded is not None
    assert {"kuaidi", "hours"} <= set(loaded.file.queries)
    assert "parcels" in loaded.tables


def test_no_file_is_no_queries(tmp_path: Path) -> None:
    assert load_ivr(write_flows(tmp_path, {})) is None


def test_texts_have_defaults(tmp_path: Path) -> None:
    loaded = load_ivr(write_flows(tmp_path, {"hooks/ivr.yaml": "queries: {}\n"}))
    assert loaded is not None
    assert loaded.file.texts.unknown.text == DEFAULT_UNKNOWN


def _problems(tmp_path: Path, text: str) -> list[str]:
    flows = write_flows(tmp_path, {"hooks/ivr.yaml": text, "data/parcels.csv": PARCELS})
    with pytest.raises(FlowValidationError) as raised:
        load_ivr(flows)
    return [str(problem) for problem in raised.value.problems]


QUERY = "queries:\n  kuaidi:\n    keys: {in1: {digits: true}}\n"
LOOKUP = "    lookup: {table: parcels, match: {tracking_no: in1}}\n"


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        (QUERY, 2, "the required key 'answer' is missing — add `answer:` here"),
        (QUERY + "    answer: 您好\n    anwser: 您好\n", 5, "unknown key 'anwser'"),
        (QUERY + "    answer: 单号{{in2}}\n", 4, "'in2' is not known here — declare it under `keys:`"),
        (
            QUERY + "    answer: 单号{{row.status}}\n",
            4,
            "'row' is not known here — use one of: callee, caller, id, in1, opt",
        ),
        (
            QUERY + LOOKUP + "    answer: '{{row.staus}}'\n",
            5,
            "table 'parcels' has no column 'staus' — use one of",
        ),
        (
            QUERY + "    lookup: {table: parcels, match: {number: in1}}\n    answer: x\n",
            4,
            "has no column 'number'",
        ),
        (QUERY + "    lookup: {table: nosuch, match: {a: in1}}\n    answer: x\n", 4, "no table 'nosuch'"),
        (QUERY + "    answer: 单号{{in1\n", 4, "{{ is not closed"),
        (
            QUERY + "    http: {url: 'http://crm/{{in1}}', on_error: oops}\n    answer: x\n",
            4,
            "a query has no steps to go to — remove `on_error:`",
        ),
        (
            QUERY + LOOKUP + "    http: {url: 'http://crm/{{in1}}'}\n    answer: x\n",
            2,
            "keep either `lookup:` or `http:`",
        ),
        (
            QUERY + "    http: {url: 'http://crm/{{in1}}', save: {caller: data.x}}\n    answer: x\n",
            4,
            "'caller' is already a name of the query",
        ),
        (
            "queries:\n  q:\n    keys: {in1: {pattern: '[0-9'}}\n    answer: x\n",
            3,
            "the pattern is not a regular expression",
        ),
        (
            "queries:\n  q:\n    keys: {in1: {min_length: 9, max_length: 3}}\n    answer: x\n",
            3,
            "min_length 9 is more than max_length 3 — swap them",
        ),
        ("queries:\n  q:\n    keys: {key1: {}}\n    answer: x\n", 3, "'key1' is not a key the CTI sends"),
        (QUERY + "    say_as: {in1: shouting}\n    answer: x\n", 4, "unknown way to say a value: 'shouting'"),
        ("texts:\n  unknown: 不支持{{name}}\n", 2, "'name' is not known here"),
        ("queries: [kuaidi]\n", 1, "expected a mapping"),
    ],
    ids=[
        "no-answer",
        "unknown-key",
        "undeclared-key",
        "row-without-lookup",
        "unknown-row-column",
        "unknown-match-column",
        "unknown-table",
        "bad-template",
        "on-error",
        "lookup-and-http",
        "save-over-a-name",
        "bad-pattern",
        "min-over-max",
        "bad-key-name",
        "unknown-say-as",
        "unknown-name-in-file-texts",
        "queries-not-a-mapping",
    ],
)
def test_problems_are_located_and_say_the_fix(tmp_path: Path, text: str, line: int, expected: str) -> None:
    problems = _problems(tmp_path, text)
    path = re.escape(str(tmp_path / "hooks" / "ivr.yaml"))
    assert len(problems) == 1, problems
    assert re.match(rf"{path}:{line}:\d+: .+ — .+", problems[0]), problems
    assert expected in problems[0]


def test_file_texts_may_name_any_key(tmp_path: Path) -> None:
    flows = write_flows(tmp_path, {"hooks/ivr.yaml": "texts:\n  not_found: 没有查到{{in1}}。\n"})
    assert load_ivr(flows) is not None
