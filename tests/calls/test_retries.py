"""The CTI's retries: the same callback again within the window is answered the same and
is not a new turn (VOICEBOT_RETRY_WINDOW_MS)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.pbx.log import LogPBX
from bot.text.segmenter import Segmenter
from tests.conftest import CTI, FLOWS_DIR

ID_CARD = "帮我查一下身份证幺幺零幺零五幺九四九幺二三幺零零二叉的报销进度"


@pytest.fixture
def retry_window_ms() -> int:
    return int(Settings.model_fields["retry_window_ms"].default)  # the production default


async def record(client: QuartClient, call_id: str) -> dict[str, Any]:
    response = await client.get(f"/calls/{quote(call_id)}")
    assert response.status_code == 200
    return await response.get_json()  # type: ignore[no-any-return]


def texts(call: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(t["event"], t["text"]) for t in call["turns"]]


async def test_a_repeated_callback_gets_the_same_bytes_and_one_turn(cti: CTI, client: QuartClient) -> None:
    greeting = await cti.say("r-1", "ready2speak")
    assert await cti.say("r-1", "ready2speak") == greeting  # not "您好，请问您还在吗？"
    question = await cti.say("r-1", ID_CARD)
    assert await cti.say("r-1", ID_CARD) == question
    assert texts(await record(client, "r-1")) == [("ready2speak", None), ("text", ID_CARD)]


async def test_a_retry_does_not_confirm_a_confirm_step(cti: CTI, client: QuartClient) -> None:
    """The ID number repeated at its confirm step is not a "yes": the call goes on as
    one without the retry (``r-0``) does."""
    for call_id, retried in (("r-0", False), ("r-2", True)):
        await cti.say(call_id, "ready2speak")
        question = await cti.say(call_id, ID_CARD)
        if retried:
            assert await cti.say(call_id, ID_CARD) == question
        await cti.say(call_id, "对的")
    plain, retried_call = await record(client, "r-0"), await record(client, "r-2")
    assert [(t["step"], t["reply"]) for t in retried_call["turns"]] == [
        (t["step"], t["reply"]) for t in plain["turns"]
    ]
    assert "对吗" in retried_call["turns"][1]["reply"]


async def test_concurrent_copies_of_a_callback_are_answered_once(cti: CTI, client: QuartClient) -> None:
    await cti.say("r-3", "ready2speak")
    answers = await asyncio.gather(*(cti.say("r-3", ID_CARD) for _ in range(3)))
    assert len(set(answers)) == 1
    assert texts(await record(client, "r-3"))[1:] == [("text", ID_CARD)]


async def test_a_retry_after_a_restart_is_recognised_from_the_stored_state(
    tmp_path: Path, segmenter: Segmenter
) -> None:
    """The instance that answered is gone: the call's state still tells the retry."""
    settings = Settings(data_dir=tmp_path / "var", flows_dir=FLOWS_DIR)
    app = create_app(settings, pbx=LogPBX(), segmenter=segmenter)
    async with app.test_app() as started:
        cti = CTI(started.test_client())
        await cti.say("r-4", "ready2speak")
        question = await cti.say("r-4", ID_CARD)
        calls = app.extensions["voicebot"].calls
        calls._recent._last.clear()  # as on another instance: nothing in memory
        assert await cti.say("r-4", ID_CARD) == question
        assert len((await record(started.test_client(), "r-4"))["turns"]) == 2


@pytest.mark.parametrize("window_ms", [0], ids=["window-off"])
async def test_the_same_words_after_the_window_are_a_new_turn(
    tmp_path: Path, segmenter: Segmenter, window_ms: int
) -> None:
    settings = Settings(data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, retry_window_ms=window_ms)
    app = create_app(settings, pbx=LogPBX(), segmenter=segmenter)
    async with app.test_app() as started:
        cti = CTI(started.test_client())
        await cti.say("r-5", "ready2speak")
        await cti.say("r-5", "ready2speak")
        call = await record(started.test_client(), "r-5")
    assert texts(call) == [("ready2speak", None), ("ready2speak", None)]


async def test_a_retried_hangup_is_answered_empty_and_recorded_once(cti: CTI, client: QuartClient) -> None:
    await cti.say("r-6", "ready2speak")
    assert await cti.say("r-6", "hungup") == ""
    assert await cti.say("r-6", "hungup") == ""
    assert [e for e, _ in texts(await record(client, "r-6"))] == ["ready2speak", "hungup"]


async def test_only_the_last_callback_is_retried(cti: CTI, client: QuartClient) -> None:
    """ID number, 不对, the ID number again: the caller is correcting, not the CTI retrying."""
    await cti.say("r-7", "ready2speak")
    question = await cti.say("r-7", ID_CARD)
    await cti.say("r-7", "不对")
    await cti.say("r-7", ID_CARD)
    call = await record(client, "r-7")
    assert [text for _, text in texts(call)] == [None, ID_CARD, "不对", ID_CARD]
    assert call["turns"][3]["audio_url"] == question  # asked to confirm again, as a new turn


async def test_a_failed_callback_is_tried_again(cti: CTI) -> None:
    assert (await cti.send("r-8", "ready2speak", flow="nosuch"))[0] == 404
    assert (await cti.send("r-8", "ready2speak", flow="nosuch"))[0] == 404
    assert await cti.say("r-8", "ready2speak")  # the same callback, now for a loaded flow
