"""Campaigns as the service runs them: created from a file, started and stopped, ticked
by one instance at a time, their numbers' data handed to the calls they place, and
each call's end written back as the number's result.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from bot.calls.events import Placed
from bot.campaigns.gx_batch import CALL_STATES, GXBatchCalls
from bot.campaigns.locks import SchedulerLock
from bot.campaigns.model import NUMBER_STATES, Campaign, CampaignState, NewCampaign, NumberRow
from bot.campaigns.numbers import read_numbers
from bot.campaigns.scheduler import Scheduler
from bot.campaigns.store import CampaignStore
from bot.dialog.state import CallState
from bot.errors import PBXError, RequestError, StorageError
from bot.language.flow import CAMPAIGN_DATA

logger = logging.getLogger(__name__)

DO_NOT_CALL = "do_not_call"  # the built-in intent (docs/flows.md §4)
RESULT_COLUMNS = ("state", "attempts", "outcome", "grade", "score", "reason", "call_id", "cti_state")


class Campaigns:
    """Every campaign of the service.

    Args:
        store: Where campaigns live (opened and closed here).
        batch: The GX CTI's batch calls; None when the PBX is not a GX CTI (campaigns
            can be created and their results read, not run).
        lock: Decides which instance schedules.
        zone: The call center's time zone (hours, days, callback times).
        builtins_of: The built-in intents a flow's intent stands for.
        blacklist: Also put do-not-call numbers on the CTI's blacklist (§38).
        tick_seconds: How often the scheduler looks at the campaigns.
    """

    def __init__(
        self,
        store: CampaignStore,
        batch: GXBatchCalls | None,
        *,
        lock: SchedulerLock,
        zone: ZoneInfo,
        builtins_of: Callable[[str, str], tuple[str, ...]],
        flow_names: Callable[[], set[str]],
        blacklist: bool,
        tick_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._batch = batch
        self._lock = lock
        self._zone = zone
        self._builtins_of = builtins_of
        self._flow_names = flow_names
        self._blacklist = blacklist
        self._tick_seconds = tick_seconds
        self._clock = clock
        self._index: dict[str, Placed] = {}  # the numbers in running campaigns' GX tasks
        self._campaigns_exist = False  # else a new call never asks the store
        self._scheduler = Scheduler(store=store, batch=batch, zone=zone, clock=clock) if batch else None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    async def open(self) -> None:
        await self.store.open()
        await self.refresh()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._batch is not None:
            await self._batch.aclose()
        await self.store.close()

    # --- what the admin API and the console ask ---

    async def create(
        self, new: NewCampaign, filename: str, content: bytes, columns: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Raises RequestError (409: the name is taken; 400: unknown flow, bad file)."""
        if await self.store.campaign(new.name) is not None:
            raise RequestError(f"campaign {new.name!r} exists — pick another name or delete it", status=409)
        if new.flow not in self._flow_names():
            names = ", ".join(sorted(self._flow_names()))
            raise RequestError(f"no flow {new.flow!r} — the flows are {names}")
        entries, warnings = read_numbers(filename, content, columns=columns)
        now = self._clock()
        blocked = await self.store.dnc_numbers(e.telnum for e in entries)
        rows = [
            NumberRow(
                new.name, e.telnum, e.data, state="dnc" if e.telnum in blocked else "waiting", updated_at=now
            )
            for e in entries
        ]
        await self.store.create(new, rows, now)
        self._campaigns_exist = True
        logger.info(
            "campaign %s created: %d numbers (%d on the do-not-call list)", new.name, len(rows), len(blocked)
        )
        return {**await self.show(new.name), "warnings": warnings}

    async def list(self) -> list[dict[str, Any]]:
        return [{**c.as_json(), "numbers": await self._counts(c.name)} for c in await self.store.campaigns()]

    async def show(self, name: str) -> dict[str, Any]:
        campaign = await self.store.campaign(name)
        if campaign is None:
            raise RequestError(f"no campaign {name!r}", status=404)
        shown = {**campaign.as_json(), "numbers": await self._counts(name), "task": None}
        if self._batch is not None and campaign.task_running:
            with contextlib.suppress(PBXError):  # the CTI's live counts are a bonus
                shown["task"] = await self._batch.monitor(campaign.task_id)
        return shown

    async def start(self, name: str) -> dict[str, Any]:
        if self._batch is None:
            raise RequestError(
                "campaigns run on a GX CTI: set VOICEBOT_PBX=gx and VOICEBOT_GX_URL", status=409
            )
        await self._set_state(name, "running")
        await self.refresh()
        self.poke()
        return await self.show(name)

    async def stop(self, name: str) -> dict[str, Any]:
        campaign = await self._set_state(name, "stopped")
        if campaign.task_running and self._batch is not None:
            await self._batch.stop(campaign.task_id)
            await self.store.set_task_running(name, False, self._clock())
        await self.refresh()
        return await self.show(name)

    async def results_csv(self, name: str) -> str:
        """Each number with its data and result: the campaign's file, answered."""
        if await self.store.campaign(name) is None:
            raise RequestError(f"no campaign {name!r}", status=404)
        numbers = await self.store.numbers(name)
        data_columns = list(dict.fromkeys(key for n in numbers for key in n.data))
        slot_columns = list(dict.fromkeys(key for n in numbers for key in n.slots))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["telnum", *data_columns, *RESULT_COLUMNS, "cti_state_text", *(f"slot.{k}" for k in slot_columns)]
        )
        for n in numbers:
            values = [getattr(n, column) for column in RESULT_COLUMNS]
            cti_text = CALL_STATES.get(n.cti_state, "") if n.cti_state is not None else ""
            slots = [_cell(n.slots.get(key)) for key in slot_columns]
            writer.writerow(
                [n.telnum, *(n.data.get(k, "") for k in data_columns), *map(_cell, values), cti_text, *slots]
            )
        return out.getvalue()

    # --- the do-not-call list ---

    async def add_do_not_call(self, telnum: str, reason: str, call_id: str | None = None) -> bool:
        added = await self.store.add_dnc(telnum, reason, call_id, self._clock())
        if added and self._blacklist and self._batch is not None:
            try:
                await self._batch.blacklist(telnum)
            except PBXError as exc:
                logger.warning("the CTI's blacklist refused a number (§38): %s", exc)
        self._index.pop(telnum, None)
        return added

    # --- the calls ---

    async def placed_call(self, telnum: str) -> Placed | None:
        """The campaign whose call a new call to ``telnum`` is: a number in a running
        campaign's GX task. Known from this instance's last refresh, else (imported by
        another instance since) asked of the store, while any campaign runs."""
        found = self._index.get(telnum)
        if found is not None or not self._campaigns_exist:
            return found
        for number in await self.store.by_telnum(telnum, ("imported",)):
            campaign = await self.store.campaign(number.campaign)
            if campaign is not None and campaign.state == "running":
                return Placed(campaign.name, campaign.flow, number.data)
        return None

    async def call_ended(self, call: CallState) -> None:
        """A call's end: the campaign number's result, a callback scheduled, a caller who
        asked never to be called again listed. Reads nothing for an ordinary call."""
        if any(DO_NOT_CALL in self._builtins_of(call.flow, intent) for intent in call.intents):
            await self.add_do_not_call(call.telnum, "the caller asked not to be called again", call.call_id)
        if not call.campaign:
            return
        found = [
            n for n in await self.store.by_telnum(call.telnum, NUMBER_STATES) if n.campaign == call.campaign
        ]
        if not found:
            return
        number, now = found[0], self._clock()
        slots = {name: value for name, value in call.variables.items() if name != CAMPAIGN_DATA}
        number.call_id, number.outcome, number.slots, number.updated_at = (
            call.call_id,
            call.outcome,
            slots,
            now,
        )
        if call.grade is not None:
            number.grade, number.score, number.reason = call.grade.grade, call.grade.score, call.grade.reason
        if number.state in ("waiting", "imported"):
            number.state = "done"
        campaign = await self.store.campaign(call.campaign)
        callback = campaign and self._callback_at(
            slots, campaign.rules.callback_date, campaign.rules.callback_time
        )
        if callback and callback > now and number.state != "dnc":
            number.state, number.next_at = "waiting", callback
            number.reason = f"callback {dt.datetime.fromtimestamp(callback, self._zone):%Y-%m-%d %H:%M}"
            logger.info("campaign %s: a number asked to be called back; scheduled", call.campaign)
        await self.store.save([number])
        self._index.pop(call.telnum, None)  # called: out of the task until imported again

    # --- the scheduler ---

    def poke(self) -> None:
        """Tick now (a campaign started)."""
        if self._wake is not None:
            self._wake.set()

    async def tick(self) -> None:
        """One look at every running campaign, by the instance holding the lock."""
        if self._scheduler is None:
            return
        async with self._lock.held() as mine:
            if not mine:
                return
            for campaign in await self.store.campaigns():
                if campaign.state != "running":
                    continue
                try:
                    await self._scheduler.tick(campaign)
                except PBXError as exc:
                    logger.warning("campaign %s: the CTI failed this tick: %s", campaign.name, exc)

    async def refresh(self) -> None:
        """Rebuild what this instance knows of the calls the campaigns place: the numbers
        in running campaigns' GX tasks (the only ones the CTI may be calling)."""
        index: dict[str, Placed] = {}
        campaigns = await self.store.campaigns()
        for campaign in campaigns:
            if campaign.state == "running":
                for number in await self.store.in_state(campaign.name, "imported"):
                    index[number.telnum] = Placed(campaign.name, campaign.flow, number.data)
        self._index, self._campaigns_exist = index, bool(campaigns)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._tick_seconds)
            self._wake.clear()
            try:
                await self.tick()
                await self.refresh()
            except StorageError:
                logger.exception("campaigns: the store failed this tick")
            except Exception:  # a failed tick must not end the scheduling
                logger.exception("campaigns: a tick failed")

    async def _set_state(self, name: str, state: CampaignState) -> Campaign:
        campaign = await self.store.campaign(name)
        if campaign is None:
            raise RequestError(f"no campaign {name!r}", status=404)
        await self.store.set_state(name, state, self._clock())
        logger.info("campaign %s: %s", name, state)
        return campaign

    async def _counts(self, name: str) -> dict[str, int]:
        counts = await self.store.counts(name)
        return {state: counts.get(state, 0) for state in NUMBER_STATES}

    def _callback_at(self, variables: Mapping[str, Any], date_name: str, time_name: str) -> float | None:
        day = _parse(variables.get(date_name), dt.date.fromisoformat)
        clock = _parse(variables.get(time_name), dt.time.fromisoformat)
        if day is None:
            return None
        moment = dt.datetime.combine(day, clock or dt.time(10, 0), self._zone)
        return moment.timestamp()


def _parse(value: object, parse: Callable[[str], Any]) -> Any:
    if value is None:
        return None
    try:
        return parse(str(value))
    except ValueError:
        return None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
