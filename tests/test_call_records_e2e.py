"""The CTI's call-record push (GX manual §31) between real processes on loopback:
``voicebot fake-pbx`` pushes records in the manual's format to ``voicebot serve``,
which answers as the manual says and shows them joined in ``/calls/<id>`` (issue 15)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakepbx import FakePBX
from tests.test_pbx_e2e import QUICK_SILENCES, TELNUM, Bot, bot_serving


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    workdir: Path = tmp_path_factory.mktemp("calllog-bot")
    with bot_serving(workdir, {"VOICEBOT_CTI_TOKEN": "cti-s3cret", **QUICK_SILENCES}) as running:
        yield running


def robot_call(bot: Bot, call_id: str) -> None:
    token = {"token": "cti-s3cret"}
    for txt in ("ready2speak", "hungup"):
        answer = bot.http.get("/cti/ai", params={"telnum": TELNUM, "txt": txt, "callid": call_id, **token})
        assert answer.status_code == 200, answer.text


def test_the_fakes_pushes_are_answered_as_the_manual_says_and_joined(bot: Bot, fake_pbx: FakePBX) -> None:
    url = f"{bot.base}/cti/calllog?token=cti-s3cret"
    robot_call(bot, "15155578339432391")
    now_ms = int(time.time() * 1000)
    robot_leg = {"callid": "15155578339432391", "business": "AI_ROBOT", "duration": 1, "hungupside": "callee"}
    agent_leg = {
        "caller": TELNUM,
        "callee": "8001",
        "calleeworknum": "A017",
        "business": "AI_ROBOT_TRANSFER_IN",
        "beginTime": now_ms,
        "pickupTime": now_ms + 4000,
        "duration": 95,
    }
    pushed = fake_pbx.push_call_records(url, records=[robot_leg, agent_leg], encoding="gbk")
    assert [(a["status"], a["answer"]) for a in pushed["attempts"]] == [(200, "200")]
    again = fake_pbx.push_call_records(
        url, body=json.dumps(pushed["pushed"], ensure_ascii=False)
    )  # the same records, pushed again
    assert again["saved"] is True

    records = bot.call("15155578339432391")["call_records"]
    assert [(r["id"], r["join"]) for r in records] == [
        (pushed["pushed"]["datas"][0]["id"], "callid"),
        (pushed["pushed"]["datas"][1]["id"], "number_and_time"),
    ]
    robot, agent = records
    assert (robot["talk_seconds"], robot["hungup_side"]) == (1, "callee")
    assert agent["agent"] == {"number": "8001", "worknum": "A017"}
    assert agent["talk_seconds"] == 95


def test_a_push_the_bot_cannot_read_is_answered_400_and_pushed_again(bot: Bot, fake_pbx: FakePBX) -> None:
    url = f"{bot.base}/cti/calllog?token=cti-s3cret"
    refused = fake_pbx.push_call_records(url, body='{"datas": "none"}', attempts=2, retry_ms=0)
    assert [(a["status"], a["answer"]) for a in refused["attempts"]] == [(400, "400"), (400, "400")]
    assert refused["saved"] is False
    without_token = fake_pbx.push_call_records(f"{bot.base}/cti/calllog", attempts=1)
    assert without_token["attempts"][0]["status"] == 403
