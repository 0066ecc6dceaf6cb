"""Lets fixtures know whether their test failed (the browser tests' screenshot)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report
