"""Issue 15's acceptance for the agents' availability, with real processes: ``voicebot
serve`` against ``voicebot fake-pbx`` (GX, then HWD). With the fake's agents all busy,
"我要转人工" takes the yibao flow's ``busy:`` branch; with one free, it transfers; a
status query slower than its budget does not hold the answer back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakepbx import FakePBX
from tests.test_pbx_e2e import QUICK_SILENCES, Bot, bot_serving, hwd_settings, requests_for, wait_requests

STATUS = {
    "VOICEBOT_AGENT_STATUS_CACHE_MS": "0",  # each call sees the agents as the test just set them
    "VOICEBOT_AGENT_STATUS_TIMEOUT_MS": "1500",  # generous on a loaded machine; one test shortens it
    "VOICEBOT_KB_FILLER_MS": "8000",  # the callback itself carries the answer
    **QUICK_SILENCES,
}


@pytest.fixture(scope="module")
def fake(fake_pbx_process: FakePBX) -> FakePBX:
    return fake_pbx_process


@pytest.fixture(scope="module", params=["gx", "hwd"])
def bot(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fake: FakePBX
) -> Iterator[Bot]:
    vendor = request.param
    settings = {"VOICEBOT_PBX": vendor, **STATUS}
    settings |= {"VOICEBOT_GX_URL": fake.base} if vendor == "gx" else hwd_settings(fake)
    with bot_serving(tmp_path_factory.mktemp(f"{vendor}-agents-bot"), settings) as bot:
        bot.vendor = vendor  # type: ignore[attr-defined]
        yield bot


def set_agents(fake: FakePBX, body: dict[str, Any]) -> None:
    fake.http.post("/control/agents", json=body).raise_for_status()


def status_queries(fake: FakePBX, vendor: str) -> list[dict[str, Any]]:
    ending = "EXTNUM_MONITOR" if vendor == "gx" else "/getAgentStatus"
    return requests_for(fake, vendor, ending)


def transfers(fake: FakePBX, vendor: str) -> list[dict[str, Any]]:
    return requests_for(fake, vendor, "CLICK_TO_TRANSFER" if vendor == "gx" else "/call/transfer")


def test_all_agents_busy_takes_the_busy_branch(bot: Bot, fake: FakePBX) -> None:
    vendor, call_id = bot.vendor, f"{bot.vendor}-busy"  # type: ignore[attr-defined]
    fake.reset()
    set_agents(fake, {"all": "busy"})
    bot.say(call_id, "ready2speak")
    answer, _ = bot.say(call_id, "我要转人工")
    assert answer.endswith("canbeinterrupted=true")  # the offer of a call back, not the notice
    call = bot.call(call_id)
    asked = call["turns"][-1]
    assert (asked["step"], call["outcome"]) == ("agents_busy", "in_progress")
    assert [e["action"] for e in asked["pbx"]][-1] == "agents"  # HWD signs in first: "token"
    (query,) = status_queries(fake, vendor)
    if vendor == "gx":
        assert query["decoded"]["extnums"] == ["8001"]
    else:
        assert query["query"] == {"extension": "8001"}
    time.sleep(1)  # a transfer would come after the notice: none comes
    assert transfers(fake, vendor) == []
    bot.say(call_id, "好的")
    assert bot.ended(call_id, "hung_up_by_bot")["grade_reason"] == "坐席全忙，客户要求回电"


def test_one_agent_free_transfers(bot: Bot, fake: FakePBX) -> None:
    vendor, call_id = bot.vendor, f"{bot.vendor}-free"  # type: ignore[attr-defined]
    fake.reset()
    set_agents(fake, {"all": "busy", "agents": {"8001": "free"}})
    bot.say(call_id, "ready2speak")
    notice, _ = bot.say(call_id, "我要转人工")
    assert notice.endswith("canbeinterrupted=false")
    (transfer,) = wait_requests(fake, vendor, "CLICK_TO_TRANSFER" if vendor == "gx" else "/call/transfer")
    assert transfer["status"] == 200
    assert len(status_queries(fake, vendor)) == 1
    assert bot.call(call_id)["outcome"] == "transferred"


def test_a_hanging_status_query_neither_delays_nor_stops_the_transfer(bot: Bot, fake: FakePBX) -> None:
    vendor, call_id = bot.vendor, f"{bot.vendor}-slow"  # type: ignore[attr-defined]
    fake.reset()
    set_agents(fake, {"all": "busy"})
    fake.fail(action="extnum_monitor" if vendor == "gx" else "agent_status", hang=10)
    bot.say(call_id, "ready2speak")
    started = time.monotonic()
    notice, _ = bot.say(call_id, "我要转人工")
    assert time.monotonic() - started < 5  # the 1.5 s budget, not the 10 s hang
    assert notice.endswith("canbeinterrupted=false")  # counted as free: the transfer notice
    wait_requests(fake, vendor, "CLICK_TO_TRANSFER" if vendor == "gx" else "/call/transfer")
    asked = next(t for t in bot.call(call_id)["turns"] if t.get("pbx"))
    assert "no answer within 1500 ms" in asked["pbx"][-1]["error"]
