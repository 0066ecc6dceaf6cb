"""The call generator (bench/calls*.py): its scripts are valid CTI requests of every kind,
reproducible from their seed, and a short paced run against a real ``voicebot serve``
reports every kind of event without an error. Nothing here asserts a time."""

from __future__ import annotations

import asyncio
import gc
import io
import os
import wave
from collections import Counter
from itertools import islice
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench import calls_report
from bench.calls_monitor import Monitor
from bench.calls_player import answer_error, play_paced, wav_seconds
from bench.calls_script import CallScript, Kind, ScriptWriter, Timing, interleaved, warm_up_scripts
from bench.calls_stats import Recorder
from bot.calls.events import Event
from bot.cti.params import parse_params, read_callback
from tests.test_serve import serving

SEED = 3
EVENTS = {
    Kind.READY2SPEAK: Event.READY,
    Kind.SILENCE: Event.READY,
    Kind.HANGUP: Event.HUNGUP,
}


def covering_scripts(writer: ScriptWriter) -> list[CallScript]:
    """The first calls of ``writer`` that, together, hold every kind of event."""
    scripts: list[CallScript] = []
    seen: set[Kind] = set()
    for script in writer.calls():
        scripts.append(script)
        seen.update(e.kind for e in script.events)
        if seen == set(Kind):
            return scripts
    raise AssertionError("unreachable")


def check_request(script: CallScript, index: int) -> None:
    event = script.events[index]
    parts = urlsplit(script.path(event))
    params = parse_params(parts.query.encode())
    if event.kind is Kind.HANGUP_PUSH:
        assert parts.path == "/cti/hangup"
        assert params["callid"][0] == script.call_id
        assert params["business"][0] == "robot"
        return
    assert parts.path == "/cti/ai"
    callback = read_callback(params, max_text_chars=500)
    assert callback.call_id == script.call_id
    assert callback.flow == script.flow
    assert callback.event is EVENTS.get(event.kind, Event.TEXT)
    assert callback.playing is (event.kind in {Kind.BARGE_IN, Kind.BACKCHANNEL})
    if callback.event is Event.TEXT:
        assert callback.text == event.txt


def test_every_kind_of_event_is_a_valid_cti_request() -> None:
    writer = ScriptWriter(SEED, "t")
    kinds: Counter[Kind] = Counter()
    for script in islice(writer.calls(), 400):
        assert script.events[-1].kind is Kind.HANGUP_PUSH  # every call ends with the CTI's push
        for index, event in enumerate(script.events):
            check_request(script, index)
            kinds[event.kind] += 1
            if index:  # the same callback twice in a row would be taken for a retry
                before = script.events[index - 1]
                assert (before.txt, before.playing) != (event.txt, event.playing)
            if event.timing is Timing.DURING_PROMPT:
                assert 0 <= event.fraction <= 1
            else:
                assert event.seconds >= 0
    assert set(kinds) == set(Kind)


def test_scripts_are_reproducible_from_their_seed() -> None:
    assert ScriptWriter(SEED, "t").call(41) == ScriptWriter(SEED, "t").call(41)
    assert ScriptWriter(SEED, "t").call(41) != ScriptWriter(SEED + 1, "t").call(41)
    assert ScriptWriter(SEED, "a").call(1).call_id != ScriptWriter(SEED, "b").call(1).call_id


def test_interleaved_calls_keep_each_calls_order() -> None:
    writer = ScriptWriter(SEED, "t")
    requests = list(islice(interleaved(writer, 8), 500))
    for script in (writer.call(n) for n in range(8)):  # the first call of each lane
        mine = [path for _, path in requests if f"callid={script.call_id}&" in path]
        assert mine == [script.path(e) for e in script.events][: len(mine)]
    assert not any(kind is Kind.HANGUP_PUSH for kind, _ in islice(interleaved(writer, 8, pushes=False), 500))


def test_warm_up_scripts_are_valid_requests() -> None:
    for script in warm_up_scripts("w"):
        for index in range(len(script.events)):
            check_request(script, index)


def test_answers_are_judged_as_the_protocol_says() -> None:
    url = b"http://127.0.0.1:8080/audio/" + b"a" * 64 + b".wav?canbeinterrupted=true"
    assert answer_error(Kind.UTTERANCE, False, 200, url) is None
    assert answer_error(Kind.BACKCHANNEL, True, 200, b"continue") is None
    assert answer_error(Kind.UTTERANCE, False, 200, b"continue") == "body"
    assert answer_error(Kind.UTTERANCE, False, 200, b'{"url": "x"}') == "body"
    assert answer_error(Kind.HANGUP, False, 200, b"") is None
    assert answer_error(Kind.HANGUP_PUSH, False, 200, b"ok") is None
    assert answer_error(Kind.KNOWLEDGE, False, 503, url) == "status 503"


def test_wav_duration_is_read_from_its_header() -> None:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * 12000)
    assert wav_seconds(out.getvalue()) == 1.5


def test_soak_verdicts_name_what_grew() -> None:
    rows = [
        {"minute": m, "rss_mb": rss, "p99_ms": 5.0, "fds_max": 40, "tasks_median": tasks}
        for m, (rss, tasks) in enumerate([(200, 30), (205, 31), (260, 90)], start=1)
    ]
    rss, p99, files, tasks = calls_report.soak_verdicts(rows)
    assert rss.startswith("target soak: RSS flat")
    assert ": missed (gap" in rss
    assert ": met (" in p99
    assert ": met (" in files
    assert ": missed (gap" in tasks


def test_a_short_paced_run_reports_every_kind_without_errors(tmp_path: Path) -> None:
    scripts = covering_scripts(ScriptWriter(SEED, "run"))
    with serving(tmp_path) as base:
        recorder, seconds = asyncio.run(
            play_paced(base, iter(scripts), calls=5, call_rate=1000, seconds=None, pace=0.01, seed=SEED)
        )
        tasks = httpx.get(f"{base}/healthz", timeout=10).json()["tasks"]  # what the soak watches
    result = recorder.summary(seconds)
    assert result["errors"] == 0, result["error_examples"]
    assert result["audio_fetch_errors"] == 0
    assert result["calls_finished"] == len(scripts)
    assert {kind.value for kind in Kind} <= set(result["latency_ms"])
    assert all(result["latency_ms"][kind.value]["errors"] == 0 for kind in Kind)
    assert result["requests"] == sum(len(s.events) for s in scripts)
    assert tasks >= 1


def test_the_recorders_rows_are_not_walked_by_the_collector() -> None:
    """A soak records hundreds of thousands of rows; were the collector to walk them, its
    pauses in the generator would show as the bot's latency."""
    recorder = Recorder()
    kinds = (Kind.SLOT, Kind.HANGUP_PUSH)
    for number in range(100):
        due = recorder.started + number
        recorder.add(due, kinds[number % 2], sent=due, done=due + 0.002, error=None, path="/cti/ai")
    gc.collect()
    assert not any(gc.is_tracked(row) for row in recorder.rows)
    summary = recorder.summary(100.0)
    assert (summary["turns"], summary["latency_ms"]["slot"]["count"]) == (50, 50)
    assert [m["minute"] for m in recorder.per_minute()] == [1, 2]


def test_monitor_summarises_its_samples_per_minute() -> None:
    monitor = Monitor(os.getpid(), "http://127.0.0.1:9")
    monitor.samples = [
        {
            "t": t,
            "rss_mb": 100 + t / 60,
            "cpu_cores": 0.5,
            "fds": 20,
            "threads": 3,
            "tasks": 7,
            "live_calls": 2,
        }
        for t in (1.0, 30.0, 61.0, 119.0)
    ]
    summary = monitor.summary()
    assert summary["rss_mb"]["first"] == 100 + 1 / 60
    assert summary["tasks"] == {"first": 7, "max": 7, "last": 7}
    assert [row["minute"] for row in monitor.per_minute()] == [1, 2]
