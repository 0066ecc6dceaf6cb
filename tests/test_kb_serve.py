"""`voicebot kb serve` and `voicebot kb query` as real processes; the bot asks the
standalone knowledge service over HTTP, and copes when it is stopped."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import create_app
from bot.config import Settings
from bot.pbx.log import LogPBX
from bot.text.segmenter import Segmenter
from tests.conftest import CTI, FLOWS_DIR
from tests.loopback import unused_port
from tests.test_serve import VOICEBOT, stop, wait_healthy

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "data"


def start_kb(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VOICEBOT_DATA_DIR": str(workdir / "var"), "VOICEBOT_KB_DIR": str(SAMPLE_DIR)}
    with (workdir / "kb.log").open("wb") as log:
        return subprocess.Popen(
            [VOICEBOT, "kb", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def kb_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = unused_port()
    process = start_kb(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, tmp_path, path="/", log="kb.log")
        yield base, process
    finally:
        stop(process)


def ask(base: str, sender: str, message: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=5
    )
    assert response.status_code == 200
    [reply] = response.json()
    return json.loads(reply["text"])  # type: ignore[no-any-return]


async def test_the_bot_asks_a_standalone_knowledge_service_and_survives_its_stop(
    kb_server: tuple[str, subprocess.Popen[bytes]], tmp_path: Path, segmenter: Segmenter
) -> None:
    base, process = kb_server
    assert ask(base, "s1userId1", "请问异地就医如何备案")["type"] == 1
    assert ask(base, "s1userId1", "异地安置")["title"] == "异地安置"

    settings = Settings(
        data_dir=tmp_path / "bot",
        flows_dir=FLOWS_DIR,
        kb_dir=tmp_path / "no-local-kb",  # nothing in this process: every answer comes over HTTP
        kb_url=f"{base}/webhooks/rest/webhook",
    )
    pbx = LogPBX()
    app = create_app(settings, pbx=pbx, segmenter=segmenter)
    async with app.test_app() as started:
        cti = CTI(started.test_client())
        await cti.say("remote-1", "ready2speak")
        answered = await cti.say("remote-1", "门诊慢特病怎么申请")
        stop(process)  # the knowledge service goes away mid-call
        apology = await cti.say("remote-1", "异地就医怎么备案")
        await cti.say("remote-1", "需要")
        turns = (await (await cti.client.get("/calls/remote-1")).get_json())["turns"]
    assert answered != apology
    assert turns[1]["step"] == "menu"
    assert turns[1]["reply"].startswith("门诊慢特病要先做病种认定")
    assert turns[2]["reply"] == "抱歉，系统暂时查不到这个问题。需要为您转接人工客服吗？"
    assert [r.action for r in pbx.requests] == ["transfer"]


def test_kb_query_prints_the_best_entries(tmp_path: Path) -> None:
    env = {**os.environ, "VOICEBOT_KB_DIR": str(SAMPLE_DIR)}
    plain = subprocess.run(
        [VOICEBOT, "kb", "query", "社保卡丢了怎么办", "--limit", "2"],
        env=env,
        capture_output=True,
        check=True,
    )
    lines = plain.stdout.decode().splitlines()
    assert "医保卡挂失补办" in lines[0]
    assert len([line for line in lines if not line.startswith(" ")]) == 2
    as_json = subprocess.run(
        [VOICEBOT, "kb", "query", "社保卡丢了怎么办", "--json"], env=env, capture_output=True, check=True
    )
    results = json.loads(as_json.stdout)["results"]
    assert results[0]["title"] == "医保卡挂失补办"
    assert set(results[0]) == {"id", "title", "score", "answer", "kind"}
    nothing = subprocess.run([VOICEBOT, "kb", "query", "qwxyz"], env=env, capture_output=True, check=False)
    assert nothing.returncode == 1
