"""Whether anyone can answer a transfer target: the GX (§23, §40) and HWD (§2.2.3,
§2.3.2) queries on the manuals' own example answers, against ``voicebot fake-pbx``, and
the cache and time budget they share (bot.pbx.agents)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
import pytest

from bot.errors import PBXError, PBXUnavailableError
from bot.pbx.agents import CachedAgentStatus, journal_into
from bot.pbx.base import Exchange, TransferTarget
from bot.pbx.gx_status import GXAgentStatus, waiting_callers
from bot.pbx.http import PBXHttp
from bot.pbx.hwd_api import Credentials, HWDApi
from bot.pbx.hwd_status import HWDAgentStatus
from tests.fakepbx import FakePBX

# GX manual §23's 查询返回实例, verbatim (one agent on a call).
GX_MONITOR_EXAMPLE = (
    '[{"assisname":"小张","extnumname":"分机6","worknum":"013","extnum":"806","department":"分机6",'
    '"telRegState":1,"phoneType":"NewRock_NRP1000_2.3.1654.528","remoteNum":"15875566080",'
    '"pickupTime":"17:49:00","pickupDuration":"8","state":"BUSY_INCOMING","presence":"online",'
    '"presencereason":"","missingCallCount":0,"outgoingCallCount":0,"incomingCallCount":0,'
    '"incomingMissedCount":0,"complaintCount":0,"total":0}]'
)
# GX manual §40's 有排队信息返回.
GX_QUEUE_EXAMPLE = (
    '[{"group":"3003","count":2,"queue":[{"caller":"15875566080","viplevel":0,"waitingtime":41,"target":"3003"},'
    '{"caller":"15919823608","viplevel":0,"waitingtime":1,"target":"3003"}]},{"group":"3005","count":1,'
    '"queue":[{"caller":"15875566081","viplevel":0,"waitingtime":41,"target":"3005"}]}]'
)
# HWD manual §2.2.3's 响应示例 data, and §2.3.2's.
HWD_AGENT_EXAMPLE = {
    "200": {
        "8001": {
            "agentid": "1011",
            "interfaceType": "PJSIP",
            "extension": "8001",
            "queue": "200",
            "penalty": "1",
            "current": "",
            "linkedid": "",
            "dsStatus": "5",
            "dsStatusDuration": "00:04:34",
            "direction": "0",
            "status": "0",
            "statusDesc": "Ready",
            "statusDuration": "00:04:34",
            "callsCurrent": "0",
            "callsTotal": "274",
            "login": "274",
        }
    }
}
HWD_QUEUE_EXAMPLE = [
    {
        "agentid": "1011",
        "interfaceType": "PJSIP",
        "extension": "8001",
        "queue": "200",
        "penalty": "0",
        "current": "",
        "linkedid": "",
        "dsStatus": "空闲",
        "dsStatusDuration": "00:10:36",
        "direction": "0",
        "status": "就绪",
        "statusDesc": "就绪(00:10:36)",
        "statusDuration": "00:10:36",
        "callsCurrent": "0",
        "callsTotal": "636",
        "login": "636",
        "dsStatusDesc": "空闲(00:10:36)",
        "sampleTime": None,
    }
]


def gx_answering(
    monitor: str, queue: str = "[]", status: int = 200
) -> tuple[GXAgentStatus, list[httpx.Request]]:
    """A GX status query whose CTI answers ``monitor`` to §23 and ``queue`` to §40."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = monitor if request.url.params["opt"] == "EXTNUM_MONITOR" else queue
        return httpx.Response(status, text=body)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    http = PBXHttp("http://cti:12121", vendor="gx", timeout_seconds=1, retries=0, client=client)
    return GXAgentStatus(http, today=lambda: dt.date(2008, 6, 2)), seen


def edited(example: str, **fields: Any) -> str:
    (entry,) = json.loads(example)
    return json.dumps([{**entry, **fields}], ensure_ascii=False)


@pytest.mark.parametrize(
    ("fields", "free"),
    [
        ({}, False),  # the manual's own example: BUSY_INCOMING
        ({"state": "IDEL"}, True),
        ({"state": "IDEL", "presence": "reducing"}, True),
        ({"state": "IDEL", "presence": "busy"}, False),
        ({"state": "IDEL", "presence": "offline"}, False),
        ({"state": "IDEL", "telRegState": 0}, False),
        ({"state": "OFFLINE", "telRegState": 0, "presence": "offline"}, False),
    ],
    ids=[
        "example-busy-incoming",
        "idel-online",
        "reducing",
        "presence-busy",
        "presence-offline",
        "unregistered",
        "offline",
    ],
)
async def test_gx_reads_the_extension_monitor(fields: dict[str, Any], free: bool) -> None:
    query, seen = gx_answering(edited(GX_MONITOR_EXAMPLE, **fields))
    journal: list[Exchange] = []
    assert await query.free(TransferTarget.parse("806"), journal) is free
    (request,) = seen
    assert request.url.path == "/bridge/jsoncfg"
    assert request.url.params["opt"] == "EXTNUM_MONITOR"
    sent = json.loads(request.url.params["json"])
    assert sent["extnums"] == ["806"]
    assert (sent["starttime"], sent["avoidCallPerform"]) == ("2008-06-02 00:00:00", 1)
    assert sent["assisLogId"].startswith("voicebot-")
    assert [(e.action, e.status) for e in journal] == [("agents", 200)]
    await query.aclose()


async def test_gx_one_idle_extension_of_a_group_is_enough() -> None:
    busy = json.loads(GX_MONITOR_EXAMPLE)[0]
    group = json.dumps([busy, {**busy, "extnum": "807", "state": "IDEL"}], ensure_ascii=False)
    query, _ = gx_answering(group)
    assert await query.free(TransferTarget.parse("queue:3003"), []) is True
    empty, _ = gx_answering("[]")
    assert await empty.free(TransferTarget.parse("9999"), []) is None  # unknown: nothing to go by


async def test_gx_queue_length_makes_a_target_busy() -> None:
    assert waiting_callers(json.loads(GX_QUEUE_EXAMPLE), "3003") == 2
    assert waiting_callers(json.loads(GX_QUEUE_EXAMPLE), "3005") == 1
    assert waiting_callers([], "3003") == 0
    idle = edited(GX_MONITOR_EXAMPLE, state="IDEL", extnum="3003")
    for max_queued, free in ((2, False), (3, True)):
        query, seen = gx_answering(idle, GX_QUEUE_EXAMPLE)
        query._max_queued = max_queued
        assert await query.free(TransferTarget.parse("3003"), []) is free
        assert sorted(r.url.params["opt"] for r in seen) == ["EXTNUM_MONITOR", "QUEUE_INFO"]
        assert next(r for r in seen if r.url.params["opt"] == "QUEUE_INFO").url.path == "/bridge/callctrl"


async def test_gx_errors_and_other_formats_are_errors() -> None:
    for query, _ in (gx_answering("[]", status=503), gx_answering("<html>"), gx_answering('{"a": 1}')):
        with pytest.raises(PBXError, match="GX CTI EXTNUM_MONITOR"):
            await query.free(TransferTarget.parse("8001"), [])


class StubApi:
    """An ``HWDApi`` whose ``get`` answers ``data``."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.asked: list[tuple[str, dict[str, str]]] = []

    async def get(self, action: str, path: str, params: dict[str, str], *, journal: Any) -> Any:
        self.asked.append((path, params))
        return self.data


def with_status(status: str) -> dict[str, Any]:
    agent = HWD_AGENT_EXAMPLE["200"]["8001"]
    return {"200": {"8001": {**agent, "status": status}}, "300": {"8001": {**agent, "status": "10"}}}


@pytest.mark.parametrize(
    ("data", "free"),
    [
        (HWD_AGENT_EXAMPLE, True),
        (with_status("1"), False),
        (with_status("-1"), False),
        (with_status("0"), True),
        ([], None),
    ],
    ids=["example-ready", "on-a-call", "logged-out", "ready-in-one-queue", "no-agent"],
)
async def test_hwd_reads_the_agent_status(data: Any, free: bool | None) -> None:
    api = StubApi(data)
    assert await HWDAgentStatus(api).free(TransferTarget.parse("8001"), []) is free  # type: ignore[arg-type]
    assert api.asked == [("/api/v1/agent/getAgentStatus", {"extension": "8001"})]


@pytest.mark.parametrize(
    ("status", "free"), [("就绪", True), ("0", True), ("通话中", False), ("1", False)], ids=str
)
async def test_hwd_reads_the_queue_status(status: str, free: bool) -> None:
    api = StubApi([{**HWD_QUEUE_EXAMPLE[0], "status": status}])
    assert await HWDAgentStatus(api).free(TransferTarget.parse("queue:200"), []) is free  # type: ignore[arg-type]
    assert api.asked == [("/api/v1/status/queue", {"queue_num": "200"})]
    example = HWDAgentStatus(StubApi(HWD_QUEUE_EXAMPLE))  # type: ignore[arg-type]
    assert await example.free(TransferTarget.parse("queue:200"), []) is True


class Query:
    """A vendor query answering ``answers`` in turn, after ``delay_seconds``."""

    vendor = "test"

    def __init__(self, *answers: bool | Exception | None, delay_seconds: float = 0) -> None:
        self.answers = list(answers)
        self.delay_seconds = delay_seconds
        self.asked = 0
        self.closed = False

    async def free(self, target: TransferTarget, journal: list[Exchange]) -> bool | None:
        self.asked += 1
        await asyncio.sleep(self.delay_seconds)
        journal.append(Exchange("agents", "GET", f"test:{target}", None, 200, "[]", 1.0))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def aclose(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_an_answer_is_cached_briefly() -> None:
    query, clock = Query(False, True), Clock()
    status = CachedAgentStatus(query, cache_seconds=2, timeout_seconds=1, clock=clock)
    assert await status.can_answer("8001", call_id="a") is False
    clock.now += 1.9
    journal: list[Exchange] = []
    with journal_into(journal):
        assert await status.can_answer("8001", call_id="b") is False
    assert query.asked == 1
    assert [(e.method, e.answer) for e in journal] == [
        ("CACHE", "busy (the answer of 1900 ms ago, VOICEBOT_AGENT_STATUS_CACHE_MS)")
    ]
    clock.now += 0.2
    assert await status.can_answer("8001", call_id="c") is True
    assert query.asked == 2
    await status.aclose()
    assert query.closed


async def test_calls_asking_together_share_one_query() -> None:
    query = Query(False, delay_seconds=0.05)
    status = CachedAgentStatus(query, cache_seconds=2, timeout_seconds=1)
    answers = await asyncio.gather(*(status.can_answer("queue:200", call_id=str(i)) for i in range(5)))
    assert answers == [False] * 5
    assert query.asked == 1


async def test_a_slow_query_counts_as_free_within_the_budget_and_fills_the_cache() -> None:
    query = Query(False, delay_seconds=0.3)
    status = CachedAgentStatus(query, cache_seconds=10, timeout_seconds=0.05)
    journal: list[Exchange] = []
    started = asyncio.get_running_loop().time()
    with journal_into(journal):
        assert await status.can_answer("8001", call_id="a") is True
    assert asyncio.get_running_loop().time() - started < 0.25
    assert "no answer within 50 ms" in str(journal[-1].error)
    await asyncio.sleep(0.35)  # the query went on
    assert await status.can_answer("8001", call_id="b") is False
    assert query.asked == 1


async def test_a_failing_or_unknown_query_counts_as_free() -> None:
    status = CachedAgentStatus(Query(PBXUnavailableError("down"), None), cache_seconds=0, timeout_seconds=1)
    journal: list[Exchange] = []
    with journal_into(journal):
        assert await status.can_answer("8001", call_id="a") is True
    assert [e.url for e in journal] == ["test:8001"]  # the failed query's exchange is in the transcript
    assert await status.can_answer("8001", call_id="b") is True


async def test_an_ivr_target_is_never_asked() -> None:
    query = Query()
    status = CachedAgentStatus(query, cache_seconds=0, timeout_seconds=1)
    assert await status.can_answer("ivr:3", call_id="a") is True
    assert query.asked == 0


async def test_the_clients_against_the_fake(fake_pbx: FakePBX) -> None:
    """Both vendors' queries against ``voicebot fake-pbx``, all busy and then one free."""
    gx_http = PBXHttp(fake_pbx.base, vendor="gx", timeout_seconds=2, retries=0)
    hwd = HWDApi(
        PBXHttp(fake_pbx.hwd_url, vendor="hwd", timeout_seconds=2, retries=0),
        Credentials("voicebot", "secret", "api", "api"),
    )
    queries: list[GXAgentStatus | HWDAgentStatus] = [
        GXAgentStatus(gx_http, max_queued=3),
        HWDAgentStatus(hwd),
    ]
    targets = [TransferTarget.parse(t) for t in ("8001", "queue:200")]
    try:
        fake_pbx.http.post("/control/agents", json={"all": "busy"}).raise_for_status()
        assert [await q.free(t, []) for q in queries for t in targets] == [False] * 4
        fake_pbx.http.post("/control/agents", json={"agents": {"8002": "free"}}).raise_for_status()
        assert [await q.free(t, []) for q in queries for t in targets] == [False, True, False, True]
        fake_pbx.http.post("/control/agents", json={"queued": {"200": 3}}).raise_for_status()
        assert await queries[0].free(targets[1], []) is False  # three wait: busy, 8002 idle or not
        assert await queries[0].free(TransferTarget.parse("9999"), []) is None
    finally:
        await gx_http.aclose()
        await hwd.aclose()
    opts = [r["query"].get("opt") for r in fake_pbx.requests("gx")]
    assert {"EXTNUM_MONITOR", "QUEUE_INFO"} <= set(opts)
    paths = {r["path"] for r in fake_pbx.requests("hwd")}
    assert {"/dscom-api/public/api/v1/agent/getAgentStatus", "/dscom-api/public/api/v1/status/queue"} <= paths
