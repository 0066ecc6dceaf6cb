"""The in-process knowledge client: the bot reads it exactly as it reads the webhook."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.config import Settings
from bot.dialog.knowledge import HttpKnowledgeClient, LocalKnowledgeClient, knowledge_client
from bot.dialog.knowledge import ReplyType as ReadType
from bot.errors import KnowledgeError
from bot.text.segmenter import Segmenter
from knowledge.base import KnowledgeBase
from knowledge.client import InProcessKnowledge
from knowledge.replies import ReplyType
from knowledge.service import KnowledgeService
from tests.knowledge.conftest import SAMPLE_DIR


def test_the_bot_reads_the_types_the_service_writes() -> None:
    assert {t.name: int(t) for t in ReadType} == {t.name: int(t) for t in ReplyType}


async def test_an_in_process_answer_is_read_like_a_webhook_one(sample: KnowledgeService) -> None:
    client = LocalKnowledgeClient(InProcessKnowledge(sample), timeout_seconds=5)
    clarified = await client.ask("client-1userId1", "请问异地就医如何备案")
    assert (clarified.type, clarified.choices) == (ReadType.CLARIFY, ["转诊转院", "异地安置", "异地急诊"])
    answered = await client.ask("client-1userId1", "第二个")
    assert (answered.answered, answered.title) == (True, "异地安置")
    await client.aclose()


async def test_a_forgotten_conversation_has_no_choices_pending(sample: KnowledgeService) -> None:
    clarified = await sample.reply("forget-1userId1", "请问异地就医如何备案")
    assert clarified.type == ReplyType.CLARIFY
    sample.forget("forget-1userId1")
    sample.forget("never-askeduserId1")  # nothing to forget: nothing happens
    settled = await sample.reply("forget-1userId1", "第二个")
    assert settled.entry is None or settled.entry.title != "异地安置"


async def test_conversations_past_their_time_are_let_go(segmenter: Segmenter) -> None:
    """Not only when their sender comes back: a call center's senders seldom do."""
    service = KnowledgeService(SAMPLE_DIR, base=KnowledgeBase(segmenter), context_seconds=0.05)
    service.load()
    for number in range(3):
        await service.reply(f"old-{number}userId1", "请问异地就医如何备案")
    assert service.conversations_held == 3
    await asyncio.sleep(0.1)
    await service.reply("newuserId1", "医保卡丢了")
    assert service.conversations_held == 1


async def test_a_service_not_loaded_is_a_knowledge_error(tmp_path: Path, segmenter: Segmenter) -> None:
    service = KnowledgeService(tmp_path, base=KnowledgeBase(segmenter))
    client = LocalKnowledgeClient(InProcessKnowledge(service), timeout_seconds=5)
    with pytest.raises(KnowledgeError, match="not loaded"):
        await client.ask("client-2userId1", "医保卡丢了")


async def test_the_webhook_url_wins_over_the_local_service(tmp_path: Path, sample: KnowledgeService) -> None:
    local = InProcessKnowledge(sample)
    remote = knowledge_client(Settings(data_dir=tmp_path, kb_url="http://127.0.0.1:9/webhook"), local)
    assert isinstance(remote, HttpKnowledgeClient)
    await remote.aclose()
    assert isinstance(knowledge_client(Settings(data_dir=tmp_path), local), LocalKnowledgeClient)
