"""The checks ``voicebot simulate`` makes of each answer, as the CTI would read it
(protocols.md §1; GX CTI §52.3).

A callback's answer must be HTTP 200 with a body that is exactly a bare audio URL
carrying ``canbeinterrupted=true|false``, or ``continue`` after a barge-in; the audio
behind the URL must be a WAV with samples, and in the format the CTI is set up for
when one is given (``--audio-format``: GX plays its own files as μ-law, GX CTI manual
§5). Then the answer is held against what the script's step expects (docs/tools.md,
"Scripts"). Each check notes what is wrong in ``Turn.problems`` and never raises: the
simulator plays on and reports them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from bot.errors import WavError
from bot.speech.wav import AudioFormat
from bot.tools.simulate_script import Step
from bot.tools.wavinfo import WavInfo, read_wav_info, served_format_problem

CONTINUE = "continue"
_URL = re.compile(r"https?://[^\s\"'<>\\]+")


@dataclass
class Turn:
    """One callback, its answer and what was wrong with it."""

    step: Step
    status: int | None = None
    body: str = ""
    ms: float = 0.0
    kind: str = "none"  # audio | continue | empty | invalid | error
    interruptible: bool | None = None
    audio: WavInfo | None = None
    reply: str | None = None
    problems: list[str] = field(default_factory=list)


def check_answer(turn: Turn) -> None:
    """Classify the callback's answer as the CTI reads it, noting every problem."""
    body, step = turn.body, turn.step
    if turn.status != 200:
        turn.kind = "error"
        turn.problems.append(f"callback answered HTTP {turn.status}: {body.strip()[:200]!r}")
        return
    if body != body.strip():
        turn.problems.append("the body has whitespace around it: send the bare URL, nothing else")
    body = body.strip()
    if body == CONTINUE:
        turn.kind = "continue"
        if not step.playing:
            turn.problems.append(
                "continue only answers a barge-in (playing=true): the CTI has nothing to go on with"
            )
    elif not body:
        turn.kind = "empty"
        if step.kind != "hangup":
            turn.problems.append("empty answer: the CTI has nothing to play")
    elif _URL.fullmatch(body):
        turn.kind = "audio"
        turn.interruptible = _interruptible(turn, body)
    else:
        turn.kind = "invalid"
        turn.problems.append(_not_a_url(body))


def _interruptible(turn: Turn, url: str) -> bool | None:
    values = parse_qs(urlsplit(url).query).get("canbeinterrupted")
    if not values:
        turn.problems.append("the URL has no canbeinterrupted=true|false")
        return None
    if values[-1] not in ("true", "false"):
        turn.problems.append(f"canbeinterrupted is {values[-1]!r}, not true or false")
        return None
    return values[-1] == "true"


def _not_a_url(body: str) -> str:
    if body.startswith(("{", "[")):
        return "the body is JSON: the CTI wants the bare URL (GX CTI §52.3)"
    if "\\/" in body:
        return "the URL's slashes are escaped (\\/), which the CTI cannot download (GX CTI §52.3)"
    if body[0] in "\"'":
        return "the body is a quoted string: send the bare URL"
    return "the body is neither an http(s) URL nor continue"


def check_audio(turn: Turn, status: int, content: bytes, audio_format: AudioFormat | None = None) -> None:
    """Check the download of the answer's audio URL: HTTP 200 and a WAV with samples,
    which is kept in ``turn.audio``; in ``audio_format`` when one is given."""
    if status != 200:
        turn.problems.append(f"audio download answered HTTP {status}")
        return
    try:
        turn.audio = read_wav_info(content)
    except WavError as exc:
        turn.problems.append(f"audio is not a valid WAV: {exc}")
        return
    if turn.audio.data_bytes == 0:
        turn.problems.append("audio has no samples")
    problem = served_format_problem(turn.audio, audio_format) if audio_format is not None else None
    if problem is not None:
        turn.problems.append(problem)


def check_expectations(turn: Turn) -> None:
    """Compare the answer with what the script's step expects."""
    step = turn.step
    if turn.kind == "error":
        return
    wants_audio = (
        step.expect == "audio"
        or step.interruptible is not None
        or step.min_seconds is not None
        or (step.max_seconds is not None)
    )
    expected = step.expect or ("audio" if wants_audio else None)
    if expected is not None and turn.kind != expected:
        turn.problems.append(f"expected {expected}, the answer is {turn.kind}")
        return
    if (
        step.interruptible is not None
        and turn.interruptible is not None
        and turn.interruptible != step.interruptible
    ):
        turn.problems.append(f"expected interruptible: {str(step.interruptible).lower()}")
    seconds = turn.audio.duration_seconds if turn.audio is not None else None
    if seconds is not None and step.min_seconds is not None and seconds < step.min_seconds:
        turn.problems.append(f"audio lasts {seconds:.2f} s, expected at least {step.min_seconds:g} s")
    if seconds is not None and step.max_seconds is not None and seconds > step.max_seconds:
        turn.problems.append(f"audio lasts {seconds:.2f} s, expected at most {step.max_seconds:g} s")
    if step.reply_contains is not None and step.reply_contains not in (turn.reply or ""):
        where = (
            "the bot's reply" if turn.reply is not None else "the reply (no transcript: is this voicebot?)"
        )
        turn.problems.append(f"expected {step.reply_contains!r} in {where}")
