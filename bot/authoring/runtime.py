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
from bot.dialog.agents import AgentStatus
from bot.dialog.conversation import Conversation
from bot.language.loader import load_flows
from bot.llm.model import LanguageModel
from bot.text.segmenter import Segmenter
from bot.wiring import open_conversation as open_wired
from knowledge.base import KnowledgeBase
from knowledge.service import KnowledgeService


@contextlib.asynccontextmanager
async def open_conversation(
    flows_dir: Path,
    settings: Settings,
    *,
    today: Callable[[], dt.date] | None = None,
    segmenter: Segmenter | None = None,
    agents: AgentStatus | None = None,
    model: LanguageModel | None = None,
) -> AsyncIterator[Conversation]:
    """Load and validate every flow of ``flows_dir`` and yield a conversation over them,
    wired as the service wires it (``bot.wiring``).

    Args:
        flows_dir: The flows directory (a ``call:`` may name any flow in it).
        settings: NLU threshold, backchannels and time zone come from here.
        today: The calls' date (conversation tests pin it); default: today in
            the settings' time zone.
        segmenter: A shared jieba segmenter (loading one takes about half a second).
        agents: Whether anyone can answer a ``transfer:`` with ``busy:`` (conversation
            tests' ``agents:``); default: someone always can.
        model: The language model (a server, or a cassette of its answers:
            ``bot.llm.assistant.language_model``), closed on exit; default: none.

    Raises:
        FlowValidationError: a flow file of the directory is invalid.
    """
    sources = await asyncio.to_thread(load_flows, flows_dir)
    segmenter = segmenter or Segmenter()
    # The knowledge base of the settings, without a customer history: trying a flow
    # leaves nothing behind.
    knowledge = KnowledgeService(settings.kb_dir, base=KnowledgeBase(segmenter))
    async with open_wired(
        settings,
        sources.values(),
        segmenter=segmenter,
        knowledge=knowledge,
        today=today,
        agents=agents,
        model=model,
    ) as conversation:
        yield conversation
