"""What a campaign is: its flow and GX task, when and how often it calls, and its numbers.

GX tasks keep their own schedule and the manual has no request to change it (§46–§51),
so the bot enforces a campaign's rules by what it hands the task and when: it imports
numbers (§47) only inside the calling hours and up to the daily cap, starts the task
(§48) when it has numbers to call and stops it (§49) outside the hours.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CampaignState = Literal["stopped", "running", "finished"]
# waiting: to hand to the task at next_at; imported: in the GX task, its call to come;
# done: called, its result kept; failed: not reached after every attempt;
# dnc: on the do-not-call list, never called.
NumberState = Literal["waiting", "imported", "done", "failed", "dnc"]
NUMBER_STATES: tuple[NumberState, ...] = ("waiting", "imported", "done", "failed", "dnc")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_WINDOW = re.compile(r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})")


class CampaignRules(BaseModel):
    """How a campaign calls; every field has a default an integrator may keep."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hours: tuple[str, ...] = Field(
        ("09:00-12:00", "13:30-20:00"),
        description="Calling windows in the call center's time zone, HH:MM-HH:MM.",
    )
    weekdays: tuple[int, ...] = Field((1, 2, 3, 4, 5, 6, 7), description="Days it calls, 1 = Monday.")
    daily_cap: int | None = Field(None, ge=1, description="Most numbers handed to the task per day.")
    attempts: int = Field(3, ge=1, le=10, description="Calls of a number that does not answer, at most.")
    retry_after_minutes: int = Field(60, ge=1, description="Wait before calling an unanswered number again.")
    callback_date: str = Field("callback_date", description="The flow's variable with a callback date.")
    callback_time: str = Field("callback_time", description="The flow's variable with a callback time.")

    @field_validator("hours")
    @classmethod
    def _windows(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for window in value:
            match = _WINDOW.fullmatch(window.strip())
            if match is None:
                raise ValueError(f"{window!r} is not a calling window — write HH:MM-HH:MM, e.g. 09:00-12:00")
            start, end = (_clock(match[k]) for k in ("start", "end"))
            if start >= end:
                raise ValueError(f"{window!r} ends before it starts — write the earlier time first")
        return tuple(w.strip() for w in value)

    @field_validator("weekdays")
    @classmethod
    def _days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(day not in range(1, 8) for day in value):
            raise ValueError("weekdays are 1 (Monday) to 7 (Sunday), at least one")
        return tuple(sorted(set(value)))

    def open_at(self, moment: dt.datetime) -> bool:
        """Whether the campaign may call at ``moment`` (local time)."""
        if moment.isoweekday() not in self.weekdays:
            return False
        now = moment.time()
        for window in self.hours:
            start, end = (_clock(part) for part in window.split("-"))
            if start <= now < end:
                return True
        return False


class NewCampaign(BaseModel):
    """A campaign as the admin API creates it (its numbers come as a file)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Lower-case letters, digits, - and _, e.g. survey-2026-12.")
    flow: str = Field(description="The flow its calls run (often an outbound one).")
    task_id: int = Field(ge=0, description="The GX batch-call task it imports into (§46 `id`).")
    rules: CampaignRules = Field(default_factory=CampaignRules)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if _NAME.fullmatch(value) is None:
            raise ValueError(f"{value!r} is not a campaign name — use a-z, 0-9, - and _ (survey-2026-12)")
        return value


@dataclass(frozen=True)
class Campaign:
    name: str
    flow: str
    task_id: int
    rules: CampaignRules
    state: CampaignState
    task_running: bool
    created_at: float
    updated_at: float

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "flow": self.flow,
            "task_id": self.task_id,
            "rules": self.rules.model_dump(mode="json"),
            "state": self.state,
            "task_running": self.task_running,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass
class NumberRow:
    """One number of a campaign: its data, where it is, and its result."""

    campaign: str
    telnum: str
    data: dict[str, str]
    state: NumberState = "waiting"
    attempts: int = 0
    next_at: float = 0.0
    imported_at: float | None = None
    call_id: str | None = None
    cti_state: int | None = None  # §51 callstate of its last call
    outcome: str | None = None
    grade: str | None = None
    score: int | None = None
    reason: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    updated_at: float = 0.0


def _clock(text: str) -> dt.time:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24 and minutes == 0:
        return dt.time.max
    return dt.time(hours, minutes)
