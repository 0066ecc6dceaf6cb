"""``/cti/calllog``: the CTI's call-record push (GX manual §31) as the manual gives it,
answered "200" or "400", stored once, and joined to robot calls in ``/calls/<id>``."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from prometheus_client import REGISTRY
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.pbx.log import LogPBX
from bot.text.segmenter import Segmenter
from bot.tools.fakepbx_calllog import MANUAL_RECORD
from tests.conftest import CTI, FLOWS_DIR

TELNUM = "13800138000"
# GX manual §31.3, field for field (its numbers and ids as printed): the fake's own copy.


def record(**fields: Any) -> dict[str, Any]:
    return {**copy.deepcopy(MANUAL_RECORD), **fields}


def body(*records: dict[str, Any], client_ip: str = "192.168.3.86") -> bytes:
    return json.dumps({"client_ip": client_ip, "datas": list(records)}, ensure_ascii=False).encode()


async def push(client: QuartClient, data: bytes, query: str = "") -> tuple[int, str]:
    response = await client.post(
        f"/cti/calllog{query}", data=data, headers={"Content-Type": "application/json;charset=UTF-8"}
    )
    return response.status_code, await response.get_data(as_text=True)


async def joined(client: QuartClient, call_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/calls/{quote(call_id, safe='')}")
    assert response.status_code == 200, await response.get_data(as_text=True)
    records: list[dict[str, Any]] = (await response.get_json())["call_records"]
    return records


async def robot_call(cti: CTI, call_id: str, telnum: str = TELNUM) -> None:
    await cti.say(call_id, "ready2speak", telnum=telnum)
    await cti.say(call_id, "hungup", telnum=telnum)


def now_ms() -> int:
    return int(time.time() * 1000)


# --- the answers ---


async def test_the_manuals_push_is_answered_200_and_joins_its_call_by_callid(
    client: QuartClient, cti: CTI
) -> None:
    call_id = MANUAL_RECORD["callid"]
    await robot_call(cti, call_id)
    pushed = record(callid=call_id.replace("@", "%40"), business="AI_ROBOT", hungupside="caller", duration=42)
    assert await push(client, body(pushed)) == (200, "200")
    (found,) = await joined(client, call_id)
    assert found["join"] == "callid"
    assert found["callid"] == call_id  # URL-decoded, as §30's example prints it
    assert (found["business"], found["state"], found["talk_seconds"], found["hungup_side"]) == (
        "AI_ROBOT",
        "STATE_RECEIVED",
        42,
        "caller",
    )
    assert found["begin_at"] == "2023-08-03T10:48:01.306Z"
    assert found["pickup_at"] == "2023-08-03T10:48:01.308Z"
    assert found["agent"] is None
    assert found["record"]["accessnum"] == "1000"  # every field kept
    assert set(found["record"]) == set(MANUAL_RECORD)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"not json", "not JSON"),
        (b"[]", "a list"),
        (b'{"client_ip": "1.2.3.4"}', "no datas"),
        (b'{"datas": {"id": 1}}', "datas not a list"),
        (b"\xff\xfe\xfd", "neither UTF-8 nor GBK"),
        (b"{" * 100_000, "nested too deep"),
        (b'{"datas": [3]}', "a record that is not an object"),
        (body({"caller": TELNUM}), "neither id nor callid"),
        (body(record(beginTime="yesterday")), "a time that is not a number"),
        (body(record(duration=-1)), "a negative duration"),
        (body(record(beginTime=10**20)), "a time past any date"),
        (body(record(nested=json.loads("[" * 20 + "]" * 20))), "nested too deep in a record"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
async def test_what_is_not_the_manuals_format_is_answered_400(
    client: QuartClient, data: bytes, why: str
) -> None:
    assert await push(client, data) == (400, "400"), why


async def test_the_good_records_of_a_push_with_a_bad_one_are_stored_and_it_is_pushed_again(
    client: QuartClient, cti: CTI
) -> None:
    await robot_call(cti, "good-1")
    bad = {"caller": TELNUM, "duration": 3}
    assert await push(client, body(record(id=1, callid="good-1"), bad)) == (400, "400")
    assert [r["id"] for r in await joined(client, "good-1")] == [1]
    assert await push(client, body(record(id=1, callid="good-1"))) == (200, "200")
    assert [r["id"] for r in await joined(client, "good-1")] == [1]


async def test_a_gbk_push_is_read(client: QuartClient, cti: CTI) -> None:
    await robot_call(cti, "gbk-1")
    data = json.dumps(
        {"datas": [record(callid="gbk-1", cname="张三", record="客户要求回电")]}, ensure_ascii=False
    )
    assert await push(client, data.encode("gbk")) == (200, "200")
    (found,) = await joined(client, "gbk-1")
    assert (found["record"]["cname"], found["record"]["record"]) == ("张三", "客户要求回电")


async def test_a_record_pushed_again_is_stored_once_its_newest_copy_kept(
    client: QuartClient, cti: CTI
) -> None:
    await robot_call(cti, "again-1")
    assert await push(client, body(record(callid="again-1", state="STATE_RECEIVING"))) == (200, "200")
    assert await push(client, body(record(callid="again-1", state="STATE_RECEIVED", duration=30))) == (
        200,
        "200",
    )
    (found,) = await joined(client, "again-1")
    assert (found["state"], found["talk_seconds"]) == ("STATE_RECEIVED", 30)


async def test_a_record_without_an_id_is_kept_by_its_callid(client: QuartClient, cti: CTI) -> None:
    await robot_call(cti, "noid-1")
    for _ in range(2):
        assert await push(client, body(record(id="", callid="noid-1"))) == (200, "200")
    assert len(await joined(client, "noid-1")) == 1


async def test_two_ctis_records_with_the_same_id_are_both_kept(client: QuartClient, cti: CTI) -> None:
    await robot_call(cti, "two-ctis")
    assert await push(client, body(record(callid="two-ctis"), client_ip="10.0.0.1")) == (200, "200")
    assert await push(client, body(record(callid="two-ctis"), client_ip="10.0.0.2")) == (200, "200")
    assert len(await joined(client, "two-ctis")) == 2


async def test_the_cti_token_guards_the_push(tmp_path: Path, segmenter: Segmenter) -> None:
    settings = Settings(data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, cti_token="s3cret")
    app = create_app(settings, pbx=LogPBX(), segmenter=segmenter)
    async with app.test_app() as started:
        client = started.test_client()
        assert (await push(client, body(record())))[0] == 403
        assert await push(client, body(record()), "?token=s3cret") == (200, "200")


# --- the join ---


async def test_a_record_of_the_callers_number_at_the_calls_time_joins_it(
    client: QuartClient, cti: CTI
) -> None:
    await robot_call(cti, "15155578339432391")  # §52's ids do not look like §31's
    begin = now_ms() - 2000
    robot_leg = record(
        id=10, callid="4393103356953-201172261125466@192.168.0.9", caller="1000", callee=TELNUM,
        beginTime=begin, pickupTime=begin + 500, duration=2, business="AI_ROBOT", hungupside="callee",
        robotrecord="/opt/data/records/robot-10.wav",
    )  # fmt: skip
    agent_leg = record(
        id=11, callid="5393103356953-201172261125466@192.168.0.9", caller=TELNUM, callee="8001",
        beginTime=now_ms(), pickupTime=now_ms() + 3000, duration=95, business="AI_ROBOT_TRANSFER_IN",
        calleeworknum="A017", recordVoice="/opt/data/records/agent-11.wav",
    )  # fmt: skip
    another_number = record(id=12, callid="x-12", caller="1000", callee="13900139000", beginTime=begin)
    long_before = record(id=13, callid="x-13", caller="1000", callee=TELNUM, beginTime=begin - 3_600_000)
    assert await push(client, body(robot_leg, agent_leg, another_number, long_before)) == (200, "200")
    found = await joined(client, "15155578339432391")
    assert [(r["id"], r["join"]) for r in found] == [(10, "number_and_time"), (11, "number_and_time")]
    robot, agent = found
    assert (robot["hungup_side"], robot["recordings"]) == (
        "callee",
        {"robotrecord": "/opt/data/records/robot-10.wav"},
    )
    assert agent["agent"] == {"number": "8001", "worknum": "A017"}
    assert agent["talk_seconds"] == 95
    assert agent["recordings"] == {"recordVoice": "/opt/data/records/agent-11.wav"}
    assert robot["callee"] == "138****8000"  # masked, as every number the API shows


async def test_a_record_that_came_before_the_calls_transcript_joins_it(client: QuartClient, cti: CTI) -> None:
    assert await push(client, body(record(id=20, callid="early-1", caller="1000", callee=TELNUM))) == (
        200,
        "200",
    )
    pushed_by_number = record(id=21, callid="other-id", caller="1000", callee=TELNUM, beginTime=now_ms())
    assert await push(client, body(pushed_by_number)) == (200, "200")
    await robot_call(cti, "early-1")
    assert [(r["id"], r["join"]) for r in await joined(client, "early-1")] == [
        (20, "callid"),
        (21, "number_and_time"),
    ]


async def test_a_record_of_another_robot_call_is_not_joined_by_number(client: QuartClient, cti: CTI) -> None:
    await robot_call(cti, "first-call")
    await robot_call(cti, "second-call")
    mine = record(id=30, callid="second-call", caller="1000", callee=TELNUM, beginTime=now_ms())
    assert await push(client, body(mine)) == (200, "200")
    assert [r["join"] for r in await joined(client, "second-call")] == ["callid"]
    assert await joined(client, "first-call") == []


async def test_the_peer_call_id_joins_by_id(client: QuartClient, cti: CTI) -> None:
    await robot_call(cti, "peer-1", telnum="13700137000")
    agent_leg = record(id=40, callid="agent-leg", peercallid="peer-1", business="AI_ROBOT_TRANSFER_IN")
    assert await push(client, body(agent_leg)) == (200, "200")
    assert [r["join"] for r in await joined(client, "peer-1")] == ["peercallid"]


async def test_records_alone_make_a_call_found(client: QuartClient) -> None:
    assert await push(client, body(record(callid="cti-only"))) == (200, "200")
    assert [r["join"] for r in await joined(client, "cti-only")] == ["callid"]
    assert (await client.get("/calls/nobody")).status_code == 404


async def test_masked_transcripts_keep_records_masked_and_still_join_by_number(
    tmp_path: Path, segmenter: Segmenter
) -> None:
    settings = Settings(data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, transcript_mask=True)
    app: Quart = create_app(settings, pbx=LogPBX(), segmenter=segmenter)
    async with app.test_app() as started:
        client = started.test_client()
        await robot_call(CTI(client), "masked-1")
        pushed = record(id=50, callid="cti-50", caller="1000", callee=f"0{TELNUM}", beginTime=now_ms())
        assert await push(client, body(pushed)) == (200, "200")
        response = await client.get("/calls/masked-1?reveal=1")
        (found,) = (await response.get_json())["call_records"]
        assert found["join"] == "number_and_time"
        assert found["callee"] == found["record"]["callee"] == "0138****8000"  # not even a reveal shows it


async def test_a_push_is_refused_without_a_500_before_start(tmp_path: Path, segmenter: Segmenter) -> None:
    settings = Settings(data_dir=tmp_path / "var", flows_dir=FLOWS_DIR)
    app = create_app(settings, pbx=LogPBX(), segmenter=segmenter)
    assert await push(app.test_client(), body(record())) == (400, "400")  # no start-up run


async def test_the_records_are_counted_by_result(client: QuartClient) -> None:
    def count(result: str) -> float:
        return REGISTRY.get_sample_value("voicebot_call_records_total", {"result": result}) or 0.0

    before = {result: count(result) for result in ("stored", "repeated", "refused")}
    await push(client, body(record(id=60, callid="m-60"), record(id=61, callid="m-61"), {"caller": "1"}))
    await push(client, body(record(id=60, callid="m-60")))
    await push(client, b"not json")
    assert {result: count(result) - before[result] for result in before} == {
        "stored": 2,
        "repeated": 1,
        "refused": 2,
    }
