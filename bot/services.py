"""The long-lived objects of one app, created by the factory and opened at start."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from quart import current_app

from bot.config import Settings
from bot.dialog.business import BusinessAPI
from bot.dialog.loader import FlowSource
from bot.dialog.registry import FlowRegistry
from bot.pbx.base import PBX
from bot.speech.synthesizer import SpeechSynthesizer
from bot.store.sessions import SessionStore
from bot.store.transcripts import TranscriptStore
from bot.turns import TurnHandler
from knowledge.service import KnowledgeService

EXTENSION_KEY = "voicebot"


@dataclass
class Services:
    """Everything a request handler may need; ``turns`` and ``flows`` exist once started."""

    settings: Settings
    flow_sources: dict[str, FlowSource]
    speech: SpeechSynthesizer
    sessions: SessionStore
    transcripts: TranscriptStore
    pbx: PBX
    business: BusinessAPI
    knowledge: KnowledgeService
    flows: FlowRegistry | None = None
    turns: TurnHandler | None = None
    prompts_rendered: int = 0
    ready: bool = False
    startup_seconds: float | None = None
    flow_errors: dict[str, list[str]] = field(default_factory=dict)  # rejected hot-reload edits


def services() -> Services:
    """The services of the app handling the current request."""
    return cast(Services, current_app.extensions[EXTENSION_KEY])
