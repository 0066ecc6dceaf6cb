"""Reading hook files: ``<flows dir>/hooks/<name>.yaml``, validated like a flow.

Hook files live in a subdirectory so that the flow loader, which reads every YAML
file directly in the flows directory, never takes them for flows. They reuse the
flow loader's YAML reader and its pydantic error wording, so each problem reads
``file:line:col: what is wrong — how to fix it``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from bot.errors import FlowProblem, FlowValidationError, TableError
from bot.language.flow import AUTHOR_MODEL_CONFIG
from bot.language.loader import (
    DATA_DIR,
    KeyPath,
    Places,
    explain_validation_error,
    parse_yaml,
    read_author_file,
)
from bot.language.tables import Table, read_table, table_path

HOOKS_DIR = "hooks"
DOCS = "docs/hooks.md"

ModelT = TypeVar("ModelT", bound=BaseModel)


class HookModel(BaseModel):
    """Base of the hook file models: unknown keys are errors, numbers may stand for text."""

    model_config = AUTHOR_MODEL_CONFIG


@dataclasses.dataclass
class HookFile:
    """A hook file being loaded: its path, where its keys are, and the problems found."""

    path: Path
    places: Places
    problems: list[FlowProblem] = dataclasses.field(default_factory=list)

    def problem(self, loc: KeyPath, message: str, fix: str) -> None:
        """Record a problem at key path ``loc`` (located at its closest known ancestor)."""
        self.problems.append(self.places.locate(str(self.path), loc, message, fix))

    def raise_problems(self) -> None:
        """Raises: FlowValidationError when any problem was recorded."""
        if self.problems:
            raise FlowValidationError(self.problems)

    def table(self, loc: KeyPath, name: str, tables: dict[str, Table]) -> Table | None:
        """Table ``name`` of ``<flows dir>/data/`` (read once per file), or ``None`` after
        recording why it cannot be used."""
        if name in tables:
            return tables[name]
        data_dir = self.path.parent.parent / DATA_DIR
        path = table_path(data_dir, name)
        if path is None:
            self.problem(loc, f"no table {name!r}", f"create {data_dir}/{name}.csv")
            return None
        try:
            table = read_table(path, path.read_bytes())
        except (OSError, TableError) as exc:
            what, _, fix = str(exc).partition(" — ")
            self.problem(loc, what, fix or "check the file")
            return None
        tables[name] = table
        return table


def hook_path(flows_dir: Path, name: str) -> Path | None:
    """``<flows dir>/hooks/<name>.yaml`` (or ``.yml``), or ``None`` when there is none."""
    for suffix in (".yaml", ".yml"):
        path = flows_dir / HOOKS_DIR / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def read_hook_file(path: Path, model: type[ModelT], first_key: str) -> tuple[ModelT, HookFile]:
    """Read, parse and validate one hook file against ``model``.

    Args:
        path: The file.
        model: Its top-level pydantic model.
        first_key: What an empty file should begin with, for the fix of that problem.

    Raises:
        FlowValidationError: every problem of the file, located.
    """
    shown = str(path)
    _, text = read_author_file(path, unreadable_fix="check its permissions")
    try:
        data, places = parse_yaml(text, shown)
    except FlowValidationError as exc:
        raise FlowValidationError([_for_hooks(p, first_key) for p in exc.problems]) from exc
    try:
        loaded = model.model_validate(data)
    except ValidationError as exc:
        problems = explain_validation_error(shown, places, exc)
        raise FlowValidationError([_for_hooks(p, first_key) for p in problems]) from exc
    return loaded, HookFile(path, places)


def _for_hooks(problem: FlowProblem, first_key: str) -> FlowProblem:
    """The flow loader's wording, pointed at hook files: their docs, their first key."""
    fix = problem.fix.replace("docs/flows.md", DOCS)
    if problem.message == "the file is empty":
        fix = f"add `{first_key}:` (see {DOCS}), or delete the file"
    return dataclasses.replace(problem, fix=fix)
