"""Raw YAML mistakes explained in a flow author's terms.

Authors type flows with a Chinese input method, so the usual YAML mistakes are a
full-width ``：`` after a key, ``“”`` or ``【】`` where YAML wants ``"`` or ``[``, a quote
or bracket left open, and a list item indented unlike its neighbours. PyYAML reports
where it *noticed* the problem (a quote left open is noticed dozens of lines later), in
its own words. This module finds the cause instead:

* :func:`explain_syntax_error` turns a YAML syntax error into one :class:`Mistake`. A
  light scan of the lines proposes causes (each with the file repaired); a cause is
  named only when re-parsing its repaired file gets past the original error, so a
  full-width colon inside an ordinary prompt is never blamed.
* :func:`scalar_mistake` looks at one text of a file that parsed: a ``- `` line folded
  into the text above, ``say：…`` read as text, ``[再见，拜拜]`` read as one item…

Full-width punctuation inside a prompt is normal Chinese and is never reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

_ASCII_OF = {"：": ":", "，": ",", "“": '"', "”": '"', "‘": "'", "’": "'", "【": "[", "】": "]"}
_CLOSING = {'"': '"', "'": "'", "[": "]", "{": "}"}
_KEY_WITH_VALUE = re.compile(r"^(\s*)([^\s#:\-\[{'\"][^:#]*?):\s+\S")  # `key: value` on one line
_KEY_LIKE = re.compile(r"^\s*[^\s#:][^:#]*:(\s|$)")
_AUTHOR_KEY = re.compile(r"[a-z][a-z0-9_]*")  # keys and step names as flows write them
_MAX_CANDIDATES = 50


@dataclass(frozen=True)
class Mistake:
    """What an author got wrong, where (1-based line and column), and how to fix it.

    ``warns``: worth a warning even when the file loads; False for mistakes only
    reported as the cause of an error (``【重要】`` may be meant as text).
    """

    line: int
    column: int
    message: str
    fix: str
    warns: bool = True


@dataclass(frozen=True)
class _Candidate:
    mistake: Mistake
    repaired: str  # the whole file with this one mistake repaired


@dataclass
class _Cursor:
    """Where the scan of one line is, and what YAML would expect there."""

    index: int  # 0-based line
    line: str
    position: int
    value_start: bool  # a value (text, quote, bracket) may start here
    key_start: bool = False  # still in a key: a full-width colon here was meant as `:`
    segment: int = 0  # where the current key or item began

    def __post_init__(self) -> None:
        self.key_start = self.value_start
        self.segment = self.position


@dataclass
class _Open:
    """A quote or bracket that opened at ``line``/``column`` (0-based) on a line indented ``indent``."""

    char: str
    line: int
    column: int
    indent: int


def explain_syntax_error(text: str, exc: yaml.MarkedYAMLError) -> Mistake:
    """The author's mistake behind a YAML syntax error, located where it was made."""
    error_line = _line_of(exc)
    lines = text.split("\n")
    for candidate in _Scanner(lines).candidates()[:_MAX_CANDIDATES]:
        if candidate.mistake.line > error_line + 1:
            break
        later = _error_line(candidate.repaired)
        if later is None or later > error_line:
            return candidate.mistake
    return _reworded(lines, exc)


def _line_of(exc: yaml.MarkedYAMLError) -> int:
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark else 1


def _error_line(text: str) -> int | None:
    """The line of the first YAML syntax error of ``text``, None when it parses."""
    try:
        yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        return _line_of(exc)
    except (yaml.YAMLError, RecursionError):
        return 1
    return None


def _reworded(lines: list[str], exc: yaml.MarkedYAMLError) -> Mistake:
    """PyYAML's own report, in an author's words where its kind is known."""
    problem, context = exc.problem or "invalid YAML", exc.context or ""
    at = exc.problem_mark or exc.context_mark
    line, column = (at.line, at.column) if at else (0, 0)
    opened = exc.context_mark
    if "'\\t'" in problem:
        return _syntax(
            line, column, "a tab indents this line", "indent with spaces only; YAML does not allow tabs"
        )
    if "quoted scalar" in context and opened:
        quote = lines[opened.line][opened.column : opened.column + 1] or '"'
        return _syntax(
            opened.line,
            opened.column,
            f"the quote {quote} opened here is never closed",
            f"end the text with {quote}",
        )
    if context.startswith("while parsing a flow") and opened:
        bracket = lines[opened.line][opened.column : opened.column + 1] or "["
        return _syntax(
            opened.line,
            opened.column,
            f"the {bracket} opened here is not closed where YAML expected (line {line + 1})",
            f"close it with {_CLOSING.get(bracket, ']')} at the end of the list",
        )
    if problem == "could not find expected ':'" and opened:
        return _syntax(
            opened.line,
            opened.column,
            "this line has no colon, where YAML expects `key: value`",
            "add a colon after the key, or indent the line if it continues the text above",
        )
    if problem == "mapping values are not allowed here" and ": " in lines[line][: max(column - 1, 0)]:
        return _syntax(
            line,
            column,
            "a colon followed by a space inside a text",
            "put the whole text in quotes ('…'), or write the colon in Chinese mode (：)",
        )
    return _syntax(
        line, column, problem, "check indentation (spaces, not tabs), colons and quotes on this line"
    )


def _syntax(line: int, column: int, message: str, fix: str) -> Mistake:
    """A syntax mistake at 0-based ``line``/``column``."""
    return Mistake(line + 1, column + 1, f"YAML syntax error: {message}", fix)


# --- proposing causes: a light scan of the lines ---------------------------------------------------


class _Scanner:
    """Walks the lines roughly as YAML reads them (block scalars, comments, quotes, flow
    brackets) and proposes the mistakes an author may have made, in file order."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.found: list[_Candidate] = []
        self.quote: _Open | None = None
        self.flow: list[_Open] = []
        self.block_indent: int | None = None  # inside a `|` / `>` text: its key's indentation
        self.structural: list[int] = []  # lines that start a key or an item

    def candidates(self) -> list[_Candidate]:
        for index, line in enumerate(self.lines):
            self._line(index, line)
        return sorted(self.found, key=lambda c: (c.mistake.line, c.mistake.column))

    def _line(self, index: int, line: str) -> None:
        indent = _indent(line)
        content = line.strip()
        if self.block_indent is not None:
            if not content or indent > self.block_indent:
                return
            self.block_indent = None
        position = 0
        if self.quote is not None:
            end = _quote_end(line, 0, self.quote.char)
            if end is None:
                self._unclosed_at_end(index)
                return
            position = end
        elif not self.flow and content and not content.startswith("#"):
            self._indentation(index, indent)
            self.structural.append(index)
            position = indent
        at_start = position == indent and self.quote is None
        self._tokens(_Cursor(index, line, position, at_start or bool(self.flow)))
        self._unclosed_at_end(index)

    def _tokens(self, cursor: _Cursor) -> None:
        line = cursor.line
        while cursor.position < len(line):
            char = line[cursor.position]
            following = line[cursor.position + 1 : cursor.position + 2]
            if char == " ":
                cursor.position += 1
            elif char == "#" and (cursor.position == 0 or line[cursor.position - 1] == " "):
                return  # a comment
            elif cursor.value_start and char in "\"'":
                if not self._quoted(cursor, char):
                    return
            elif self._flow_token(cursor, char):
                continue
            elif not self.flow and cursor.value_start and char in "|>":
                self.block_indent = _indent(line)
                return
            elif not self.flow and cursor.value_start and char == "-" and following in ("", " "):
                cursor.position += 1  # a list item's dash
                cursor.segment = cursor.position
            elif char == ":" and (following in ("", " ") or (self.flow and following in ",]}")):
                cursor.position += 1
                cursor.value_start, cursor.key_start = True, False
            else:
                self._full_width(cursor, char, following)
                cursor.value_start = False
                cursor.position += 1

    def _quoted(self, cursor: _Cursor, char: str) -> bool:
        """Skip a quoted text; False when it runs past the end of the line."""
        self.quote = _Open(char, cursor.index, cursor.position, _indent(cursor.line))
        end = _quote_end(cursor.line, cursor.position + 1, char)
        if end is None:
            return False
        self.quote = None
        cursor.position, cursor.value_start, cursor.key_start = end, False, False
        return True

    def _flow_token(self, cursor: _Cursor, char: str) -> bool:
        """``[ { ] } ,`` of a flow collection; False for any other character."""
        if (cursor.value_start or self.flow) and char in "[{":
            self.flow.append(_Open(char, cursor.index, cursor.position, _indent(cursor.line)))
            cursor.value_start, cursor.key_start = True, char == "{"
        elif self.flow and char in "]}":
            self.flow.pop()
            cursor.value_start = cursor.key_start = False
        elif self.flow and char == ",":
            cursor.value_start = cursor.key_start = True
        else:
            return False
        cursor.position += 1
        cursor.segment = cursor.position
        return True

    def _full_width(self, cursor: _Cursor, char: str, following: str) -> None:
        """Propose the ASCII character for a full-width one where YAML syntax needs it."""
        index, position = cursor.index, cursor.position
        if cursor.value_start and char in "“‘【":
            self._full_width_opening(index, position, char)
        elif self.flow and char == "，" and not cursor.key_start:
            self._propose(
                (index, position, "，", ", "),
                "the full-width comma ， does not separate list items",
                "type commas between items in English mode: [a, b]",
            )
        elif char == "：" and cursor.key_start:
            key = cursor.line[cursor.segment : position].strip()
            shown = f"after {key!r} " if key else ""
            self._propose(
                (index, position, "：", ":" if following == " " else ": "),
                f"the full-width colon ： {shown}is not a YAML colon",
                f"type the colon in English mode, followed by a space: `{key or 'key'}: `",
            )

    def _full_width_opening(self, index: int, position: int, char: str) -> None:
        if char == "【":
            closing = "】"
            message = "the full-width bracket 【 does not start a list"
            fix = "type the brackets in English mode: [a, b]"
        else:
            closing = "”" if char == "“" else "’"
            message = f"the full-width quote {char} does not quote text in YAML"
            fix = f"type quotes in English mode ({_ASCII_OF[char]}…{_ASCII_OF[char]}), or leave them out"
        line = self.lines[index]
        end = line.find(closing, position + 1)
        repaired = line[:position] + _ASCII_OF[char] + line[position + 1 :]
        if end >= 0:
            repaired = repaired[:end] + _ASCII_OF[closing] + repaired[end + 1 :]
        self._add(index, position, message, fix, repaired)

    def _propose(self, replace: tuple[int, int, str, str], message: str, fix: str) -> None:
        """``replace``: line index, position, the character, the ASCII text for it."""
        index, position, char, ascii_text = replace
        line = self.lines[index]
        self._add(index, position, message, fix, line[:position] + ascii_text + line[position + len(char) :])

    def _add(self, index: int, position: int, message: str, fix: str, repaired_line: str) -> None:
        repaired = [*self.lines[:index], repaired_line, *self.lines[index + 1 :]]
        self.found.append(_Candidate(_syntax(index, position, message, fix), "\n".join(repaired)))

    def _unclosed_at_end(self, index: int) -> None:
        """A quote or bracket still open where the next line is back at its own
        indentation (or the file ends): it was most likely never closed."""
        opened = [*self.flow, *([self.quote] if self.quote else [])]
        if not opened:
            return
        following = next((i for i in range(index + 1, len(self.lines)) if self.lines[i].strip()), None)
        innermost = opened[-1]
        if following is not None and _indent(self.lines[following]) > innermost.indent:
            return
        closing = "".join(_CLOSING[o.char] for o in reversed(opened))
        here = "on this line" if index == innermost.line else f"at the end of line {index + 1}"
        kind = "quote" if innermost.char in "\"'" else "bracket"
        line = self.lines[index].rstrip()
        self.found.append(
            _Candidate(
                _syntax(
                    innermost.line,
                    innermost.column,
                    f"the {kind} {innermost.char} opened here is never closed",
                    f"close it with {_CLOSING[innermost.char]} {here}",
                ),
                "\n".join([*self.lines[:index], line + closing, *self.lines[index + 1 :]]),
            )
        )
        self.quote, self.flow = None, []

    def _indentation(self, index: int, indent: int) -> None:
        """A list item indented unlike the item above it, or a key indented deeper than
        the `key: value` line above it (YAML then reads it as more of that value)."""
        if not self.structural:
            return
        line = self.lines[index]
        above = self.structural[-1]
        above_line = self.lines[above]
        if _is_item(line):
            sibling = self._item_above(index, indent)
            if sibling is not None and _indent(self.lines[sibling]) != indent:
                want = _indent(self.lines[sibling])
                message = (
                    f"this list item is indented {indent} spaces, the item above (line {sibling + 1}) {want}"
                )
                self._reindent(
                    index, indent, want, message, f"indent the items of one list the same: {want} spaces"
                )
        elif _KEY_LIKE.match(line) and _KEY_WITH_VALUE.match(above_line) and indent > _indent(above_line):
            want = _indent(above_line)
            message = "this line is indented more than the line above, so YAML reads it as part of that value"
            self._reindent(index, indent, want, message, f"indent it like the line above: {want} spaces")

    def _item_above(self, index: int, indent: int) -> int | None:
        """The item of the same list above ``index``: the nearest ``- `` line before it
        with no line between them indented as little as either of them."""
        lowest: int | None = None  # the least indentation of the lines between
        for other in reversed(self.structural):
            other_indent = _indent(self.lines[other])
            if _is_item(self.lines[other]):
                return other if lowest is None or lowest > min(indent, other_indent) else None
            lowest = other_indent if lowest is None else min(lowest, other_indent)
            if lowest == 0:
                return None
        return None

    def _reindent(self, index: int, indent: int, want: int, message: str, fix: str) -> None:
        """Propose ``index`` and the lines of its block moved to ``want`` spaces."""
        shifted = list(self.lines)
        end = index + 1
        while end < len(shifted) and (not shifted[end].strip() or _indent(shifted[end]) > indent):
            end += 1
        for i in range(index, end):
            if shifted[i].strip():
                shifted[i] = " " * max(0, _indent(shifted[i]) - indent + want) + shifted[i].lstrip(" ")
        self.found.append(_Candidate(_syntax(index, indent, message, fix), "\n".join(shifted)))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_item(line: str) -> bool:
    content = line.lstrip(" ")
    return content == "-" or content.startswith("- ")


def _quote_end(line: str, start: int, quote: str) -> int | None:
    """The position after the quote closing a quoted text that runs from ``start``."""
    position = start
    while position < len(line):
        char = line[position]
        if quote == '"' and char == "\\":
            position += 2
            continue
        if char == quote:
            if quote == "'" and line[position + 1 : position + 2] == "'":
                position += 2
                continue
            return position + 1
        position += 1
    return None


# --- texts of a file that parsed --------------------------------------------------------------------


def scalar_mistake(node: yaml.ScalarNode, lines: list[str], *, in_flow_list: bool) -> Mistake | None:
    """A text that YAML read the way its author most likely did not mean.

    Args:
        node: A text (a value or a key) of the parsed file.
        lines: The file's lines.
        in_flow_list: The text is an item of a ``[a, b]`` list of phrases (not prompts).
    """
    for check in _CHECKS:
        found = check(node, lines, in_flow_list)
        if found is not None:
            return found
    return None


def _folded_item(node: yaml.ScalarNode, lines: list[str], in_flow_list: bool) -> Mistake | None:
    """A continuation line starting with ``- ``: the author meant a list item, YAML joined
    it to the text above because it is indented more than the items."""
    if node.style is not None or node.start_mark.line == node.end_mark.line:
        return None
    for index in range(node.start_mark.line + 1, min(node.end_mark.line + 1, len(lines))):
        if _is_item(lines[index]):
            dash = lines[node.start_mark.line][: node.start_mark.column].rstrip()
            if dash.endswith("-") and not dash[:-1].strip():
                item = f" like the item on line {node.start_mark.line + 1} ({len(dash) - 1} spaces)"
            else:
                item = " like the other items"
            joined = " ".join(node.value.split())
            shown = joined if len(joined) <= 40 else joined[:39] + "…"
            return Mistake(
                index + 1,
                _indent(lines[index]) + 1,
                f"this line starts with '- ' but is indented more than the item above, so YAML joined it "
                f"to the text above: {shown!r}",
                f"to make it a list item, indent its '-'{item}; if it belongs to the text, remove the '- '",
            )
    return None


def _key_colon(node: yaml.ScalarNode, lines: list[str], in_flow_list: bool) -> Mistake | None:
    if node.style is not None:
        return None
    match = re.match(r"([A-Za-z_][\w.]*)\s*：", node.value)
    if match is None:
        return None
    key = match[1]
    return Mistake(
        node.start_mark.line + 1,
        node.start_mark.column + match.end(),
        f"the full-width colon ： after {key!r} is not a YAML colon, so this is read as text",
        f"type the colon in English mode, followed by a space: `{key}: `",
        warns=_AUTHOR_KEY.fullmatch(key) is not None,
    )


def _comma_in_list(node: yaml.ScalarNode, lines: list[str], in_flow_list: bool) -> Mistake | None:
    if not in_flow_list or node.style is not None or "，" not in node.value:
        return None
    if node.value.endswith(("。", "？", "！", "?", "!")):  # a sentence, where commas are normal
        return None
    return Mistake(
        node.start_mark.line + 1,
        node.start_mark.column + node.value.index("，") + 1,
        f"the full-width comma ， does not separate list items: {node.value!r} is one item",
        "type commas between items in English mode: [a, b]; quote an item that is one phrase with a comma",
    )


def _wrapped(node: yaml.ScalarNode, lines: list[str], in_flow_list: bool) -> Mistake | None:
    """``“8001”`` or ``【再见, 拜拜】`` read as text."""
    if node.style is not None or len(node.value) < 2:
        return None
    first, last = node.value[0], node.value[-1]
    if (first, last) in (("“", "”"), ("‘", "’")):  # a whole text in quotes: meant as YAML's
        message = f"the full-width quotes {first}{last} are part of the text, they do not quote it"
        fix = f"type quotes in English mode ({_ASCII_OF[first]}…{_ASCII_OF[last]}), or leave them out"
        return Mistake(node.start_mark.line + 1, node.start_mark.column + 1, message, fix)
    if (first, last) == ("【", "】"):  # may be meant as text (【注意】): only the cause of an error
        message = "the full-width brackets 【】 do not make a list, this is read as text"
        fix = "type the brackets in English mode: [a, b]"
        return Mistake(node.start_mark.line + 1, node.start_mark.column + 1, message, fix, warns=False)
    return None


def _long_quote(node: yaml.ScalarNode, lines: list[str], in_flow_list: bool) -> Mistake | None:
    """A quoted text over several lines that swallowed `key:` lines: its quote was left open."""
    if node.style not in ('"', "'") or node.start_mark.line == node.end_mark.line:
        return None
    inner = range(node.start_mark.line + 1, min(node.end_mark.line + 1, len(lines)))
    if not any(_KEY_LIKE.match(lines[i]) or _is_item(lines[i]) for i in inner):
        return None
    return Mistake(
        node.start_mark.line + 1,
        node.start_mark.column + 1,
        f"the quote {node.style} opened here closes only on line {node.end_mark.line + 1}; "
        "the lines between are read as its text",
        f"close the quote with {node.style} on the line where it opens",
    )


_CHECKS = (_folded_item, _key_colon, _comma_in_list, _wrapped, _long_quote)
