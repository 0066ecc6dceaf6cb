"""The CTI's call records (GX manual §31), kept beside the transcripts and joined to a
robot call when its transcript is read (docs/pbx.md, "Call records (§31)").

A record is stored once per pushing CTI (``client_ip``) and key (the CTI's ``id``, else
its ``callid``): the CTI pushes a record again after a "400", and the newest copy wins.
The join is made at read time, so a record that arrives before the robot call's
transcript is written joins as well as one that arrives after it:

- **by id**: the record's ``callid`` (or ``peercallid``) is the robot call's id (§52's
  ``callid``), URL-decoded (the manual prints ``%40`` for ``@``);
- **by number and time**: one of the record's numbers (``caller``, ``callee``) is the
  robot call's ``telnum``, and the record's time (``beginTime`` to the end of its talk)
  overlaps the call's (first callback to end), widened by a slack on both sides. A
  record that joins another robot call by id is never joined by number.

Numbers are compared as keys: digits only, without a country or trunk prefix before a
mobile number; masked (``138****5678``) when the transcripts are, since the robot
call's number is then masked too.

This module holds what both databases share and the SQLite side (run in the
transcript store's worker thread); ``bot.store.pg_call_records`` is PostgreSQL's.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote

from bot.privacy import mask_json, mask_text

Join = Literal["callid", "peercallid", "number_and_time"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS call_records (
    source TEXT NOT NULL,
    record_key TEXT NOT NULL,
    callid TEXT,
    peercallid TEXT,
    caller_key TEXT NOT NULL,
    callee_key TEXT NOT NULL,
    begin_ms INTEGER,
    end_ms INTEGER,
    received_at TEXT NOT NULL,
    shown TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (source, record_key)
);
CREATE INDEX IF NOT EXISTS call_records_by_callid ON call_records (callid);
CREATE INDEX IF NOT EXISTS call_records_by_peer ON call_records (peercallid);
CREATE INDEX IF NOT EXISTS call_records_by_caller ON call_records (caller_key, begin_ms);
CREATE INDEX IF NOT EXISTS call_records_by_callee ON call_records (callee_key, begin_ms);
CREATE INDEX IF NOT EXISTS call_records_by_received ON call_records (received_at);
"""
COLUMNS = (
    "source, record_key, callid, peercallid, caller_key, callee_key, begin_ms, end_ms, received_at, "
    "shown, data"
)
# A newer copy of a record replaces what was pushed before; when it first came stays.
UPDATED = (
    "callid = excluded.callid, peercallid = excluded.peercallid, caller_key = excluded.caller_key, "
    "callee_key = excluded.callee_key, begin_ms = excluded.begin_ms, end_ms = excluded.end_ms, "
    "shown = excluded.shown, data = excluded.data"
)
_MOBILE = re.compile(r"(?:0086|86|0)?(1[3-9][\d*]{9})")
_NOT_DIGIT = re.compile(r"[^\d*]")


@dataclass(frozen=True)
class CallRecord:
    """One record of the CTI's call-record push, as the store keeps it.

    ``key`` is ``id:<id>`` or ``callid:<callid>``; ``source`` the pushing CTI's
    ``client_ip``; ``begin_ms`` and ``end_ms`` (epoch milliseconds) the record's time,
    from its start to the end of its talk; ``shown`` what ``/calls/<id>`` shows of it;
    ``raw`` the record as pushed.
    """

    key: str
    source: str
    callid: str | None
    peercallid: str | None
    caller: str
    callee: str
    begin_ms: int | None
    end_ms: int | None
    shown: dict[str, Any]
    raw: dict[str, Any]

    def masked(self) -> CallRecord:
        """The record with every phone and ID number in it masked (``138****5678``)."""
        return dataclasses.replace(
            self,
            caller=mask_text(self.caller),
            callee=mask_text(self.callee),
            shown=mask_json(self.shown),
            raw=mask_json(self.raw),
        )


def number_key(number: str) -> str:
    """A number as the join compares it: digits (and a mask's stars) only, a mobile
    number without its ``+86``/``0086``/``86`` or trunk ``0``."""
    digits = _NOT_DIGIT.sub("", number)
    mobile = _MOBILE.fullmatch(digits)
    return mobile[1] if mobile else digits


def telnum_keys(telnum: str) -> tuple[str, str]:
    """The keys a robot call's number joins on: as stored, and masked (records stored
    while the transcripts were masked)."""
    key = number_key(telnum)
    return key, number_key(mask_text(key))


def rows(records: list[CallRecord], *, mask: bool, received_at: Any) -> list[tuple[Any, ...]]:
    """The rows of ``records`` in :data:`COLUMNS` order, the last copy of each key only
    (a push may repeat a record), masked when ``mask``."""
    latest = {(r.source, r.key): r.masked() if mask else r for r in records}
    return [
        (
            r.source,
            r.key,
            r.callid,
            r.peercallid,
            number_key(r.caller),
            number_key(r.callee),
            r.begin_ms,
            r.end_ms,
            received_at,
            json.dumps(r.shown, ensure_ascii=False),
            json.dumps(r.raw, ensure_ascii=False),
        )
        for r in latest.values()
    ]


def id_candidates(call_id: str) -> tuple[str, str]:
    """The ids a record may name the call by: as the callbacks sent it, and URL-decoded."""
    return call_id, unquote(call_id)


def window_ms(started_at: float, ended_at: float | None, slack_ms: int) -> tuple[int, int]:
    """The robot call's time (epoch seconds; a call in progress runs until now) as epoch
    milliseconds, widened by ``slack_ms`` on both sides."""
    end = ended_at if ended_at is not None else time.time()
    return round(started_at * 1000) - slack_ms, round(end * 1000) + slack_ms


def joined(row: Any, how: Join, received_at: str | None) -> dict[str, Any]:
    """A stored record as ``/calls/<id>`` shows it: how it was joined, what is shown of
    it, when it came, and the record as pushed."""
    return {
        "join": how,
        **json.loads(row["shown"]),
        "received_at": received_at,
        "record": json.loads(row["data"]),
    }


def how_joined(row: Any, ids: tuple[str, str]) -> Join:
    return "callid" if row["callid"] in ids else "peercallid"


# --- SQLite, in the transcript store's worker thread ---

_BY_ID = (
    f"SELECT {COLUMNS} FROM call_records WHERE callid IN (?, ?) OR peercallid IN (?, ?) ORDER BY begin_ms"
)
_BY_NUMBER = (
    f"SELECT {COLUMNS} FROM call_records r WHERE (caller_key IN (?, ?) OR callee_key IN (?, ?)) "
    "AND begin_ms <= ? AND end_ms >= ? "
    "AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.call_id IN (r.callid, r.peercallid) AND c.call_id != ?) "
    "ORDER BY begin_ms"
)


def store_sqlite(db: sqlite3.Connection, stored: list[tuple[Any, ...]]) -> int:
    """Upsert ``stored`` (from :func:`rows`) in one transaction; how many were new."""
    with db:
        db.execute("BEGIN")
        new = sum(
            db.execute("SELECT 1 FROM call_records WHERE source = ? AND record_key = ?", row[:2]).fetchone()
            is None
            for row in stored
        )
        db.executemany(
            f"INSERT INTO call_records ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (source, record_key) DO UPDATE SET {UPDATED}",
            stored,
        )
    return new


def for_call_sqlite(
    db: sqlite3.Connection, call_id: str, call: sqlite3.Row | None, slack_ms: int, epoch: Any
) -> list[dict[str, Any]]:
    """The records joined to ``call_id``; ``call`` its ``calls`` row (None: by id only),
    ``epoch`` the reader of its times."""
    ids = id_candidates(call_id)
    by_id = db.execute(_BY_ID, (*ids, *ids)).fetchall()
    found = [joined(r, how_joined(r, ids), r["received_at"]) for r in by_id]
    if call is None:
        return found
    keys = telnum_keys(call["telnum"])
    low, high = window_ms(epoch(call["started_at"]), epoch(call["ended_at"]), slack_ms)
    seen = {(r["source"], r["record_key"]) for r in by_id}
    for r in db.execute(_BY_NUMBER, (*keys, *keys, high, low, call_id)):
        if (r["source"], r["record_key"]) not in seen:
            found.append(joined(r, "number_and_time", r["received_at"]))
    return found


def purge_sqlite(db: sqlite3.Connection, received_before: str, batch: int) -> int:
    """Delete up to ``batch`` records received before ``received_before`` (ISO)."""
    with db:
        cursor = db.execute(
            "DELETE FROM call_records WHERE rowid IN "
            "(SELECT rowid FROM call_records WHERE received_at < ? LIMIT ?)",
            (received_before, batch),
        )
    return cursor.rowcount
