"""The steps ``voicebot simulate`` plays: read from a YAML script, or from a line typed
in the interactive mode (docs/tools.md, "Scripts").

A script is a YAML list; each step is a bare word or a one-key mapping, with
optional expectations beside the key::

    - ready                      # ready2speak: the greeting, or silence later on
    - say: 我要查报销进度         # recognized text
      expect: audio
      reply_contains: 身份证
    - barge: 嗯                  # text recognized while the prompt plays (playing=true)
      expect: continue
    - silence                    # another ready2speak
    - wait: 1.5                  # seconds
    - hangup                     # txt=hungup; a script that does not end with it gets one
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from bot.errors import ScriptError

StepKind = Literal["ready", "silence", "say", "barge", "wait", "hangup"]
Expectation = Literal["audio", "continue", "empty"]
STEP_KINDS: tuple[str, ...] = get_args(StepKind)
EXPECTATION_KEYS = ("expect", "interruptible", "min_seconds", "max_seconds", "reply_contains")
MAX_WAIT_SECONDS = 3600
FIX_STEP = "write ready, silence, hangup, say: TEXT, barge: TEXT or wait: SECONDS"


@dataclass(frozen=True)
class Step:
    """One thing the caller does, and what the bot's answer is expected to be."""

    kind: StepKind
    text: str = ""  # say, barge
    seconds: float = 0.0  # wait
    expect: Expectation | None = None
    interruptible: bool | None = None
    min_seconds: float | None = None
    max_seconds: float | None = None
    reply_contains: str | None = None
    line: int = 0

    @property
    def txt(self) -> str:
        """The ``txt`` parameter this step sends."""
        if self.kind in ("ready", "silence"):
            return "ready2speak"
        return "hungup" if self.kind == "hangup" else self.text

    @property
    def playing(self) -> bool:
        return self.kind == "barge"

    def label(self) -> str:
        if self.kind in ("say", "barge"):
            return f"{self.kind} {self.text}" + (" (playing=true)" if self.playing else "")
        return f"{self.kind} ({self.txt})"


def load_script(path: Path) -> list[Step]:
    """The steps of the script at ``path``; ScriptError names the line of a problem."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ScriptError(path, 0, f"cannot read the script: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ScriptError(path, 0, "the script is not UTF-8") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        if "<block mapping start>" in problem or "mapping values" in problem:  # `- ready`, then `expect:`
            problem += "; a step with expectations under it takes a colon: '- ready:'"
        raise ScriptError(path, line, f"invalid YAML: {problem}") from exc
    if not isinstance(data, list) or not data or not isinstance(root, yaml.SequenceNode):
        raise ScriptError(
            path, 1, f"a script is a YAML list of steps, one per line starting with '- ': {FIX_STEP}"
        )
    steps = [_step(path, item, node.start_mark.line + 1) for item, node in zip(data, root.value, strict=True)]
    for step in steps[:-1]:
        if step.kind == "hangup":
            raise ScriptError(path, step.line, "nothing can follow hangup: the call is over")
    return steps


def _step(path: Path, item: Any, line: int) -> Step:
    if isinstance(item, str):
        item = {item: None}
    if not isinstance(item, dict):
        raise ScriptError(path, line, f"a step is a word or a mapping, not {item!r}: {FIX_STEP}")
    actions = [key for key in item if key in STEP_KINDS]
    unknown = [key for key in item if key not in STEP_KINDS and key not in EXPECTATION_KEYS]
    if unknown and not actions:
        raise ScriptError(path, line, f"unknown step {unknown[0]!r}: {FIX_STEP}")
    if unknown:
        expectations = ", ".join(EXPECTATION_KEYS)
        raise ScriptError(path, line, f"unknown key {unknown[0]!r} beside {actions[0]}: use {expectations}")
    if len(actions) != 1:
        found = f"{len(actions)} ({', '.join(actions)})" if actions else "none"
        raise ScriptError(path, line, f"a step does exactly one thing, this one {found}: {FIX_STEP}")
    try:
        return Step(**_action(actions[0], item[actions[0]]), **_expectations(item), line=line)
    except ValueError as exc:
        raise ScriptError(path, line, f"{actions[0]}: {exc}") from exc


def _action(kind: str, value: Any) -> dict[str, Any]:
    if kind in ("say", "barge"):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f'needs the words, as text (quote digits: {kind}: "0012"), not {value!r}')
        return {"kind": kind, "text": value.strip()}
    if kind == "wait":
        return {"kind": kind, "seconds": _seconds(value, "wait", allow_zero=False)}
    if value is not None:
        raise ValueError(f"takes no value, write '- {kind}' alone")
    return {"kind": kind}


def _expectations(item: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if "wait" in item and any(key in item for key in EXPECTATION_KEYS):
        raise ValueError("a wait has no answer to expect anything of")
    expect = item.get("expect")
    if expect is not None and expect not in get_args(Expectation):
        raise ValueError(f"expect is one of {', '.join(get_args(Expectation))}, not {expect!r}")
    found["expect"] = expect
    interruptible = item.get("interruptible")
    if interruptible is not None and not isinstance(interruptible, bool):
        raise ValueError(f"interruptible is true or false, not {interruptible!r}")
    found["interruptible"] = interruptible
    for key in ("min_seconds", "max_seconds"):
        if item.get(key) is not None:
            found[key] = _seconds(item[key], key, allow_zero=True)
    contains = item.get("reply_contains")
    if contains is not None and not isinstance(contains, str):
        raise ValueError(f"reply_contains is text, not {contains!r}")
    found["reply_contains"] = contains
    if expect in ("continue", "empty") and (
        interruptible is not None or set(found) & {"min_seconds", "max_seconds"}
    ):
        raise ValueError(f"interruptible, min_seconds and max_seconds are about audio, not {expect!r}")
    return found


def _seconds(value: Any, name: str, *, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} is a number of seconds, not {value!r}")
    if value < 0 or (value == 0 and not allow_zero) or value > MAX_WAIT_SECONDS:
        raise ValueError(f"{name} must be between 0 and {MAX_WAIT_SECONDS} seconds, not {value}")
    return float(value)


COMMANDS_HELP = """\
Type what the caller says, or a command:
  /ready, /silence   the CTI's ready2speak (the greeting first, then silence)
  /barge TEXT        TEXT said while the bot's prompt plays (playing=true)
  /wait SECONDS      pause
  /hangup            the caller hangs up, and the simulation ends
  /help              this help
  /quit              hang up and leave (end of input, Ctrl-D, does too)"""


def parse_command(line: str) -> Step | Literal["help", "quit"] | None:
    """The step a typed line asks for; None for a blank line. ValueError: not a command."""
    line = line.strip()
    if not line:
        return None
    if not line.startswith("/"):
        return Step("say", text=line)
    name, _, rest = line[1:].partition(" ")
    rest = rest.strip()
    if name in ("help", "quit") and not rest:
        return "help" if name == "help" else "quit"
    if name in ("ready", "silence", "hangup") and not rest:
        return Step(name)  # type: ignore[arg-type]
    if name == "barge" and rest:
        return Step("barge", text=rest)
    if name == "wait":
        try:
            return Step("wait", seconds=_seconds(float(rest), "wait", allow_zero=False))
        except ValueError as exc:
            raise ValueError(f"/wait takes a number of seconds: {exc}") from exc
    raise ValueError(f"not a command: {line!r} (/help lists them)")
