"""``bot.text`` is the floor under intents and knowledge: it imports nothing of theirs.

(tests/test_architecture.py keeps dialog and knowledge apart; this keeps the floor low.)
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = ("bot.text", "bot.errors")


def test_the_text_package_imports_only_itself_and_the_errors() -> None:
    crossing: set[tuple[str, str]] = set()
    for path in (ROOT / "bot" / "text").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            crossing.update(
                (path.name, name)
                for name in names
                if name.split(".")[0] in ("bot", "knowledge") and not name.startswith(ALLOWED)
            )
    assert crossing == set()
