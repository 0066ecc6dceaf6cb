"""``voicebot kb``: the knowledge service from the terminal."""

from __future__ import annotations

import json
import sys

import click

from bot import server
from bot.config import load_settings
from bot.errors import ConfigError, KnowledgeDataError
from bot.logs import configure_logging
from bot.web.auth import check_binding
from knowledge.app import create_kb_app
from knowledge.service import KnowledgeService
from knowledge.web import MAX_SEARCH_LIMIT, search_result


@click.group("kb")
def kb_group() -> None:
    """The knowledge service: serve it, query it."""


@kb_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5005, show_default=True, type=int, help="Port to listen on (Rasa's default).")
def kb_serve(host: str, port: int) -> None:
    """Serve the knowledge webhook, search and admin API alone."""
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        check_binding(host, settings, serves_audio=False)
        app = create_kb_app(settings)
    except ConfigError as exc:
        click.echo(f"voicebot: {exc}", err=True)
        sys.exit(2)
    server.run(app, host, port)


@kb_group.command("query")
@click.argument("question")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, MAX_SEARCH_LIMIT))
@click.option("--json", "as_json", is_flag=True, help="Print what GET /kb/search answers.")
def kb_query(question: str, limit: int, as_json: bool) -> None:
    """Search the knowledge base (VOICEBOT_KB_DIR) for QUESTION, best first."""
    try:
        service = KnowledgeService(load_settings().kb_dir)
        service.load()
    except (ConfigError, KnowledgeDataError) as exc:
        click.echo(f"voicebot: {exc}", err=True)
        sys.exit(2)
    results = [search_result(hit.entry, hit.score) for hit in service.base.answerable(question, limit)]
    if as_json:
        click.echo(json.dumps({"results": results}, ensure_ascii=False, indent=2))
        return
    if not results:
        click.echo("nothing found", err=True)
        sys.exit(1)
    for result in results:
        click.echo(f"{result['score']:.3f}  {result['title']}  ({result['id']})")
        click.echo(f"       {result['answer']}")
