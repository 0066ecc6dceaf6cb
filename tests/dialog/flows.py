"""Flows for engine tests, found by name without a registry (no NLU needed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.language.flow import Flow
from bot.language.loader import FlowSource, load_flows
from bot.language.tables import Table

TODAY = dt.date(2026, 11, 21)  # a Saturday
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "flows"


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


class SampleFlows:
    """The sample flows of ``flows/``, as loaded from their files (tables included)."""

    def __init__(self) -> None:
        self._sources = load_flows(SAMPLES_DIR)

    def get(self, name: str, version: str | None = None) -> FlowSource:
        return self._sources[name]
