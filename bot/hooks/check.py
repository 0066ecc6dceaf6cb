"""Checking hook files for ``voicebot flows check``, as the service would load them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.errors import FlowProblem, FlowValidationError
from bot.hooks.files import HOOKS_DIR, hook_path
from bot.hooks.ivr_file import IVR_FILE, read_ivr
from bot.hooks.routing import ROUTING_FILE, read_router

_READERS: dict[str, Callable[[Path], object]] = {
    IVR_FILE: read_ivr,
    # The default and the time zone are settings; neither changes what is valid.
    ROUTING_FILE: lambda path: read_router(path, default="0", timezone="UTC"),
}


def hook_files(flows_dir: Path) -> list[Path]:
    """The hook files of a flows directory."""
    return [path for name in _READERS if (path := hook_path(flows_dir, name)) is not None]


def is_hook_file(path: Path) -> bool:
    """Whether ``path`` is a hook file (``…/hooks/ivr.yaml``, ``…/hooks/routing.yaml``)."""
    return path.parent.name == HOOKS_DIR and path.stem in _READERS and path.suffix in (".yaml", ".yml")


def check_hook_file(path: Path) -> list[FlowProblem]:
    """Every problem of one hook file; none when the service would load it."""
    try:
        _READERS[path.stem](path)
    except FlowValidationError as exc:
        return exc.problems
    return []


def stray_hook_files(flows_dir: Path) -> list[FlowProblem]:
    """Warnings for YAML files in ``hooks/`` that no hook reads (a misspelt ``route.yaml``)."""
    directory = flows_dir / HOOKS_DIR
    if not directory.is_dir():
        return []
    names = " or ".join(f"{name}.yaml" for name in _READERS)
    return [
        FlowProblem(str(path), 1, 1, "no hook reads this file", f"name it {names}", severity="warning")
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
        if not is_hook_file(path)
    ]
