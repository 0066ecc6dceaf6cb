"""The ``voicebot`` command."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from pathlib import Path

import click
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config
from hypercorn.utils import LifespanFailureError

from bot.app import create_app
from bot.config import load_settings
from bot.dialog.loader import flow_files, load_flow
from bot.dialog.nlu import Segmenter
from bot.errors import ConfigError, FlowProblem, FlowValidationError


@click.group()
@click.version_option(package_name="voicebot")
def main() -> None:
    """voicebot: the voice bot your CTI calls."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes (the memory session store needs exactly 1).",
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the CTI callbacks, audio and APIs under Hypercorn."""
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        # jieba announces its dictionary loading at DEBUG on a handler of its own.
        logging.getLogger("jieba").setLevel(logging.WARNING)
        if workers != 1:
            # Sessions live in one process's memory: a second worker would not see the
            # calls of the first, and callbacks of one call would land on both.
            raise ConfigError("--workers must be 1 with the in-memory session store")
        segmenter = Segmenter()
        segmenter.initialize()  # before serving, so that the freeze below covers it
        app = create_app(settings, segmenter=segmenter)
    except FlowValidationError as exc:
        click.echo(f"voicebot: invalid flows, not starting:\n{exc}", err=True)
        sys.exit(1)
    except ConfigError as exc:
        click.echo(f"voicebot: {exc}", err=True)
        sys.exit(2)
    # jieba's dictionary is millions of objects that live as long as the process; kept
    # out of the collected generations, full collections stop walking them (≈10% more
    # callbacks per second measured with `make bench`).
    gc.collect()
    gc.freeze()
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")  # through our handler, once
    config.graceful_timeout = 5
    try:
        asyncio.run(hypercorn_serve(app, config, shutdown_trigger=_until_signalled))
    except LifespanFailureError as exc:  # start-up failed: rendering prompts, opening the database
        click.echo(f"voicebot: could not start: {exc}", err=True)
        sys.exit(1)


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


@main.group()
def flows() -> None:
    """Tools for flow authors."""


@flows.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def flows_check(paths: tuple[Path, ...]) -> None:
    """Check flow files (default: the flows directory) and print every problem.

    Exit status 1 when there is any error or warning, so it can guard a commit or CI.
    """
    targets = list(paths) or [load_settings().flows_dir]
    files = [f for target in targets for f in (flow_files(target) if target.is_dir() else [target])]
    problems: list[FlowProblem] = []
    for path in files:
        try:
            problems += load_flow(path).warnings
        except FlowValidationError as exc:
            problems += exc.problems
    for problem in problems:
        click.echo(str(problem))
    if problems:
        errors = sum(p.severity == "error" for p in problems)
        click.echo(f"{errors} errors, {len(problems) - errors} warnings in {len(files)} files", err=True)
        sys.exit(1)
    click.echo(f"{len(files)} flow files OK", err=True)
