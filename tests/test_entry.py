"""The ``voicebot`` entry point: the collector paused while the service is imported and
opened, and resumed when it is ready or when another command is chosen; the commands
that serving does not need imported only when they run (bot/entry.py, bot/cli.py)."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from quart import Quart

from bot.cli import main

# The entry point run as the `voicebot` script runs it; prints whether the collector
# runs once the command is over.
_RUN = (
    "import atexit, gc, sys\n"
    "atexit.register(lambda: print('collector', gc.isenabled()))\n"
    "sys.argv = ['voicebot', *sys.argv[1:]]\n"
    "from bot.entry import main\n"
    "main()\n"
)


@pytest.fixture
def paused() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _entry(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *args], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_serve_keeps_the_collector_paused_until_the_app_is_ready() -> None:
    # `serve --help` runs the group's callback with serve chosen, then only prints.
    assert _entry("serve", "--help").endswith("collector False\n")


def test_every_other_command_resumes_the_collector() -> None:
    assert _entry("flows", "schema", "-o", "/dev/null").endswith("collector True\n")


@pytest.mark.usefixtures("paused")
async def test_the_ready_app_resumes_the_collector_and_froze_start_up(quart_app: Quart) -> None:
    frozen = gc.get_freeze_count()
    async with quart_app.test_app():
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen


@pytest.mark.usefixtures("paused")
def test_the_group_resumes_the_collector_for_a_command_but_not_for_serve() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["serve", "--help"]).exit_code == 0
    assert not gc.isenabled()
    assert runner.invoke(main, ["flows", "schema", "-o", "/dev/null"]).exit_code == 0
    assert gc.isenabled()


def test_serving_imports_none_of_the_tools() -> None:
    probe = "import sys, bot.cli; print(sorted(m for m in sys.modules if m in TOOLS))".replace(
        "TOOLS", repr({"bot.tools.fakepbx", "bot.tools.simulate", "bot.authoring.chat", "knowledge.cli"})
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "[]\n"


def test_the_lazy_commands_are_listed_and_run() -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["--help"]).output
    for command in ("campaign", "chat", "fake-pbx", "kb", "serve", "simulate", "tts", "users", "flows"):
        assert f"  {command} " in listing
    assert "--script" in runner.invoke(main, ["simulate", "--help"]).output
    assert runner.invoke(main, ["no-such-command"]).exit_code == 2
