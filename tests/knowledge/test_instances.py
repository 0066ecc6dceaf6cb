"""Several instances on one data directory: each sees the others' changes within seconds,
and no instance's change is lost to another's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import yaml

from bot.errors import KnowledgeDataError, RequestError
from bot.text.segmenter import Segmenter
from knowledge import store
from knowledge.base import KnowledgeBase
from knowledge.entries import Entry
from knowledge.service import KnowledgeService

POLL_SECONDS = 0.05
DEADLINE_SECONDS = 3.0


def _entry(entry_id: str, title: str, question: str) -> Entry:
    return Entry(id=entry_id, title=title, kind="faq", questions=(question,), answer=f"{title}的回答。")


HUZHU = _entry("yiliao-huzhu", "职工医疗互助", "工会的医疗互助怎么参加")
GOUYAO = _entry("yidi-gouyao", "异地药店购药", "在外地药店买药能刷医保卡吗")


@pytest.fixture
async def pair(
    kb_dir: Path, segmenter: Segmenter
) -> AsyncIterator[tuple[KnowledgeService, KnowledgeService]]:
    """Two opened instances on one data directory, as two processes on a shared volume."""
    services = [
        KnowledgeService(kb_dir, base=KnowledgeBase(segmenter), poll_seconds=POLL_SECONDS) for _ in range(2)
    ]
    for service in services:
        await service.open()
    yield services[0], services[1]
    for service in services:
        await service.close()


async def _eventually(condition: Callable[[], bool]) -> float:
    """Seconds until ``condition`` holds; fails after DEADLINE_SECONDS."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > DEADLINE_SECONDS:
            pytest.fail(f"not within {DEADLINE_SECONDS} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - began


def _top(service: KnowledgeService, question: str) -> str | None:
    hits = service.search(question, 1)
    return hits[0].entry.id if hits else None


async def test_an_entry_added_on_one_instance_is_found_on_the_other(
    pair: tuple[KnowledgeService, KnowledgeService],
) -> None:
    a, b = pair
    assert _top(b, "工会的医疗互助怎么参加") != HUZHU.id
    await a.create(HUZHU)
    assert _top(a, "工会的医疗互助怎么参加") == HUZHU.id  # at once where it was made
    await _eventually(lambda: _top(b, "工会的医疗互助怎么参加") == HUZHU.id)

    await b.delete(HUZHU.id)
    await _eventually(lambda: HUZHU.id not in a.base)


async def test_concurrent_changes_on_two_instances_all_survive(
    pair: tuple[KnowledgeService, KnowledgeService], kb_dir: Path
) -> None:
    a, b = pair
    on_a = [_entry(f"a-{i}", f"甲{i}号业务", f"甲{i}号业务怎么办") for i in range(5)]
    on_b = [_entry(f"b-{i}", f"乙{i}号业务", f"乙{i}号业务怎么办") for i in range(5)]
    await asyncio.gather(*(a.create(e) for e in on_a), *(b.create(e) for e in on_b), b.create(GOUYAO))

    ids = {e.id for e in [*on_a, *on_b, GOUYAO]}
    written = yaml.safe_load((kb_dir / store.ADDED_FILE).read_text(encoding="utf-8"))
    assert {e["id"] for e in written["entries"]} == ids
    for service in (a, b):
        await _eventually(lambda service=service: ids <= {e.id for e in service.base.entries})  # type: ignore[misc]


async def test_a_change_is_made_on_the_files_as_another_instance_left_them(
    kb_dir: Path, segmenter: Segmenter
) -> None:
    """B never polls here: it learns of A's entry only by re-reading the files to write."""
    a = KnowledgeService(kb_dir, base=KnowledgeBase(segmenter), poll_seconds=POLL_SECONDS)
    b = KnowledgeService(kb_dir, base=KnowledgeBase(segmenter), poll_seconds=0)
    await a.open()
    await b.open()
    try:
        await a.create(HUZHU)
        assert HUZHU.id not in b.base
        with pytest.raises(RequestError) as taken:
            await b.create(HUZHU)
        assert taken.value.status == 409
        assert await b.put([GOUYAO, HUZHU.model_copy(update={"answer": "请向单位工会咨询。"})]) == (1, 1)
        assert b.base.get(HUZHU.id).answer == "请向单位工会咨询。"
        await _eventually(lambda: GOUYAO.id in a.base)
        assert a.base.get(HUZHU.id).answer == "请向单位工会咨询。"
    finally:
        await a.close()
        await b.close()


async def test_own_writes_are_not_read_again(
    kb_dir: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = KnowledgeService(kb_dir, base=KnowledgeBase(segmenter), poll_seconds=0.01)
    await service.open()
    reads: list[Path] = []
    read_directory = store.read_directory

    def counted(directory: Path) -> object:
        reads.append(directory)
        return read_directory(directory)

    monkeypatch.setattr(store, "read_directory", counted)
    try:
        await service.create(HUZHU)
        await service.put([GOUYAO])
        await asyncio.sleep(0.2)  # twenty polls
        assert reads == []
        assert {HUZHU.id, GOUYAO.id} <= {e.id for e in service.base.entries}
    finally:
        await service.close()


async def test_an_invalid_edit_keeps_the_old_data_until_it_is_fixed(
    pair: tuple[KnowledgeService, KnowledgeService], kb_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a, _ = pair
    count = len(a.base)
    broken = kb_dir / "zz-broken.yaml"
    broken.write_text("entries:\n  - id: broken\n    title: 坏的\n", encoding="utf-8")  # no answer
    await _eventually(lambda: "still serving the old data" in caplog.text)
    assert len(a.base) == count
    assert _top(a, "医保卡丢了怎么补办") is not None
    with pytest.raises(KnowledgeDataError):  # a change is not written over a file it cannot read
        await a.create(HUZHU)

    broken.write_text("entries:\n  - id: fixed\n    title: 修好的\n    answer: 好了。\n", encoding="utf-8")
    await _eventually(lambda: "fixed" in a.base)
    assert len(a.base) == count + 1


async def test_close_stops_watching(kb_dir: Path, segmenter: Segmenter) -> None:
    service = KnowledgeService(kb_dir, base=KnowledgeBase(segmenter), poll_seconds=0.01)
    await service.open()
    await service.close()
    (kb_dir / "late.yaml").write_text(
        "entries:\n  - id: late\n    title: 晚到\n    answer: 晚了。\n", "utf-8"
    )
    await asyncio.sleep(0.1)
    assert "late" not in service.base
