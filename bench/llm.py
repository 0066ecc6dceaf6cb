"""What the bot's own side of the language model costs a turn (issue 18), with a model
that answers at once: the fake OpenAI-compatible server of the tests on loopback
(``tests/llm/fake_openai.py``), so that every millisecond measured is ours and the
loopback's, none a model's. A real model adds its own time on top; none runs here.

    .venv/bin/python -m bench.llm

Measured, in one process, through the app's test client (no CTI server in between),
``TURNS`` times each, after a warm-up:

- ``no_model``: yibao's greeting hears words no intent reaches, and the knowledge base
  answers "not found": the turn as without a model (the baseline);
- ``intent``: the same words with the intent fallback on, the model choosing an intent
  (one request: the prompt, the HTTP round trip, the JSON answer read and checked);
- ``grounded``: the same words with the model saying none, then a grounded answer from
  the related entries, streamed and checked (two requests, the speech of its sentences
  made as they come, from the cache after the first turn);
- ``check_us``: one grounded answer's facts check alone (``Grounds.missing``), in µs.

Printed as JSON (p50, p90 and p99 in ms per case); nothing is asserted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.app import create_app
from bot.config import Settings
from bot.dialog.knowledge import RelatedEntry
from bot.llm.grounding import Grounds
from tests.llm.fake_openai import KEY, MODEL, FakeOpenAI
from tests.speech.vendors.serving import serve_asgi

ROOT = Path(__file__).resolve().parent.parent
TURNS = 200
WARM_UP = 20
VAGUE = "我家那口子让我打个电话问问"  # no intent of yibao reaches the threshold
GROUNDED = (
    "依据：yidi-anzhi\n退休后长期在外地住的，可以办理异地安置备案。备案后在居住地的定点医院看病可以直接结算。"
)


def _answer(case: str) -> Any:
    def respond(body: dict[str, Any]) -> str:
        if "response_format" in body:
            return '{"intent": "card_loss"}' if case == "intent" else '{"intent": "none"}'
        return GROUNDED if case == "grounded" else "依据：无"

    return respond


async def _turns(case: str, work: Path, llm_url: str | None) -> list[float]:
    kb_dir = work / f"kb-{case}"
    shutil.copytree(ROOT / "knowledge" / "data", kb_dir)
    model: dict[str, Any] = {}
    if llm_url:
        model = {"llm_url": llm_url, "llm_model": MODEL, "llm_key": KEY, "llm_summaries": False}
    settings = Settings(
        data_dir=work / f"var-{case}", flows_dir=ROOT / "flows", kb_dir=kb_dir, retry_window_ms=0, **model
    )
    app = create_app(settings)
    timings = []
    async with app.test_app() as started:
        client = started.test_client()
        for number in range(WARM_UP + TURNS):
            call = f"{case}-{number}"
            await client.get(
                "/cti/ai", query_string={"telnum": "13800138000", "txt": "ready2speak", "callid": call}
            )
            began = time.perf_counter()
            response = await client.get(
                "/cti/ai", query_string={"telnum": "13800138000", "txt": VAGUE, "callid": call}
            )
            elapsed_ms = (time.perf_counter() - began) * 1000
            assert response.status_code == 200
            if number >= WARM_UP:
                timings.append(elapsed_ms)
    return timings


def _summary(timings: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(timings, n=100)
    return {"p50_ms": round(cuts[49], 2), "p90_ms": round(cuts[89], 2), "p99_ms": round(cuts[98], 2)}


def _check_us() -> float:
    entry = RelatedEntry(
        "yidi-anzhi",
        "异地安置",
        "退休后长期在外地居住，或者被单位派驻外地工作的，可以办理异地安置或常驻异地工作备案。"
        "一般需要身份证件和居住证明或工作证明，也可以线上承诺制办理。备案后在居住地的定点医院就医可以直接结算。",
        ("异地安置", "长期居住", "常驻异地", "退休异地"),
    )
    grounds = Grounds([entry], [entry], dt.date(2026, 12, 6))
    answer = GROUNDED.partition("\n")[2]
    grounds.missing(answer)
    runs = 200
    began = time.perf_counter()
    for _ in range(runs):
        grounds.missing(answer)
    return round((time.perf_counter() - began) / runs * 1e6, 1)


async def _run() -> dict[str, Any]:
    results: dict[str, Any] = {"turns": TURNS}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results["no_model"] = _summary(await _turns("no_model", work, None))
        for case in ("intent", "grounded"):
            fake = FakeOpenAI(answer=_answer(case))
            async with serve_asgi(fake.app) as base:
                results[case] = _summary(await _turns(case, work, f"{base}/v1"))
            results[case]["requests"] = len(fake.requests)
    results["check_us"] = _check_us()
    return results


def run() -> dict[str, Any]:
    logging.disable(logging.INFO)  # the access lines and the model's notes, not measured here
    try:
        return asyncio.run(_run())
    finally:
        logging.disable(logging.NOTSET)


if __name__ == "__main__":
    os.environ.setdefault("VOICEBOT_LOG_LEVEL", "WARNING")
    print(json.dumps(run(), indent=2, ensure_ascii=False))
