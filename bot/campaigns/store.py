"""Campaigns, their numbers and the do-not-call list, in SQLite or PostgreSQL.

``campaigns.sqlite3`` in the data directory, or the ``VOICEBOT_DATABASE_URL`` database
(migration 0007), where every instance sees the same campaigns.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Any

from bot.campaigns.db import Database, Row
from bot.campaigns.model import Campaign, CampaignRules, CampaignState, NewCampaign, NumberRow, NumberState

SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    name TEXT PRIMARY KEY,
    flow TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    settings TEXT NOT NULL,
    state TEXT NOT NULL,
    task_running INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS campaign_numbers (
    campaign TEXT NOT NULL REFERENCES campaigns (name) ON DELETE CASCADE,
    telnum TEXT NOT NULL,
    data TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL DEFAULT 0,
    imported_at REAL,
    call_id TEXT,
    cti_state INTEGER,
    outcome TEXT,
    grade TEXT,
    score INTEGER,
    reason TEXT,
    slots TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (campaign, telnum)
);
CREATE INDEX IF NOT EXISTS campaign_numbers_due ON campaign_numbers (campaign, state, next_at);
CREATE INDEX IF NOT EXISTS campaign_numbers_by_telnum ON campaign_numbers (telnum);
CREATE TABLE IF NOT EXISTS do_not_call (
    telnum TEXT PRIMARY KEY,
    added_at REAL NOT NULL,
    reason TEXT NOT NULL,
    call_id TEXT
);
"""
NUMBER_COLUMNS = [f.name for f in dataclasses.fields(NumberRow)]
_JSON_COLUMNS = ("data", "slots")


class CampaignStore:
    """Every read and write of campaigns, on one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()

    # --- campaigns ---

    async def create(self, new: NewCampaign, numbers: Sequence[NumberRow], now: float) -> None:
        """Store a campaign, stopped, with its numbers (the caller checked that the name is new)."""
        statements: list[tuple[str, Sequence[Any]]] = [
            (
                "INSERT INTO campaigns (name, flow, task_id, settings, state, created_at, updated_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                (new.name, new.flow, new.task_id, new.rules.model_dump_json(), "stopped", now, now),
            )
        ]
        statements += [_insert_number(row) for row in numbers]
        await self.db.transaction(statements)

    async def campaigns(self) -> list[Campaign]:
        return [
            _campaign(row) for row in await self.db.fetch("SELECT * FROM campaigns ORDER BY created_at, name")
        ]

    async def campaign(self, name: str) -> Campaign | None:
        rows = await self.db.fetch("SELECT * FROM campaigns WHERE name = $1", name)
        return _campaign(rows[0]) if rows else None

    async def set_state(self, name: str, state: CampaignState, now: float) -> bool:
        sql = "UPDATE campaigns SET state = $1, updated_at = $2 WHERE name = $3"
        return await self.db.execute(sql, state, now, name) == 1

    async def set_task_running(self, name: str, running: bool, now: float) -> None:
        sql = "UPDATE campaigns SET task_running = $1, updated_at = $2 WHERE name = $3"
        await self.db.execute(sql, running, now, name)

    async def delete(self, name: str) -> bool:
        await self.db.execute("DELETE FROM campaign_numbers WHERE campaign = $1", name)
        return await self.db.execute("DELETE FROM campaigns WHERE name = $1", name) == 1

    # --- numbers ---

    async def numbers(self, campaign: str) -> list[NumberRow]:
        sql = "SELECT * FROM campaign_numbers WHERE campaign = $1 ORDER BY telnum"
        return [_number(row) for row in await self.db.fetch(sql, campaign)]

    async def counts(self, campaign: str) -> dict[str, int]:
        sql = "SELECT state, count(*) AS n FROM campaign_numbers WHERE campaign = $1 GROUP BY state"
        return {row["state"]: int(row["n"]) for row in await self.db.fetch(sql, campaign)}

    async def due(self, campaign: str, now: float, limit: int) -> list[NumberRow]:
        sql = (
            "SELECT * FROM campaign_numbers WHERE campaign = $1 AND state = 'waiting' AND next_at <= $2 "
            "ORDER BY next_at, telnum LIMIT $3"
        )
        return [_number(row) for row in await self.db.fetch(sql, campaign, now, limit)]

    async def imported_since(self, campaign: str, since: float) -> int:
        sql = "SELECT count(*) AS n FROM campaign_numbers WHERE campaign = $1 AND imported_at >= $2"
        return int((await self.db.fetch(sql, campaign, since))[0]["n"])

    async def in_state(self, campaign: str, state: NumberState) -> list[NumberRow]:
        sql = "SELECT * FROM campaign_numbers WHERE campaign = $1 AND state = $2 ORDER BY telnum"
        return [_number(row) for row in await self.db.fetch(sql, campaign, state)]

    async def by_telnum(self, telnum: str, states: Iterable[NumberState]) -> list[NumberRow]:
        wanted = set(states)
        sql = "SELECT * FROM campaign_numbers WHERE telnum = $1"
        return [n for n in map(_number, await self.db.fetch(sql, telnum)) if n.state in wanted]

    async def save(self, rows: Sequence[NumberRow]) -> None:
        """Write back numbers the scheduler or a call's end changed."""
        if rows:
            await self.db.transaction([_update_number(row) for row in rows])

    # --- the do-not-call list ---

    async def add_dnc(self, telnum: str, reason: str, call_id: str | None, now: float) -> bool:
        """Put a number on the list (and take it out of every campaign's calls to come)."""
        sql = (
            "UPDATE campaign_numbers SET state = 'dnc', updated_at = $1 WHERE telnum = $2 "
            "AND state IN ('waiting', 'imported')"
        )
        await self.db.execute(sql, now, telnum)
        sql = (
            "INSERT INTO do_not_call (telnum, added_at, reason, call_id) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (telnum) DO NOTHING"
        )
        return await self.db.execute(sql, telnum, now, reason, call_id) == 1

    async def remove_dnc(self, telnum: str) -> bool:
        return await self.db.execute("DELETE FROM do_not_call WHERE telnum = $1", telnum) == 1

    async def dnc(self) -> list[Row]:
        return await self.db.fetch("SELECT * FROM do_not_call ORDER BY added_at DESC")

    async def dnc_numbers(self, telnums: Iterable[str]) -> set[str]:
        wanted = set(telnums)
        return {row["telnum"] for row in await self.dnc() if row["telnum"] in wanted}


def _insert_number(row: NumberRow) -> tuple[str, Sequence[Any]]:
    columns = ", ".join(NUMBER_COLUMNS)
    places = ", ".join(f"${i}" for i in range(1, len(NUMBER_COLUMNS) + 1))
    return f"INSERT INTO campaign_numbers ({columns}) VALUES ({places})", _values(row)


def _update_number(row: NumberRow) -> tuple[str, Sequence[Any]]:
    changed = [c for c in NUMBER_COLUMNS if c not in ("campaign", "telnum")]
    sets = ", ".join(f"{column} = ${i}" for i, column in enumerate(changed, start=1))
    n = len(changed)
    sql = f"UPDATE campaign_numbers SET {sets} WHERE campaign = ${n + 1} AND telnum = ${n + 2}"
    values = dict(zip(NUMBER_COLUMNS, _values(row), strict=True))
    return sql, [values[c] for c in changed] + [row.campaign, row.telnum]


def _values(row: NumberRow) -> list[Any]:
    values = dataclasses.asdict(row)
    for column in _JSON_COLUMNS:
        values[column] = json.dumps(values[column], ensure_ascii=False, default=str)
    return [values[c] for c in NUMBER_COLUMNS]


def _number(row: Row) -> NumberRow:
    values = {c: row[c] for c in NUMBER_COLUMNS}
    for column in _JSON_COLUMNS:
        values[column] = json.loads(values[column]) if values[column] else {}
    return NumberRow(**values)


def _campaign(row: Row) -> Campaign:
    return Campaign(
        name=row["name"],
        flow=row["flow"],
        task_id=int(row["task_id"]),
        rules=CampaignRules.model_validate_json(row["settings"]),
        state=row["state"],
        task_running=bool(row["task_running"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
    )
