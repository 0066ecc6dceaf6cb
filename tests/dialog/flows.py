"""Flows for engine tests, found by name without a registry (no NLU needed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.language.flow import Flow
from bot.language.tables import Table

TODAY = dt.date(2026, 11, 21)  # a Saturday


@dataclass(frozen=True)
class Runnable:
    name: str
    version: str
    flow: Flow
    tables: Mapping[str, Table] = field(default_factory=dict)


class StaticFlows:
    """Flows by name, one version each."""

    def __init__(self, flows: Mapping[str, Flow], tables: Mapping[str, Table] | None = None) -> None:
        self._flows = {name: Runnable(name, "v", flow, tables or {}) for name, flow in flows.items()}

    def get(self, name: str, version: str | None = None) -> Runnable:
        return self._flows[name]
