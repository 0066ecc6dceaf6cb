"""Calls that survive: real ``voicebot serve`` processes killed with SIGKILL and restarted,
and several instances sharing one call through Redis and PostgreSQL (issue acceptance).

Every call here plays the same conversation, and is compared with the same call played
on one instance that nothing interrupted: same steps, same replies, same outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import FLOWS_DIR
from tests.fakepbx import FakePBX
from tests.loopback import LoopbackServer, unused_port
from tests.test_metrics import parse as metrics_samples
from tests.test_metrics import value
from tests.test_pbx_e2e import TELNUM, Bot, serve
from tests.test_serve import VOICEBOT, stop, wait_for, wait_healthy

# Greeting, the business, the ID number, its confirmation, then an agent.
CONVERSATION = (
    "ready2speak",
    "我想查一下报销进度",
    "幺幺零幺零五幺九四九幺二三幺零零二叉",
    "对的",
    "我要转人工",
)
QUICK = {"VOICEBOT_RETRY_WINDOW_MS": "0", "VOICEBOT_KB_FILLER_MS": "20000"}


def gx(fake: FakePBX) -> dict[str, str]:
    return {"VOICEBOT_PBX": "gx", "VOICEBOT_GX_URL": fake.base, **QUICK}


@contextmanager
def running(workdir: Path, settings: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], Bot]]:
    workdir.mkdir(parents=True, exist_ok=True)
    process, bot = serve(workdir, settings)
    try:
        yield process, bot
    finally:
        bot.http.close()
        stop(process)


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def played(bot: Bot, call_id: str) -> list[tuple[str, str | None, str | None]]:
    """The call's callbacks as its transcript has them: (what was heard, step, reply)."""
    return [(t["text"], t["step"], t["reply"]) for t in bot.call(call_id)["turns"] if t["event"] != "pbx"]


def transfers(fake: FakePBX, call_id: str) -> list[dict[str, Any]]:
    return [
        r for r in fake.requests("gx") if r["query"].get("opt") == "CLICK_TO_TRANSFER" and call_id in str(r)
    ]


def transferred_once(bot: Bot, fake: FakePBX, call_id: str) -> dict[str, Any]:
    """The call's record once its transfer was made and recorded; there was one request."""
    assert wait_for(lambda: transfers(fake, call_id), 30), fake.requests()

    def recorded() -> dict[str, Any] | None:
        call = bot.call(call_id)
        return call if call["turns"][-1]["event"] == "pbx" else None

    call = wait_for(recorded, 30)
    assert isinstance(call, dict), bot.call(call_id)
    time.sleep(1.5)  # a second transfer would come now
    assert len(transfers(fake, call_id)) == 1
    assert call["outcome"] == "transferred"
    return call


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, fake_pbx_process: FakePBX) -> list[Any]:
    """The conversation on one instance that nothing interrupted."""
    with running(tmp_path_factory.mktemp("reference"), gx(fake_pbx_process)) as (_, bot):
        fake_pbx_process.reset()
        for said in CONVERSATION:
            bot.say("ref", said)
        transferred_once(bot, fake_pbx_process, "ref")
        return played(bot, "ref")


def test_sqlite_call_continues_at_its_step_after_kill_9(
    tmp_path: Path, fake_pbx: FakePBX, reference: list[Any]
) -> None:
    settings = gx(fake_pbx)
    with running(tmp_path, settings) as (process, bot):
        for said in CONVERSATION[:3]:
            bot.say("k1", said)
        kill(process)  # between turns: waiting for "对的"
    with running(tmp_path, settings) as (_, bot):
        for said in CONVERSATION[3:]:
            bot.say("k1", said)
        transferred_once(bot, fake_pbx, "k1")
        assert played(bot, "k1") == reference


def test_sqlite_transfer_announced_then_kill_9_reaches_the_pbx_once(
    tmp_path: Path, fake_pbx: FakePBX, reference: list[Any]
) -> None:
    settings = gx(fake_pbx)
    with running(tmp_path, settings) as (process, bot):
        for said in CONVERSATION[:-1]:
            bot.say("k2", said)
        _, answered = bot.say("k2", CONVERSATION[-1])  # the transfer notice
        kill(process)
        assert time.monotonic() - answered < 0.3
    assert transfers(fake_pbx, "k2") == []
    with running(tmp_path, settings) as (_, bot):
        transferred_once(bot, fake_pbx, "k2")
        assert played(bot, "k2") == reference


# --- several instances on Redis and PostgreSQL ---


@pytest.fixture
def shared(redis_url: str, database_url: str, fake_pbx: FakePBX) -> dict[str, str]:
    return {"VOICEBOT_REDIS_URL": redis_url, "VOICEBOT_DATABASE_URL": database_url, **gx(fake_pbx)}


def test_alternating_instances_play_the_call_as_one_would(
    tmp_path: Path, shared: dict[str, str], fake_pbx: FakePBX, reference: list[Any]
) -> None:
    with running(tmp_path / "a", shared) as (_, a), running(tmp_path / "b", shared) as (_, b):
        audio = []
        for n, said in enumerate(CONVERSATION):
            answer, _ = (a, b)[n % 2].say("alt", said)
            audio.append((answer, (b, a)[n % 2]))
        call = transferred_once(a, fake_pbx, "alt")
        assert played(b, "alt") == reference
        assert call == b.call("alt")
        for url, other in audio:  # each URL is served by the instance that did not make it
            path = httpx.URL(url).raw_path.decode()
            assert other.http.get(path).status_code == 200, url


def test_kill_9_mid_turn_the_other_instance_continues(
    tmp_path: Path, shared: dict[str, str], fake_pbx: FakePBX
) -> None:
    server = LoopbackServer.in_thread()
    try:
        rasa = server.base_url
        settings = {**shared, "VOICEBOT_KB_URL": f"{rasa}/rasa/3000", "VOICEBOT_KB_TIMEOUT_MS": "8000"}
        with running(tmp_path / "a", settings) as (pa, a), running(tmp_path / "b", settings) as (_, b):
            for said in CONVERSATION[:4]:  # to the menu, across both
                (a if said != "对的" else b).say("mid", said)
            answered = list(played(b, "mid"))
            slow = threading.Thread(target=_ask_quietly, args=(a, "mid", "异地就医怎么备案"))
            slow.start()  # a's turn waits 3 s for the knowledge base, holding the call
            time.sleep(0.8)
            kill(pa)
            slow.join()
            b.say("mid", "我要转人工")  # waits for a's lock to expire, then continues
            transferred_once(b, fake_pbx, "mid")
            heard = played(b, "mid")
            assert heard[: len(answered)] == answered  # no answered turn is missing
            assert heard[-1][:2] == ("我要转人工", "transfer")
    finally:
        server.stop_thread()


def test_sigterm_hands_an_announced_transfer_to_another_instance(
    tmp_path: Path, shared: dict[str, str], fake_pbx: FakePBX, reference: list[Any]
) -> None:
    with running(tmp_path / "b", shared) as (_, b):
        with running(tmp_path / "a", shared) as (pa, a):
            for said in CONVERSATION:
                a.say("term", said)
            pa.send_signal(signal.SIGTERM)  # a rolling restart, right after the notice
            pa.wait(timeout=30)
            assert pa.returncode == 0
            assert transfers(fake_pbx, "term") == []  # left to the others, not rushed
        transferred_once(b, fake_pbx, "term")
        assert played(b, "term") == reference


def _ask_quietly(bot: Bot, call_id: str, text: str) -> None:
    with contextlib.suppress(httpx.TransportError):  # killed while answering
        bot.http.get("/cti/ai", params={"telnum": TELNUM, "txt": text, "callid": call_id})


CALLS = 1000
CONCURRENCY = 200


def test_a_thousand_concurrent_calls_over_two_instances(tmp_path: Path, shared: dict[str, str]) -> None:
    with running(tmp_path / "a", shared) as (_, a), running(tmp_path / "b", shared) as (_, b):
        answered = asyncio.run(_many_calls(a.base, b.base))
        assert answered == CALLS * 3
        listed = a.http.get("/calls", params={"limit": CALLS}).json()["calls"]
        counts = {c["callid"]: c["turn_count"] for c in listed if c["callid"].startswith("many-")}
        assert len(counts) == CALLS
        assert set(counts.values()) == {3}  # none lost, none twice
        assert {c["outcome"] for c in listed if c["callid"].startswith("many-")} == {"hung_up_by_caller"}


async def _many_calls(base_a: str, base_b: str) -> int:
    # The calls queue for the clients' connections, and httpcore's pool can close a
    # connection it has already handed to a queued request, under that request, once
    # the connection's keep-alive expires in between (encode/httpcore#1110): an
    # httpx.ReadError that is the client's, not the servers'. This process's event loop
    # pauses for up to 5.8 s in the whole suite (measured), past httpx's 5 s expiry,
    # and a pause of 6 s made here failed the test every time. 20 s is still under
    # Granian's 30 s close of idle connections: none the servers close is reused.
    limits = httpx.Limits(max_connections=CONCURRENCY // 2, keepalive_expiry=20)
    gate = asyncio.Semaphore(CONCURRENCY)
    async with (
        httpx.AsyncClient(base_url=base_a, timeout=60, limits=limits) as a,
        httpx.AsyncClient(base_url=base_b, timeout=60, limits=limits) as b,
    ):

        async def call(n: int) -> int:
            ok = 0
            async with gate:
                for client, said in ((a, "ready2speak"), (b, "我想查一下报销进度"), (a, "hungup")):
                    params = {"telnum": TELNUM, "txt": said, "callid": f"many-{n}"}
                    response = await client.get("/cti/ai", params=params)
                    ok += response.status_code == 200
            return ok

        # A task group, not gather: should one call fail, the others are cancelled and
        # waited for before the clients close, and none outlives the test.
        async with asyncio.TaskGroup() as group:
            calls = [group.create_task(call(n)) for n in range(CALLS)]
    return sum(done.result() for done in calls)


def test_workers_share_calls_on_one_port(
    tmp_path: Path, shared: dict[str, str], fake_pbx: FakePBX, reference: list[Any]
) -> None:
    port = unused_port()
    env = {**os.environ, "VOICEBOT_DATA_DIR": str(tmp_path / "var"), "VOICEBOT_FLOWS_DIR": str(FLOWS_DIR)}
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [VOICEBOT, "serve", "--workers", "2", "--port", str(port)],
            env={**env, **shared},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process, tmp_path)
        assert wait_for(lambda: (tmp_path / "serve.log").read_text().count("bot.app: ready: ") == 2, 60)
        for said in CONVERSATION:  # a new connection each time: either worker may answer
            with httpx.Client(base_url=base, timeout=15) as http:
                params = {"telnum": TELNUM, "txt": said, "callid": "workers"}
                assert http.get("/cti/ai", params=params).status_code == 200
        bot = Bot(base)
        transferred_once(bot, fake_pbx, "workers")
        assert played(bot, "workers") == reference
        bot.http.close()
        # Whichever worker answers /metrics, it counts both (PROMETHEUS_MULTIPROC_DIR).
        for _ in range(6):
            with httpx.Client(base_url=base, timeout=15) as http:
                samples = metrics_samples(http.get("/metrics").text)
            texts = value(samples, "voicebot_callbacks_total", endpoint="/cti/ai", event="text", status="200")
            made = value(samples, "voicebot_pbx_actions_total", kind="cti", action="transfer", result="ok")
            assert (texts, made) == (len(CONVERSATION) - 1, 1)
    finally:
        stop(process)
    assert process.returncode == 0
    log_text = (tmp_path / "serve.log").read_text()
    assert "worker 1 " in log_text
    assert "worker 2 " in log_text


def test_workers_need_the_shared_stores(tmp_path: Path) -> None:
    env = {**os.environ, "VOICEBOT_DATA_DIR": str(tmp_path / "var"), "VOICEBOT_FLOWS_DIR": str(FLOWS_DIR)}
    env.pop("VOICEBOT_REDIS_URL", None)
    done = subprocess.run(
        [VOICEBOT, "serve", "--workers", "2", "--port", str(unused_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "VOICEBOT_REDIS_URL" in done.stderr
