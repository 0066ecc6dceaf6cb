"""The fuzz tests' started apps (one per module and credentials), and the count of the
requests they sent, printed at the end of the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _pytest.terminal import TerminalReporter

from bot.text.segmenter import Segmenter
from tests.web.fuzzing import SENT, SERVER_ERRORS, STATUSES, Served, served


@pytest.fixture(scope="module")
def open_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter
) -> Iterator[Served]:
    """No admin or CTI token: the data endpoints refuse everyone, the CTI's are open."""
    with served(tmp_path_factory.mktemp("fuzz-open"), segmenter, locked=False, suite=_suite(request)) as app:
        yield app


@pytest.fixture(scope="module")
def locked_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter
) -> Iterator[Served]:
    """The admin and CTI tokens set."""
    with served(tmp_path_factory.mktemp("fuzz-locked"), segmenter, locked=True, suite=_suite(request)) as app:
        yield app


@pytest.fixture(scope="module")
def kb_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``voicebot kb serve``'s app, with the admin token set, on a segmenter of its own."""
    with served(
        tmp_path_factory.mktemp("fuzz-kb"),
        Segmenter(),
        locked=True,
        suite=_suite(request),
        knowledge_only=True,
    ) as app:
        yield app


def _suite(request: pytest.FixtureRequest) -> str:
    """What the module's requests are counted as: its FUZZ_SUITE."""
    return str(getattr(request.module, "FUZZ_SUITE", "hypothesis"))


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    if not SENT:
        return
    total = sum(SENT.values())
    by_suite = ", ".join(f"{suite} {count:,}" for suite, count in sorted(SENT.items()))
    terminalreporter.write_sep("-", "fuzzing")
    terminalreporter.write_line(f"fuzz requests: {total:,} ({by_suite}); answered 5xx: {len(SERVER_ERRORS)}")
    terminalreporter.write_line(
        "statuses: " + ", ".join(f"{status} × {count:,}" for status, count in sorted(STATUSES.items()))
    )
    for line in SERVER_ERRORS[:20]:
        terminalreporter.write_line(f"  {line}")
