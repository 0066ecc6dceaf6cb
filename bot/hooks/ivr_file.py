"""The format of ``flows/hooks/ivr.yaml``: IVR self-service queries, and its loader.

A query is named by the ``opt`` the CTI's IVR node sends (GX CTI §13)::

    queries:
      kuaidi:
        title: 快递查询
        keys:
          in1: {digits: true, min_length: 10, max_length: 15}
        lookup:
          table: parcels                      # flows/data/parcels.csv
          match: {tracking_no: in1}           # column: expression
        say_as: {in1: digits}
        answer: 您的快递{{in1}}目前在{{row.location}}，状态：{{row.status}}。
        texts:
          not_found: 没有查到单号为{{in1}}的快递，请核对后再试。

Instead of ``lookup:``, ``http:`` asks the business API with a flow's ``http:``
block (without ``on_error``; see :class:`~bot.language.flow.HttpCall`). Top-level
``texts:`` give every query's defaults, and ``unknown`` for an ``opt`` no query has.

What a query's expressions and templates may name: its declared keys (``in1``…),
``caller``, ``callee``, ``id`` (the call's) and ``opt``; then ``row`` (the found
row) after a lookup, or the ``save`` names and ``as`` after an ``http:`` call.
The loader checks each name, so a misspelt ``{{row.staus}}`` root or an
undeclared ``in2`` is an error with its line, not a silence on the phone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, model_validator

from bot.hooks.files import HookFile, HookModel, hook_path, read_hook_file
from bot.language.expressions import Expression
from bot.language.flow import ExpressionField, HttpCall, TemplateField
from bot.language.loader import KeyPath
from bot.language.tables import Table
from bot.language.templates import SPOKEN_KINDS, Template, compile_template

IVR_FILE = "ivr"
CALL_PARAMS = ("caller", "callee", "id", "opt")
"""Parameters of the CTI's request that every query may name."""
ROW = "row"
MAX_KEY_CHARS = 64
KEY_NAME = re.compile(r"in[1-9][0-9]?")

DEFAULT_NOT_FOUND = "抱歉，没有查到相关信息，请核对后再试。"
DEFAULT_INVALID = "抱歉，您的输入有误，请核对后重新输入。"
DEFAULT_UNAVAILABLE = "抱歉，系统暂时无法查询，请稍后再试。"
DEFAULT_UNKNOWN = "抱歉，暂不支持该查询。"


class Key(HookModel):
    """What a key the caller presses must look like; an empty key counts as absent."""

    required: bool = True
    digits: bool = False
    min_length: int = Field(1, ge=1, le=MAX_KEY_CHARS)
    max_length: int = Field(MAX_KEY_CHARS, ge=1, le=MAX_KEY_CHARS)
    pattern: str | None = Field(None, min_length=1)
    _regex: re.Pattern[str] | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _compile(self) -> Key:
        if self.min_length > self.max_length:
            raise ValueError(
                f"min_length {self.min_length} is more than max_length {self.max_length} — swap them"
            )
        if self.pattern is not None:
            try:
                self._regex = re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(
                    f"the pattern is not a regular expression ({exc.msg}) — "
                    r"write one such as '[0-9]{6}' (quoted, matched against the whole key)"
                ) from exc
        return self

    def accepts(self, value: str) -> bool:
        """Whether a (non-empty) key value passes every rule."""
        if not self.min_length <= len(value) <= self.max_length:
            return False
        if self.digits and not (value.isascii() and value.isdigit()):
            return False
        return self._regex is None or self._regex.fullmatch(value) is not None


class QueryLookup(HookModel):
    """Find a row of ``flows/data/<table>.csv|yaml`` whose columns equal the ``match`` values."""

    table: str = Field(min_length=1)
    match: dict[str, ExpressionField] = Field(min_length=1)


class QueryHttp(HttpCall):
    """A flow's ``http:`` block without ``on_error``: a failed call answers ``unavailable``."""

    on_error: str = ""

    @model_validator(mode="before")
    @classmethod
    def _no_on_error(cls, value: Any) -> Any:
        if isinstance(value, dict) and "on_error" in value:
            raise ValueError(
                "a query has no steps to go to — remove `on_error:`; a failed call answers "
                "`texts: unavailable:` (a 404 answers `not_found:`)"
            )
        return value


def _default_text(text: str) -> Any:
    return Field(default_factory=lambda: compile_template(text))


class QueryTexts(HookModel):
    """A query's own words for its failures; unset ones come from the file's ``texts:``."""

    not_found: TemplateField | None = None
    invalid: TemplateField | None = None
    unavailable: TemplateField | None = None


class FileTexts(HookModel):
    """The words for failures of every query, and for an ``opt`` no query has."""

    not_found: TemplateField = _default_text(DEFAULT_NOT_FOUND)
    invalid: TemplateField = _default_text(DEFAULT_INVALID)
    unavailable: TemplateField = _default_text(DEFAULT_UNAVAILABLE)
    unknown: TemplateField = _default_text(DEFAULT_UNKNOWN)


class Query(HookModel):
    """One self-service query: check the keys, look up or ask, answer."""

    title: str = ""
    keys: dict[str, Key] = Field(default_factory=dict)
    lookup: QueryLookup | None = None
    http: QueryHttp | None = None
    found: ExpressionField | None = None
    say_as: dict[str, str] = Field(default_factory=dict)
    answer: TemplateField
    texts: QueryTexts = Field(default_factory=QueryTexts)

    @model_validator(mode="after")
    def _one_source(self) -> Query:
        if self.lookup and self.http:
            raise ValueError("a query takes its data from one place — keep either `lookup:` or `http:`")
        return self

    def text(self, kind: str, defaults: FileTexts) -> Template:
        """Its ``not_found``, ``invalid`` or ``unavailable`` words, else the file's."""
        own: Template | None = getattr(self.texts, kind)
        return own if own is not None else getattr(defaults, kind)


class IvrFile(HookModel):
    """The whole ``ivr.yaml``."""

    texts: FileTexts = Field(default_factory=FileTexts)
    queries: dict[str, Query] = Field(default_factory=dict)


@dataclass(frozen=True)
class LoadedIvr:
    """A validated ``ivr.yaml`` with the tables its lookups read."""

    path: Path
    file: IvrFile
    tables: dict[str, Table] = field(default_factory=dict)


def load_ivr(flows_dir: Path) -> LoadedIvr | None:
    """Read and check ``<flows dir>/hooks/ivr.yaml``; ``None`` when there is none.

    Raises:
        FlowValidationError: the file is invalid (every problem, located).
    """
    path = hook_path(flows_dir, IVR_FILE)
    return None if path is None else read_ivr(path)


def read_ivr(path: Path) -> LoadedIvr:
    """Read and check an ``ivr.yaml`` file, with the tables of ``../data/`` its lookups name.

    Raises:
        FlowValidationError: the file is invalid (every problem, located).
    """
    loaded, file = read_hook_file(path, IvrFile, "queries")
    tables: dict[str, Table] = {}
    for name, query in loaded.queries.items():
        _check_query(file, ("queries", name), query, tables)
    for kind in ("not_found", "invalid", "unavailable", "unknown"):
        template: Template = getattr(loaded.texts, kind)
        _check_names(file, ("texts", kind), template.names, set(CALL_PARAMS), any_key=True)
    file.raise_problems()
    return LoadedIvr(path, loaded, tables)


def _check_query(file: HookFile, at: KeyPath, query: Query, tables: dict[str, Table]) -> None:
    for key in query.keys:
        if not KEY_NAME.fullmatch(key):
            file.problem((*at, "keys", key), f"{key!r} is not a key the CTI sends", "name keys in1, in2, …")
    for name, kind in query.say_as.items():
        if kind not in SPOKEN_KINDS:
            file.problem(
                (*at, "say_as", name),
                f"unknown way to say a value: {kind!r}",
                f"use one of: {', '.join(sorted(SPOKEN_KINDS))}",
            )
    asked = {*CALL_PARAMS, *query.keys}
    found = set(asked)
    if query.lookup:
        _check_lookup(file, (*at, "lookup"), query.lookup, asked, tables)
        found.add(ROW)
        table = tables.get(query.lookup.table)
        if table is not None:
            _check_columns(file, (*at, "answer"), query.answer.names, table)
            if query.found is not None:
                _check_columns(file, (*at, "found"), query.found.names, table)
    if query.http:
        _check_http(file, (*at, "http"), query.http, asked)
        found |= {*query.http.save, *([query.http.as_] if query.http.as_ else [])}
    if query.found is not None:
        _check_names(file, (*at, "found"), query.found.names, found)
    _check_names(file, (*at, "answer"), query.answer.names, found)
    for kind in ("not_found", "invalid", "unavailable"):
        own: Template | None = getattr(query.texts, kind)
        if own is not None:
            _check_names(file, (*at, "texts", kind), own.names, asked)


def _check_lookup(
    file: HookFile, at: KeyPath, lookup: QueryLookup, asked: set[str], tables: dict[str, Table]
) -> None:
    for column, expression in lookup.match.items():
        _check_names(file, (*at, "match", column), expression.names, asked)
    table = file.table((*at, "table"), lookup.table, tables)
    if table is None:
        return
    unknown = [c for c in lookup.match if c not in table.columns]
    if unknown:
        file.problem(
            (*at, "match", unknown[0]),
            f"table {table.name!r} has no column {unknown[0]!r}",
            f"use one of: {', '.join(table.columns)}",
        )
        return
    table.index(list(lookup.match))


def _check_http(file: HookFile, at: KeyPath, http: QueryHttp, asked: set[str]) -> None:
    _check_names(file, (*at, "url"), http.url.names, asked)
    for kind, templates in (("query", http.query), ("headers", http.headers)):
        for name, template in templates.items():
            _check_names(file, (*at, kind, name), template.names, asked)
    expressions: dict[str, Expression] = http.json_ or {}
    for name, expression in expressions.items():
        _check_names(file, (*at, "json", name), expression.names, asked)
    assigned: list[tuple[KeyPath, str]] = [(("save", name), name) for name in http.save]
    assigned += [(("as",), http.as_)] if http.as_ else []
    for where, name in assigned:
        if name in asked or name == ROW:
            file.problem((*at, *where), f"{name!r} is already a name of the query", "choose another name")


def _check_names(
    file: HookFile, at: KeyPath, names: frozenset[str], known: set[str], *, any_key: bool = False
) -> None:
    """Every name's variable (the part before the first dot) must be one the query has;
    ``any_key``: the file-level texts serve every query, so any key name is fine there."""
    for name in sorted(names):
        root = name.split(".", 1)[0]
        is_key = KEY_NAME.fullmatch(root) is not None
        if root in known or (any_key and is_key):
            continue
        if is_key:
            fix = f"declare it under `keys:` (`{root}: {{required: false}}` if it may be absent)"
        else:
            fix = f"use one of: {', '.join(sorted(known))}"
        file.problem(at, f"{root!r} is not known here", fix)


def _check_columns(file: HookFile, at: KeyPath, names: frozenset[str], table: Table) -> None:
    """``row.<column>`` must name a column of the looked-up table."""
    for name in sorted(names):
        root, _, rest = name.partition(".")
        column = rest.split(".", 1)[0]
        if root == ROW and column and column not in table.columns:
            known = ", ".join(table.columns)
            file.problem(at, f"table {table.name!r} has no column {column!r}", f"use one of: {known}")
