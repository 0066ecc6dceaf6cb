"""The built-in intent library: what callers of any call-center flow say (通用意图).

Each intent is a file of ``bot/language/builtin_intents/``: its name, its Chinese
label, what it means, keywords and some hundreds of example phrasings of phone speech
(regional forms, fillers, the ASR's homophones). A flow uses one under its own name,
``transfer_agent: {builtin: transfer}``, and may add ``examples`` and ``keywords`` of
its own; the classifier is taught both (:func:`taught`). docs/flows.md §4 lists the
library.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

__all__ = ["BuiltinIntent", "builtin_intents", "unknown_builtin"]

_PACKAGE_DIR = "builtin_intents"
# libyaml's safe loader where PyYAML has it (the same objects, about 5 times faster:
# the library is 3,000 phrasings read at every start), else PyYAML's own.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class BuiltinIntent:
    """One intent of the library."""

    name: str
    zh: str  # its usual Chinese name, for people
    meaning: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]


@cache
def builtin_intents() -> Mapping[str, BuiltinIntent]:
    """Every intent of the library by name, read once per process."""
    library: dict[str, BuiltinIntent] = {}
    folder = resources.files("bot.language").joinpath(_PACKAGE_DIR)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.load(entry.read_text(encoding="utf-8"), Loader=_LOADER)  # a safe loader (see _LOADER)
        intent = BuiltinIntent(
            name=data["name"],
            zh=data["zh"],
            meaning=" ".join(str(data["meaning"]).split()),
            keywords=tuple(str(k) for k in data.get("keywords") or ()),
            examples=tuple(dict.fromkeys(str(e) for e in data["examples"])),
        )
        library[intent.name] = intent
    return library


def unknown_builtin(name: str) -> str:
    """The message for a ``builtin:`` that names no intent of the library."""
    names = sorted(builtin_intents())
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"no built-in intent is called {name!r} — {hint}the library has: {', '.join(names)}"
