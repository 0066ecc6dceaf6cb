"""``voicebot flows check`` as a function: every problem of flow and hook files, located.

The command prints what this returns; the console shows it per flow. Blocking (it reads
and validates files): the service calls it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.errors import FlowProblem, FlowValidationError
from bot.hooks.check import check_hook_file, hook_files, is_hook_file, stray_hook_files
from bot.language.loader import flow_files, load_flow
from bot.language.outgoing import HostAllowlist


def check_paths(
    targets: Sequence[Path],
    allowlist: HostAllowlist | None = None,
    *,
    speech_backends: Sequence[str] | None = None,
) -> tuple[list[Path], list[FlowProblem]]:
    """The files checked (a directory's flows and hook files, or files as given) and
    every error and warning found in them; ``allowlist``: the hosts ``http:`` steps
    may call (``VOICEBOT_OUTGOING_HOSTS``); ``speech_backends``: ``VOICEBOT_TTS``, which
    a flow's ``voice:`` must be one of."""
    directories = [target for target in targets if target.is_dir()]
    files = [f for target in targets for f in (flow_files(target) if target.is_dir() else [target])]
    files += [f for directory in directories for f in hook_files(directory)]
    problems: list[FlowProblem] = [p for directory in directories for p in stray_hook_files(directory)]
    for path in files:
        if is_hook_file(path):
            problems += check_hook_file(path)
            continue
        try:
            problems += load_flow(path, allowlist=allowlist, speech_backends=speech_backends).warnings
        except FlowValidationError as exc:
            problems += exc.problems
    return files, problems
