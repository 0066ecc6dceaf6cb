"""An outbound campaign end to end, with real processes: ``voicebot serve`` on a GX CTI
played by ``voicebot fake-pbx``, driven by ``voicebot campaign`` (issue 15's acceptance)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.fakepbx import FakePBX
from tests.test_pbx_e2e import Bot, bot_serving
from tests.test_serve import VOICEBOT, wait_for

NUMBERS = "telnum,name,amount\n13900000001,张三,120.5\n13900000002,李四,80\n13900000003,王五,0\n"
CALLEES = {
    "13900000001": {"lines": ["方便", "五分", "没有"]},
    "13900000002": {"lines": ["现在不方便", "明天", "下午三点", "可以"]},
    "13900000003": {"answer": False},
}


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, fake_pbx_process: FakePBX) -> Iterator[Bot]:
    settings = {
        "VOICEBOT_PBX": "gx",
        "VOICEBOT_GX_URL": fake_pbx_process.base,
        "VOICEBOT_CAMPAIGN_TICK_SECONDS": "0.3",
        "VOICEBOT_RETRY_WINDOW_MS": "0",
    }
    with bot_serving(tmp_path_factory.mktemp("campaign-bot"), settings) as bot:
        yield bot


def campaign(bot: Bot, *args: str) -> str:
    """``voicebot campaign …`` against the running bot; its output."""
    env = {**os.environ, "VOICEBOT_ADMIN_TOKEN": ADMIN_TOKEN}
    done = subprocess.run(
        [VOICEBOT, "campaign", *args, "--url", bot.base],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def results(bot: Bot, name: str) -> dict[str, dict[str, Any]]:
    rows = csv.DictReader(io.StringIO(campaign(bot, "results", name)))
    return {row["telnum"]: row for row in rows}


def test_a_campaign_greets_each_person_by_name_and_keeps_their_results(
    bot: Bot, fake_pbx_process: FakePBX, tmp_path: Path
) -> None:
    fake = fake_pbx_process
    fake.reset()
    fake.http.post("/control/robot", json={"url": f"{bot.base}/cti/ai"}).raise_for_status()
    fake.http.post("/control/callees", json=CALLEES).raise_for_status()
    numbers = tmp_path / "numbers.csv"
    numbers.write_text(NUMBERS, encoding="utf-8")
    campaign(bot, "create", "survey-e2e", str(numbers), "--flow", "survey", "--task", "1")
    args = ("--hours", "00:00-24:00", "--attempts", "1")
    campaign(bot, "create", "survey-e2e-open", str(numbers), "--flow", "survey", "--task", "1", *args)
    campaign(bot, "start", "survey-e2e-open")

    def settled() -> dict[str, dict[str, Any]] | None:
        found = results(bot, "survey-e2e-open")
        done = all(row["state"] != "imported" and row["attempts"] != "0" for row in found.values())
        return found if done else None

    rows = wait_for(settled, 90)
    assert isinstance(rows, dict), results(bot, "survey-e2e-open")
    (imported,) = [r for r in fake.requests("gx") if r["path"] == "/bridge/batchcallimport"]
    assert imported["json"]["runtaskid"] == 1
    assert [(t["telnum"], t["ctname"]) for t in imported["json"]["telnums"]] == [
        ("13900000001", "张三"),
        ("13900000002", "李四"),
        ("13900000003", "王五"),
    ]

    rated, busy, silent = rows["13900000001"], rows["13900000002"], rows["13900000003"]
    assert (rated["state"], rated["grade"], rated["slot.rating"]) == ("done", "A", "5")
    assert (busy["state"], busy["grade"]) == ("waiting", "B")  # called back at the time the callee gave
    assert busy["reason"].startswith("callback ")
    assert busy["reason"].endswith("15:00")
    assert (silent["state"], silent["cti_state"], silent["cti_state_text"]) == ("failed", "10", "振铃超时")
    assert (rated["name"], rated["amount"]) == ("张三", "120.5")

    for telnum, name in (("13900000001", "张三"), ("13900000002", "李四")):
        call = bot.call(rows[telnum]["call_id"])
        assert (call["campaign"], call["direction"]) == ("survey-e2e-open", "outbound")
        assert call["turns"][0]["reply"].startswith(f"{name}您好，这里是医保服务中心")
        assert call["variables"]["customer"]["name"] == name
    robot = [r["query"] for r in fake.requests("robot") if r["query"]["telnum"] == "13900000001"]
    assert [q["txt"] for q in robot] == ["ready2speak", "方便", "五分", "没有", "hungup"]

    listed = campaign(bot, "list")
    assert "survey-e2e-open: running" in listed or "survey-e2e-open: finished" in listed
    assert "survey-e2e: stopped" in listed
