"""What a returning customer asked before: kept for the retention, used to break near ties."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.text.segmenter import Segmenter
from knowledge.base import KnowledgeBase
from knowledge.history import CustomerHistory
from knowledge.replies import ReplyType
from knowledge.service import KnowledgeService, split_sender

TWINS = """
entries:
  - {id: card-a, title: 社保卡换卡, questions: [社保卡怎么办理], answer: 换卡请到银行网点。}
  - {id: card-b, title: 社保卡申领, questions: [社保卡怎么办理], answer: 申领请到社保窗口。}
"""


def test_sender_is_conversation_and_customer() -> None:
    assert split_sender("fd6a66a6@192.168.1.82userId13800138000") == ("fd6a66a6@192.168.1.82", "13800138000")
    assert split_sender("no-customer") == ("no-customer", "")


async def test_history_is_kept_for_the_retention(tmp_path: Path) -> None:
    history = CustomerHistory(tmp_path / "h.sqlite3", retention_days=30)
    await history.open()
    try:
        await history.record("138", "card-a", "社保卡换卡")
        await history.record("139", "card-b", "社保卡申领")
        assert [a.entry_id for a in await history.recent("138")] == ["card-a"]
        assert await history.recent("") == []
    finally:
        await history.close()
    reopened = CustomerHistory(tmp_path / "h.sqlite3", retention_days=30)
    await reopened.open()
    try:
        assert [a.title for a in await reopened.recent("138")] == ["社保卡换卡"]  # across restarts
    finally:
        await reopened.close()


async def test_expired_history_is_forgotten(tmp_path: Path) -> None:
    history = CustomerHistory(tmp_path / "h.sqlite3", retention_days=0.1 / 86400)  # a tenth of a second
    await history.open()
    try:
        await history.record("138", "card-a", "社保卡换卡")
        await asyncio.sleep(0.2)
        assert await history.recent("138") == []
    finally:
        await history.close()


async def test_zero_retention_keeps_nothing(tmp_path: Path) -> None:
    history = CustomerHistory(tmp_path / "h.sqlite3", retention_days=0)
    await history.open()
    await history.record("138", "card-a", "社保卡换卡")
    assert await history.recent("138") == []
    await history.close()
    assert not (tmp_path / "h.sqlite3").exists()


async def test_what_a_customer_asked_before_breaks_a_near_tie(tmp_path: Path, segmenter: Segmenter) -> None:
    data = tmp_path / "kb"
    data.mkdir()
    (data / "cards.yaml").write_text(TWINS, encoding="utf-8")
    history = CustomerHistory(tmp_path / "h.sqlite3", retention_days=30)
    service = KnowledgeService(data, base=KnowledgeBase(segmenter), history=history)
    await service.open()
    try:
        stranger = await service.reply("c1userId100", "社保卡怎么办理")
        assert stranger.type is ReplyType.CLARIFY  # two entries too close to call
        await history.record("200", "card-b", "社保卡申领")
        returning = await service.reply("c2userId200", "社保卡怎么办理")
        assert next(e.id for e in returning.choices) == "card-b"  # what they asked before, first
    finally:
        await service.close()
