"""The PBX interface: what the bot asks of the telephone system.

One implementation per vendor lives beside this module (``gx.py`` for GX CTI,
``hwd.py`` for HWD PBX); ``LogPBX`` only records. Implementations raise ``PBXError``
(or a subclass) when the PBX refuses or fails, and append every HTTP exchange they
make to the ``journal`` list they are given, so the call's transcript shows each
request and its answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

TargetKind = Literal["agent", "queue", "ivr"]
# Who placed the call: the customer (inbound, the default) or the robot (outbound: a
# campaign's call, where the customer is the callee).
Direction = Literal["inbound", "outbound"]
DIRECTIONS: tuple[Direction, ...] = ("inbound", "outbound")
_TARGET = re.compile(r"(?:(?P<kind>queue|ivr):)?(?P<number>[0-9A-Za-z_.,-]+)")


@dataclass(frozen=True)
class CallRef:
    """Which call an action is for, as the CTI named it."""

    call_id: str
    telnum: str
    test: bool = False  # a test call from the console: its actions are recorded, never made
    direction: Direction = "inbound"


@dataclass(frozen=True)
class TransferTarget:
    """Where a transfer goes, as a flow writes it in ``transfer:``.

    ``8001`` is an agent, extension or group; ``queue:200`` a call queue; ``ivr:3``
    an IVR menu of the PBX (GX: the menu number; HWD: the IVR application, e.g.
    ``ivr:aa_1001315``).
    """

    kind: TargetKind
    number: str

    @classmethod
    def parse(cls, text: str) -> TransferTarget:
        """Raises ValueError for text that is not a target."""
        match = _TARGET.fullmatch(text.strip())
        if match is None:
            raise ValueError(
                f"{text!r} is not a transfer target — write an extension or group number (8001), "
                "queue:<number> or ivr:<menu>"
            )
        kind = match["kind"] or "agent"
        return cls(kind, match["number"])  # type: ignore[arg-type]

    def __str__(self) -> str:
        return self.number if self.kind == "agent" else f"{self.kind}:{self.number}"


@dataclass(frozen=True)
class Exchange:
    """One request to the PBX and its answer, as the call's transcript keeps it.

    Secrets (passwords, tokens) never appear here.
    """

    action: str  # transfer | hangup | play | token
    method: str
    url: str
    request: dict[str, Any] | None
    status: int | None  # HTTP status; None when no answer came
    answer: str | None  # the answer's body, shortened
    ms: float
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if value is not None}


class PBX(Protocol):
    """Call control the bot needs.

    ``journal``: the list every HTTP exchange of the action is appended to, failed
    ones included; None when nobody keeps them.
    """

    async def transfer(
        self,
        call: CallRef,
        target: TransferTarget,
        *,
        biz_data: dict[str, Any] | None = None,
        journal: list[Exchange] | None = None,
    ) -> None:
        """Hand the call to an agent, group, queue or IVR menu; ``biz_data`` is what the
        agent's screen shows (vendors that cannot carry it ignore it)."""
        ...

    async def hangup(self, call: CallRef, *, journal: list[Exchange] | None = None) -> None:
        """End the call."""
        ...

    async def play(self, call: CallRef, voice: str, *, journal: list[Exchange] | None = None) -> None:
        """Push audio (a URL) or text (spoken by the PBX's own TTS) into the call."""
        ...

    async def aclose(self) -> None:
        """Release connections (at shutdown)."""
        ...
