"""From a recorded call to its push: the payload's schema, and what is (not) published."""

from __future__ import annotations

import json
import re
import typing
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.dialog.state import CallState, Grade
from bot.outcome.outbox import Outbox
from bot.outcome.publisher import OutcomePublisher
from bot.outcome.summary import OutcomeSummary, outcome_summary
from bot.pbx.recordings import RobotRecordings
from bot.store.transcripts import TranscriptStore, Turn, iso
from tests.outcome.receiver import OutcomeReceiver, eventually

ROOT = Path(__file__).resolve().parents[2]
STARTED = 1_772_330_584.567  # 2026-03-01T02:03:04.567Z


@pytest.fixture
async def transcripts(tmp_path: Path) -> AsyncIterator[TranscriptStore]:
    store = TranscriptStore(tmp_path / "voicebot.sqlite3")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def publisher(
    tmp_path: Path, transcripts: TranscriptStore, receiver: OutcomeReceiver
) -> AsyncIterator[OutcomePublisher]:
    outbox = Outbox(tmp_path / "outbox.sqlite3", receiver.url)
    await outbox.open()
    yield OutcomePublisher(transcripts, outbox)
    await outbox.close()


def record_a_call(store: TranscriptStore, call_id: str, *, end: bool = True) -> CallState:
    call = CallState(call_id=call_id, telnum="13800138000", flow="yibao", flow_version="0a1b2c3d4e5f")
    call.started_at = STARTED
    store.record(
        call, Turn(at=iso(STARTED), event="ready2speak", reply="您好，这里是医保服务热线。", ms=12.5)
    )
    call.variables = {"id_card": "320102199001011232", "amount": 12.5}
    store.record(call, Turn(at=iso(STARTED + 5), event="text", text="我要转人工", intent="transfer"))
    if end:
        call.end("transferred", "caller asked for an agent")
        call.grade = Grade("A", 90, "转人工")
        store.record(call)
    return call


async def test_the_summary_of_a_recorded_call(transcripts: TranscriptStore) -> None:
    call = record_a_call(transcripts, "c1")
    stored = await transcripts.get_call("c1")
    assert stored is not None
    summary = outcome_summary(stored)
    assert call.ended_at is not None
    assert summary == {
        "version": 1,
        "callid": "c1",
        "telnum": "13800138000",
        "flow": "yibao",
        "flow_version": "0a1b2c3d4e5f",
        "direction": "inbound",
        "campaign": None,
        "outcome": "transferred",
        "end_reason": "caller asked for an agent",
        "started_at": "2026-03-01T02:03:04.567Z",
        "ended_at": iso(call.ended_at),
        "grade": {"grade": "A", "score": 90, "reason": "转人工"},
        "slots": {"id_card": "320102199001011232", "amount": 12.5},
        "transcript": stored["turns"],
        "recording_url": None,
        "model_summary": None,
    }
    assert [t["event"] for t in summary["transcript"]] == ["ready2speak", "text"]
    assert summary["transcript"][1]["text"] == "我要转人工"
    assert set(summary) == set(typing.get_type_hints(OutcomeSummary))


async def test_a_call_without_grade_or_slots(transcripts: TranscriptStore) -> None:
    call = CallState(call_id="bare", telnum="1", flow="f", flow_version="v")
    call.end("hung_up_by_caller", "caller hung up")
    transcripts.record(call)
    stored = await transcripts.get_call("bare")
    assert stored is not None
    summary = outcome_summary(stored)
    assert (summary["grade"], summary["slots"], summary["transcript"]) == (None, {}, [])


def test_the_documented_example_has_every_field() -> None:
    docs = (ROOT / "docs" / "outcomes.md").read_text(encoding="utf-8")
    example = json.loads(re.findall(r"```json\n(.*?)```", docs, re.DOTALL)[0])
    assert set(example) == set(typing.get_type_hints(OutcomeSummary))
    assert set(example["grade"]) == {"grade", "score", "reason"}
    for field in typing.get_type_hints(OutcomeSummary):
        assert f"`{field}`" in docs


async def test_an_ended_call_is_pushed_once(
    publisher: OutcomePublisher, transcripts: TranscriptStore, receiver: OutcomeReceiver
) -> None:
    record_a_call(transcripts, "c1")
    await publisher.publish("c1")
    await publisher.publish("c1")  # a second end of the same call (a hungup after a transfer)
    await eventually(lambda: receiver.accepted["c1"] == 1)
    stored = await transcripts.get_call("c1")
    assert stored is not None
    assert receiver.payload(0) == outcome_summary(stored)
    row = await publisher.outbox.get("c1")
    assert row is not None
    assert json.loads(row.payload) == outcome_summary(stored)
    assert receiver.hits == {"c1": 1}


async def test_the_push_names_the_direction_and_the_ctis_recording(
    tmp_path: Path, transcripts: TranscriptStore, receiver: OutcomeReceiver
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", receiver.url)
    await outbox.open()
    recordings = RobotRecordings("http://10.0.0.2:12121/", timeout_seconds=1)
    publisher = OutcomePublisher(transcripts, outbox, recordings=recordings)
    call = CallState(call_id="out@10.0.0.2", telnum="13800138000", flow="survey", flow_version="v")
    call.direction = "outbound"
    call.end("hung_up_by_bot", "goodbye")
    transcripts.record(call)
    await publisher.publish("out@10.0.0.2")
    await eventually(lambda: receiver.accepted["out@10.0.0.2"] == 1)
    await outbox.close()
    await recordings.aclose()
    payload = receiver.payload(0)
    assert payload["direction"] == "outbound"
    assert payload["recording_url"] == "http://10.0.0.2:12121/Oms/FileDownServlet?robotcallid=out%4010.0.0.2"


async def test_calls_in_progress_or_unknown_are_not_pushed(
    publisher: OutcomePublisher, transcripts: TranscriptStore, caplog: pytest.LogCaptureFixture
) -> None:
    record_a_call(transcripts, "live", end=False)
    await publisher.publish("live")
    await publisher.publish("nobody")
    assert await publisher.outbox.get("live") is None
    assert await publisher.outbox.get("nobody") is None
    messages = [r.getMessage() for r in caplog.records]
    assert any("live" in m and "still in progress" in m for m in messages)
    assert any("nobody" in m and "unknown" in m for m in messages)


async def test_a_push_the_outbox_cannot_store_is_logged_not_raised(
    tmp_path: Path, transcripts: TranscriptStore, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", "http://127.0.0.1:9/")
    await outbox.open()
    await outbox.close()
    record_a_call(transcripts, "c1")
    await OutcomePublisher(transcripts, outbox).publish("c1")
    assert any("c1" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)


async def test_a_test_call_from_the_console_is_never_pushed(
    transcripts: TranscriptStore, publisher: OutcomePublisher
) -> None:
    call = record_a_call(transcripts, "t1", end=False)
    call.test = True
    call.end("transferred", "caller asked for an agent")
    transcripts.record(call)
    await publisher.publish("t1")
    assert await publisher.outbox.get("t1") is None
