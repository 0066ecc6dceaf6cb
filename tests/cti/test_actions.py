"""What follows an answer: transfers and hang-ups after their announcement, cancelled by
the caller's hang-up, and the CTI's hang-up push (protocols.md §4)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.calls.followups import FollowUps
from bot.config import Settings
from bot.errors import PBXRejectedError
from bot.pbx.base import CallRef, Exchange, TransferTarget
from bot.pbx.log import LogPBX
from bot.services import EXTENSION_KEY, Services
from bot.text.segmenter import Segmenter
from tests.conftest import CTI, FLOWS_DIR
from tests.loopback import unused_port


async def record(client: QuartClient, call_id: str) -> dict[str, Any]:
    response = await client.get(f"/calls/{quote(call_id)}")
    assert response.status_code == 200
    return await response.get_json()  # type: ignore[no-any-return]


async def push(client: QuartClient, query: str) -> tuple[int, str]:
    response = await client.get(f"/cti/hangup?{query}")
    return response.status_code, await response.get_data(as_text=True)


async def test_a_transfer_waits_for_its_notice_and_carries_what_the_agent_needs(
    services: Services, cti: CTI, client: QuartClient, pbx: LogPBX
) -> None:
    assert services.calls is not None
    await cti.say("t-1", "ready2speak")
    await cti.say("t-1", "我要转人工")
    assert services.calls.followups.waiting("t-1") == "transfer"
    assert pbx.requests == []
    (transfer,) = await pbx.wait_for(1)
    assert (transfer.action, transfer.argument) == ("transfer", "8001")
    assert transfer.biz_data is not None
    assert transfer.biz_data["callid"] == "t-1"
    assert transfer.biz_data["grade"] == "A"
    assert "我要转人工" in transfer.biz_data["summary"]
    turns = (await record(client, "t-1"))["turns"]
    assert [t["event"] for t in turns] == ["ready2speak", "text", "pbx"]
    assert turns[2]["pbx"][0]["method"] == "LOG"


async def test_a_caller_who_hangs_up_during_the_notice_is_not_transferred(
    services: Services, cti: CTI, client: QuartClient, pbx: LogPBX
) -> None:
    assert services.calls is not None
    await cti.say("t-2", "ready2speak")
    await cti.say("t-2", "我要转人工")
    assert await cti.say("t-2", "hungup") == ""
    assert services.calls.followups.waiting("t-2") is None
    call = await record(client, "t-2")
    assert call["outcome"] == "hung_up_by_caller"
    assert "before the transfer" in call["end_reason"]
    await services.calls.followups.finish()  # nothing was left to run
    assert pbx.requests == []


async def test_the_robot_hang_up_push_closes_a_call_whose_hungup_was_missed(
    cti: CTI, client: QuartClient
) -> None:
    await cti.say("p-1", "ready2speak")
    query = "callid=p-1&caller=13800138000&callee=1000&robotid=2&business=robot"
    assert await push(client, query) == (200, "ok")
    call = await record(client, "p-1")
    assert call["outcome"] == "hung_up_by_caller"
    assert [t["event"] for t in call["turns"]] == ["ready2speak", "hangup_push"]
    assert await push(client, query) == (200, "ok")  # the CTI repeats itself: nothing changes
    again = await record(client, "p-1")
    assert len(again["turns"]) == 2
    assert [p["business"] for p in again["hangup_pushes"]] == ["robot"]


async def test_a_push_after_the_hungup_callback_changes_nothing(cti: CTI, client: QuartClient) -> None:
    await cti.say("p-2", "ready2speak")
    await cti.say("p-2", "hungup")
    assert await push(client, "callid=p-2&business=robot") == (200, "ok")
    assert [t["event"] for t in (await record(client, "p-2"))["turns"]] == ["ready2speak", "hungup"]


async def test_the_hang_up_push_cancels_a_waiting_transfer(
    services: Services, cti: CTI, client: QuartClient, pbx: LogPBX
) -> None:
    assert services.calls is not None
    await cti.say("p-3", "ready2speak")
    await cti.say("p-3", "我要转人工")
    assert await push(client, "callid=p-3&business=robot") == (200, "ok")
    assert services.calls.followups.waiting("p-3") is None
    assert (await record(client, "p-3"))["outcome"] == "hung_up_by_caller"
    assert pbx.requests == []


async def test_voicemail_and_queue_pushes_are_recorded_once(client: QuartClient) -> None:
    voicemail = "callid=v-1&caller=130&callee=1000&msg=%2Fopt%2Fdata%2Frecords%2Fmail1.wav&business=voicemail"
    queue = (
        "callid=v-1&caller=130&callee=1000&begin=2022-08-04T18:35:30&duration=40&waittimeout=false"
        "&business=queue"
    )
    for query in (voicemail, queue, voicemail):
        assert await push(client, query) == (200, "ok")
    call = await record(client, "v-1")
    pushes = {p["business"]: p for p in call["hangup_pushes"]}
    assert sorted(pushes) == ["queue", "voicemail"]
    assert pushes["voicemail"]["msg"] == "/opt/data/records/mail1.wav"
    assert pushes["queue"]["duration"] == "40"


async def test_a_push_without_callid_is_refused_in_plain_text(client: QuartClient) -> None:
    response = await client.get("/cti/hangup?business=robot")
    assert response.status_code == 400
    assert response.content_type.startswith("text/plain")
    assert "callid" in await response.get_data(as_text=True)


class RefusingPBX(LogPBX):
    """A PBX that refuses transfers (HWD's 600006) and cannot push audio (HWD)."""

    async def transfer(
        self,
        call: CallRef,
        target: TransferTarget,
        *,
        biz_data: dict[str, Any] | None = None,
        journal: list[Exchange] | None = None,
    ) -> None:
        await super().transfer(call, target, biz_data=biz_data, journal=journal)
        raise PBXRejectedError("HWD PBX transfer failed: code 600006 转接异常", code="600006")

    async def play(self, call: CallRef, voice: str, *, journal: list[Exchange] | None = None) -> None:
        raise PBXRejectedError("the HWD PBX API cannot push audio into a call")


@pytest.fixture
def pushing(tmp_path: Path) -> Settings:
    """Settings with the outcome push on, to a receiver that is down (pushes stay pending)."""
    return Settings(
        data_dir=tmp_path / "var",
        flows_dir=FLOWS_DIR,
        outcome_url=f"http://127.0.0.1:{unused_port()}/outcomes",
    )


async def pushed(svc: Services, call_id: str) -> dict[str, Any] | None:
    """The call's outcome push once it is in the outbox (a generous bound)."""
    assert svc.outcomes is not None
    for _ in range(500):
        row = await svc.outcomes.outbox.get(call_id)
        if row is not None:
            return json.loads(row.payload)  # type: ignore[no-any-return]
        await asyncio.sleep(0.02)
    return None


async def until_hangup_waits(svc: Services, call_id: str) -> None:
    """Until the call's hang-up waits for its time (a generous bound)."""
    assert svc.calls is not None
    for _ in range(500):
        if svc.calls.followups.waiting(call_id) == "hangup":
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no hang-up waits for call {call_id}")


async def test_a_caller_who_hangs_up_during_the_notice_is_pushed_as_such(
    pushing: Settings, segmenter: Segmenter
) -> None:
    app = create_app(pushing, pbx=LogPBX(), segmenter=segmenter)
    async with app.test_app() as started:
        svc: Services = app.extensions[EXTENSION_KEY]
        cti = CTI(started.test_client())
        await cti.say("o-1", "ready2speak")
        await cti.say("o-1", "我要转人工")
        assert svc.outcomes is not None
        assert await svc.outcomes.outbox.get("o-1") is None  # not before the transfer is settled
        await cti.say("o-1", "hungup")
        summary = await pushed(svc, "o-1")
    assert summary is not None
    assert summary["outcome"] == "hung_up_by_caller"


async def test_a_refused_transfer_is_apologised_for_then_hung_up_and_pushed_once_over(
    pushing: Settings, segmenter: Segmenter
) -> None:
    pbx = RefusingPBX()
    app = create_app(pushing, pbx=pbx, segmenter=segmenter)
    async with app.test_app() as started:
        svc: Services = app.extensions[EXTENSION_KEY]
        assert svc.calls is not None
        cti = CTI(started.test_client())
        await cti.say("o-2", "ready2speak")
        await cti.say("o-2", "我要转人工")
        await pbx.wait_for(1)
        # The goodbye is owed to the next callback; a hang-up waits behind it even if no
        # callback comes.
        await until_hangup_waits(svc, "o-2")
        assert svc.outcomes is not None
        assert await svc.outcomes.outbox.get("o-2") is None
        goodbye = await cti.say("o-2", "ready2speak")
        await pbx.wait_for(2)
        summary = await pushed(svc, "o-2")
        record = await (await started.test_client().get("/calls/o-2")).get_json()
    served = [t for t in record["turns"] if t.get("delivered") == "next callback"]
    assert [t["audio_url"] for t in served] == [goodbye]
    assert [r.action for r in pbx.requests] == ["transfer", "hangup"]
    assert summary is not None
    assert summary["outcome"] == "transfer_failed"
    assert "600006" in summary["end_reason"]


async def test_a_call_whose_goodbye_cannot_be_said_is_handed_over_after_the_hang_up(
    pushing: Settings, segmenter: Segmenter
) -> None:
    """Refused, the goodbye cannot be pushed and no callback comes: the bot hangs up
    anyway, and after that nothing is owed, so the call is pushed."""
    pbx = RefusingPBX()
    app = create_app(pushing, pbx=pbx, segmenter=segmenter)
    async with app.test_app() as started:
        svc: Services = app.extensions[EXTENSION_KEY]
        assert svc.calls is not None
        cti = CTI(started.test_client())
        await cti.say("o-4", "ready2speak")
        await cti.say("o-4", "我要转人工")
        await pbx.wait_for(1)
        await until_hangup_waits(svc, "o-4")  # the refusal is recorded, the fallback hang-up waits
        await svc.calls.followups.finish()  # the hang-up now, not after its long wait
        summary = await pushed(svc, "o-4")
    assert [r.action for r in pbx.requests] == ["transfer", "hangup"]
    assert summary is not None
    assert summary["outcome"] == "transfer_failed"


class HeldGoodbyePBX(RefusingPBX):
    """Refuses transfers; its push of the goodbye hangs until released, then fails."""

    def __init__(self) -> None:
        super().__init__()
        self.pushing, self.release = asyncio.Event(), asyncio.Event()

    async def play(self, call: CallRef, voice: str, *, journal: list[Exchange] | None = None) -> None:
        self.pushing.set()
        await self.release.wait()
        await super().play(call, voice, journal=journal)


async def test_a_caller_who_hangs_up_during_the_goodbye_is_handed_over(
    pushing: Settings, segmenter: Segmenter
) -> None:
    pbx = HeldGoodbyePBX()
    app = create_app(pushing, pbx=pbx, segmenter=segmenter)
    async with app.test_app() as started:
        svc: Services = app.extensions[EXTENSION_KEY]
        cti = CTI(started.test_client())
        await cti.say("o-5", "ready2speak")
        await cti.say("o-5", "我要转人工")
        await asyncio.wait_for(pbx.pushing.wait(), 30)
        await cti.say("o-5", "hungup")  # while the goodbye is being pushed
        pbx.release.set()
        summary = await pushed(svc, "o-5")
    assert summary is not None
    assert [r.action for r in pbx.requests] == ["transfer"]  # no hang-up for a caller gone


async def test_shutdown_runs_what_waiting_actions_lead_to() -> None:
    followups, done = FollowUps(), list[str]()

    async def transfer() -> None:
        done.append("transfer")

    async def push_then_transfer() -> None:
        done.append("push")
        followups.schedule("c", "transfer", 60, transfer)

    followups.schedule("c", "play", 60, push_then_transfer, announces="transfer")
    assert followups.waiting("c") == "transfer"
    await followups.finish()
    assert done == ["push", "transfer"]


async def test_nothing_is_scheduled_for_a_caller_who_hung_up() -> None:
    followups = FollowUps()

    async def act() -> None:
        raise AssertionError("acted for a caller who hung up")

    followups.schedule("c", "transfer", 60, act)
    assert followups.cancel("c") == "transfer"
    followups.schedule("c", "hangup", 0, act)
    assert followups.waiting("c") is None
    await followups.finish()
