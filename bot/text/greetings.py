"""How a call opens when the caller speaks first.

The CTI sends ``ready2speak`` only when the caller stays silent, so a call whose
first event is text is ordinary, above all on outbound calls: the callee picks up
and says "喂？" before the bot has said anything. Words that only greet or
acknowledge ("喂，你好", "嗯", "哪位？") get the flow's greeting, never an answer:
whatever an intent model makes of them, the caller has not asked anything yet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

GREETINGS = (
    "喂",
    "你好",
    "您好",
    "哈喽",
    "哈啰",
    "哈罗",
    "hello",
    "hi",
    "哪位",
    "你是哪位",
    "您是哪位",
    "谁",
    "是谁",
    "你是谁",
    "您是谁",
    "哪里",
    "是哪里",
    "什么事",
    "有什么事",
)
"""Words a callee says on picking up, besides backchannels (嗯, 在, 你说): a greeting,
or "who is it?" (哪位, 你是谁, 哪里), which the greeting answers."""
# Longest first, so that 你是谁 goes whole and does not leave 你是 behind 谁.
_GREETING = re.compile("|".join(map(re.escape, sorted(GREETINGS, key=len, reverse=True))))


def only_greets(text: str, is_backchannel: Callable[[str], bool]) -> bool:
    """Whether ``text`` only greets or acknowledges: nothing is left of it but
    backchannels (as ``is_backchannel`` judges them) once the greetings are removed."""
    return is_backchannel(_GREETING.sub("", unicodedata.normalize("NFKC", text).lower()))
