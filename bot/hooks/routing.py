"""Incoming-call routing (GX CTI §11): ``flows/hooks/routing.yaml`` → an extension or group.

When a call comes in, the CTI asks which extension or group should ring; the
answer is digits only. The file lists rules, tried in order; the first whose
conditions all hold gives the target, and ``default`` (else
``VOICEBOT_ROUTE_DEFAULT``) takes every other call::

    default: 1000
    holidays:
      - {date: 2026-10-01, note: 国庆节}
      - 2026-10-02
    workdays: [2026-09-28]          # make-up working days (调休) that fall on a weekend
    rules:
      - name: vip
        callers: [13800138000]
        callers_table: {table: vip_callers, column: phone}
        to: 8001
      - name: closed
        workday: false
        to: 9000
      - name: beijing-office-hours
        prefixes: ["010"]
        weekdays: [mon-fri]
        hours: ["09:00-12:00", "13:30-18:00"]
        to: 8101

Conditions: ``callers`` / ``callers_table`` (the caller is one of these numbers),
``prefixes`` (the caller's number starts with one of these), ``weekdays``,
``hours`` (windows in the call center's time zone, ``VOICEBOT_TIMEZONE``; a
window may pass midnight, ``18:00-09:00``; the end is excluded), ``holiday``
(true: only on a listed holiday; false: never on one) and ``workday`` (Monday to
Friday, unless a holiday, plus the listed ``workdays``). Numbers are compared
after :func:`bot.hooks.numbers.normalize_caller`. A call without a usable
caller number matches no rule that has a caller condition, but time rules still
apply to it: a hidden number calling at night should reach the night service.

:meth:`Router.route` is a pure function of the caller and the time, so the rules
can be tested for any moment.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from bot.hooks.files import HookFile, HookModel, hook_path, read_hook_file
from bot.hooks.numbers import normalize_caller
from bot.language.expressions import to_text
from bot.language.tables import Table

logger = logging.getLogger(__name__)

ROUTING_FILE = "routing"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TARGET = re.compile(r"[0-9]{1,20}")
_WINDOW = re.compile(r"\s*([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})\s*")
_MINUTES_PER_DAY = 24 * 60


def _target(value: str) -> str:
    if not _TARGET.fullmatch(value):
        raise ValueError(f"{value!r} is not an extension or group number — write digits only, such as 8001")
    return value


def _prefix(value: str) -> str:
    if not _TARGET.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a number prefix — write digits only, quoted to keep a leading 0: '010'"
        )
    return value


def _caller_number(value: str) -> str:
    number = normalize_caller(value)
    if number is None:
        raise ValueError(f"{value!r} is not a phone number — write 3 to 20 digits, such as 13800138000")
    return number


Target = Annotated[str, AfterValidator(_target)]
Prefix = Annotated[str, AfterValidator(_prefix)]
CallerNumber = Annotated[str, AfterValidator(_caller_number)]


@dataclass(frozen=True)
class Window:
    """A time-of-day window in minutes after midnight; ``start > end`` passes midnight."""

    start: int
    end: int

    def __contains__(self, minute: int) -> bool:
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end


def _window(value: Any) -> Window:
    if isinstance(value, Window):
        return value
    match = _WINDOW.fullmatch(to_text(value))
    if match is None:
        raise ValueError(f"{value!r} is not a time window — write it as HH:MM-HH:MM, such as 09:00-18:00")
    start_hour, start_minute, end_hour, end_minute = (int(part) for part in match.groups())
    if (
        start_hour > 23
        or end_hour > 24
        or start_minute > 59
        or end_minute > 59
        or (end_hour == 24 and end_minute)
    ):
        raise ValueError(f"{value!r} is not a time of day — hours go from 00 to 24, minutes up to 59")
    start, end = start_hour * 60 + start_minute, end_hour * 60 + end_minute
    if start == end % _MINUTES_PER_DAY:
        raise ValueError(f"{value!r} is empty — use 00:00-24:00 for the whole day, or leave out hours")
    return Window(start, end)


def _weekdays(value: Any) -> Any:
    """``[mon-fri, sat]`` → ``[0, 1, 2, 3, 4, 5]`` (Monday is 0, as ``date.weekday()``)."""
    if not isinstance(value, list):
        return value
    days: list[int] = []
    for item in value:
        first, _, last = to_text(item).strip().lower().partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValueError(
                f"{item!r} is not a weekday — use {', '.join(WEEKDAYS)} or a range such as mon-fri"
            )
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        days += range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)]
    return days


class Holiday(HookModel):
    """A date on which the call center keeps holiday hours; ``note`` is for people."""

    date: dt.date
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_date(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {"date": value}


class CallerTable(HookModel):
    """Caller numbers kept in a table of ``flows/data/``: the values of one column."""

    table: str = Field(min_length=1)
    column: str = Field(min_length=1)


class Rule(HookModel):
    """One routing rule: when all its conditions hold, the call goes to ``to``."""

    name: str = ""
    to: Target
    callers: list[CallerNumber] = Field(default_factory=list)
    callers_table: CallerTable | None = None
    prefixes: list[Prefix] = Field(default_factory=list)
    weekdays: Annotated[list[int], BeforeValidator(_weekdays)] = Field(default_factory=list)
    hours: list[Annotated[Window, BeforeValidator(_window)]] = Field(default_factory=list)
    holiday: bool | None = None
    workday: bool | None = None

    @model_validator(mode="after")
    def _has_a_condition(self) -> Rule:
        conditions = (self.callers, self.callers_table, self.prefixes, self.weekdays, self.hours)
        if not any(conditions) and self.holiday is None and self.workday is None:
            raise ValueError(
                "a rule without conditions takes every call — give it a condition "
                "(callers, prefixes, weekdays, hours, holiday, workday) or make its target the `default:`"
            )
        return self


class RoutingFile(HookModel):
    """The whole ``routing.yaml``."""

    default: Target | None = None
    holidays: list[Holiday] = Field(default_factory=list)
    workdays: list[dt.date] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)


@dataclass(frozen=True)
class Route:
    """Where a call goes, and why (for the log).

    Attributes:
        target: The extension or group number, digits only.
        rule: The name of the rule that matched (``rule 3`` when unnamed); ``None``
            when the default took the call.
        caller: The normalized caller number, ``None`` when there was none usable.
    """

    target: str
    rule: str | None
    caller: str | None


@dataclass(frozen=True)
class _CompiledRule:
    name: str
    target: str
    callers: frozenset[str] | None
    prefixes: tuple[str, ...]
    weekdays: frozenset[int]
    windows: tuple[Window, ...]
    holiday: bool | None
    workday: bool | None

    def matches(self, caller: str | None, moment: dt.datetime, day: _Day) -> bool:
        if self.callers is not None and caller not in self.callers:
            return False
        if self.prefixes and (caller is None or not caller.startswith(self.prefixes)):
            return False
        if self.weekdays and moment.weekday() not in self.weekdays:
            return False
        minute = moment.hour * 60 + moment.minute
        if self.windows and not any(minute in window for window in self.windows):
            return False
        if self.holiday is not None and self.holiday != day.holiday:
            return False
        return self.workday is None or self.workday == day.workday


@dataclass(frozen=True)
class _Day:
    holiday: bool
    workday: bool


class Router:
    """Decides where incoming calls go, from loaded rules.

    Args:
        default: The target when no rule matches (or nothing is configured).
        timezone: The call center's IANA time zone: rules' days and hours are its.
        rules: The rules, in order.
        holidays: Dates with holiday hours.
        workdays: Weekend dates that are working days.
    """

    def __init__(
        self,
        default: str,
        timezone: str,
        rules: Sequence[_CompiledRule] = (),
        holidays: frozenset[dt.date] = frozenset(),
        workdays: frozenset[dt.date] = frozenset(),
    ) -> None:
        self.default = default
        self.rules = tuple(rules)
        self._zone = zoneinfo.ZoneInfo(timezone)
        self._holidays = holidays
        self._workdays = workdays

    def route(self, caller: str | None, now: dt.datetime) -> Route:
        """The target for a call from ``caller`` at ``now``; never raises for any caller.

        Args:
            caller: The number as the CTI sent it (normalized here), or ``None``.
            now: The moment of the call; a naive datetime is taken as the call
                center's local time.
        """
        number = normalize_caller(caller)
        moment = now.astimezone(self._zone) if now.tzinfo else now
        day = self._day(moment.date())
        for rule in self.rules:
            if rule.matches(number, moment, day):
                return Route(rule.target, rule.name, number)
        return Route(self.default, None, number)

    def _day(self, date: dt.date) -> _Day:
        holiday = date in self._holidays
        workday = date in self._workdays or (date.weekday() < 5 and not holiday)
        return _Day(holiday, workday)


def load_router(flows_dir: Path, *, default: str, timezone: str) -> Router:
    """The routing rules of ``<flows dir>/hooks/routing.yaml``; without that file, a
    router that sends every call to ``default``.

    Args:
        flows_dir: The flows directory.
        default: The target when the file sets no ``default:`` (``VOICEBOT_ROUTE_DEFAULT``).
        timezone: The call center's time zone.

    Raises:
        FlowValidationError: the file is invalid (every problem, located).
    """
    path = hook_path(flows_dir, ROUTING_FILE)
    if path is None:
        logger.info("no %s/hooks/routing.yaml: every routed call goes to %s", flows_dir, default)
        return Router(default, timezone)
    return read_router(path, default=default, timezone=timezone)


def read_router(path: Path, *, default: str, timezone: str) -> Router:
    """Read and check a ``routing.yaml`` file (arguments as :func:`load_router`).

    Raises:
        FlowValidationError: the file is invalid (every problem, located).
    """
    loaded, file = read_hook_file(path, RoutingFile, "rules")
    tables: dict[str, Table] = {}  # a table two rules name is read once
    rules = [_compile(file, i, rule, tables) for i, rule in enumerate(loaded.rules)]
    file.raise_problems()
    return Router(
        loaded.default or default,
        timezone,
        rules,
        frozenset(h.date for h in loaded.holidays),
        frozenset(loaded.workdays),
    )


def _compile(file: HookFile, index: int, rule: Rule, tables: dict[str, Table]) -> _CompiledRule:
    callers = set(rule.callers)
    if rule.callers_table is not None:
        callers |= _table_callers(file, index, rule.callers_table, tables)
    return _CompiledRule(
        name=rule.name or f"rule {index + 1}",
        target=rule.to,
        callers=frozenset(callers) if rule.callers or rule.callers_table else None,
        prefixes=tuple(rule.prefixes),
        weekdays=frozenset(rule.weekdays),
        windows=tuple(rule.hours),
        holiday=rule.holiday,
        workday=rule.workday,
    )


def _table_callers(file: HookFile, index: int, spec: CallerTable, tables: dict[str, Table]) -> set[str]:
    where = ("rules", index, "callers_table")
    table = file.table((*where, "table"), spec.table, tables)
    if table is None:
        return set()
    if spec.column not in table.columns:
        file.problem(
            (*where, "column"),
            f"table {table.name!r} has no column {spec.column!r}",
            f"use one of: {', '.join(table.columns)}",
        )
        return set()
    numbers: set[str] = set()
    for index_in_table, row in enumerate(table.rows):
        value = to_text(row.get(spec.column)).strip()
        number = normalize_caller(value)
        if number is None:
            # A CSV's first line names the columns; a YAML table's rows are list items.
            csv = table.path.suffix == ".csv"
            place = f"line {index_in_table + 2}" if csv else f"row {index_in_table + 1}"
            file.problem(
                (*where, "table"),
                f"table {table.name!r}, {place}: {value!r} is not a phone number",
                "write 3 to 20 digits there, or delete the row",
            )
            continue
        numbers.add(number)
    return numbers
