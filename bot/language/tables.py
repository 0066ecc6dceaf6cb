"""Local reference tables for ``lookup:`` steps: ``flows/data/<name>.csv`` or ``.yaml``.

For demos and small reference data (a few thousand rows: branch offices, claim
statuses for a pilot). A table is read when its flow loads, so a lookup during a
call is a dictionary probe, and a changed table reloads with its flow.

* CSV: UTF-8 (a BOM, as Excel writes it, is fine), the first row names the columns;
  every value is text.
* YAML: a list of mappings; values keep their YAML types (numbers stay numbers).

Values are compared as text (``to_text``), with ASCII letters upper-cased, so a
``match`` on an ID card's ``x`` finds the row written with ``X`` and a number finds
the CSV text "3500".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.errors import TableError
from bot.language.expressions import to_text

TABLE_SUFFIXES = (".csv", ".yaml", ".yml")


def _key(value: object) -> str:
    return to_text(value).strip().upper()


@dataclass(frozen=True)
class Table:
    """Rows of one table, indexed by each combination of columns a flow matches on."""

    name: str
    path: Path
    columns: tuple[str, ...]
    rows: tuple[Mapping[str, object], ...]
    _indexes: dict[tuple[str, ...], dict[tuple[str, ...], Mapping[str, object]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def index(self, columns: Sequence[str]) -> None:
        """Prepare lookups on ``columns`` (done once per lookup step when its flow loads)."""
        key = tuple(columns)
        if key in self._indexes:
            return
        index: dict[tuple[str, ...], Mapping[str, object]] = {}
        for row in self.rows:
            index.setdefault(tuple(_key(row.get(c)) for c in key), row)  # the first row wins
        self._indexes[key] = index

    def find(self, match: Mapping[str, object]) -> Mapping[str, object] | None:
        """The first row whose columns equal ``match``'s values, or None."""
        key = tuple(match)
        self.index(key)
        return self._indexes[key].get(tuple(_key(v) for v in match.values()))


def table_path(data_dir: Path, name: str) -> Path | None:
    """The file of table ``name`` in ``data_dir``, or None."""
    for suffix in TABLE_SUFFIXES:
        path = data_dir / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def read_table(path: Path, raw: bytes) -> Table:
    """Parse a table file's bytes.

    Raises:
        TableError: unreadable or malformed; the message names the row.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(f"table {path.name} is not UTF-8 — save it as UTF-8 (CSV UTF-8 in Excel)") from exc
    if path.suffix == ".csv":
        return _csv_table(path, text)
    return _yaml_table(path, text)


def _csv_table(path: Path, text: str) -> Table:
    reader = csv.DictReader(io.StringIO(text))
    columns = tuple(c.strip() for c in reader.fieldnames or ())
    if not columns or any(not c for c in columns):
        raise TableError(f"table {path.name}: the first row must name every column — add the header row")
    rows = []
    for row in reader:
        if None in row:
            raise TableError(
                f"table {path.name}, line {reader.line_num}: more values than columns — "
                "quote values that contain commas"
            )
        rows.append({c.strip(): (v or "").strip() for c, v in row.items() if c is not None})
    return Table(path.stem, path, columns, tuple(rows))


def _yaml_table(path: Path, text: str) -> Table:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TableError(f"table {path.name}: YAML syntax error ({exc}) — fix the file") from exc
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise TableError(f"table {path.name}: expected a list of rows (`- column: value`) — rewrite it so")
    columns: dict[str, None] = {}
    for row in data:
        columns.update(dict.fromkeys(str(k) for k in row))
    rows = tuple({str(k): v for k, v in row.items()} for row in data)
    return Table(path.stem, path, tuple(columns), rows)
