"""``voicebot fake-pbx`` and ``voicebot simulate`` as real processes on loopback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.conftest import ADMIN_HEADERS, FLOWS_DIR
from tests.loopback import unused_port
from tests.test_serve import VOICEBOT, start, stop, wait_healthy

CREDENTIALS = {"username": "api", "password": "api"}
SAMPLE_SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "simulate" / "yibao.yaml"


def test_fake_pbx_serves_both_vendors_over_http(tmp_path: Path) -> None:
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    args = [VOICEBOT, "fake-pbx", "--port", str(port), "--token-ttl", "60", "--client-secret", "s3cret"]
    with (tmp_path / "fake-pbx.log").open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(base, process, tmp_path, log="fake-pbx.log")
        with httpx.Client(base_url=base, timeout=10) as http:
            grant = {"grant_type": "password", "client_id": "voicebot", "client_secret": "s3cret"}
            token = http.post("/dscom-api/public/oauth/token", json={**grant, **CREDENTIALS}).json()
            assert token["expires_in"] == "60"
            headers = {
                "Authorization": f"Bearer {token['access_token']}",
                "Accept-Language": "zh-CN",
                "Accept": "application/json",
            }
            http.post("/control/fail", json={"action": "transfer", "code": "600006"})
            transfer = {"type": "blind", "extension": "8001", "dest": "8005"}
            answer = http.post("/dscom-api/public/api/v1/call/transfer", json=transfer, headers=headers)
            assert answer.json() == {"code": "600006", "msg": "转接异常", "data": [], "total": 0}
            play = {"opt": "PLAY_VOICE", "callid": "c1", "voiceurl": "请稍等"}
            played = http.get("/bridge/callctrl", params=play)
            assert (played.status_code, played.text) == (200, "ok")
            records = http.get("/requests").json()
        assert [(r["vendor"], r["status"]) for r in records] == [
            ("hwd", 200),
            ("control", 200),
            ("hwd", 200),
            ("gx", 200),
        ]
        assert records[2]["manual_headers"] is True
        assert records[3]["query"]["voiceurl"] == "请稍等"
    finally:
        stop(process)
    assert process.returncode == 0
    log_text = (tmp_path / "fake-pbx.log").read_text(encoding="utf-8")
    assert "#3 hwd POST /dscom-api/public/api/v1/call/transfer → 200" in log_text
    assert "s3cret" not in log_text


def test_simulate_plays_a_script_against_a_real_bot(tmp_path: Path) -> None:
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    bot = start(tmp_path, FLOWS_DIR, port)
    try:
        wait_healthy(base, bot, tmp_path)
        command = [VOICEBOT, "simulate", "--url", f"{base}/cti/ai", "--callid", "sim-1", "--script"]
        passing = subprocess.run(
            [*command, str(SAMPLE_SCRIPT)], capture_output=True, text=True, timeout=120, check=False
        )
        failing_script = tmp_path / "failing.yaml"
        failing_script.write_text("- say: 我要转人工\n  interruptible: true\n", encoding="utf-8")
        failing = subprocess.run(
            [*command, str(failing_script), "--callid", "sim-2", "--method", "post"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        transcript = httpx.get(f"{base}/calls/sim-2", timeout=10, headers=ADMIN_HEADERS).json()
    finally:
        stop(bot)

    assert passing.returncode == 0, passing.stdout + passing.stderr
    out = passing.stdout
    assert out.startswith("#1 ready (ready2speak) → audio, interruptible (")
    assert "#2 barge 嗯 (playing=true) → continue (" in out
    assert out.count("WAV PCM 8000 Hz mono 16-bit, ") == 5
    assert "bot: 好的，请说出参保人的十八位身份证号码。" in out
    assert "#7 hangup (hungup) → empty (" in out
    assert "PROBLEM" not in out
    assert out.splitlines()[-1].startswith("call sim-1: 7 turns, 0 problems; latency max ")

    assert failing.returncode == 1
    assert "#1 say 我要转人工 → audio, not interruptible (" in failing.stdout
    assert "PROBLEM: expected interruptible: true" in failing.stdout
    assert "(hanging up)\n#2 hangup (hungup) → empty (" in failing.stdout
    assert failing.stdout.splitlines()[-1].startswith("call sim-2: 2 turns, 1 problems")
    assert [turn["event"] for turn in transcript["turns"]] == ["text", "hungup"]


def test_simulate_keeps_the_flow_of_the_url(tmp_path: Path) -> None:
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    script = tmp_path / "survey.yaml"
    script.write_text("- ready:\n  reply_contains: 想对您最近办理的业务做个简短回访\n", encoding="utf-8")
    command = [VOICEBOT, "simulate", "--url", f"{base}/cti/ai?flow=survey&callid=x", "--script", str(script)]
    callids = ("sim-get", "sim-post", "x")
    bot = start(tmp_path, FLOWS_DIR, port)
    try:
        wait_healthy(base, bot, tmp_path)
        runs = {
            method: subprocess.run(
                [*command, "--method", method, "--callid", f"sim-{method}"],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            for method in ("get", "post")
        }
        calls = {
            callid: httpx.get(f"{base}/calls/{callid}", timeout=10, headers=ADMIN_HEADERS)
            for callid in callids
        }
    finally:
        stop(bot)

    for run in runs.values():
        assert run.returncode == 0, run.stdout + run.stderr
        assert "bot: 您好，这里是医保服务中心。想对您最近办理的业务做个简短回访" in run.stdout
        assert "PROBLEM" not in run.stdout
        assert "--url's callid= is ignored" in run.stderr
    assert [calls[c].json()["flow"] for c in ("sim-get", "sim-post")] == ["survey", "survey"]
    assert calls["x"].status_code == 404
