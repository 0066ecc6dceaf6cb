"""The bot asks the knowledge service: answers, clarifications, slow answers, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.errors import PBXError
from bot.pbx.base import CallRef, Exchange
from bot.pbx.log import LogPBX
from bot.services import Services
from bot.text.segmenter import Segmenter
from tests.conftest import CTI, FLOWS_DIR
from tests.loopback import RASA_ANSWER, LoopbackServer, unused_port

ADMIN = {"Authorization": "Bearer t0ken"}


async def calls(client: QuartClient, call_id: str) -> dict[str, Any]:
    response = await client.get(f"/calls/{quote(call_id)}")
    assert response.status_code == 200
    return await response.get_json()  # type: ignore[no-any-return]


async def test_a_free_question_is_answered_and_recorded(cti: CTI, client: QuartClient) -> None:
    await cti.say("kb-1", "ready2speak")
    await cti.say("kb-1", "那个，门诊慢特病要怎么申请啊", telnum="13900000001")
    await cti.say("kb-1", "没有了，再见", telnum="13900000001")
    record = await calls(client, "kb-1")
    turns = record["turns"]
    assert turns[1]["step"] == "menu"
    assert turns[1]["reply"].startswith("门诊慢特病要先做病种认定")
    assert turns[1]["reply"].endswith("请问还有什么可以帮您？")
    assert (record["grade"], record["variables"]["kb"]["title"]) == ("B", "门诊慢特病申请")


async def test_an_ended_calls_knowledge_conversation_is_let_go(cti: CTI, services: Services) -> None:
    await cti.say("kb-end", "ready2speak", telnum="13900000002")
    await cti.say("kb-end", "请问异地就医如何备案", telnum="13900000002")  # choices offered
    assert services.knowledge.conversations_held == 1
    await cti.say("kb-end", "hungup", telnum="13900000002")
    assert services.knowledge.conversations_held == 0


async def test_clarify_then_choose_with_the_calls_sender(cti: CTI, client: QuartClient) -> None:
    await cti.say("kb-2", "ready2speak")
    await cti.say("kb-2", "请问异地就医如何备案")
    await cti.say("kb-3", "ready2speak")
    await cti.say("kb-3", "第二个")  # another call: its own conversation with the knowledge base
    await cti.say("kb-2", "第二个")
    first, other = (await calls(client, "kb-2"))["turns"], (await calls(client, "kb-3"))["turns"]
    assert first[1]["reply"] == "请问您是想咨询转诊转院、异地安置还是异地急诊?"
    assert first[1]["step"] == "knowledge"
    assert "异地安置" in first[2]["reply"]
    assert first[2]["step"] == "menu"
    assert "异地安置" not in other[1]["reply"]


@pytest.fixture
def slow_settings(tmp_path: Path, remote: LoopbackServer) -> Settings:
    """The knowledge webhook answers after 400 ms; the filler comes after 50 ms."""
    return Settings(
        data_dir=tmp_path / "var",
        flows_dir=FLOWS_DIR,
        kb_url=f"{remote.base_url}/rasa/400",
        kb_filler_ms=50,
        kb_timeout_ms=5000,
    )


@pytest.fixture
async def remote() -> AsyncIterator[LoopbackServer]:
    server = LoopbackServer()
    await server.start()
    yield server
    await server.close()


class NoPlayPBX(LogPBX):
    """A PBX that cannot push audio into a call (an HWD without play-voice, say)."""

    async def play(self, call: CallRef, voice: str, *, journal: list[Exchange] | None = None) -> None:
        raise PBXError("play-voice is not supported", call_id=call.call_id)


def _started(settings: Settings, pbx: LogPBX, segmenter: Segmenter) -> Any:
    return create_app(settings, pbx=pbx, segmenter=segmenter).test_app()


async def wait_for(condition: Any, seconds: float = 10) -> None:
    """Poll until ``condition()`` holds; a generous bound, not a timing assertion."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")


async def until_owed(cti: CTI, call_id: str) -> None:
    """Until the call's second turn, a late answer, is recorded as owed to the next
    callback (a generous bound, not a timing assertion)."""
    for _ in range(500):
        turns = (await calls(cti.client, call_id))["turns"]
        if len(turns) > 1 and turns[1]["delivered"] == "next callback":
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the late answer of {call_id} was never owed")


async def test_a_late_answer_gets_a_filler_then_is_played(
    slow_settings: Settings, segmenter: Segmenter
) -> None:
    pbx = LogPBX()
    test_app = _started(slow_settings, pbx, segmenter)
    async with test_app as started:
        cti = CTI(started.test_client())
        await cti.say("late-1", "ready2speak")
        filler = await cti.say("late-1", "我想问一下公积金怎么提取")
        await wait_for(lambda: pbx.requests)
        assert [r.action for r in pbx.requests] == ["play"]
        played = pbx.requests[0].argument
        assert played is not None
        assert played != filler
        assert "canbeinterrupted=true" in played
        assert "canbeinterrupted=false" in filler  # the wait words are not cut off
        record = await calls(cti.client, "late-1")
        turn = record["turns"][1]
        assert (turn["filler"], turn["delivered"], turn["audio_url"]) == (filler, "play", played)
        assert turn["reply"] == f"{RASA_ANSWER['clarify']}请问还有什么可以帮您？"
        quick = await cti.say("late-1", "没有了，再见")  # the next turn goes on from the answer
        assert quick != filler


async def test_a_late_answer_the_pbx_cannot_play_answers_the_next_callback(
    slow_settings: Settings, segmenter: Segmenter
) -> None:
    pbx = NoPlayPBX()
    test_app = _started(slow_settings, pbx, segmenter)
    async with test_app as started:
        cti = CTI(started.test_client())
        await cti.say("late-2", "ready2speak")
        filler = await cti.say("late-2", "我想问一下公积金怎么提取")
        await until_owed(cti, "late-2")
        nxt = await cti.say("late-2", "喂？")
        record = await calls(cti.client, "late-2")
        late, after = record["turns"][1], record["turns"][2]
        assert (late["filler"], late["delivered"]) == (filler, "next callback")
        assert nxt == late["audio_url"] != filler
        assert (after["text"], after["delivered"], after["audio_url"]) == ("喂？", "next callback", nxt)
        assert after["step"] == "menu"  # "喂？" was not taken as a question


async def test_a_retry_of_a_late_turn_gets_the_filler_and_the_answer_waits_for_a_new_callback(
    slow_settings: Settings, segmenter: Segmenter
) -> None:
    """The CTI retries the callback that got the wait words: the retry gets them again;
    the answer the PBX cannot push goes to the next callback that is not a retry."""
    settings = slow_settings.model_copy(update={"retry_window_ms": 1500})
    async with _started(settings, NoPlayPBX(), segmenter) as started:
        cti = CTI(started.test_client())
        await cti.say("late-4", "ready2speak")
        filler = await cti.say("late-4", "我想问一下公积金怎么提取")
        assert await cti.say("late-4", "我想问一下公积金怎么提取") == filler
        await until_owed(cti, "late-4")
        owed = await cti.say("late-4", "喂？")
        record = await calls(cti.client, "late-4")
    assert [t["text"] for t in record["turns"]] == [None, "我想问一下公积金怎么提取", "喂？"]
    late, after = record["turns"][1:]
    assert owed == late["audio_url"] == after["audio_url"] != filler
    assert (late["filler"], after["delivered"]) == (filler, "next callback")


async def test_a_knowledge_service_slower_than_the_budget_is_an_error(
    tmp_path: Path, remote: LoopbackServer, segmenter: Segmenter
) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        flows_dir=FLOWS_DIR,
        kb_url=f"{remote.base_url}/rasa/5000",
        kb_timeout_ms=300,
        kb_filler_ms=10000,
    )
    test_app = _started(settings, LogPBX(), segmenter)
    async with test_app as started:
        cti = CTI(started.test_client())
        await cti.say("slow-1", "ready2speak")
        await cti.say("slow-1", "我想问一下公积金怎么提取")
        turn = (await calls(cti.client, "slow-1"))["turns"][1]
    assert turn["reply"] == "抱歉，系统暂时查不到这个问题。需要为您转接人工客服吗？"
    assert turn["step"] == "offer_transfer"


async def test_a_knowledge_service_that_is_down_gets_an_apology_and_an_agent(
    tmp_path: Path, segmenter: Segmenter
) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        flows_dir=FLOWS_DIR,
        kb_url=f"http://127.0.0.1:{unused_port()}/webhooks/rest/webhook",
    )
    pbx = LogPBX()
    test_app = _started(settings, pbx, segmenter)
    async with test_app as started:
        cti = CTI(started.test_client())
        await cti.say("down-1", "ready2speak")
        status, _ = await cti.send("down-1", "异地就医怎么备案")
        assert status == 200
        await cti.say("down-1", "需要")
        turns = (await calls(cti.client, "down-1"))["turns"]
    assert turns[1]["reply"] == "抱歉，系统暂时查不到这个问题。需要为您转接人工客服吗？"
    assert [r.action for r in pbx.requests] == ["transfer"]
