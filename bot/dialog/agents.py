"""Whether anyone can answer a transfer: what a ``transfer:`` step with ``busy:`` asks
before it transfers (docs/flows.md, docs/pbx.md).

The dialog asks through this interface only; the PBX's agent status queries
(``bot.pbx.agents``) answer it in the service, a fixed answer in conversation tests.
An implementation never raises and never takes long: a status it cannot learn in
time counts as someone answering, so the transfer is tried as it was before the
step had ``busy:`` (a refusal is still handled as a failed transfer).
"""

from __future__ import annotations

from typing import Protocol


class AgentStatus(Protocol):
    """Whether a transfer target has someone free to answer now."""

    async def can_answer(self, target: str, *, call_id: str) -> bool:
        """``target`` as the flow writes it (``8001``, ``queue:200``); ``call_id`` for logs."""
        ...


class FixedAgents:
    """The same answer for every target: the service without a PBX (``VOICEBOT_PBX=log``),
    ``voicebot chat``, and conversation tests (``agents: busy``)."""

    def __init__(self, *, free: bool = True) -> None:
        self.free = free
        self.asked: list[str] = []  # the targets asked about, for tests

    async def can_answer(self, target: str, *, call_id: str) -> bool:
        self.asked.append(target)
        return self.free
