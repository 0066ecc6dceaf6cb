"""What the agent's screen shows when the bot hands a call over (GX ``biz_data``).

The CTI forwards it untouched to the agent's web page (GX §10); ``bot.pbx.gx`` fits
it into the manual's 1,500 characters.
"""

from __future__ import annotations

from typing import Any

from bot.dialog.state import CallState
from bot.language.expressions import to_text

SUMMARY_TEXT_CHARS = 60


def biz_data(state: CallState) -> dict[str, Any]:
    """The call as an agent needs it: who, which flow, the grade, the slots, one line."""
    grade = state.grade
    return {
        "callid": state.call_id,
        "telnum": state.telnum,
        "flow": state.flow,
        "grade": grade.grade if grade else None,
        "score": grade.score if grade else None,
        "summary": summary(state),
        "slots": {
            name: to_text(value) for name, value in state.variables.items() if not name.startswith("_")
        },
    }


def summary(state: CallState) -> str:
    """One line for the agent: what the caller wanted and what the bot got."""
    parts = [f"来电{state.telnum}"]
    if state.intents:
        recent = list(dict.fromkeys(reversed(state.intents)))[:3]
        parts.append("意图：" + "、".join(recent))
    if state.last_text:
        said = state.last_text
        if len(said) > SUMMARY_TEXT_CHARS:
            said = said[:SUMMARY_TEXT_CHARS] + "…"
        parts.append(f"最后说：{said}")
    if state.grade:
        parts.append(f"评级{state.grade.grade}（{state.grade.reason}）")
    return "；".join(parts)
