"""`voicebot flows check` explains raw YAML mistakes in an author's terms, at the line
where they were made, with the fix; misspelt names get a "did you mean"."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.conftest import FLOWS_DIR

SAMPLES = {name: (FLOWS_DIR / f"{name}.yaml").read_text(encoding="utf-8") for name in ("yibao", "survey")}


class Case(NamedTuple):
    sample: str
    old: str
    new: str
    marker: str  # the expected line is the line of this text in the broken copy
    message: str
    fix: str
    severity: str = "error"
    column_of: str | None = None  # the expected column is this text's (first character)


CASES = {
    "full-width-colon-after-key": Case(
        "yibao",
        "    say: 请问还有什么可以帮您？",
        "    say： 请问还有什么可以帮您？",
        "say： 请问还有",
        "the full-width colon ： after 'say' is not a YAML colon",
        "type the colon in English mode, followed by a space: `say: `",
        column_of="： 请问还有",
    ),
    "full-width-colon-step-name": Case(
        "yibao",
        "  hours:\n",
        "  hours：\n",
        "hours：",
        "the full-width colon ： after 'hours'",
        "`hours: `",
        column_of="：\n    say: 我们的服务时间",
    ),
    "full-width-colon-in-flow-mapping": Case(
        "survey",
        "callback_date: {type: date}",
        "callback_date: {type： date}",
        "{type： date}",
        "the full-width colon ： after 'type'",
        "`type: `",
    ),
    "full-width-brackets": Case(
        "yibao",
        "    keywords: [再见, 拜拜, 挂了]",
        "    keywords: 【再见, 拜拜, 挂了】",
        "【再见",
        "the full-width brackets 【】 do not make a list",
        "type the brackets in English mode: [a, b]",
    ),
    "full-width-comma-in-list": Case(
        "yibao",
        "    keywords: [再见, 拜拜, 挂了]",
        "    keywords: [再见，拜拜，挂了]",
        "[再见，拜拜",
        "the full-width comma ， does not separate list items: '再见，拜拜，挂了' is one item",
        "type commas between items in English mode",
        severity="warning",
        column_of="，拜拜，挂了",
    ),
    "full-width-quotes": Case(
        "yibao",
        '    transfer: "8001"',
        "    transfer: “8001”",
        "“8001”",
        "the full-width quotes “” are part of the text",
        'type quotes in English mode ("…")',
    ),
    "unclosed-quote": Case(
        "yibao",
        "    say: 请问还有什么可以帮您？",
        '    say: "请问还有什么可以帮您？',
        '"请问还有',
        'the quote " opened here is never closed',
        'close it with " on this line',
        column_of='"请问还有',
    ),
    "unclosed-quote-last-step": Case(
        "yibao",
        '    transfer: "8001"',
        '    transfer: "8001',
        '"8001',
        'the quote " opened here is never closed',
        'close it with " on this line',
    ),
    "unclosed-bracket": Case(
        "survey",
        "examples: [方便, 可以, 你说吧, 好的, 行, 没问题, 说吧, 可以的你说, 嗯你说, 有空]",
        "examples: [方便, 可以, 你说吧, 好的, 行, 没问题, 说吧, 可以的你说, 嗯你说, 有空",
        "[方便",
        "the bracket [ opened here is never closed",
        "close it with ] on this line",
        column_of="[方便",
    ),
    "list-item-indented-too-far": Case(
        "yibao",
        "        - 还是没有听清楚",
        "          - 还是没有听清楚",
        "- 还是没有听清楚",
        "this line starts with '- ' but is indented more than the item above, so YAML joined it",
        "to make it a list item, indent its '-' like the item on line",
        severity="warning",
    ),
    "list-item-indented-too-little": Case(
        "yibao",
        "        - 还是没有听清楚",
        "      - 还是没有听清楚",
        "- 还是没有听清楚",
        "this list item is indented 6 spaces, the item above",
        "indent the items of one list the same: 8 spaces",
    ),
    "list-of-mappings-item-too-far": Case(
        "survey",
        "  - grade: B\n    score: 70",
        "    - grade: B\n      score: 70",
        "- grade: B\n      score: 70",
        "this list item is indented 4 spaces, the item above",
        "indent the items of one list the same: 2 spaces",
    ),
    "key-indented-too-far": Case(
        "survey",
        "      attempts: 2\n      then: ask_comment",
        "      attempts: 2\n        then: ask_comment",
        "  then: ask_comment",
        "this line is indented more than the line above",
        "indent it like the line above: 6 spaces",
    ),
    "tab": Case(
        "yibao",
        "    say: 请问还有什么可以帮您？",
        "\tsay: 请问还有什么可以帮您？",
        "\tsay",
        "a tab indents this line",
        "indent with spaces only",
    ),
    "no-colon": Case(
        "survey",
        "  thanks:\n",
        "  thanks\n",
        "  thanks\n",
        "this line has no colon",
        "add a colon after the key",
    ),
    "colon-inside-text": Case(
        "survey",
        "    say: 好的，您的意见已经记录下来了。",
        "    say: 好的: 您的意见已经记录下来了。",
        "好的: 您的",
        "a colon followed by a space inside a text",
        "put the whole text in quotes",
    ),
    "misspelt-step-key": Case(
        "yibao",
        "    say: 请问还有什么可以帮您？",
        "    sya: 请问还有什么可以帮您？",
        "sya:",
        "unknown key 'sya'",
        "did you mean 'say'?",
    ),
    "misspelt-top-level-key": Case(
        "yibao",
        "\nsynonyms:\n",
        "\nsynonym:\n",
        "synonym:",
        "unknown key 'synonym'",
        "did you mean 'synonyms'?",
    ),
    "misspelt-collect-key": Case(
        "survey",
        "      slot: callback_time",
        "      slto: callback_time",
        "slto:",
        "unknown key 'slto'",
        "did you mean 'slot'?",
    ),
    "misspelt-step-name": Case(
        "survey",
        "      then: ask_comment",
        "      then: ask_coment",
        "ask_coment",
        "unknown step 'ask_coment'",
        "did you mean 'ask_comment'?",
    ),
    "misspelt-intent": Case(
        "survey",
        "      busy: ask_callback_date",
        "      bussy: ask_callback_date",
        "bussy:",
        "unknown intent 'bussy'",
        "did you mean 'busy'?",
    ),
    "misspelt-variable": Case(
        "survey",
        "我们会在{{callback_date}}",
        "我们会在{{callback_dat}}",
        "{{callback_dat}}",
        "no slot, set:, lookup or http step provides 'callback_dat'",
        "did you mean 'callback_date'?",
        severity="warning",
    ),
}


def check(*paths: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["flows", "check", *map(str, paths)])
    return result.exit_code, result.stdout.splitlines()


def broken_copy(tmp_path: Path, sample: str, old: str, new: str) -> tuple[Path, str]:
    text = SAMPLES[sample]
    assert text.count(old) >= 1, "the sample changed; update the test"
    broken = text.replace(old, new, 1)
    shutil.copytree(FLOWS_DIR / "data", tmp_path / "data")
    path = tmp_path / f"{sample}.yaml"
    path.write_text(broken, encoding="utf-8")
    return path, broken


def position_of(text: str, fragment: str) -> tuple[int, int]:
    """1-based line and column of ``fragment``'s first character."""
    before = text[: text.index(fragment)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_a_mistake_is_explained_at_its_line_with_the_fix(tmp_path: Path, case: Case) -> None:
    path, broken = broken_copy(tmp_path, case.sample, case.old, case.new)
    status, lines = check(path)
    assert status == 1  # warnings fail the check too, so it can guard a commit
    found = [line for line in lines if case.message in line]
    assert len(found) == 1, lines
    match = re.match(rf"{re.escape(str(path))}:(\d+):(\d+): (warning: )?.+ — (.+)$", found[0])
    assert match, found[0]
    assert int(match[1]) == position_of(broken, case.marker)[0], found[0]
    if case.column_of is not None:
        assert int(match[2]) == position_of(broken, case.column_of)[1], found[0]
    assert bool(match[3]) == (case.severity == "warning"), found[0]
    assert case.fix in match[4], found[0]


def test_a_syntax_mistake_is_the_only_problem_reported(tmp_path: Path) -> None:
    path, _ = broken_copy(
        tmp_path, "yibao", "    say: 请问还有什么可以帮您？", '    say: "请问还有什么可以帮您？'
    )
    assert len(check(path)[1]) == 1


def test_full_width_punctuation_inside_prompts_is_not_flagged(tmp_path: Path) -> None:
    text = SAMPLES["survey"]
    for old, new in [
        ("    say: 好的，打扰您了，再见。", "    say: 好的：打扰您了（再见）“谢谢”【注】，再见。"),
        ("        - 抱歉没有听清", "        - 温馨提示：抱歉没有听清"),
        ("    examples: [再见, 拜拜,", '    examples: ["再见，拜拜", 拜拜,'),
    ]:
        assert old in text, "the sample changed; update the test"
        text = text.replace(old, new, 1)
    path = tmp_path / "survey.yaml"
    path.write_text(text, encoding="utf-8")
    assert check(path) == (0, [])


def test_a_colon_mistake_is_named_only_when_it_is_the_cause(tmp_path: Path) -> None:
    """A full-width colon in a list item's text stays text; the real mistake below is named."""
    text = SAMPLES["survey"].replace("        - 抱歉没有听清", "        - VIP：抱歉没有听清", 1)
    broken = text.replace("  thanks:\n", "  thanks\n", 1)
    path = tmp_path / "survey.yaml"
    path.write_text(broken, encoding="utf-8")
    status, lines = check(path)
    assert status == 1
    assert len(lines) == 1
    assert f":{position_of(broken, '  thanks')[0]}:" in lines[0]
    assert "this line has no colon" in lines[0]
