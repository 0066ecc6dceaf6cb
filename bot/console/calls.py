"""Calls as the console shows them: numbers masked unless revealed, audio on this origin,
filters over the recent calls.

Masking covers every text a caller's number or ID number may be in (the number, the
words said and answered, variables, the PBX's exchanges, end and grade reasons); ids,
times, steps and audio paths stay as they are (an audio key is a hash whose digits
must not be masked).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bot.privacy import mask_json, mask_text

KEEP = frozenset(
    {
        "callid",
        "flow",
        "flow_version",
        "started_at",
        "ended_at",
        "outcome",
        "grade",
        "score",
        "test",
        "turn_count",
        "at",
        "event",
        "playing",
        "intent",
        "confidence",
        "step",
        "continued",
        "ms",
        "encoding",
        "delivered",
        "tts",
        "audio_url",
        "filler",
        "business",
        "received_at",
        "direction",
        "campaign",
        "recording_url",  # the CTI's address and the call id
    }
)  # fields that never hold a caller's number
KINDS = ("all", "cti", "test")


def audio_path(url: str | None) -> str | None:
    """An audio URL as a path on this service: the console plays it from its own origin,
    whatever base the CTI was given (``VOICEBOT_PUBLIC_URL``)."""
    if not url:
        return None
    path = urlsplit(url).path
    return path if path.startswith("/audio/") else None


def shown(call: dict[str, Any], *, reveal: bool) -> dict[str, Any]:
    """A call (from the transcript store) for the console: masked unless ``reveal``,
    audio as paths, with its duration."""
    out = {key: value if key in KEEP or reveal else mask_json(value) for key, value in call.items()}
    if "turns" in call:
        out["turns"] = [_turn(turn, reveal=reveal) for turn in call["turns"]]
    if "hangup_pushes" in call and not reveal:
        out["hangup_pushes"] = [
            {k: v if k in KEEP else mask_json(v) for k, v in push.items()} for push in call["hangup_pushes"]
        ]
    out["duration_seconds"] = duration_seconds(call)
    return out


def _turn(turn: dict[str, Any], *, reveal: bool) -> dict[str, Any]:
    out = {key: value if key in KEEP or reveal else mask_json(value) for key, value in turn.items()}
    out["audio_url"] = audio_path(turn.get("audio_url"))
    out["filler"] = audio_path(turn.get("filler"))
    return out


def duration_seconds(call: dict[str, Any], now: float | None = None) -> float | None:
    """From start to end, or to now for a call in progress."""
    started = _epoch(call.get("started_at"))
    if started is None:
        return None
    ended = _epoch(call.get("ended_at"))
    end = ended if ended is not None else (now or time.time())
    return round(max(0.0, end - started), 1)


def _epoch(moment: str | None) -> float | None:
    if not moment:
        return None
    try:
        return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def matches(call: dict[str, Any], *, flow: str, outcome: str, kind: str, text: str) -> bool:
    """Whether a call passes the calls page's filters (empty: any)."""
    if flow and call["flow"] != flow:
        return False
    if outcome and call["outcome"] != outcome:
        return False
    if (kind == "test" and not call.get("test")) or (kind == "cti" and call.get("test")):
        return False
    if text:
        # Searched in what a viewer sees: a masked number cannot be found by its hidden digits.
        haystack = " ".join(
            str(part) for part in (call["callid"], mask_text(call["telnum"]), call.get("end_reason") or "")
        )
        return text.lower() in haystack.lower()
    return True
