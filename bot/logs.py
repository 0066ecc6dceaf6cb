"""Logging set up in one place: masked numbers, unforgeable lines, the call on every line.

Operators alert on these logs and ship them elsewhere, and the service handles callers'
phone and ID numbers, so three things hold for every record, ours and every library's
(httpx prints whole request URLs with ``extnum=…`` at INFO; Granian, asyncpg, jieba
print what they like):

* **Masked once, where records are made.** A log-record factory formats the message
  (``msg % args``) as it is made, masks it with :func:`bot.privacy.mask_text` and keeps
  the result; the traceback too. Every handler then sees the masked record: ours, pytest's
  log file (the full-run scan, ``tests/log_scan.py``), any a deployment adds. A filter on
  one handler would leave the others unmasked.
* **One record, one line.** CR, LF and the other control characters in a message are
  escaped (``\\n``), so a call id or a caller's words cannot forge a line. Tracebacks keep
  their line breaks (they are ours), with every other control character escaped.
* **The call on every line of a call.** :data:`CALL_ID`, a context variable, is set where
  a request's call id is known (:func:`set_call_id`); tasks started from there inherit it,
  and tasks that act for a call later are started in :func:`call_context`. The text format
  shows it as ``call=<id>``, JSON as ``call_id``.

:func:`log_access` writes the one line per request (method, path without its query
string, status, milliseconds) that :mod:`bot.web.edge` asks for, tagged with the call
the request was about.

What it costs per record: ``python -m bench.logging_cost`` (figures in docs/logging.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal, TextIO, cast

from bot import request_facts
from bot.privacy import mask_json, mask_text
from bot.workers import WORKER_ENV

__all__ = [
    "CALL_ID",
    "TextFormatter",
    "call_context",
    "calling",
    "clean",
    "configure_logging",
    "install_record_factory",
    "json_formatter",
    "log_access",
    "set_call_id",
]

CALL_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("call_id", default=None)
MAX_CALL_ID_CHARS = 128
access_logger = logging.getLogger("bot.access")

# C0 controls but TAB, DEL, C1 controls, and Unicode's line and paragraph separators.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r"}
# Query parameters that hold secrets, as library lines print them (httpx: whole URLs).
_SECRET_PARAM = re.compile(
    r"(?<![A-Za-z0-9_])((?:access_|refresh_|api_?|auth_?)?token|client_id|client_secret|secret|password|passwd"
    r"|api_?key|apikey|key|sign|signature)=[^&\s\"'#;,]+",
    re.IGNORECASE,
)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def clean(text: str) -> str:
    """``text`` fit for one log line: numbers and secret query parameters (``token=***``)
    masked, control characters escaped."""
    text = mask_text(text)
    if "=" in text:
        text = _SECRET_PARAM.sub(r"\1=***", text)
    if not text.isprintable():  # fast: true for almost every message, Chinese included
        text = _CONTROL.sub(_escape_char, text)
    return text


def _clean_traceback(text: str) -> str:
    return _CONTROL_BUT_NEWLINE.sub(_escape_char, mask_text(text))


# ---------------------------------------------------------------------------------------
# The call id


def set_call_id(call_id: str | None) -> None:
    """The current request (and the tasks it starts from now on) is about ``call_id``."""
    value = None if call_id is None else clean(call_id[:MAX_CALL_ID_CHARS])
    CALL_ID.set(value)
    facts = request_facts.CURRENT.get()
    if facts is not None:  # for the access line, written outside the endpoint's task
        facts.call_id = value


def call_context(call_id: str) -> contextvars.Context:
    """A copy of the current context about ``call_id``: for ``asyncio.create_task(...,
    context=call_context(call_id))`` when a task acts for a call, wherever it is started."""
    context = contextvars.copy_context()
    context.run(CALL_ID.set, clean(call_id[:MAX_CALL_ID_CHARS]))
    return context


@contextlib.contextmanager
def calling(call_id: str | None) -> Iterator[None]:
    """Lines logged inside the block are about ``call_id``; the previous call id after it."""
    token = CALL_ID.set(None if call_id is None else clean(call_id[:MAX_CALL_ID_CHARS]))
    try:
        yield
    finally:
        CALL_ID.reset(token)


# ---------------------------------------------------------------------------------------
# Records


# The factory that ours wraps (logging's own, or one a library installed before us).
_base_factory: list[Callable[..., logging.LogRecord]] = [logging.LogRecord]


def _make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory[0](*args, **kwargs)
    record.call_id = CALL_ID.get()
    try:
        message = record.getMessage()
    except Exception:  # a bad format: logging reports it when the record is emitted
        return record
    record.msg, record.args = clean(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = _clean_traceback(_TRACEBACKS.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = _clean_traceback(record.stack_info)
    return record


_TRACEBACKS = logging.Formatter()


def install_record_factory() -> None:
    """Mask and escape every log record made from now on, in this process (idempotent)."""
    current = logging.getLogRecordFactory()
    if current is _make_record:
        return
    _base_factory[0] = current
    logging.setLogRecordFactory(_make_record)


def uninstall_record_factory() -> None:
    """Back to the factory before :func:`install_record_factory` (for measurements)."""
    if logging.getLogRecordFactory() is _make_record:
        logging.setLogRecordFactory(_base_factory[0])


# ---------------------------------------------------------------------------------------
# Formats


class TextFormatter(logging.Formatter):
    """``2026-12-05 10:00:00,123 [worker 2 ]INFO bot.calls call=abc: message``."""

    def __init__(self, worker: str | None = None) -> None:
        self.who = f"worker {worker} " if worker else ""
        super().__init__(f"%(asctime)s {self.who}%(levelname)s %(name)s%(call)s: %(message)s")

    _second: tuple[int, str] = (-1, "")  # the last second written, as text

    def format(self, record: logging.LogRecord) -> str:
        call_id = getattr(record, "call_id", None)
        record.call = f" call={call_id}" if call_id else ""
        return super().format(record)

    def plain_line(self, created: float, level: str, logger: str, call_id: str | None, message: str) -> str:
        """What :meth:`format` makes of a record with these fields and no traceback, made
        without the record (the access line's way: :func:`log_access`)."""
        second = int(created)
        call = f" call={call_id}" if call_id else ""
        stamp = f"{self._time_text(second, created)},{int((created - second) * 1000):03d}"
        return f"{stamp} {self.who}{level} {logger}{call}: {message}"

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """logging's own format, its date and time made once a second (a line per callback)."""
        stamp = self._time_text(int(record.created), record.created)
        return f"{stamp},{int(record.msecs):03d}"  # logging's default_msec_format

    def _time_text(self, second: int, created: float) -> str:
        if second != self._second[0]:
            self._second = (second, time.strftime(self.default_time_format, self.converter(created)))
        return self._second[1]


def json_formatter(worker: str | None = None) -> logging.Formatter:
    """One JSON object per line: ``timestamp``, ``level``, ``logger``, ``message``,
    ``call_id``, ``worker`` and any ``extra`` fields (the access log's)."""
    from pythonjsonlogger.core import RESERVED_ATTRS  # noqa: PLC0415  # only when chosen
    from pythonjsonlogger.json import JsonFormatter  # noqa: PLC0415

    class _Masked(JsonFormatter):
        def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
            # The message is masked already; ``extra`` fields and tracebacks are not.
            masked: dict[str, Any] = mask_json(log_data)
            return masked

    return _Masked(
        "%(levelname)s %(name)s %(message)s %(call_id)s",
        rename_fields={"levelname": "level", "name": "logger"},
        static_fields={"worker": int(worker)} if worker and worker.isdigit() else {},
        timestamp=True,
        json_ensure_ascii=False,
        reserved_attrs=[*RESERVED_ATTRS, "call"],  # TextFormatter's, should both be in use
    )


class LoopBatchedStream(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes the lines of one pass of the event loop together.

    With a line per callback, one ``write`` and ``flush`` per record was the largest cost of
    logging (a system call each). Records made on the event loop are formatted at once and
    written when the loop has run what was ready (``call_soon``): under load, many lines in
    one call, with nothing held longer than the turns already running. Records of other
    threads, and of a process without a running loop, are written at once; what is pending
    is written when the handler is flushed or closed (at exit too)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pending: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._add(line)

    def emit_line(self, line: str) -> None:
        """Write ``line`` (formatted, without its line break) as :meth:`emit` writes a
        record's: :func:`log_access` hands its line over this way when it may."""
        self.acquire()
        try:
            self._add(line + self.terminator)
        finally:
            self.release()

    def _add(self, line: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # another thread, or no loop: as StreamHandler does
            self._write([*self._take(), line])
            return
        if not self._pending:
            loop.call_soon(self.flush)
        self._pending.append(line)

    def flush(self) -> None:
        self.acquire()
        try:
            self._write(self._take())
        finally:
            self.release()

    def _take(self) -> list[str]:
        lines, self._pending = self._pending, []
        return lines

    def _write(self, lines: list[str]) -> None:
        if lines:
            try:
                self.stream.write("".join(lines))
                self.stream.flush()
            except Exception:  # a closed or broken stream: as logging does, report and go on
                self.handleError(logging.makeLogRecord({"msg": "log lines not written"}))


def configure_logging(level: str, log_format: Literal["text", "json"] = "text") -> None:
    """The process's logging: ``level``, ``log_format``, masking, and the worker's number
    (``voicebot serve --workers N``) on every line. Called once by the commands that serve."""
    install_record_factory()
    worker = os.environ.get(WORKER_ENV)
    handler = LoopBatchedStream(sys.stderr)
    handler.setFormatter(json_formatter(worker) if log_format == "json" else TextFormatter(worker))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # No format of ours shows the source line, thread or process of a record: logging need
    # not look them up for each one (the "Optimization" section of logging's docs).
    logging._srcfile = None  # documented, though private
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # jieba announces its dictionary loading at DEBUG on a handler of its own.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    # httpx prints every request's whole URL at INFO (masked here, but one line per TTS,
    # business and PBX request); our clients log what matters about theirs. httpcore's
    # DEBUG trace quotes header values (tokens) verbatim.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


# ---------------------------------------------------------------------------------------
# The access log


def log_access(method: str, path: str, status: int, duration_ms: float, call_id: str | None) -> None:
    """One INFO line on ``bot.access`` for an answered request, ``GET /cti/ai 200 12.3 ms``,
    about ``call_id`` (already cleaned). The caller leaves the query string out (it holds
    the caller's number and words); status 0 means no answer was sent. JSON lines carry
    ``method``, ``path``, ``status`` and ``duration_ms`` (to 0.1 ms, as the text has it).
    Written by :mod:`bot.web.edge`.

    A line per callback is the costliest record the service makes (docs/performance.md).
    It is masked and escaped here as the record factory would (:func:`clean`). When the
    only handler is the one :func:`configure_logging` installs with the text format,
    the line is made as that handler would make it and handed to it (no record at all);
    otherwise a record is made from a copy of one made once (:data:`_ACCESS_RECORD`),
    not by ``Logger.info`` (the record factory, the lookup of ``extra`` and
    ``LogRecord``'s own set-up took most of its cost), and handled as any record is.
    """
    if not access_logger.isEnabledFor(logging.INFO):
        return
    now = time.time()
    message = f"{_clean_request(method, path)} {status} {duration_ms:.1f} ms"
    handler = _plain_text_handler()
    if handler is not None:
        formatter = cast(TextFormatter, handler.formatter)
        handler.emit_line(formatter.plain_line(now, "INFO", access_logger.name, call_id, message))
        return
    record = logging.LogRecord.__new__(logging.LogRecord)
    fields = record.__dict__
    fields.update(_ACCESS_RECORD)
    fields["msg"] = message
    fields["created"] = now
    fields["msecs"] = int((now - int(now)) * 1000) + 0.0  # as LogRecord makes it
    fields["relativeCreated"] = _ACCESS_RECORD["relativeCreated"] + (now - _ACCESS_RECORD["created"]) * 1000
    fields.update(call_id=call_id, method=method, path=path, status=status, duration_ms=round(duration_ms, 1))
    access_logger.handle(record)


@functools.lru_cache(maxsize=512)
def _clean_request(method: str, path: str) -> str:
    """``method path``, cleaned: the CTI's few paths are cleaned once, not per callback."""
    return clean(f"{method} {path}")


def _plain_text_handler() -> LoopBatchedStream | None:
    """The one handler an access record would reach, when a line can be handed to it
    directly: :func:`configure_logging`'s own, with the text format and no filter, and
    nothing else on the way (a test's or a deployment's handler, a filter, a logger
    that ``logging.config`` disabled)."""
    if access_logger.filters or access_logger.disabled:
        return None
    found: logging.Handler | None = None
    logger: logging.Logger | None = access_logger
    while logger is not None:  # as Logger.callHandlers walks it
        for handler in logger.handlers:
            if found is not None:
                return None
            found = handler
        if not logger.propagate:
            break
        logger = logger.parent
    if (
        type(found) is not LoopBatchedStream
        or type(found.formatter) is not TextFormatter
        or found.filters
        or found.level > logging.INFO
    ):
        return None
    return found


# Every attribute a record of ``bot.access`` has, as logging sets them, made once.
_ACCESS_RECORD = dict(
    logging.LogRecord(access_logger.name, logging.INFO, __file__, 0, "", (), None, "log_access").__dict__
)
