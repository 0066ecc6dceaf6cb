"""The long-lived objects of one app, created by the factory and opened at start."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from quart import current_app

from bot.agentscreen.screen import AgentScreen
from bot.calls.handler import CallHandler
from bot.campaigns.service import Campaigns
from bot.config import Settings
from bot.dialog.business import BusinessAPI
from bot.dialog.registry import FlowRegistry
from bot.hooks.ivr import IvrQueries
from bot.hooks.routing import Router
from bot.language.loader import FlowSource
from bot.outcome.publisher import OutcomePublisher
from bot.pbx.agents import CachedAgentStatus
from bot.pbx.base import PBX
from bot.pbx.hwd_api import HWDApi
from bot.pbx.recordings import RobotRecordings
from bot.speech.synthesizer import SpeechSynthesizer
from bot.store.sessions import SessionStore
from knowledge.service import KnowledgeService

if TYPE_CHECKING:  # the drivers are imported only where they are configured
    from redis.asyncio import Redis

    from bot.store.pg_transcripts import AnyTranscriptStore

EXTENSION_KEY = "voicebot"


@dataclass
class Services:
    """Everything a request handler may need; ``calls`` and ``flows`` exist once started."""

    settings: Settings
    flow_sources: dict[str, FlowSource]
    speech: SpeechSynthesizer
    sessions: SessionStore
    transcripts: AnyTranscriptStore
    pbx: PBX
    business: BusinessAPI
    knowledge: KnowledgeService
    ivr: IvrQueries  # the /cti/ivr queries of flows/hooks/ivr.yaml
    router: Router  # the /cti/route rules of flows/hooks/routing.yaml
    flows: FlowRegistry | None = None
    calls: CallHandler | None = None
    hwd: HWDApi | None = None  # the HWD PBX's API client, when VOICEBOT_HWD_URL is set
    agents: CachedAgentStatus | None = None  # the PBX's agent status (transfer: with busy:)
    outcomes: OutcomePublisher | None = None  # None: VOICEBOT_OUTCOME_URL is unset
    recordings: RobotRecordings | None = None  # the CTI's robot recordings (GX only)
    campaigns: Campaigns | None = None  # outbound campaigns (docs/campaigns.md)
    redis: Redis | None = None  # the shared store's client, when VOICEBOT_REDIS_URL is set
    agent_screen: AgentScreen | None = None  # live lines (GX §54) and the agent pages
    prompts_rendered: int = 0
    ready: bool = False
    startup_seconds: float | None = None
    flow_errors: dict[str, list[str]] = field(default_factory=dict)  # rejected hot-reload edits


def services() -> Services:
    """The services of the app handling the current request."""
    return cast(Services, current_app.extensions[EXTENSION_KEY])
