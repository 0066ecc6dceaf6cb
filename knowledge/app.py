"""The knowledge service on its own (``voicebot kb serve``): the webhook, search and admin
API without the bot, for a deployment that runs them on another host or port (Rasa's
default is 5005)."""

from __future__ import annotations

from quart import Quart

from bot.config import Settings, load_settings
from bot.store.factory import customer_history
from bot.text.segmenter import Segmenter
from bot.web import auth, edge
from bot.web.apidocs import install as install_api_docs
from bot.web.errors import register_errors
from knowledge import web
from knowledge.base import KnowledgeBase
from knowledge.seed import seed_directory
from knowledge.service import KnowledgeService


def open_service(settings: Settings, base: KnowledgeBase | None = None) -> KnowledgeService:
    """The knowledge service the settings describe, with its customer history (not yet opened).

    Seeds ``kb_dir`` from ``kb_seed_dir`` first when that is set and ``kb_dir`` has no
    data files (knowledge.seed).

    Raises:
        ConfigError: the seed directory is missing, or ``kb_dir`` cannot be written.
    """
    if settings.kb_seed_dir is not None:
        seed_directory(settings.kb_dir, settings.kb_seed_dir)
    return KnowledgeService(
        settings.kb_dir,
        base=base,
        history=customer_history(settings, settings.kb_history_path, settings.kb_history_days),
        context_seconds=settings.kb_context_minutes * 60,
    )


def create_kb_app(settings: Settings | None = None, *, segmenter: Segmenter | None = None) -> Quart:
    """The standalone knowledge app; the data is read when it starts serving.

    Args:
        settings: defaults to the ``VOICEBOT_*`` environment.
        segmenter: a shared, possibly already initialized, jieba segmenter.

    Raises (at start): KnowledgeDataError when a data file is invalid.
    """
    settings = settings or load_settings()
    service = open_service(settings, KnowledgeBase(segmenter))
    app = Quart(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 4 * 1024 * 1024  # bulk imports
    web.install(app, service, max_message_chars=settings.max_text_chars)
    register_errors(app)
    install_api_docs(app, title="voicebot knowledge", description="The knowledge service on its own.")
    auth.install(app, settings)
    edge.install(app, count_cti=False)  # Host check and access line (bot/web/edge.py)
    app.before_serving(service.open)
    app.after_serving(service.close)
    return app
