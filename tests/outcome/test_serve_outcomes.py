"""`voicebot serve` with ``VOICEBOT_OUTCOME_URL``: the outbox survives restarts of the process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from bot.config import Settings
from bot.outcome.outbox import Outbox
from tests.conftest import ADMIN_HEADERS, FLOWS_DIR
from tests.loopback import unused_port
from tests.outcome.receiver import OutcomeReceiver, eventually
from tests.test_serve import start, stop, wait_healthy

CALLS = ("c1", "c2", "c3")


@asynccontextmanager
async def serving(tmp_path: Path, outcome_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """`voicebot serve` on ``tmp_path``'s data, healthy; stopped (cleanly) at the end."""
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    settings = {"VOICEBOT_OUTCOME_URL": outcome_url}
    # The helpers block (Popen, polling): in threads, so the receiver on this loop answers.
    process = await asyncio.to_thread(start, tmp_path, FLOWS_DIR, port, settings=settings)
    try:
        await asyncio.to_thread(wait_healthy, base, process, tmp_path)
        async with httpx.AsyncClient(base_url=base, timeout=10, headers=ADMIN_HEADERS) as http:
            yield http
    finally:
        await asyncio.to_thread(stop, process)
    assert process.returncode == 0, (tmp_path / "serve.log").read_text()


async def outcomes_are(http: httpx.AsyncClient, **expected: int) -> None:
    async def shown() -> bool:
        outcomes = (await http.get("/healthz")).json()["outcomes"]
        return all(outcomes[state] == count for state, count in expected.items())

    await eventually(shown)


async def leave_undelivered_pushes(path: Path) -> None:
    """What a run whose receiver was down leaves behind: pushes tried once, pending."""
    earlier = Outbox(path, f"http://127.0.0.1:{unused_port()}/", backoff_base_seconds=600)
    await earlier.open()
    try:
        for callid in CALLS:
            await earlier.enqueue(callid, {"version": 1, "callid": callid})

        async def all_tried() -> bool:
            rows = [await earlier.get(c) for c in CALLS]
            return all(r is not None and r.attempts == 1 for r in rows)

        await eventually(all_tried)
    finally:
        await earlier.close()


async def test_pending_pushes_go_out_after_a_restart_and_only_once(tmp_path: Path) -> None:
    outbox_path = Settings(data_dir=tmp_path / "var").outbox_path  # where `start` puts the data
    await leave_undelivered_pushes(outbox_path)
    receiver = OutcomeReceiver()
    await receiver.start()
    try:
        for _ in range(2):  # the second run must send nothing again
            async with serving(tmp_path, receiver.url) as http:
                await outcomes_are(http, delivered=3, pending=0)
    finally:
        await receiver.close()
    assert receiver.hits == dict.fromkeys(CALLS, 1)
    assert sorted(r.headers["idempotency-key"] for r in receiver.received) == list(CALLS)


async def test_a_call_that_ends_while_the_receiver_is_down_is_pushed_after_a_restart(
    tmp_path: Path,
) -> None:
    receiver = OutcomeReceiver()
    port = unused_port()  # nothing listens here during the first run
    url = f"http://127.0.0.1:{port}/outcomes"
    async with serving(tmp_path, url) as http:
        for txt in ("ready2speak", "hungup"):
            answer = await http.get(
                "/cti/ai", params={"callid": "e2e-1", "telnum": "13800138000", "txt": txt}
            )
            assert answer.status_code == 200
        await outcomes_are(http, pending=1, delivered=0)

    await receiver.start(port)
    try:
        async with serving(tmp_path, url) as http:
            await outcomes_are(http, pending=0, delivered=1)
            call = (await http.get("/calls/e2e-1")).json()
    finally:
        await receiver.close()
    assert receiver.hits == {"e2e-1": 1}
    pushed = receiver.payload(0)
    assert (pushed["callid"], pushed["outcome"]) == ("e2e-1", "hung_up_by_caller")
    assert pushed["transcript"] == call["turns"]
    assert [t["event"] for t in pushed["transcript"]] == ["ready2speak", "hungup"]
