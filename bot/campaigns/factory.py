"""The campaigns the settings ask for: their store, the GX CTI's batch calls, the lock."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.campaigns.db import PostgresDatabase, SQLiteDatabase
from bot.campaigns.gx_batch import GXBatchCalls
from bot.campaigns.locks import FileLock, RedisLock, SchedulerLock
from bot.campaigns.service import Campaigns
from bot.campaigns.store import SCHEMA, CampaignStore
from bot.config import Settings
from bot.pbx.http import PBXHttp
from bot.store.factory import database_url

if TYPE_CHECKING:
    from redis.asyncio import Redis


def build_campaigns(
    settings: Settings,
    redis: Redis | None,
    *,
    builtins_of: Callable[[str, str], tuple[str, ...]],
    flow_names: Callable[[], set[str]],
) -> Campaigns:
    """Campaigns in ``VOICEBOT_DATABASE_URL`` or ``campaigns.sqlite3``; run on the GX CTI
    when ``VOICEBOT_PBX=gx``."""
    dsn = database_url(settings)
    store = CampaignStore(PostgresDatabase(dsn) if dsn else SQLiteDatabase(settings.campaigns_path, SCHEMA))
    batch = None
    if settings.pbx == "gx" and settings.gx_url is not None:
        http = PBXHttp(
            str(settings.gx_url),
            vendor="gx",
            timeout_seconds=settings.pbx_timeout_ms / 1000,
            retries=settings.pbx_retries,
        )
        batch = GXBatchCalls(http)
    lock: SchedulerLock
    if redis is not None:
        lock = RedisLock(redis, expiry_seconds=max(60.0, settings.campaign_tick_seconds * 4))
    else:
        lock = FileLock(settings.data_dir / "campaigns.lock")
    return Campaigns(
        store,
        batch,
        lock=lock,
        zone=zoneinfo.ZoneInfo(settings.timezone),
        builtins_of=builtins_of,
        flow_names=flow_names,
        blacklist=settings.campaign_blacklist,
        tick_seconds=settings.campaign_tick_seconds,
    )
