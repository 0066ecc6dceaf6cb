"""One tick of a running campaign: what the GX task says of the numbers it called, the
numbers due handed to it within the hours and the cap, the task started or stopped.

GX tasks have no request to change their schedule (§46–§51), so the hours, the cap and
the retries are kept by what is imported and when the task runs (docs/campaigns.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.campaigns.gx_batch import CALL_COMPLETED, CALL_PENDING, UNREACHABLE_STATES, GXBatchCalls
from bot.campaigns.model import Campaign, NumberRow
from bot.campaigns.store import CampaignStore

logger = logging.getLogger(__name__)

IMPORT_BATCH = 200  # numbers per §47 request
# A number §51 reports called whose robot call never reached us (another robot, an
# ASR that failed at once) is closed after this long.
UNREPORTED_CALL_SECONDS = 3600.0
# §51 is asked for the numbers imported since the earliest import waiting, less this:
# the CTI's clock dates the imports, and it may not be ours to the minute.
CTI_CLOCK_SLACK_SECONDS = 86400.0


@dataclass(kw_only=True)
class Scheduler:
    store: CampaignStore
    batch: GXBatchCalls
    zone: ZoneInfo
    clock: Callable[[], float]

    async def tick(self, campaign: Campaign) -> None:
        now = self.clock()
        local = dt.datetime.fromtimestamp(now, self.zone)
        await self._collect_results(campaign, now)
        if not campaign.rules.open_at(local):
            if campaign.task_running:
                logger.info(
                    "campaign %s: outside its hours; its GX task %d stops", campaign.name, campaign.task_id
                )
                await self.batch.stop(campaign.task_id)
                await self.store.set_task_running(campaign.name, False, now)
            return
        imported = await self._import_due(campaign, now, local)
        counts = await self.store.counts(campaign.name)
        if imported or counts.get("imported"):
            if not campaign.task_running:
                await self.batch.start(campaign.task_id)
                await self.store.set_task_running(campaign.name, True, now)
                logger.info("campaign %s: GX task %d started", campaign.name, campaign.task_id)
        elif not counts.get("waiting"):
            logger.info("campaign %s: every number called; finished", campaign.name)
            if campaign.task_running:
                await self.batch.stop(campaign.task_id)
                await self.store.set_task_running(campaign.name, False, now)
            await self.store.set_state(campaign.name, "finished", now)

    async def _import_due(self, campaign: Campaign, now: float, local: dt.datetime) -> int:
        """Hand the numbers due to the task, within the day's cap; how many went."""
        limit = IMPORT_BATCH
        if campaign.rules.daily_cap is not None:
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
            limit = min(
                limit, campaign.rules.daily_cap - await self.store.imported_since(campaign.name, midnight)
            )
        if limit <= 0:
            return 0
        due = await self.store.due(campaign.name, now, limit)
        blocked = await self.store.dnc_numbers(n.telnum for n in due)
        for number in due:
            number.updated_at = now
            if number.telnum in blocked:
                number.state = "dnc"
                continue
            number.state, number.imported_at, number.attempts = "imported", now, number.attempts + 1
        calling = [n for n in due if n.state == "imported"]
        if calling:
            await self.batch.import_numbers(
                campaign.task_id, [(n.telnum, n.data.get("name", ""), campaign.name) for n in calling]
            )
            logger.info(
                "campaign %s: %d numbers imported into GX task %d",
                campaign.name,
                len(calling),
                campaign.task_id,
            )
        await self.store.save(due)
        return len(calling)

    async def _collect_results(self, campaign: Campaign, now: float) -> None:
        """§51's word on the numbers in the task: an unanswered one is tried again later
        or fails; an answered one waits for its robot call's end (``call_ended``)."""
        waiting = await self.store.in_state(campaign.name, "imported")
        if not waiting:
            return
        earliest = min(n.imported_at or now for n in waiting) - CTI_CLOCK_SLACK_SECONDS
        rows = await self.batch.results(campaign.task_id, dt.datetime.fromtimestamp(earliest, self.zone))
        latest: dict[str, dict[str, Any]] = {}
        for row in rows:  # the newest import of each number
            telnum = str(row.get("telnum", ""))
            if str(row.get("createtime", "")) >= str(latest.get(telnum, {}).get("createtime", "")):
                latest[telnum] = row
        changed: list[NumberRow] = []
        for number in waiting:
            found = latest.get(number.telnum)
            state = _int(found.get("callstate")) if found else None
            if state is None or state in CALL_PENDING:
                continue
            number.cti_state, number.updated_at = state, now
            if state == CALL_COMPLETED:
                if now - (number.imported_at or now) > UNREPORTED_CALL_SECONDS:
                    number.state, number.reason = "done", "called; no robot call reached the bot"
                changed.append(number)
                continue
            retry = state not in UNREACHABLE_STATES and number.attempts < campaign.rules.attempts
            if retry:
                number.state, number.next_at = "waiting", now + campaign.rules.retry_after_minutes * 60
            else:
                number.state = "failed"
            changed.append(number)
        await self.store.save(changed)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
