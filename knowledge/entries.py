"""Knowledge entries and the files that hold them (YAML, and CSV for spreadsheets).

A data file (``knowledge/data/*.yaml``) is::

    synonyms:                 # optional: canonical word → the words callers use for it
      医保卡: [社保卡, 医疗卡]
    entries:
      - id: yidi-anzhi
        title: 异地安置
        kind: knowledge       # knowledge (type 0) | faq (type 32) | outside (not ours: "not found")
        questions: [退休后去外地长住，医保怎么备案]
        keywords: [异地安置, 长期居住]
        answer: 退休后长期在外地居住的，可以办理异地安置备案。…
        children: []          # a parent topic lists the ids it must be clarified into

A CSV file has the columns of ``CSV_COLUMNS``; list cells separate items with ``|``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import KnowledgeDataError

Kind = Literal["knowledge", "faq", "outside"]
CSV_COLUMNS = ("id", "title", "kind", "questions", "keywords", "answer", "children")
LIST_SEPARATOR = "|"
# libyaml's safe loader where PyYAML has it: the same objects, about 8 times faster (the
# sample base's 27 kB in 4 ms instead of 33 at every start). A file it refuses is read
# again by PyYAML's own, whose message names the problem as the docs show it.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class Entry(BaseModel):
    """One knowledge point: what it is called, how callers ask for it, what they hear."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(description="Unique, stable: letters, digits, '-', '_', '.' (64 at most).")
    title: str = Field(
        min_length=1, max_length=40, description="What the topic is called; said in clarifications."
    )
    kind: Kind = Field(
        "knowledge",
        description="knowledge → answered as type 0, faq → type 32, outside → a topic this line does "
        'not handle: "not found" (type 1), its answer saying where to ask.',
    )
    questions: tuple[str, ...] = Field((), description="Ways a caller asks for it.")
    keywords: tuple[str, ...] = Field((), description="Words and phrases that identify it.")
    answer: str = Field(min_length=1, max_length=1000, description="What the caller hears: short sentences.")
    children: tuple[str, ...] = Field((), description="Ids of the topics a parent is clarified into.")

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError("use letters, digits, '-', '_' or '.', at most 64, e.g. yidi-anzhi")
        return value

    @field_validator("questions", "keywords", "children", mode="before")
    @classmethod
    def _list(cls, value: object) -> object:
        if value is None:
            return ()
        if isinstance(value, str):  # a CSV cell, or one item written without brackets
            return tuple(item.strip() for item in value.split(LIST_SEPARATOR) if item.strip())
        return value

    @property
    def is_parent(self) -> bool:
        return bool(self.children)

    @property
    def is_outside(self) -> bool:
        """A neighbouring topic the knowledge base does not answer (养老金 on a 医保 line)."""
        return self.kind == "outside"


@dataclass
class DataFile:
    """The entries and synonyms of one file, and what it starts with (its comment header)."""

    entries: list[Entry] = field(default_factory=list)
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    header: str = ""


def parse_yaml(text: str, name: str) -> DataFile:
    """Read a YAML data file (``name`` is for messages).

    Raises:
        KnowledgeDataError: the YAML is broken, or an entry or synonym is invalid.
    """
    try:
        try:
            document = yaml.load(text, Loader=_FAST_LOADER)  # a safe loader (see _FAST_LOADER)
        except yaml.YAMLError:
            document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KnowledgeDataError(f"{name}: not valid YAML: {exc}") from exc
    except RecursionError:  # thousands of nested brackets: the parser recurses per level
        raise KnowledgeDataError(f"{name}: YAML nested too deeply") from None
    if document is None:
        document = {}
    if isinstance(document, list):  # a bare list of entries, as an import body may be
        document = {"entries": document}
    if not isinstance(document, dict) or not set(document) <= {"entries", "synonyms"}:
        raise KnowledgeDataError(
            f"{name}: expected a mapping with 'entries' (a list) and optional 'synonyms'"
        )
    return DataFile(
        entries=parse_entries(document.get("entries") or [], name),
        synonyms=_parse_synonyms(document.get("synonyms") or {}, name),
        header=_leading_comments(text),
    )


def parse_csv(text: str, name: str) -> DataFile:
    """Read a CSV data file: a header row naming ``CSV_COLUMNS`` (``id``, ``title`` and
    ``answer`` required), then one entry a row.

    Raises:
        KnowledgeDataError: a required column is missing, or a row is invalid.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a BOM
    missing = {"id", "title", "answer"} - set(reader.fieldnames or ())
    if missing:
        raise KnowledgeDataError(f"{name}: missing CSV column(s) {', '.join(sorted(missing))}")
    rows = [
        {k: _from_cell(v) for k, v in row.items() if k in CSV_COLUMNS and v not in (None, "")}
        for row in reader
    ]
    return DataFile(entries=parse_entries(rows, name, first_line=2))


def parse_entries(items: Sequence[Any], name: str, *, first_line: int | None = None) -> list[Entry]:
    """Validate raw entries; every problem is reported at once, by entry.

    Raises:
        KnowledgeDataError: naming each invalid entry (by position, id and field).
    """
    if not isinstance(items, list):
        raise KnowledgeDataError(f"{name}: 'entries' must be a list of entries")
    entries, problems = [], []
    for i, item in enumerate(items):
        where = f"{name}: row {first_line + i}" if first_line is not None else f"{name}: entry {i + 1}"
        if isinstance(item, Mapping) and item.get("id"):
            where += f" ({item['id']})"
        try:
            entries.append(Entry.model_validate(item))
        except ValidationError as exc:
            problems += [
                f"{where}: {'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}"
                for err in exc.errors()
            ]
    if problems:
        raise KnowledgeDataError("\n".join(problems))
    return entries


def _parse_synonyms(raw: object, name: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise KnowledgeDataError(f"{name}: 'synonyms' must map a word to a list of words")
    synonyms = {}
    for word, listed in raw.items():
        variants = [listed] if isinstance(listed, str) else listed
        if (
            not isinstance(word, str)
            or not isinstance(variants, list)
            or not all(isinstance(v, str) and v.strip() for v in variants)
        ):
            raise KnowledgeDataError(f"{name}: synonyms: {word!r} must map to a list of words")
        synonyms[word.strip()] = tuple(v.strip() for v in variants)
    return synonyms


def _leading_comments(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


def dump_yaml(data: DataFile) -> str:
    """A data file as YAML, its comment header kept (comments elsewhere are not)."""
    document: dict[str, Any] = {}
    if data.synonyms:
        document["synonyms"] = {word: list(variants) for word, variants in data.synonyms.items()}
    document["entries"] = [entry_record(entry) for entry in data.entries]
    return data.header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120)


def dump_csv(entries: Iterable[Entry]) -> str:
    """Entries as CSV (``CSV_COLUMNS``); list cells joined with ``|``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        record = entry.model_dump()
        writer.writerow(
            {
                column: _to_cell(LIST_SEPARATOR.join(value) if isinstance(value, tuple) else value)
                for column, value in record.items()
            }
        )
    return out.getvalue()


# A cell a spreadsheet would run as a formula ("=HYPERLINK(…)", "+86…", "-", "@") is
# written after an apostrophe, which spreadsheets show as text and do not keep; it is
# read back without it, so an export imports unchanged (OWASP, CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _to_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _from_cell(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS):
        return value[1:]
    return value


def entry_record(entry: Entry) -> dict[str, Any]:
    """An entry as plain data, empty lists left out (what YAML files and the API show)."""
    record: dict[str, Any] = {}
    for key, value in entry.model_dump().items():
        if isinstance(value, tuple):
            if value:
                record[key] = list(value)
        else:
            record[key] = value
    return record
