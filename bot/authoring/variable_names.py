"""The names a conversation test's ``slots:`` checks: which variables the flows can
set, and the value a (dotted) name has in a call.

``slots: {customer.name: 张三}`` reads ``name`` in the mapping ``customer`` (a lookup
row, an http answer), as ``{{customer.name}}`` does in a prompt. A variable whose own
name holds a dot (``set: {a.b: 1}``) is found too: at every level the whole remaining
name is tried first, then shorter and shorter heads of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.language import lint
from bot.language.flow import RESERVED_NAMES, Flow
from bot.language.lint import did_you_mean

MAX_KEYS_SHOWN = 8
"""Keys of a mapping listed when a name is not among them."""


@dataclass(frozen=True)
class Found:
    """The value of a name in a call; ``problem`` says why the name names nothing there.

    Attributes:
        value: The value; None when it (or a mapping on its way) is not set.
        problem: Set when a mapping on the way has no such key, or a value on the way
            is not a mapping: ``customer has no 'nmae' — did you mean 'name'? (it has:
            name, phone)``.
    """

    value: object
    problem: str | None = None


def find(variables: Mapping[str, object], name: str) -> Found:
    """The value of ``name`` (``phone``, ``customer.name``) among ``variables``.

    A variable not set is ``Found(None)``, as expressions read it; so is a mapping
    key that is missing, but with a ``problem`` naming the keys there are.
    """
    return _find(variables, name.split("."), "")


def _find(mapping: Mapping[str, object], parts: list[str], above: str) -> Found:
    failures: list[Found] = []
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head not in mapping:
            continue
        value, rest, here = mapping[head], parts[cut:], f"{above}{head}"
        if not rest or value is None:
            return Found(value)
        if isinstance(value, Mapping):
            found = _find(value, rest, f"{here}.")
            if found.problem is None:
                return found
            failures.append(found)
        else:
            failures.append(Found(None, f"{here} is {_shown(value)}, not a mapping with {rest[0]!r} in it"))
    if failures:
        return failures[0]
    if not above:  # a variable the call has not set
        return Found(None)
    return Found(None, _no_key(above.rstrip("."), parts[0], list(mapping)))


def _no_key(owner: str, key: str, keys: list[str]) -> str:
    listed = ", ".join(keys[:MAX_KEYS_SHOWN]) + (", …" if len(keys) > MAX_KEYS_SHOWN else "")
    hint = did_you_mean(key, keys).rstrip()
    return f"{owner} has no {key!r}" + (f" — {hint}" if hint else "") + f" (it has: {listed or 'nothing'})"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def provided_names(flows: Iterable[Flow]) -> set[str]:
    """Every variable the flows can set, and the names the bot provides (``lint.provided_names``)."""
    return set(RESERVED_NAMES).union(*(lint.provided_names(flow) for flow in flows))


def is_provided(name: str, provided: set[str]) -> bool:
    """Whether ``name`` or a dotted head of it (``customer`` of ``customer.name``) is provided."""
    parts = name.split(".")
    return any(".".join(parts[:cut]) in provided for cut in range(len(parts), 0, -1))
