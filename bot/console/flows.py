"""Flows as the console shows them: the list, each one's picture, check and tests.

- The picture is ``bot.authoring.graph``'s DOT rendered to SVG by Graphviz, in a worker
  thread, kept per flow version (a flow changes by hot reload, its version with it).
- The check is ``voicebot flows check``'s (``bot.authoring.check``), in a worker thread:
  every problem with ``file:line:col``.
- The conversation tests run on demand as ``voicebot flows test`` in a child process:
  it loads its own flows and knowledge base, so nothing of the serving calls is touched,
  and the event loop only waits for it. One run at a time.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

from bot.authoring import graph
from bot.authoring.check import check_paths
from bot.authoring.flowtest import TESTS_DIR, load_test_file, test_files
from bot.dialog.registry import LoadedFlow
from bot.errors import FlowProblem, FlowValidationError, RequestError
from bot.services import Services

TEST_TIMEOUT_SECONDS = 180.0
MAX_OUTPUT_CHARS = 200_000
_RESULT_LINE = re.compile(r"^(PASS|FAIL) (.+)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class FlowPictures:
    """SVG pictures of flows by (name, version), made once each."""

    def __init__(self) -> None:
        self._svgs: dict[tuple[str, str], bytes] = {}
        self._making: dict[tuple[str, str], asyncio.Future[bytes]] = {}

    async def svg(self, svc: Services, name: str) -> bytes:
        loaded = _loaded(svc, name)
        key = (loaded.name, loaded.version)
        if key in self._svgs:
            return self._svgs[key]
        if key not in self._making:
            dot = graph.to_dot(loaded.flow, title=loaded.flow.title or loaded.name)
            self._making[key] = asyncio.ensure_future(asyncio.to_thread(graph.render_dot, dot, "svg"))
        try:
            svg = await asyncio.shield(self._making[key])
        except graph.GraphvizError as exc:
            raise RequestError(f"the picture cannot be drawn: {exc}", status=503) from exc
        finally:
            self._making.pop(key, None)
        if len(self._svgs) > 64:  # old versions of edited flows
            self._svgs.clear()
        self._svgs[key] = svg
        return svg


def _loaded(svc: Services, name: str) -> LoadedFlow:
    if svc.flows is None:
        raise RequestError("the service is starting; try again in a moment", status=503)
    if name not in svc.flows.names():
        raise RequestError(f"no flow {name!r}", status=404)
    return svc.flows.get(name)


def flow_list(svc: Services) -> list[dict[str, Any]]:
    """The flows being served: name, title, version, file, rejected hot-reload edits."""
    if svc.flows is None:
        return []
    flows = []
    for name in sorted(svc.flows.names()):
        loaded = svc.flows.get(name)
        flows.append(
            {
                "name": name,
                "title": loaded.flow.title,
                "version": loaded.version,
                "file": str(loaded.source.path),
                "steps": len(loaded.flow.steps),
                "rejected_edits": svc.flow_errors.get(name, []),
            }
        )
    return flows


async def check(svc: Services) -> dict[str, Any]:
    """``voicebot flows check`` over the flows directory: problems by file."""
    files, problems = await asyncio.to_thread(check_paths, [svc.settings.flows_dir])
    return {
        "files": [str(f) for f in files],
        "problems": [_problem(p) for p in problems],
        "errors": sum(p.severity == "error" for p in problems),
        "warnings": sum(p.severity == "warning" for p in problems),
    }


def _problem(problem: FlowProblem) -> dict[str, Any]:
    return {
        "file": problem.flow_file,
        "stem": Path(problem.flow_file).stem,
        "line": problem.line,
        "column": problem.column,
        "severity": problem.severity,
        "message": problem.message,
        "fix": problem.fix,
        "text": str(problem),
    }


def _test_files_of(flows_dir: Path, name: str) -> tuple[list[Path], list[str]]:
    """The conversation test files of flow ``name``, and the invalid files found."""
    directory = flows_dir / TESTS_DIR
    if not directory.is_dir():
        return [], []
    mine, invalid = [], []
    for path in test_files([directory]):
        try:
            if load_test_file(path).spec.flow == name:
                mine.append(path)
        except FlowValidationError as exc:
            invalid.append(str(exc))
    return mine, invalid


async def run_tests(svc: Services, name: str, one_at_a_time: asyncio.Lock) -> dict[str, Any]:
    """Run flow ``name``'s conversation tests (``voicebot flows test -v``) in a child process."""
    _loaded(svc, name)
    flows_dir = svc.settings.flows_dir
    files, invalid = await asyncio.to_thread(_test_files_of, flows_dir, name)
    if not files:
        return {
            "flow": name,
            "files": [],
            "results": [],
            "passed": 0,
            "failed": 0,
            "invalid": invalid,
            "output": f"no conversation tests of {name} in {flows_dir / TESTS_DIR}",
            "exit_status": None,
        }
    if one_at_a_time.locked():
        raise RequestError("a test run is under way; wait for it", status=409)
    async with one_at_a_time:
        status, output = await _voicebot(
            "flows", "test", "-v", "--flows-dir", str(flows_dir), *map(str, files)
        )
    results = [
        {"name": m[2], "passed": m[1] == "PASS"}
        for line in output.splitlines()
        if (m := _RESULT_LINE.match(line)) and " — " not in m[2]  # the summary, not the details
    ]
    return {
        "flow": name,
        "files": [str(f) for f in files],
        "results": results,
        "passed": sum(r["passed"] for r in results),
        "failed": sum(not r["passed"] for r in results),
        "invalid": invalid,
        "output": output,
        "exit_status": status,
    }


async def _voicebot(*args: str) -> tuple[int | None, str]:
    """Run the ``voicebot`` command of this installation; its status and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        async with asyncio.timeout(TEST_TIMEOUT_SECONDS):
            out, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        return None, f"stopped after {TEST_TIMEOUT_SECONDS:.0f} s"
    text = _ANSI.sub("", out.decode("utf-8", "replace"))
    return process.returncode, text[-MAX_OUTPUT_CHARS:]
