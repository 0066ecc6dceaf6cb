"""The flows of a directory, ready to converse with, without the HTTP service.

``voicebot chat`` and ``voicebot flows test`` run calls through the same
``Conversation`` the CTI callback uses (intent recognition, barge-in rules, the
engine, ``http:`` and ``knowledge`` steps); only speech and the PBX are left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from bot.config import Settings
from bot.dialog.backchannel import BackchannelDetector
from bot.dialog.business import BusinessAPI
from bot.dialog.conversation import Conversation
from bot.dialog.engine import Dialog
from bot.dialog.knowledge import knowledge_client
from bot.dialog.nlu import Segmenter
from bot.dialog.registry import FlowRegistry
from bot.language.loader import load_flows
from knowledge.base import KnowledgeBase
from knowledge.service import KnowledgeService


@contextlib.asynccontextmanager
async def open_conversation(
    flows_dir: Path,
    settings: Settings,
    *,
    today: Callable[[], dt.date] | None = None,
    segmenter: Segmenter | None = None,
) -> AsyncIterator[Conversation]:
    """Load and validate every flow of ``flows_dir`` and yield a conversation over them.

    Args:
        flows_dir: The flows directory (a ``call:`` may name any flow in it).
        settings: NLU threshold, backchannels and time zone come from here.
        today: The calls' date (conversation tests pin it); default: today in
            the settings' time zone.
        segmenter: A shared jieba segmenter (loading one takes about half a second).

    Raises:
        FlowValidationError: a flow file of the directory is invalid.
    """
    sources = await asyncio.to_thread(load_flows, flows_dir)
    segmenter = segmenter or Segmenter()
    await asyncio.to_thread(segmenter.initialize)
    # The knowledge base of the settings, without a customer history: trying a flow
    # leaves nothing behind.
    knowledge = KnowledgeService(settings.kb_dir, base=KnowledgeBase(segmenter))
    await knowledge.open()
    client = knowledge_client(settings, knowledge)
    registry = FlowRegistry(segmenter=segmenter, default_threshold=settings.nlu_threshold)
    await asyncio.to_thread(registry.install, sources.values())
    business = BusinessAPI()
    try:
        dialog = Dialog(registry, business=business, knowledge=client, today=today or settings.today)
        yield Conversation(registry, dialog, BackchannelDetector(settings.backchannels, settings.fillers))
    finally:
        await business.aclose()
        await client.aclose()
