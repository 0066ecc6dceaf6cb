"""The bot and a PBX as real processes: how long after its announcement a transfer
reaches the PBX, and what a failing speech vendor costs the caller.

Run with ``.venv/bin/python -m bench.pbx`` (about a minute). It starts
``voicebot fake-pbx`` and ``voicebot serve`` on loopback (real espeak-ng, real HTTP)
and prints its figures; nothing is asserted.

- transfer lag: ``CALLS`` calls say 我要转人工 to a bot with ``VOICEBOT_PBX=gx``; for
  each, the time from the callback's answer to the transfer's arrival at the fake GX
  CTI (``time.monotonic`` is the same clock in both processes), minus the announcement's
  duration. The margin configured (``VOICEBOT_ACTION_MARGIN_MS``, 800 ms) is the target;
  never below zero, or the caller was cut off.
- speech fallback: a bot with ``VOICEBOT_TTS=hwd,espeak`` answers knowledge questions
  whose answers are not cached yet (one sample entry each); the callback's latency with
  the fake HWD TTS healthy, then hanging (every request held for a minute; the attempt
  budget ``VOICEBOT_TTS_TIMEOUT_MS`` is 1,500 ms): the first answer pays the budget,
  the next ones skip the HWD during its cooldown.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.fakepbx import FakePBX, run_fake_pbx
from tests.test_pbx_e2e import serve
from tests.test_serve import stop

CALLS = 10
QUESTIONS = 6
KB_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "yibao.yaml"


def _say(http: httpx.Client, call_id: str, txt: str) -> tuple[str, float, float]:
    started = time.monotonic()
    response = http.get("/cti/ai", params={"telnum": "13800138000", "txt": txt, "callid": call_id})
    response.raise_for_status()
    ended = time.monotonic()
    return response.text, ended, (ended - started) * 1000


def _seconds(http: httpx.Client, url: str) -> float:
    with wave.open(io.BytesIO(http.get(url).content)) as wav:
        return float(wav.getnframes() / wav.getframerate())


def transfer_lag(fake: FakePBX, workdir: Path) -> list[float]:
    settings = {"VOICEBOT_PBX": "gx", "VOICEBOT_GX_URL": fake.base}
    process, bot = serve(workdir, settings)
    lags = []
    try:
        with bot.http as http:
            for n in range(CALLS):
                fake.reset()
                call_id = f"lag-{n}"
                _say(http, call_id, "ready2speak")
                notice, answered, _ = _say(http, call_id, "我要转人工")
                heard = _seconds(http, notice)
                arrived = _wait_for_transfer(fake)
                lags.append((arrived - answered - heard) * 1000)
    finally:
        stop(process)
    return lags


def _wait_for_transfer(fake: FakePBX) -> float:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for record in fake.requests("gx"):
            if record["query"].get("opt") == "CLICK_TO_TRANSFER":
                return float(record["monotonic"])
        time.sleep(0.02)
    raise RuntimeError("no transfer reached the fake PBX")


def speech_fallback(fake: FakePBX, workdir: Path) -> dict[str, list[float]]:
    settings = {
        "VOICEBOT_HWD_URL": fake.hwd_url,
        "VOICEBOT_HWD_CLIENT_ID": "voicebot",
        "VOICEBOT_HWD_CLIENT_SECRET": "secret",
        "VOICEBOT_HWD_USERNAME": "api",
        "VOICEBOT_HWD_PASSWORD": "api",
        "VOICEBOT_TTS": "hwd,espeak",
        "VOICEBOT_TTS_TIMEOUT_MS": "1500",
        "VOICEBOT_KB_FILLER_MS": "10000",  # measure the answer itself, not the filler
    }
    entries: list[dict[str, Any]] = yaml.safe_load(KB_FILE.read_text(encoding="utf-8"))["entries"]
    questions = [e["questions"][0] for e in entries if e.get("kind") == "knowledge"]
    fake.reset()
    process, bot = serve(workdir, settings)
    figures: dict[str, list[float]] = {"healthy": [], "hanging": []}
    try:
        with bot.http as http:
            for phase, asked in (("healthy", questions[:QUESTIONS]), ("hanging", questions[QUESTIONS:])):
                if phase == "hanging":
                    fake.fail(action="tts", hang=60, times=0)
                for n, question in enumerate(asked[:QUESTIONS]):
                    call_id = f"{phase}-{n}"
                    _say(http, call_id, "ready2speak")
                    figures[phase].append(_say(http, call_id, question)[2])
    finally:
        fake.reset()
        stop(process)
    return figures


def _line(name: str, values: list[float]) -> str:
    return (
        f"{name:<28} n={len(values):<3} min {min(values):7.0f}  median {statistics.median(values):7.0f}  "
        f"max {max(values):7.0f} ms"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        process, base = run_fake_pbx(root)
        fake = FakePBX(base)
        try:
            (root / "lag").mkdir()
            lags = transfer_lag(fake, root / "lag")
            (root / "tts").mkdir()
            speech = speech_fallback(fake, root / "tts")
        finally:
            fake.http.close()
            stop(process)
    print(_line("transfer after its notice", lags))
    print(_line("answer, HWD TTS healthy", speech["healthy"]))
    print(_line("answer, HWD TTS hanging", speech["hanging"]))
    print(f"{'':<28} first while hanging: {speech['hanging'][0]:.0f} ms (pays the 1,500 ms budget)")


if __name__ == "__main__":
    main()
