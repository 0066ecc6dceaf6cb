"""Hot reload: a changed flow file that validates replaces its flow for new calls.

Calls in progress finish on the version they started with (``FlowRegistry`` keeps
it). An edit that does not validate is logged as ``path:line:col: …`` and reported
by ``/healthz``, and the last good version stays live. A deleted file leaves its flow
live too: a caller mid-call, or the CTI's configured ``?flow=``, must not hit a
missing flow because a file was moved; a restart drops it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path

from watchfiles import Change, awatch

from bot.dialog.registry import FlowRegistry
from bot.errors import FlowValidationError
from bot.language.loader import DATA_DIR, FlowSource, load_flow
from bot.language.outgoing import HostAllowlist
from bot.language.tables import TABLE_SUFFIXES

logger = logging.getLogger(__name__)

FLOW_SUFFIXES = (".yaml", ".yml")


class FlowWatcher:
    """Watches the flows directory and installs every good edit.

    Args:
        directory: The flows directory.
        registry: Where new versions are installed.
        prepare: Awaited with a new version before it goes live (renders its prompts).
        errors: Flow name → problems of its latest, rejected edit; shared with /healthz.
        allowlist: The hosts ``http:`` steps may call.
        speech_backends: ``VOICEBOT_TTS``, which a flow's ``voice:`` must be one of.
    """

    def __init__(
        self,
        directory: Path,
        registry: FlowRegistry,
        prepare: Callable[[FlowSource], Awaitable[object]],
        errors: dict[str, list[str]],
        allowlist: HostAllowlist | None = None,
        *,
        speech_backends: Sequence[str] | None = None,
    ) -> None:
        self._directory = directory
        self._allowlist = allowlist
        self._speech_backends = speech_backends
        self._registry = registry
        self._prepare = prepare
        self.errors = errors

    async def run(self, stop: asyncio.Event) -> None:
        """Reload changed flows until ``stop`` is set."""
        # Recursive, so that lookup tables in data/ (created later, too) reload their flows.
        async for changes in awatch(self._directory, stop_event=stop, debounce=200, step=50, recursive=True):
            await self.reload(self._changed_flows(changes))

    def _changed_flows(self, changes: set[tuple[Change, str]]) -> set[Path]:
        """The flow files to reload: those changed, and those whose tables changed."""
        paths = {Path(path) for _, path in changes}
        home = self._directory.resolve()
        flows = {p for p in paths if p.parent.resolve() == home and p.suffix in FLOW_SUFFIXES}
        data = home / DATA_DIR
        tables = {p.stem for p in paths if p.parent.resolve() == data and p.suffix in TABLE_SUFFIXES}
        if tables:
            flows |= {f.source.path for f in self._registry if tables & set(f.tables)}
        return flows

    async def reload(self, paths: Iterable[Path]) -> None:
        for path in sorted(paths):
            try:
                await self._reload_one(path)
            except Exception:  # one bad reload must not stop the watching
                logger.exception("reloading %s failed; the previous version stays live", path)

    async def _reload_one(self, path: Path) -> None:
        if not await asyncio.to_thread(path.exists):
            logger.warning("%s was removed; flow %r stays live until a restart", path, path.stem)
            return
        try:
            source = await asyncio.to_thread(
                load_flow, path, allowlist=self._allowlist, speech_backends=self._speech_backends
            )
        except FlowValidationError as exc:
            self.errors[path.stem] = [str(problem) for problem in exc.problems]
            for problem in exc.problems:
                logger.error("%s", problem)
            logger.error("flow %r not reloaded; the previous version stays live", path.stem)
            return
        for warning in source.warnings:
            logger.warning("%s", warning)
        self.errors.pop(source.name, None)
        if (
            source.name in self._registry.names()
            and self._registry.get(source.name).version == source.version
        ):
            return  # saved without a change
        await self._prepare(source)
        await asyncio.to_thread(self._registry.install, [source])
        logger.info("flow %r reloaded: version %s for new calls", source.name, source.version)
