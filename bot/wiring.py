"""The one wiring of a conversation: what the service runs is what the tools run.

``create_app`` (the CTI service), ``voicebot chat`` and ``voicebot flows test``
(through ``bot.authoring.runtime``) all open their ``Conversation`` here, so intent
recognition, barge-in rules, the engine, ``http:`` and ``knowledge`` steps are built
the same way in each, in the same order.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable

from bot.config import Settings
from bot.dialog.agents import AgentStatus
from bot.dialog.backchannel import BackchannelDetector
from bot.dialog.business import BusinessAPI
from bot.dialog.conversation import Conversation
from bot.dialog.engine import Dialog
from bot.dialog.knowledge import knowledge_client
from bot.dialog.registry import FlowRegistry
from bot.language.loader import FlowSource
from bot.llm.assistant import Assistant
from bot.llm.model import LanguageModel
from bot.text.segmenter import Segmenter
from knowledge.client import InProcessKnowledge
from knowledge.service import KnowledgeService


@contextlib.asynccontextmanager
async def open_conversation(
    settings: Settings,
    sources: Iterable[FlowSource],
    *,
    segmenter: Segmenter,
    knowledge: KnowledgeService,
    business: BusinessAPI | None = None,
    today: Callable[[], dt.date] | None = None,
    agents: AgentStatus | None = None,
    model: LanguageModel | None = None,
) -> AsyncIterator[Conversation]:
    """Open the knowledge service and the flows' classifiers, and yield a conversation.

    Args:
        settings: NLU threshold, backchannels, the knowledge webhook and the time zone.
        sources: The validated flows (a ``call:`` may name any of them).
        segmenter: The shared jieba segmenter (initialized here, off the event loop).
        knowledge: Opened here and closed on exit; the in-process knowledge base, or
            ``VOICEBOT_KB_URL`` when that is set, answers ``knowledge`` steps.
        business: The ``http:`` steps' client; without one, one is made and closed here.
        today: The calls' date (conversation tests pin it); default: the settings'.
        agents: Whether anyone can answer a ``transfer:`` with ``busy:`` (the PBX's
            agent status, ``bot.pbx.agents``); default: someone always can.
        model: The language model (``bot.llm.assistant.language_model``), closed on
            exit; default: none, and the flows' ``llm:`` uses are skipped.
    """
    async with contextlib.AsyncExitStack() as stack:
        await asyncio.to_thread(segmenter.initialize)
        # Before the flows: the knowledge base teaches the shared segmenter its words,
        # and the flows' classifiers are best built after every word is known.
        await knowledge.open()
        stack.push_async_callback(knowledge.close)
        client = knowledge_client(settings, InProcessKnowledge(knowledge))
        stack.push_async_callback(client.aclose)
        if business is None:
            business = BusinessAPI()
            stack.push_async_callback(business.aclose)
        registry = FlowRegistry(
            segmenter=segmenter,
            default_threshold=settings.nlu_threshold,
            opinions_later=settings.nlu_opinion_later,
        )
        await asyncio.to_thread(registry.install, list(sources))
        assistant = None
        if model is not None:
            assistant = Assistant(model, settings)
            stack.push_async_callback(assistant.aclose)
        dialog = Dialog(
            registry,
            business=business,
            knowledge=client,
            today=today or settings.today,
            agents=agents,
            assistant=assistant,
        )
        backchannel = BackchannelDetector(settings.backchannels, settings.fillers)
        yield Conversation(registry, dialog, backchannel, assistant)
