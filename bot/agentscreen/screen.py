"""The agent's screen of a handed-over call: live lines heard, and what the page shows.

``hear`` takes one line of the CTI's live transcript (GX §54, parsed by
``bot.cti.agent_speech``; §55's feed would hand over the same ``SpeechLine``): it is
matched to the robot call (``handovers``), stored in the call's transcript as an
``agent_speech`` turn (masked as transcripts are), and every agent page of the call is
told (``feed``). ``view`` is what a page shows: the conversation so far, the robot's
part included, the variables the robot collected, the live lines, and the knowledge
entries that match the last few of them, the agent's side too (agents repeat the
caller's question). Nothing here answers the caller.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bot.agentscreen.feed import Feed
from bot.agentscreen.handovers import Handovers
from bot.agentscreen.links import AgentLinks
from bot.privacy import mask_json, mask_text
from bot.store.call_records import number_key, telnum_keys
from bot.store.sessions import SessionStore
from bot.store.transcripts import Turn, iso
from knowledge.service import KnowledgeService
from knowledge.web import search_result

if TYPE_CHECKING:
    from bot.store.pg_transcripts import AnyTranscriptStore

logger = logging.getLogger(__name__)

Side = Literal["caller", "callee"]
LIVE_EVENT = "agent_speech"
SUGGESTED_LINES = 3  # the last lines whose words the suggestions are searched with
SUGGESTIONS = 5
MAX_QUERY_CHARS = 300


@dataclass(frozen=True)
class SpeechLine:
    """One sentence of the agent's call as the CTI transcribed it.

    ``caller``/``callee``: the numbers of the agent's call; ``side``: whose words;
    ``cti_ids``: the CTI's ids of that call (never the robot's callid).
    """

    caller: str
    callee: str
    side: Side
    text: str
    cti_ids: tuple[str, ...] = ()
    encoding: str | None = None

    @property
    def speaker_number(self) -> str:
        return self.caller if self.side == "caller" else self.callee


class AgentScreen:
    """Live lines in, agent pages out."""

    def __init__(
        self,
        *,
        sessions: SessionStore,
        transcripts: AnyTranscriptStore,
        knowledge: KnowledgeService,
        handovers: Handovers,
        feed: Feed,
        links: AgentLinks,
    ) -> None:
        self.sessions = sessions
        self.transcripts = transcripts
        self.knowledge = knowledge
        self.handovers = handovers
        self.feed = feed
        self.links = links

    async def open(self) -> None:
        await self.feed.open()

    async def close(self) -> None:
        """End every page's event stream (first thing at shutdown)."""
        await self.feed.close()

    def end_streams(self) -> None:
        """End the pages' event streams at once: the server is stopping, and an idle
        stream must not hold it for the time requests in flight are given."""
        self.feed.end()

    async def handed_over(self, call_id: str, telnum: str) -> None:
        """The PBX accepted the transfer of ``call_id``: live lines may follow."""
        await self.handovers.register(call_id, telnum, time.time())

    async def hear(self, line: SpeechLine) -> str | None:
        """Store ``line`` with the robot call it belongs to and tell its pages; that
        call's id, or None when it belongs to none (then it is dropped)."""
        call_id = await self.handovers.match((line.caller, line.callee), line.cti_ids, time.time())
        if call_id is None or not await self._record(call_id, line):
            return None
        if line.cti_ids:
            await self.handovers.bind(line.cti_ids, call_id)
        await self.feed.publish(call_id)
        return call_id

    async def _record(self, call_id: str, line: SpeechLine) -> bool:
        async with self.sessions.lock(call_id):
            stored = await self.sessions.get(call_id)
            state = stored.copy() if stored else await self.transcripts.ended_call(call_id)
            if state is None:
                logger.info("call %s: live line for a call no longer known, dropped", call_id)
                return False
            customer = number_key(line.speaker_number) in telnum_keys(state.telnum)
            turn = Turn(at=iso(time.time()), event=LIVE_EVENT, text=line.text, encoding=line.encoding)
            turn.side, turn.speaker = line.side, "customer" if customer else "agent"
            self.transcripts.record(state, turn)
            await self.transcripts.flush()
        return True

    async def view(self, call_id: str) -> dict[str, Any] | None:
        """What an agent page shows of ``call_id``, numbers masked; None for no such call."""
        call = await self.transcripts.get_call(call_id)
        if call is None:
            return None
        turns: list[dict[str, Any]] = call.get("turns", [])
        live = [t for t in turns if t.get("event") == LIVE_EVENT and t.get("text")]
        variables = call.get("variables") or {}
        shown = {
            "call": {
                key: call.get(key)
                for key in (
                    "callid",
                    "telnum",
                    "flow",
                    "started_at",
                    "ended_at",
                    "outcome",
                    "grade",
                    "direction",
                )
            },
            "slots": {name: value for name, value in variables.items() if not name.startswith("_")},
            "conversation": [line for t in turns for line in _lines(t)],
            "live": [
                {"at": t["at"], "speaker": t.get("speaker"), "side": t.get("side"), "text": t["text"]}
                for t in live
            ],
            **self.suggest(live, turns),
        }
        return dict(mask_json(shown))

    def suggest(self, live: list[dict[str, Any]], turns: list[dict[str, Any]]) -> dict[str, Any]:
        """The entries matching the last live lines (both sides), or before any, what
        the caller last told the robot."""
        said = [t["text"] for t in live] or [
            t["text"] for t in turns if t.get("event") == "text" and t.get("text")
        ]
        query = " ".join(said[-SUGGESTED_LINES:])[-MAX_QUERY_CHARS:]
        if not query.strip() or not self.knowledge.ready:
            return {"query": query, "suggestions": []}
        floor = self.knowledge.policy.clarify_score  # below it, the knowledge base says "not found"
        hits = [hit for hit in self.knowledge.base.answerable(query, SUGGESTIONS) if hit.score >= floor]
        return {
            "query": mask_text(query),
            "suggestions": [search_result(hit.entry, round(hit.score, 3)) for hit in hits],
        }


def _lines(turn: dict[str, Any]) -> list[dict[str, Any]]:
    """A transcript turn as the page's conversation lines: who said what."""
    at, event = turn.get("at"), turn.get("event")
    if event == LIVE_EVENT:
        return [{"at": at, "who": turn.get("speaker") or "agent", "text": turn.get("text")}]
    if event == "pbx":
        return [{"at": at, "who": "system", "text": turn.get("text")}]
    lines = []
    if event == "text" and turn.get("text"):
        lines.append({"at": at, "who": "caller", "text": turn["text"]})
    if turn.get("reply"):
        lines.append({"at": at, "who": "bot", "text": turn["reply"]})
    return lines
