"""The stores the settings ask for: SQLite files in the data directory (the default) or,
with ``VOICEBOT_DATABASE_URL``, one PostgreSQL database.

The PostgreSQL stores of one process share a connection pool per database URL
(:mod:`bot.store.postgres`): the first to open opens it and migrates the schema, the
last to close closes it. The store modules are imported when asked for, so that the
knowledge service can use this module without the bot's runtime.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.outcome.pg_store import PostgresOutboxStore
    from bot.outcome.store import OutboxStore
    from bot.store.pg_transcripts import PostgresTranscriptStore
    from bot.store.transcripts import TranscriptStore
    from knowledge.history import CustomerHistory
    from knowledge.pg_history import PostgresCustomerHistory

    AnyOutboxStore = OutboxStore | PostgresOutboxStore
    AnyCustomerHistory = CustomerHistory | PostgresCustomerHistory


def database_url(settings: Settings) -> str | None:
    """``VOICEBOT_DATABASE_URL`` in clear, or None when the stores are SQLite files."""
    return settings.database_url.get_secret_value() if settings.database_url else None


def transcript_store(settings: Settings) -> TranscriptStore | PostgresTranscriptStore:
    """The transcripts (not opened yet), kept ``settings.transcript_days``."""
    if dsn := database_url(settings):
        from bot.store.pg_transcripts import PostgresTranscriptStore  # noqa: PLC0415

        return PostgresTranscriptStore(dsn, keep_days=settings.transcript_days, mask=settings.transcript_mask)
    from bot.store.transcripts import TranscriptStore  # noqa: PLC0415

    return TranscriptStore(
        settings.database_path, keep_days=settings.transcript_days, mask=settings.transcript_mask
    )


def outbox_store(settings: Settings, path: Path) -> OutboxStore | PostgresOutboxStore:
    """The outcome outbox's rows (not opened yet): in ``path`` when SQLite."""
    if dsn := database_url(settings):
        from bot.outcome.pg_store import PostgresOutboxStore  # noqa: PLC0415

        return PostgresOutboxStore(dsn)
    from bot.outcome.store import OutboxStore  # noqa: PLC0415

    return OutboxStore(path)


def customer_history(
    settings: Settings, path: Path, retention_days: float
) -> CustomerHistory | PostgresCustomerHistory:
    """The knowledge service's customer history (not opened yet): in ``path`` when SQLite."""
    if dsn := database_url(settings):
        from knowledge.pg_history import PostgresCustomerHistory  # noqa: PLC0415

        return PostgresCustomerHistory(dsn, retention_days)
    from knowledge.history import CustomerHistory  # noqa: PLC0415

    return CustomerHistory(path, retention_days)
