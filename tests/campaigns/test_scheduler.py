"""The scheduler against ``voicebot fake-pbx`` (a real process): hours, the daily cap,
retries, the do-not-call list, callbacks, one scheduler at a time; on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.campaigns.db import Database, PostgresDatabase, SQLiteDatabase
from bot.campaigns.gx_batch import GXBatchCalls
from bot.campaigns.locks import FileLock, RedisLock
from bot.campaigns.model import CampaignRules, NewCampaign
from bot.campaigns.service import Campaigns
from bot.campaigns.store import SCHEMA, CampaignStore
from bot.dialog.state import CallState, Grade
from bot.pbx.http import PBXHttp
from tests.fakepbx import FakePBX
from tests.servers import database_url, postgres_server, redis_server, redis_url  # noqa: F401 (fixtures)

ZONE = ZoneInfo("Asia/Shanghai")
NUMBERS = b"telnum,name\n13900000001,zhang\n13900000002,li\n13900000003,wang\n"
ALL_DAY = ("00:00-24:00",)


class Clock:
    """A Monday morning by default; ``real``: now, for what the fake's own clock dates
    (§51 finds numbers by the time they were imported)."""

    def __init__(self, *, real: bool = False) -> None:
        self.now = time.time() if real else dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZONE).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """The campaign store's database, not opened (a sync fixture: a fresh PostgreSQL
    database is made with an event loop of its own)."""
    if request.param == "sqlite":
        return SQLiteDatabase(tmp_path / "campaigns.sqlite3", SCHEMA)
    return PostgresDatabase(request.getfixturevalue("database_url"))


@pytest.fixture
async def store(database: Database) -> AsyncIterator[CampaignStore]:
    store = CampaignStore(database)
    await store.open()
    yield store
    await store.close()


Make = Callable[..., Campaigns]


@pytest.fixture
async def make(store: CampaignStore, fake_pbx: FakePBX, tmp_path: Path) -> AsyncIterator[Make]:
    """Campaigns on the store and the fake, at a clock of the test's (never ticking by itself)."""
    clients: list[GXBatchCalls] = []
    intents = {("survey", "never"): "do_not_call"}

    def build(clock: Clock, *, blacklist: bool = False) -> Campaigns:
        clients.append(GXBatchCalls(PBXHttp(fake_pbx.base, vendor="gx", timeout_seconds=5, retries=0)))
        return Campaigns(
            store,
            clients[-1],
            lock=FileLock(tmp_path / "campaigns.lock"),
            zone=ZONE,
            builtins_of=lambda flow, intent: tuple(filter(None, [intents.get((flow, intent))])),
            flow_names=lambda: {"survey"},
            blacklist=blacklist,
            tick_seconds=3600,
            clock=clock,
        )

    yield build
    for client in clients:
        await client.aclose()


def batch(fake: FakePBX) -> dict[str, Any]:
    state: dict[str, Any] = fake.http.get("/control/batch").json()
    return state


def task_numbers(fake: FakePBX, task_id: int = 1) -> list[dict[str, Any]]:
    return next(t["numbers"] for t in batch(fake)["tasks"] if t["id"] == task_id)


async def test_numbers_go_to_the_task_within_the_cap_and_the_task_starts(
    store: CampaignStore, make: Make, fake_pbx: FakePBX
) -> None:
    clock = Clock()
    fake_pbx.fail(action="batch_start", status=500, times=0)  # its robot never calls: nothing settles
    service = make(clock)
    rules = CampaignRules(hours=ALL_DAY, daily_cap=2)
    await service.create(NewCampaign(name="c1", flow="survey", task_id=1, rules=rules), "n.csv", NUMBERS)
    await store.set_state("c1", "running", clock.now)
    await service.tick()
    assert [n["telnum"] for n in task_numbers(fake_pbx)] == ["13900000001", "13900000002"]
    assert [n["ctname"] for n in task_numbers(fake_pbx)] == ["zhang", "li"]
    starts = [r["query"] for r in fake_pbx.requests("gx") if r["query"].get("opt") == "BatchCallStart"]
    assert starts == [{"opt": "BatchCallStart", "json": "1"}]  # refused here: tried again next tick
    assert (await service.show("c1"))["numbers"]["imported"] == 2
    await service.tick()  # the cap is reached today
    assert len(task_numbers(fake_pbx)) == 2
    clock.now += 86400  # the next day
    await service.tick()
    assert [n["telnum"] for n in task_numbers(fake_pbx)][2:] == ["13900000003"]
    assert (await service.show("c1"))["numbers"]["imported"] == 3


async def test_outside_its_hours_the_task_stops_and_nothing_is_imported(
    store: CampaignStore, make: Make, fake_pbx: FakePBX, tmp_path: Path
) -> None:
    clock = Clock()
    service = make(clock)
    rules = CampaignRules(hours=("09:00-12:00",), weekdays=(1, 2, 3, 4, 5))
    await service.create(NewCampaign(name="c2", flow="survey", task_id=26, rules=rules), "n.csv", NUMBERS)
    await store.set_state("c2", "running", clock.now)
    await store.set_task_running("c2", True, clock.now)
    clock.now += 3 * 3600  # 13:00: outside the window
    await service.tick()
    assert task_numbers(fake_pbx, 26) == []
    assert (await store.campaign("c2")).task_running is False  # type: ignore[union-attr]
    stops = [r for r in fake_pbx.requests("gx") if r["query"].get("opt") == "BatchCallStop"]
    assert [r["query"]["json"] for r in stops] == ["26"]
    clock.now += 5 * 86400 - 3 * 3600  # Saturday 10:00: a day it does not call
    await service.tick()
    assert task_numbers(fake_pbx, 26) == []


async def test_an_unanswered_number_is_tried_again_then_fails(
    store: CampaignStore, make: Make, fake_pbx: FakePBX, tmp_path: Path
) -> None:
    clock = Clock(real=True)
    fake_pbx.http.post("/control/callees", json={t: {"answer": False} for t in ("13900000001",)})
    service = make(clock)
    rules = CampaignRules(hours=ALL_DAY, attempts=2, retry_after_minutes=30)
    await service.create(
        NewCampaign(name="c3", flow="survey", task_id=1, rules=rules), "n.csv", b"telnum\n13900000001\n"
    )
    await store.set_state("c3", "running", clock.now)
    await service.tick()  # imported; the fake rings it out (callstate 10)
    await wait_called(fake_pbx)
    await service.tick()
    (number,) = await store.numbers("c3")
    assert (number.state, number.attempts, number.cti_state) == ("waiting", 1, 10)
    assert number.next_at == clock.now + 30 * 60
    clock.now += 30 * 60
    await service.tick()  # imported again
    await wait_called(fake_pbx, count=2)
    await service.tick()
    (number,) = await store.numbers("c3")
    assert (number.state, number.attempts) == ("failed", 2)
    await service.stop("c3")


async def wait_called(fake: FakePBX, count: int = 1) -> None:
    """Until the fake has rung ``count`` imports out (its dialer runs on its own)."""
    for _ in range(200):
        numbers = task_numbers(fake)
        if sum(n["callstate"] != 4 for n in numbers) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(task_numbers(fake))


async def test_a_caller_who_asks_never_to_be_called_again_is_listed_and_blacklisted(
    store: CampaignStore, make: Make, fake_pbx: FakePBX, tmp_path: Path
) -> None:
    clock = Clock()
    service = make(clock, blacklist=True)
    await service.create(
        NewCampaign(name="c4", flow="survey", task_id=1, rules=CampaignRules(hours=ALL_DAY)), "n.csv", NUMBERS
    )
    call = CallState(call_id="x@1", telnum="13900000002", flow="survey", flow_version="v", campaign="c4")
    call.variables, call.intents = {"customer": {"name": "li"}}, ("affirm", "never")
    call.end("hung_up_by_bot", "goodbye")
    await service.call_ended(call)
    assert [row["telnum"] for row in await store.dnc()] == ["13900000002"]
    assert batch(fake_pbx)["blacklist"] == ["13900000002"]
    numbers = {n.telnum: n for n in await store.numbers("c4")}
    assert (numbers["13900000002"].state, numbers["13900000002"].outcome) == ("dnc", "hung_up_by_bot")
    # A new campaign with that number never calls it.
    await service.create(
        NewCampaign(name="c5", flow="survey", task_id=1, rules=CampaignRules(hours=ALL_DAY)), "n.csv", NUMBERS
    )
    assert (await service.show("c5"))["numbers"]["dnc"] == 1


async def test_a_collected_callback_time_schedules_the_number_again(
    store: CampaignStore, make: Make, fake_pbx: FakePBX, tmp_path: Path
) -> None:
    clock = Clock()
    service = make(clock)
    await service.create(
        NewCampaign(name="c6", flow="survey", task_id=1, rules=CampaignRules(hours=ALL_DAY)), "n.csv", NUMBERS
    )
    call = CallState(call_id="y@1", telnum="13900000001", flow="survey", flow_version="v", campaign="c6")
    call.variables = {
        "customer": {"name": "zhang"},
        "callback_date": dt.date(2026, 12, 8),
        "callback_time": dt.time(15, 0),
    }
    call.end("hung_up_by_bot", "callback_goodbye")
    call.grade = Grade("B", 50, "约定改时间回访")
    await service.call_ended(call)
    number = next(n for n in await store.numbers("c6") if n.telnum == "13900000001")
    assert number.state == "waiting"
    assert number.next_at == dt.datetime(2026, 12, 8, 15, 0, tzinfo=ZONE).timestamp()
    slots = {"callback_date": "2026-12-08", "callback_time": "15:00:00"}  # the file's data is no slot
    assert (number.grade, number.reason, number.slots) == ("B", "callback 2026-12-08 15:00", slots)
    csv_text = await service.results_csv("c6")
    assert csv_text.splitlines()[0] == (
        "telnum,name,state,attempts,outcome,grade,score,reason,call_id,cti_state,cti_state_text,"
        "slot.callback_date,slot.callback_time"
    )


async def test_one_scheduler_at_a_time(tmp_path: Path, redis_url: str) -> None:  # noqa: F811
    first, second = FileLock(tmp_path / "lock"), FileLock(tmp_path / "lock")
    async with first.held() as mine, second.held() as theirs:
        assert (mine, theirs) == (True, False)
    async with second.held() as now_mine:
        assert now_mine
    from redis.asyncio import Redis  # noqa: PLC0415

    client = Redis.from_url(redis_url)
    try:
        a, b = RedisLock(client, expiry_seconds=60), RedisLock(client, expiry_seconds=60)
        async with a.held() as mine, b.held() as theirs:
            assert (mine, theirs) == (True, False)
        async with b.held() as now_mine:
            assert now_mine
    finally:
        await client.aclose()


def test_calling_windows_are_checked() -> None:
    with pytest.raises(ValueError, match="not a calling window — write HH:MM-HH:MM"):
        CampaignRules(hours=("9-12",))
    with pytest.raises(ValueError, match="ends before it starts"):
        CampaignRules(hours=("12:00-09:00",))
    rules = CampaignRules(hours=("09:00-12:00", "13:30-20:00"), weekdays=(1, 2, 3, 4, 5))
    monday = dt.datetime(2026, 12, 7, tzinfo=ZONE)
    assert [
        rules.open_at(monday.replace(hour=h, minute=m)) for h, m in ((8, 59), (9, 0), (12, 0), (13, 30))
    ] == [
        False,
        True,
        False,
        True,
    ]
    assert not rules.open_at(monday.replace(hour=10) + dt.timedelta(days=5))


async def test_an_instance_that_did_not_import_a_number_still_knows_its_call(
    store: CampaignStore, make: Make, fake_pbx: FakePBX
) -> None:
    """The callback may reach an instance whose last refresh came before the import."""
    clock = Clock()
    importer, other = make(clock), make(clock)
    await other.refresh()
    await importer.create(
        NewCampaign(name="c7", flow="survey", task_id=1, rules=CampaignRules(hours=ALL_DAY)), "n.csv", NUMBERS
    )
    await other.refresh()  # the campaign exists, nothing is imported yet
    await store.set_state("c7", "running", clock.now)
    await importer.tick()
    await importer.stop("c7")  # the fake's robot would call them: keep it quiet
    await store.set_state("c7", "running", clock.now)
    placed = await other.placed_call("13900000002")
    assert placed is not None
    assert (placed.campaign, placed.flow, dict(placed.data)) == ("c7", "survey", {"name": "li"})
    assert await other.placed_call("13800000000") is None
