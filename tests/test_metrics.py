"""``GET /metrics``: it parses with the Prometheus client's parser, its counters move as a
scripted call runs, its token holds, and several processes' figures add up."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.multiprocess import mark_process_dead
from prometheus_client.parser import text_string_to_metric_families
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.metrics import MULTIPROC_ENV
from bot.pbx.log import LogPBX
from bot.text.segmenter import Segmenter
from bot.web.edge import Edge
from bot.web.metrics import _exposition
from bot.workers import fresh_metrics_dir
from tests.conftest import CTI, FLOWS_DIR

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(client: QuartClient, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return parse(await response.get_data(as_text=True))


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_counters_move_as_a_scripted_call_runs(cti: CTI, client: QuartClient, pbx: LogPBX) -> None:
    before = await scrape(client)
    # A transfer (made once its announcement has played: meanwhile, two other calls).
    await cti.say("m-1", "ready2speak")
    await cti.say("m-1", "我要转人工")
    # Words no step takes; the knowledge base does not know them either.
    await cti.say("m-2", "ready2speak")
    await cti.say("m-2", "我想买一台电脑")
    # A question the knowledge base answers (the greeting's no-match ladder sends it there).
    await cti.say("m-3", "ready2speak")
    await cti.say("m-3", "那个，门诊慢特病要怎么申请啊")
    await pbx.wait_for(1)
    await cti.say("m-1", "hungup")
    # A callback refused before it is read.
    assert (await client.get("/cti/ai?txt=ready2speak")).status_code == 400
    after = await scrape(client)

    def ai(event: str, status: str = "200") -> float:
        labels = {"endpoint": "/cti/ai", "event": event, "status": status}
        return moved(before, after, "voicebot_callbacks_total", **labels)

    assert (ai("ready2speak"), ai("text"), ai("hungup"), ai("none", "400")) == (3, 3, 1, 1)
    turns = ("voicebot_turn_seconds_count", "voicebot_turn_seconds_bucket")
    assert moved(before, after, turns[0], kind="cti", event="text") == 3
    assert moved(before, after, turns[1], kind="cti", event="text", le="+Inf") == 3
    assert moved(before, after, turns[0], kind="cti", event="hungup") == 1
    assert moved(before, after, "voicebot_calls_started_total", kind="cti") == 3
    assert moved(before, after, "voicebot_calls_ended_total", kind="cti", outcome="transferred") == 1
    assert moved(before, after, "voicebot_utterances_total", kind="cti", flow="yibao") == 3
    intent = {"kind": "cti", "flow": "yibao", "intent": "transfer_agent"}
    assert moved(before, after, "voicebot_intents_total", **intent) == 1
    assert moved(before, after, "voicebot_no_match_total", kind="cti", flow="yibao") == 2
    knowledge = "voicebot_knowledge_answers_total"
    assert moved(before, after, knowledge, kind="cti", result="answered") == 1
    assert moved(before, after, knowledge, kind="cti", result="not_found") == 1
    assert moved(before, after, "voicebot_pbx_actions_total", kind="cti", action="transfer", result="ok") == 1
    assert moved(before, after, "voicebot_tts_cache_total", backend="espeak-ng", result="hit") >= 3
    assert value(after, "voicebot_live_calls") == 2  # m-2 and m-3; m-1 ended
    assert value(after, "voicebot_ready") == 1
    assert value(after, "voicebot_storage_failing", store="transcripts") == 0


@pytest.fixture
async def guarded(tmp_path: Path, segmenter: Segmenter) -> AsyncIterator[QuartClient]:
    settings = Settings(data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, metrics_token="s3cret")
    app = create_app(settings, pbx=LogPBX(), segmenter=segmenter)
    async with app.test_app() as started:
        yield started.test_client()


async def test_the_metrics_token_is_asked_for_when_set(guarded: QuartClient) -> None:
    refused = ("voicebot_refused_requests_total", {"reason": "metrics_token"})
    before = REGISTRY.get_sample_value(*refused) or 0
    missing = await guarded.get("/metrics")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await guarded.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
    samples = await scrape(guarded, Authorization="Bearer s3cret")
    assert value(samples, *refused[:1], **refused[1]) == before + 2


async def test_a_host_header_refused_is_counted() -> None:
    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("a refused request must not reach the app")

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    before = REGISTRY.get_sample_value("voicebot_refused_requests_total", {"reason": "host"}) or 0
    scope = {"type": "http", "headers": [(b"host", b"a" * 64 + b".example")]}
    await Edge(app)(scope, None, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 400
    assert REGISTRY.get_sample_value("voicebot_refused_requests_total", {"reason": "host"}) == before + 1


WORKER = textwrap.dedent(
    """
    import sys
    from bot import metrics
    n = int(sys.argv[1])
    for _ in range(n):
        metrics.count_refused("cti_token")
        metrics.observe_turn("text", 0.003)
    metrics.LIVE_CALLS.set(n)
    metrics.STORAGE_UNWRITTEN_ROWS.labels("transcripts").set(10 * n)
    """
)


def test_the_workers_figures_add_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `voicebot serve --workers N` does: each worker writes its values into the
    directory, and any one's /metrics reads them all."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"left by an earlier run")
    fresh_metrics_dir(directory)
    assert list(directory.iterdir()) == []
    env = {MULTIPROC_ENV: str(directory), "PATH": "/usr/bin:/bin"}
    for n in (2, 3):
        worker = [sys.executable, "-c", WORKER, str(n)]
        done = subprocess.run(worker, env=env, check=True, capture_output=True)
        assert done.stderr == b""
    files = sorted(p.name for p in directory.iterdir())
    assert any(name.startswith("counter_") for name in files), files
    monkeypatch.setenv(MULTIPROC_ENV, str(directory))
    samples = parse(_exposition().decode())
    assert value(samples, "voicebot_refused_requests_total", reason="cti_token") == 5
    assert value(samples, "voicebot_turn_seconds_count", kind="cti", event="text") == 5
    assert value(samples, "voicebot_turn_seconds_bucket", kind="cti", event="text", le="0.005") == 5
    assert value(samples, "voicebot_live_calls") == 3  # the most recent, not a sum
    assert value(samples, "voicebot_storage_unwritten_rows", store="transcripts") == 50
    # A worker that exits no longer counts in live gauges; its counts stay.
    a_pid = next(int(name.rsplit("_", 1)[1].removesuffix(".db")) for name in files if "livesum" in name)
    mark_process_dead(a_pid, str(directory))  # type: ignore[no-untyped-call]
    samples = parse(_exposition().decode())
    assert value(samples, "voicebot_storage_unwritten_rows", store="transcripts") in (20, 30)
    assert value(samples, "voicebot_refused_requests_total", reason="cti_token") == 5
