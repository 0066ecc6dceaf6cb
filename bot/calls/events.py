"""The events of a call as the core sees them, whatever transport brought them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Protocol


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


@dataclass(frozen=True)
class Placed:
    """What a call the bot placed starts with (an outbound campaign's): which campaign,
    its flow, and the data of the number called (the flow's ``customer``)."""

    campaign: str
    flow: str
    data: Mapping[str, str]


class PlacedCalls(Protocol):
    async def placed_call(self, telnum: str) -> Placed | None:
        """The call the bot placed to ``telnum``, if a new call to it is one."""
        ...
