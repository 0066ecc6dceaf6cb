"""Checks of the recordings a flow's prompts name (``audio:``), for the loader.

A recording must exist in the flows directory and be audio the bot can play (a WAV of
PCM, float, μ-law or A-law, an MP3…: ``bot.speech.audio``); that it
says no variable is the prompt model's own check (``bot.language.flow.Prompt``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.errors import TTSError
from bot.language.flow import Flow, Prompt
from bot.speech.recordings import read_recording, recording_path

KeyPath = tuple[str | int, ...]
Finding = tuple[KeyPath, str, str]  # key path, what is wrong, how to fix it


def check_recordings(flow: Flow, flows_dir: Path) -> Iterator[Finding]:
    """A problem for every ``audio:`` whose file is missing or not playable audio.

    Args:
        flow: A validated flow.
        flows_dir: The directory the flow file is in; ``audio:`` paths are relative to it.
    """
    checked: dict[str, tuple[str, str] | None] = {}
    for where, prompt in prompts_with_places(flow):
        if prompt.audio is None:
            continue
        if prompt.audio not in checked:
            checked[prompt.audio] = _problem(flows_dir, prompt.audio)
        problem = checked[prompt.audio]
        if problem is not None:
            yield (*where, "audio"), *problem


def prompts_with_places(model: BaseModel, at: KeyPath = ()) -> Iterator[tuple[KeyPath, Prompt]]:
    """Every prompt inside ``model`` with its key path as written in YAML (``as``, not ``as_``)."""
    if isinstance(model, Prompt):
        yield at, model
        return
    for name, field in type(model).model_fields.items():
        yield from _walk(getattr(model, name), (*at, field.alias or name))


def _walk(value: Any, at: KeyPath) -> Iterator[tuple[KeyPath, Prompt]]:
    if isinstance(value, BaseModel):
        yield from prompts_with_places(value, at)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*at, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*at, key))


def _problem(flows_dir: Path, name: str) -> tuple[str, str] | None:
    """What is wrong with one recording, and the fix; None when it plays."""
    path = recording_path(flows_dir, name)  # the prompt model already refused paths outside
    try:
        _, seconds = read_recording(path)
    except OSError as exc:
        return (
            f"cannot read the recording {path} ({exc.strerror or exc})",
            "put the WAV file there, or correct the path (it is relative to the flows directory)",
        )
    except TTSError as exc:
        return (
            f"the recording {path} is not audio the bot can play ({exc})",
            "save it as a WAV (PCM, float, μ-law or A-law) or an MP3, e.g. "
            "`sox in.aiff -e signed-integer -b 16 out.wav`",
        )
    if seconds <= 0:
        return f"the recording {path} has no sound (0 s)", "record it again"
    return None
