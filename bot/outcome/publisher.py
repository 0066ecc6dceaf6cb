"""From an ended call to a stored push: what the call-end hook calls."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot import metrics
from bot.config import Settings
from bot.errors import OutboxError
from bot.llm.summaries import ModelSummary
from bot.outcome.outbox import Outbox
from bot.outcome.summary import outcome_summary
from bot.store.factory import outbox_store

if TYPE_CHECKING:
    from bot.pbx.recordings import RobotRecordings
    from bot.store.pg_transcripts import AnyTranscriptStore

logger = logging.getLogger(__name__)


class OutcomePublisher:
    """Summarizes ended calls from their transcripts into the outbox.

    Args:
        transcripts: Where the calls are recorded (opened by its owner).
        outbox: Where the summaries go; its owner opens and closes it too.
    """

    def __init__(
        self, transcripts: AnyTranscriptStore, outbox: Outbox, *, recordings: RobotRecordings | None = None
    ) -> None:
        self._transcripts = transcripts
        self.outbox = outbox
        self._recordings = recordings

    async def publish(self, call_id: str, *, model_summary: ModelSummary | None = None) -> None:
        """Enqueue the outcome push of ``call_id``, if it has ended and was not pushed yet;
        ``model_summary``: the language model's summary of it, if one was made.

        Call it whenever a call ends, as often as it may end: a second call for the same
        call id stores nothing. A call still in progress, or unknown, is logged and skipped.

        Never raises for the outbox: a push it cannot store (a full disk) is logged at
        ERROR with the call id, and the call's transcript stays in ``GET /calls``.
        """
        call = await self._transcripts.get_call(call_id)  # flushes first: the end is in it
        if call is None or call["outcome"] == "in_progress":
            state = "unknown" if call is None else "still in progress"
            logger.warning("outcome of call %s not pushed: the call is %s", call_id, state)
            return
        if call.get("test"):  # placed from the console: nobody downstream may act on it
            logger.info("outcome of call %s not pushed: a test call", call_id)
            return
        try:
            recording = self._recordings.url(call_id) if self._recordings else None
            summary = outcome_summary(call, recording_url=recording, model_summary=model_summary)
            added = await self.outbox.enqueue(call_id, summary)
        except OutboxError:
            metrics.count_storage_error("outbox")
            logger.exception("outcome of call %s lost: the outbox cannot store it", call_id)
            return
        if not added:
            logger.debug("outcome of call %s was pushed before; not again", call_id)


def outcome_publisher(
    settings: Settings, transcripts: AnyTranscriptStore, recordings: RobotRecordings | None = None
) -> OutcomePublisher | None:
    """The publisher ``settings`` ask for, or None when ``VOICEBOT_OUTCOME_URL`` is unset."""
    if settings.outcome_url is None:
        return None
    outbox = Outbox(
        settings.outbox_path,
        str(settings.outcome_url),
        store=outbox_store(settings, settings.outbox_path),
        timeout_seconds=settings.outcome_timeout_ms / 1000,
        max_backoff_seconds=settings.outcome_max_backoff_seconds,
        keep_days=settings.outcome_keep_days,
        secret=settings.outcome_secret.get_secret_value() if settings.outcome_secret else None,
        headers={name: value.get_secret_value() for name, value in settings.outcome_headers.items()},
    )
    return OutcomePublisher(transcripts, outbox, recordings=recordings)
