"""The shape of the code that its docs promise (docs/architecture.md): which package may
import which, and no class too large to read."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_CLASS_LINES = 300
# Only the HTTP edges know the CTI's transport.
MAY_IMPORT_CTI = ("bot/cti/", "bot/web/", "bot/app.py")


def modules() -> list[Path]:
    return sorted(p for package in ("bot", "knowledge") for p in (ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def importers(prefix: str, *, within: str) -> list[str]:
    return [
        str(path.relative_to(ROOT))
        for path in modules()
        if str(path.relative_to(ROOT)).startswith(within)
        and any(name == prefix or name.startswith(prefix + ".") for name in imported(path))
    ]


def test_only_the_http_edges_import_the_cti_package() -> None:
    offenders = [path for path in importers("bot.cti", within="") if not path.startswith(MAY_IMPORT_CTI)]
    assert offenders == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("knowledge/", "bot.dialog"),
        ("bot/dialog/", "knowledge"),
        ("bot/text/", "bot.dialog"),
        ("bot/text/", "knowledge"),
        ("bot/language/", "bot.dialog"),
        ("bot/calls/", "bot.cti"),
    ],
    ids=[
        "knowledge-not-dialog",
        "dialog-not-knowledge",
        "text-not-dialog",
        "text-not-knowledge",
        "language-not-runtime",
        "calls-not-cti",
    ],
)
def test_packages_do_not_import_upwards(package: str, forbidden: str) -> None:
    assert importers(forbidden, within=package) == []


def test_no_class_is_over_300_lines() -> None:
    large = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    large.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert large == []


def test_the_default_service_loads_no_redis_or_postgresql_driver() -> None:
    """redis costs about 10 MB of memory, asyncpg 3: loaded only when configured."""
    code = (
        "import sys, bot.app, bot.cli, knowledge.app; "
        "print(' '.join(m for m in ('redis', 'asyncpg') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
