"""The ``voicebot`` command."""

from __future__ import annotations

import gc
import importlib
import json
import sys
from functools import partial
from pathlib import Path

import click
import yaml

from bot import server
from bot.app import create_app, end_streams
from bot.authoring import graph
from bot.authoring.check import check_paths
from bot.authoring.flowtest import flows_test_command
from bot.config import load_settings
from bot.errors import ConfigError, FlowValidationError
from bot.language.loader import flow_files, load_flow, load_flows
from bot.language.outgoing import HostAllowlist
from bot.logs import configure_logging, install_record_factory
from bot.store.backup import backup
from bot.text.segmenter import Segmenter
from bot.web.auth import check_binding
from bot.workers import run_workers


class _LazyGroup(click.Group):
    """A group whose commands in ``lazy`` (name -> ``module:attribute``) are imported only
    when they run or are listed: ``voicebot serve`` does not import the fake PBX, the
    simulator, the chat or the campaign tools (about 30 modules)."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self._lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self._lazy:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = self._lazy[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command), self._lazy[cmd_name]
        return command


_LAZY_COMMANDS = {
    "campaign": "bot.campaigns.cli:campaign_group",
    "chat": "bot.authoring.chat:chat_command",
    "fake-pbx": "bot.tools.fakepbx:fake_pbx_command",
    "kb": "knowledge.cli:kb_group",
    "simulate": "bot.tools.simulate:simulate_command",
    "tts": "bot.speech.cli:tts_group",
    "users": "bot.console.cli:users_group",
}


@click.group(cls=_LazyGroup, lazy=_LAZY_COMMANDS)
@click.version_option(package_name="voicebot")
@click.pass_context
def main(ctx: click.Context) -> None:
    """voicebot: the voice bot your CTI calls."""
    install_record_factory()  # numbers masked in whatever any command logs (bot/logs.py)
    if ctx.invoked_subcommand != "serve":
        gc.enable()  # paused by the entry point (bot/entry.py); serve resumes it once ready


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Serving processes on the one port (above 1: needs VOICEBOT_REDIS_URL and VOICEBOT_DATABASE_URL).",
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the CTI callbacks, audio and APIs under Granian."""
    try:
        # Serving starts before the intents' second opinions are trained (docs/flows.md §4).
        settings = load_settings().model_copy(update={"nlu_opinion_later": True})
        configure_logging(settings.log_level, settings.log_format)
        check_binding(host, settings)
        if workers != 1:
            # Every worker must see every call (a call's callbacks land on any of them)
            # and write transcripts beside the others.
            if settings.redis_url is None or settings.database_url is None:
                raise ConfigError(
                    "--workers above 1 needs VOICEBOT_REDIS_URL and VOICEBOT_DATABASE_URL: the workers "
                    "share live calls through Redis and transcripts through PostgreSQL"
                )
            sys.exit(run_workers(workers, host, port, metrics_dir=settings.data_dir / "metrics"))
        segmenter = Segmenter()
        segmenter.initialize()  # before serving, so that the freeze below covers it
        app = create_app(settings, segmenter=segmenter)
    except FlowValidationError as exc:
        click.echo(f"voicebot: invalid flows, not starting:\n{exc}", err=True)
        sys.exit(1)
    except ConfigError as exc:
        click.echo(f"voicebot: {exc}", err=True)
        sys.exit(2)
    server.run(app, host, port, on_stop=partial(end_streams, app), event_loop=settings.event_loop)


@main.command("backup")
@click.argument("destination", type=click.Path(path_type=Path, file_okay=False))
def backup_command(destination: Path) -> None:
    """Copy the data directory's databases and the knowledge base into DESTINATION (new
    or empty), consistently, while the service runs."""
    try:
        copied = backup(load_settings(), destination)
    except ConfigError as exc:
        click.echo(f"voicebot backup: {exc}", err=True)
        sys.exit(2)
    for path in copied:
        click.echo(f"wrote {path}")


@main.group()
def flows() -> None:
    """Tools for flow authors: check, test, quality, graph, schema."""


flows.add_command(flows_test_command)


@flows.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def flows_check(paths: tuple[Path, ...]) -> None:
    """Check flow files (default: the flows directory) and print every problem.

    A directory's hook files (hooks/ivr.yaml, hooks/routing.yaml) are checked too.
    Exit status 1 when there is any error or warning, so it can guard a commit or CI.
    """
    settings = load_settings()
    targets = list(paths) or [settings.flows_dir]
    files, problems = check_paths(targets, HostAllowlist.of(settings), speech_backends=settings.tts)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        errors = sum(p.severity == "error" for p in problems)
        click.echo(f"{errors} errors, {len(problems) - errors} warnings in {len(files)} files", err=True)
        sys.exit(1)
    click.echo(f"{len(files)} flow files OK", err=True)


def _flow_path(name_or_path: str, flows_dir: Path) -> Path:
    """A flow given by name (``yibao``) or by file path."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml"):
        return candidate
    for suffix in (".yaml", ".yml"):
        if (flows_dir / f"{name_or_path}{suffix}").is_file():
            return flows_dir / f"{name_or_path}{suffix}"
    known = ", ".join(p.stem for p in flow_files(flows_dir)) if flows_dir.is_dir() else "none"
    raise click.BadParameter(f"no flow {name_or_path!r} in {flows_dir} (flows: {known})", param_hint="NAME")


@flows.command("graph")
@click.argument("name")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg", "png"]),
    default="mermaid",
    show_default=True,
    help="mermaid and dot are text; svg and png are drawn by Graphviz.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write here instead of standard output."
)
@click.option("--flows-dir", type=click.Path(path_type=Path), help="Default: VOICEBOT_FLOWS_DIR.")
def flows_graph(name: str, fmt: str, output: Path | None, flows_dir: Path | None) -> None:
    """Draw flow NAME (a name in the flows directory, or a file): steps, branches, ladders."""
    path = _flow_path(name, flows_dir or load_settings().flows_dir)
    try:
        flow = load_flow(path).flow
    except FlowValidationError as exc:
        click.echo(f"voicebot: {path} is invalid:\n{exc}", err=True)
        sys.exit(1)
    data: bytes
    if fmt == "mermaid":
        data = graph.to_mermaid(flow).encode()
    elif fmt == "dot":
        data = graph.to_dot(flow).encode()
    else:
        if output is None and sys.stdout.isatty():
            raise click.UsageError(f"{fmt} is binary: give --output FILE or redirect standard output")
        try:
            data = graph.render_dot(graph.to_dot(flow), "svg" if fmt == "svg" else "png")
        except graph.GraphvizError as exc:
            click.echo(f"voicebot: {exc}", err=True)
            sys.exit(1)
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        click.echo(f"wrote {output}", err=True)


@flows.command("quality")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--flows-dir", type=click.Path(path_type=Path), help="Default: VOICEBOT_FLOWS_DIR.")
@click.option("--misses/--no-misses", default=True, show_default=True, help="List each utterance missed.")
def flows_quality(path: Path, flows_dir: Path | None, misses: bool) -> None:
    """How well flows' intents are recognised on the utterances of PATH.

    PATH maps flow names to utterances of each intent, `negated:` ones that must not be
    taken as an intent and `none:` ones of no intent (format: docs/quality.md). Prints
    the share right of each kind, then every miss with what it was taken for.
    """
    from bot.authoring import intent_quality  # noqa: PLC0415  # only this command needs it

    settings = load_settings()
    try:
        flows = load_flows(flows_dir or settings.flows_dir)
    except FlowValidationError as exc:
        click.echo(f"voicebot: the flows are invalid:\n{exc}", err=True)
        sys.exit(1)
    segmenter = Segmenter()
    segmenter.initialize()
    try:
        qualities = intent_quality.measure_file(path, flows, segmenter, settings.nlu_threshold)
    except (ValueError, yaml.YAMLError) as exc:
        raise click.BadParameter(str(exc), param_hint="PATH") from exc
    click.echo(intent_quality.report(qualities, show_misses=misses))


@flows.command("schema")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write here instead of standard output."
)
def flows_schema(output: Path | None) -> None:
    """Print the JSON Schema of the flow format, for editors that complete and check YAML.

    The sample flows point at flows/flow.schema.json with a first line
    `# yaml-language-server: $schema=flow.schema.json`.
    """
    from bot.authoring.schema import flow_schema  # noqa: PLC0415  # only this command needs it

    text = json.dumps(flow_schema(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
