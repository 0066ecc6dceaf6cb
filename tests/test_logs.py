"""bot/logs.py: JSON lines with the call id, one access line per callback, lines that cannot
be forged, and numbers masked in every library's records (httpx's request lines)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot import logs
from bot.logs import TextFormatter, configure_logging, json_formatter
from bot.pbx.log import LogPBX
from bot.workers import WORKER_ENV
from tests import log_scan
from tests.conftest import CTI

Capture = Callable[[logging.Formatter], io.StringIO]


@pytest.fixture
def capture() -> Iterator[Capture]:
    """Adds a handler with the given formatter to the root logger, at DEBUG; its output."""
    root = logging.getLogger()
    level, added = root.level, []

    def add(formatter: logging.Formatter) -> io.StringIO:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        root.addHandler(handler)
        added.append(handler)
        root.setLevel(logging.DEBUG)
        return stream

    yield add
    for handler in added:
        root.removeHandler(handler)
    root.setLevel(level)


async def test_a_callback_logs_json_lines_with_its_call_id(cti: CTI, capture: Capture) -> None:
    out = capture(json_formatter())
    await cti.say("json-call-1", "我的电话是13812345678", telnum="13812345678")
    records = [json.loads(line) for line in out.getvalue().splitlines()]  # every line parses
    ours = [r for r in records if r["call_id"] == "json-call-1"]
    assert {r["logger"] for r in ours} >= {"bot.access", "bot.dialog.nlu"}  # the turn's, too
    [access] = [r for r in ours if r["logger"] == "bot.access"]
    assert access["level"] == "INFO"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/cti/ai", 200)
    assert isinstance(access["duration_ms"], float)
    assert access["message"].startswith("GET /cti/ai 200 ")
    assert access["message"].endswith(" ms")
    assert "timestamp" in access
    assert "13812345678" not in out.getvalue()


async def test_one_access_line_per_callback_with_status_and_ms(cti: CTI, capture: Capture) -> None:
    out = capture(TextFormatter())
    call = "access-call-2"
    await cti.say(call, "ready2speak")
    await cti.say(call, "我要查询进度")
    status, _ = await cti.send(call, "x" * 5000)  # too long: a 4xx, logged all the same
    assert status == 413
    await cti.say(call, "hungup")
    lines = [line for line in out.getvalue().splitlines() if " INFO bot.access" in line]
    cti_lines = [line for line in lines if " /cti/ai " in line]
    assert len(cti_lines) == 4
    statuses = [line.split(" /cti/ai ")[1].split()[0] for line in cti_lines]
    assert statuses == ["200", "200", "413", "200"]
    for line in cti_lines:
        if " 413 " not in line:  # refused before its call id was read
            assert f"INFO bot.access call={call}: GET /cti/ai " in line
        assert line.endswith(" ms")
        assert "txt" not in line
        assert "telnum" not in line  # the query string is never logged


async def test_crlf_in_a_call_id_cannot_forge_a_line(client: QuartClient, capture: Capture) -> None:
    out = capture(TextFormatter())
    forged = "2026-12-05 10:00:00,000 INFO bot.app: forged line"
    call = f"evil\r\n{forged}\u2028x"
    response = await client.get(f"/cti/hangup?callid={quote(call)}&business=voicemail")
    assert response.status_code == 200  # the hang-up push takes any call id it can store
    rejected = await client.get(f"/cti/ai?callid={quote(call)}&txt=ready2speak")
    assert rejected.status_code == 400  # a callback's call id may not hold control characters
    logging.getLogger("bot.test").info("said: %s", "你好\n" + forged)
    text = out.getvalue()
    assert not any(line.startswith(forged) for line in text.splitlines())
    assert "call=evil\\r\\n2026-12-05 10:00:00,000 INFO bot.app: forged line\\u2028x" in text
    assert "said: 你好\\n2026-12-05" in text
    assert len(text.splitlines()) == text.count("\n")  # no CR or other line break inside a line


async def test_httpx_request_lines_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="ok"))
    with caplog.at_level(logging.INFO, logger="httpx"):
        async with httpx.AsyncClient(transport=transport) as http:
            await http.get(
                "http://pbx.test/api/call?extnum=13812345678&text=身份证110101199001011234&token=t0k"
            )
    [line] = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert "extnum=138****5678" in line
    assert "&token=*** " in line  # secret query parameters too
    assert "t0k" not in caplog.text
    assert "13812345678" not in caplog.text
    assert "110101199001011234" not in caplog.text


def test_tracebacks_and_extra_fields_are_masked(capture: Capture) -> None:
    text, as_json = capture(TextFormatter()), capture(json_formatter())
    logger = logging.getLogger("bot.test")
    try:
        raise ValueError("no such caller 13812345678\r\nfake")
    except ValueError:
        logger.exception("lookup failed", extra={"caller": "13912345678"})
    assert "no such caller 138****5678\\r" in text.getvalue()
    assert "Traceback (most recent call last):\n" in text.getvalue()  # its own lines stay
    record = json.loads(as_json.getvalue())
    assert "138****5678" in record["exc_info"]
    assert record["caller"] == "139****5678"
    assert "call" not in record  # the text format's field stays out of JSON
    for out in (text, as_json):
        assert "13812345678" not in out.getvalue()
        assert "13912345678" not in out.getvalue()


async def test_a_calls_background_tasks_log_with_its_call_id(
    cti: CTI, pbx: LogPBX, caplog: pytest.LogCaptureFixture
) -> None:
    call = "background-call-3"
    with caplog.at_level(logging.INFO):
        await cti.say(call, "ready2speak")
        await cti.say(call, "我要转人工")
        await pbx.wait_for(1)  # the transfer runs in a task of its own, after the notice
    [transfer] = [r for r in caplog.records if r.name == "bot.pbx.log"]
    assert transfer.call_id == call  # type: ignore[attr-defined]  # set by bot/logs.py


@pytest.fixture
def own_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test may call configure_logging, as worker 2: the root logger's handlers and
    level, and the logging module's settings it changes, are put back afterwards."""
    monkeypatch.setenv(WORKER_ENV, "2")
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    for name in ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, name, getattr(logging, name))
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved:
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.NOTSET)


@pytest.mark.usefixtures("own_logging")
def test_configure_logging_prefixes_the_worker(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "text")
    with logs.calling("c-4"):
        logging.getLogger("bot.test").info("hello 13812345678")
    configure_logging("info", "json")
    logging.getLogger("bot.test").info("hello")
    logging.getLogger("httpx").info("not shown: httpx is at WARNING")
    text_line, json_line = capsys.readouterr().err.splitlines()
    assert text_line.endswith(" worker 2 INFO bot.test call=c-4: hello 138****5678")
    record = json.loads(json_line)
    assert (record["worker"], record["call_id"], record["message"]) == (2, None, "hello")


@pytest.mark.usefixtures("own_logging")
def test_the_access_line_handed_to_our_handler_is_the_line_a_record_would_make(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging("info", "text")
    [ours] = logging.getLogger().handlers
    assert logs._plain_text_handler() is ours  # nothing else installed: the direct path
    made: list[logging.LogRecord] = []
    with monkeypatch.context() as spying:
        spying.setattr(logs.access_logger, "handle", made.append)  # the record path
        logs.log_access("GET", "/calls/13812345678", 200, 12.34, "c-5")
        logs.log_access("POST", "/cti/ai", 413, 0.04, None)
    assert made == []  # no record was made for either
    ours.flush()
    direct = capsys.readouterr().err.splitlines()
    with monkeypatch.context() as disabling:
        disabling.setattr(logs.access_logger, "disabled", True)  # as logging.config may leave it
        assert logs._plain_text_handler() is None
        logs.log_access("GET", "/cti/ai", 200, 1.0, "c-6")  # not written
    logging.getLogger().addHandler(logging.NullHandler())  # a test's, a deployment's: records again
    assert logs._plain_text_handler() is None
    logs.log_access("GET", "/calls/13812345678", 200, 12.34, "c-5")
    logs.log_access("POST", "/cti/ai", 413, 0.04, None)
    ours.flush()
    via_records = capsys.readouterr().err.splitlines()

    def without_time(line: str) -> str:
        return line.split(" ", 2)[2]  # the date and the time differ

    assert [without_time(line) for line in direct] == [without_time(line) for line in via_records]
    assert without_time(direct[0]) == "worker 2 INFO bot.access call=c-5: GET /calls/138****5678 200 12.3 ms"
    assert without_time(direct[1]) == "worker 2 INFO bot.access: POST /cti/ai 413 0.0 ms"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", direct[0][:23])


def test_the_scan_finds_unmasked_numbers_and_only_those(tmp_path: Path) -> None:
    log = tmp_path / "lines.txt"  # not *.log: the session's own scan would find it
    log.write_text(
        "INFO httpx: HTTP Request: GET http://tts/say?extnum=13812345678 200\n"
        "INFO bot: caller 138****5678, id 110***********123X, date 20261205, ext 8001\n"
        "INFO bot: 身份证11010119900101123X\n"
        "INFO bot: text=%E5%8F%B7138%201234%205678\n"
        "INFO bot: call 20261205100000123456 of 2013812345678\n"
        "INFO bot: biz_data=%257B%2522summary%2522%253A%2522%25E6%259D%25A5%25E7%2594%25B513800138000\n"
        "INFO bot: biz_data=%257B%2522summary%2522%253A%2522%25E6%259D%25A5%25E7%2594%25B5138****8000\n",
        encoding="utf-8",
    )
    findings = log_scan.scan([log, tmp_path / "missing.log"])
    assert [f.line_number for f in findings] == [1, 3, 4, 6]  # the 6th once URL-decoded
    report = log_scan.report(findings)
    assert "13812345678" not in report  # the report masks what it found
    assert "11010119900101123X" not in report
    assert f"{log}:1: INFO httpx" in report
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "serve.log").write_text("INFO bot: caller 138****5678\n", encoding="utf-8")
    assert log_scan.process_logs(tmp_path) == [tmp_path / "sub" / "serve.log"]


async def test_requests_refused_before_the_app_have_their_access_line(
    client: QuartClient, capture: Capture
) -> None:
    out = capture(TextFormatter())
    response = await client.get("/cti/ai?callid=h-1&txt=ready2speak", headers={"Host": "x" * 64 + ".test"})
    assert response.status_code == 400  # bot/web/edge.py, before Quart parses the request
    [line] = [line for line in out.getvalue().splitlines() if " INFO bot.access" in line]
    assert "GET /cti/ai 400 " in line


async def test_lines_made_on_the_loop_are_written_together_once_it_has_run() -> None:
    writes: list[str] = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return len(text)

    handler = logs.LoopBatchedStream(Stream())
    handler.setFormatter(logging.Formatter("%(message)s"))
    for text in ("one", "two"):
        handler.handle(logging.makeLogRecord({"msg": text}))
    assert writes == []  # both wait for the loop's pass
    await asyncio.sleep(0)
    assert writes == ["one\ntwo\n"]
    handler.handle(logging.makeLogRecord({"msg": "three"}))
    handler.close()
    logging.shutdown([lambda: handler])  # what exit does: written
    assert writes == ["one\ntwo\n", "three\n"]
    await asyncio.to_thread(handler.handle, logging.makeLogRecord({"msg": "from a thread"}))
    assert writes[-1] == "from a thread\n"  # no loop in that thread: at once
