"""The events of a call as the core sees them, whatever transport brought them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Event(Enum):
    READY = "ready2speak"
    TEXT = "text"
    HUNGUP = "hungup"


@dataclass(frozen=True)
class Callback:
    """One AI speech callback of the CTI."""

    call_id: str
    telnum: str
    event: Event
    text: str | None  # the recognized text for Event.TEXT
    playing: bool
    flow: str | None
    encoding: str  # of the text: "utf-8" or "gbk"
    test: bool = False  # a test call from the console (bot/console/trycall.py), never from the CTI
