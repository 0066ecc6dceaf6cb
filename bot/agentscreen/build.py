"""The agent screen of one app, as the settings make it: in this process, or through Redis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.agentscreen.feed import Feed, LocalFeed, RedisFeed
from bot.agentscreen.handovers import Handovers, MemoryHandovers, RedisHandovers
from bot.agentscreen.links import AgentLinks
from bot.agentscreen.screen import AgentScreen
from bot.config import Settings
from bot.web.auth import secret_key

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.services import Services


def agent_screen(settings: Settings, svc: Services, redis: Redis | None) -> AgentScreen:
    """With ``VOICEBOT_REDIS_URL``, handovers and live updates are shared by every
    instance; without it they stay in this process."""
    window_seconds = settings.agent_speech_window_ms / 1000
    handovers: Handovers
    feed: Feed
    if redis is not None:
        handovers, feed = RedisHandovers(redis, window_seconds), RedisFeed(redis)
    else:
        handovers, feed = MemoryHandovers(window_seconds), LocalFeed()
    base = str(settings.public_url) if settings.public_url else None
    return AgentScreen(
        sessions=svc.sessions,
        transcripts=svc.transcripts,
        knowledge=svc.knowledge,
        handovers=handovers,
        feed=feed,
        links=AgentLinks.of(secret_key(settings), base, settings.agent_link_seconds),
    )
