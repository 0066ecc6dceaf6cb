"""The application factory. Nothing runs at import."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from quart import Quart

from bot import metrics
from bot.agentscreen.build import agent_screen
from bot.agentscreen.pbx import HandoverPBX
from bot.calls.capacity import Capacity
from bot.calls.handler import CallHandler
from bot.campaigns.factory import build_campaigns
from bot.config import Settings, load_settings
from bot.console import agent as agent_pages
from bot.console.access import role_of as console_role
from bot.console.views import install as install_console
from bot.cti import agent_speech, callback, calllog, hangup, ivr, route
from bot.cti import fast as fast_endpoints
from bot.cti.answers import CtiAudioLinks
from bot.cti.callback import public_base_url
from bot.dialog.business import BusinessAPI
from bot.dialog.conversation import Conversation
from bot.dialog.flow_versions import SharedFlows, flow_archive
from bot.dialog.knowledge import sender_of
from bot.dialog.state import CallState
from bot.dialog.watch import FlowWatcher
from bot.errors import ConfigError, FlowError, VoicebotError
from bot.heap import return_freed_memory
from bot.hooks.ivr import IvrQueries
from bot.hooks.ivr_file import load_ivr
from bot.hooks.routing import load_router
from bot.language.loader import FlowSource, load_flows
from bot.language.outgoing import HostAllowlist
from bot.llm.assistant import language_model
from bot.llm.summaries import ModelSummary
from bot.outcome.publisher import outcome_publisher
from bot.pbx.base import PBX
from bot.pbx.factory import build_agent_status, build_pbx, build_recordings, hwd_api
from bot.services import EXTENSION_KEY, Services
from bot.speech.backends import build_backends, check_backends, close_backends
from bot.speech.cache import AudioCache
from bot.speech.catalog import RedisAudioCatalog
from bot.speech.hwd import HWDTTS
from bot.speech.synthesizer import SpeechSynthesizer
from bot.speech.tts import TTSBackend
from bot.speech.voices import VoiceChains, voice_builder
from bot.store.factory import transcript_store
from bot.store.sessions import SessionStore
from bot.store.sqlite_sessions import SQLiteSessionStore
from bot.store.transcripts import Turn, iso
from bot.text.segmenter import Segmenter
from bot.web import audio, auth, calls, campaigns, edge, health, nlu
from bot.web.apidocs import install as install_api_docs
from bot.web.errors import register_errors
from bot.web.metrics import install as install_metrics
from bot.wiring import open_conversation
from knowledge import web as knowledge_web
from knowledge.app import open_service
from knowledge.base import KnowledgeBase

if TYPE_CHECKING:  # imported where configured: redis costs ≈ 10 MB of memory
    from redis.asyncio import Redis

    from bot.dialog.registry import FlowRegistry

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 10.0  # how often idle calls are closed and ended ones forgotten
OPINIONS_AFTER_SECONDS = 1.0  # after ready, before the intents' second opinions are trained
API_DESCRIPTION = "The voice bot's HTTP APIs: the CTI's callbacks and hooks, transcripts, NLU and knowledge."


def create_app(
    settings: Settings | None = None,
    *,
    pbx: PBX | None = None,
    tts: TTSBackend | Sequence[TTSBackend] | None = None,
    store: SessionStore | None = None,
    segmenter: Segmenter | None = None,
) -> Quart:
    """Build the service. Flows are validated here, so a bad flow stops it before it serves.

    Args:
        settings: defaults to the ``VOICEBOT_*`` environment.
        pbx: call control; defaults to the client ``VOICEBOT_PBX`` names.
        tts: speech backend, or backends in order of preference; defaults to those
            ``VOICEBOT_TTS`` names.
        store: session store; defaults to Redis with ``VOICEBOT_REDIS_URL``, else
            SQLite in the data directory.
        segmenter: a shared, possibly already initialized, jieba segmenter.

    The knowledge service (``knowledge/``) is mounted too, on the same segmenter;
    the flows' ``knowledge`` steps ask it, or ``VOICEBOT_KB_URL`` when that is set.

    Raises:
        FlowValidationError: a flow file or a hook file (flows/hooks/) is invalid (every
            problem, located).
        ConfigError: a setting does not fit the flows (e.g. an unknown default flow).
    """
    settings = settings or load_settings()
    _prepare_data_dir(settings)
    allowlist = HostAllowlist.of(settings)
    sources = load_flows(settings.flows_dir, allowlist=allowlist, speech_backends=settings.tts)
    for warning in (w for source in sources.values() for w in source.warnings):
        logger.warning("%s", warning)
    if settings.default_flow not in sources:
        raise ConfigError(
            f"VOICEBOT_DEFAULT_FLOW={settings.default_flow!r} is not among the flows in "
            f"{settings.flows_dir} ({', '.join(sorted(sources)) or 'none'})"
        )
    ivr_queries = load_ivr(settings.flows_dir)
    router = load_router(settings.flows_dir, default=settings.route_default, timezone=settings.timezone)
    business = BusinessAPI(allowlist=allowlist)
    hwd = hwd_api(settings)  # shared by the HWD PBX client and the HWD TTS backend
    hwd_tts = HWDTTS(hwd) if hwd is not None else None
    if tts is None:
        backends = build_backends(settings, hwd=hwd_tts)
    else:
        backends = [tts] if isinstance(tts, TTSBackend) else list(tts)
    # The chains of flows' voices, each led by the flow's `voice:` (bot/speech/voices.py).
    names = settings.tts if tts is None else None
    voices = VoiceChains(backends, names=names, build=voice_builder(settings, hwd=hwd_tts))
    segmenter = segmenter or Segmenter()
    # One client (a connection pool) for everything shared through Redis.
    redis = _redis_client(settings)
    svc = Services(
        settings=settings,
        flow_sources=sources,
        speech=SpeechSynthesizer(
            voices,
            AudioCache(
                settings.audio_dir,
                audio_format=settings.audio_format,
                limit_bytes=settings.audio_cache_mb * 1024 * 1024,
            ),
            concurrency=settings.tts_slots,
            attempt_timeout_seconds=settings.tts_timeout_ms / 1000,
            cooldown_seconds=settings.tts_cooldown_seconds,
            recordings_dir=settings.flows_dir,
            catalog=RedisAudioCatalog(redis) if redis is not None else None,
        ),
        sessions=store or _session_store(settings, redis),
        transcripts=transcript_store(settings),
        pbx=pbx or build_pbx(settings, hwd=hwd),
        business=business,
        knowledge=open_service(settings, KnowledgeBase(segmenter)),
        ivr=IvrQueries(ivr_queries, business),
        router=router,
    )
    svc.redis = redis
    svc.agent_screen = agent_screen(settings, svc, redis)  # GX §54's live lines, the agent page
    svc.recordings = build_recordings(settings)
    svc.campaigns = build_campaigns(
        settings,
        redis,
        builtins_of=partial(_builtins_of, svc),
        flow_names=lambda: set(svc.flows.names()) if svc.flows else set(),
    )
    svc.outcomes = outcome_publisher(settings, svc.transcripts, svc.recordings)
    svc.hwd = hwd
    # Only the configured PBX's agents are asked: a PBX handed in (tests) has none.
    svc.agents = build_agent_status(settings, hwd=hwd) if pbx is None else None
    app = Quart(__name__)
    # No endpoint takes more than a small JSON or form body; refuse bigger ones early.
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions[EXTENSION_KEY] = svc
    for module in (callback, calllog, hangup, agent_speech, ivr, route, audio, calls, campaigns, nlu, health):
        app.register_blueprint(module.blueprint)
    knowledge_web.install(app, svc.knowledge, max_message_chars=settings.max_text_chars)
    install_console(app, settings)  # /console: pages for people (docs/console.md)
    app.register_blueprint(agent_pages.blueprint)  # the agent page: /agent/<call>, /console/agent/<call>
    register_errors(app)
    install_api_docs(app, title="voicebot", description=API_DESCRIPTION)
    install_metrics(app)  # GET /metrics
    auth.install(app, settings, count_refused=metrics.count_refused, session_role=console_role)
    # Host check, callbacks counted, access line: outermost; the busiest CTI paths' own
    # fast endpoints (/cti/ai, /cti/hangup).
    fast = fast_endpoints.endpoints(svc, app.extensions[auth.EXTENSION_KEY])
    edge.install(app, count_cti=True, fast=fast)
    lifecycle = _Lifecycle(svc, segmenter)
    app.before_serving(lifecycle.start)
    app.after_serving(lifecycle.stop)
    return app


def _builtins_of(svc: Services, flow: str, intent: str) -> tuple[str, ...]:
    """The built-in intents a flow's intent stands for (its current version)."""
    if svc.flows is None or flow not in svc.flows.names():
        return ()
    declared = svc.flows.get(flow).flow.intents.get(intent)
    return declared.builtins if declared is not None else ()


async def _call_ended(svc: Services, state: CallState) -> None:
    """A call has ended for good: its campaign number's result kept, what the knowledge
    base was asked in it forgotten, its outcome pushed (with the language model's summary,
    which may take seconds: last)."""
    svc.knowledge.forget(sender_of(state.call_id, state.telnum))
    if svc.campaigns is not None and not state.test:
        try:
            await svc.campaigns.call_ended(state)
        except VoicebotError:
            logger.exception("call %s: its campaign result was not stored", state.call_id)
    summary = await _model_summary(svc, state)
    if svc.outcomes is not None:
        await svc.outcomes.publish(state.call_id, model_summary=summary)


async def _model_summary(svc: Services, state: CallState) -> ModelSummary | None:
    """The language model's summary of an ended call, recorded in its transcript (a
    ``summary`` turn): the one its transfer asked for, else a new one. None without a
    model, with summaries off, or without a usable answer; never an exception."""
    calls = svc.calls
    assistant = calls.conversation.assistant if calls is not None else None
    if calls is None or assistant is None or assistant.summaries is None or svc.flows is None:
        return None
    try:
        if not svc.flows.get(state.flow, state.flow_version).flow.llm.summary:
            return None
    except FlowError:
        pass  # a version this process never loaded: summarized as by default
    try:
        handoff = calls.handoff_summaries
        done = await handoff.for_call_end(state.call_id) if handoff is not None else None
        summary, asked = done or await assistant.summaries.of_call(svc.transcripts.get_call, state.call_id)
    except Exception:  # the push goes without it
        logger.exception("call %s: its summary failed", state.call_id)
        return None
    if asked:
        svc.transcripts.record(state, Turn(at=iso(time.time()), event="summary", llm=asked))
    return summary


def end_streams(app: Quart) -> None:
    """Called when a signal stops the server: the agent pages' event streams end now,
    so that requests in flight drain without waiting for them."""
    svc: Services = app.extensions[EXTENSION_KEY]
    if svc.agent_screen is not None:
        svc.agent_screen.end_streams()


def _redis_client(settings: Settings) -> Redis | None:
    """The client of ``VOICEBOT_REDIS_URL``, or None; redis is imported only then."""
    if settings.redis_url is None:
        return None
    from redis.asyncio import Redis  # noqa: PLC0415

    # Connections are opened as requests need them, up to the cap: each call's lock holds
    # one while its turn runs, the agent page's subscription one for good. (A blocking
    # pool, which would make a request wait instead, cost the Redis-backed turns about
    # 3 % in `make bench`: an awaited condition on every command.)
    return Redis.from_url(
        settings.redis_url.get_secret_value(), max_connections=settings.redis_max_connections
    )


def _session_store(settings: Settings, redis: Redis | None) -> SessionStore:
    """Redis when it is configured (any number of instances), else SQLite (one process)."""
    if redis is not None:
        from bot.store.redis_sessions import RedisSessionStore  # noqa: PLC0415

        return RedisSessionStore(redis, ttl_seconds=max(settings.session_ttl_seconds * 4, 3600.0))
    return SQLiteSessionStore(settings.sessions_path)


def _prepare_data_dir(settings: Settings) -> None:
    try:
        settings.audio_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"VOICEBOT_DATA_DIR={settings.data_dir}: cannot create it ({exc.strerror})"
        ) from exc
    if not os.access(settings.data_dir, os.W_OK) or not os.access(settings.audio_dir, os.W_OK):
        raise ConfigError(f"VOICEBOT_DATA_DIR={settings.data_dir}: not writable by this user")


async def _abandon(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait for it; what it raised is dropped (the start-up failed
    for another reason, which is the one reported)."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved


class _Lifecycle:
    """Opens the long-lived services before the first request and closes them after the last."""

    def __init__(self, svc: Services, segmenter: Segmenter) -> None:
        self._svc = svc
        self._segmenter = segmenter
        self._sweeper: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._opinions: asyncio.Task[None] | None = None
        self._training = asyncio.Event()  # set when the opinions' thread begins
        self._conversation: Conversation | None = None
        self._stop_watching = asyncio.Event()
        self._stack = contextlib.AsyncExitStack()

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()  # what did open is closed again
            raise

    async def _start(self) -> None:
        svc, began = self._svc, time.perf_counter()
        # The speech backends are checked, then the static prompts synthesized, while
        # the rest opens: espeak-ng (or a vendor) works in processes of its own, on the
        # other core, while this process builds the knowledge index and the classifiers
        # in threads. Ready (/healthz 200) still waits for every prompt.
        prompts = asyncio.create_task(self._check_and_render_prompts(), name="static prompts")
        try:
            await self._open(svc)
        except BaseException:
            await _abandon(prompts)
            raise
        await prompts
        await self._serve_calls(svc)
        _freeze_startup_objects()
        svc.startup_seconds = round(time.perf_counter() - began, 3)
        svc.ready = True
        logger.info(
            "ready: flows %s, %d prompts rendered in %.2f s; speech %s, %d syntheses at once; event loop %s",
            ", ".join(svc.flows.names() if svc.flows else ()),
            svc.prompts_rendered,
            svc.startup_seconds,
            ",".join(svc.settings.tts),
            svc.settings.tts_slots,
            type(asyncio.get_running_loop()).__module__.partition(".")[0],  # uvloop or asyncio
        )
        if svc.settings.nlu_opinion_later and svc.flows is not None:
            self._opinions = asyncio.create_task(
                _train_opinions(svc.flows, self._training), name="intent opinions"
            )

    async def _open(self, svc: Services) -> None:
        """The stores, the knowledge base and the flows' classifiers."""
        await svc.sessions.open()
        await svc.transcripts.open()
        if svc.agent_screen is not None:
            await svc.agent_screen.open()
        if svc.outcomes is not None:  # pushes left by the last run go out from now on
            await svc.outcomes.outbox.open()
        conversation = await self._stack.enter_async_context(
            open_conversation(
                svc.settings,
                svc.flow_sources.values(),
                segmenter=self._segmenter,
                knowledge=svc.knowledge,
                business=svc.business,
                agents=svc.agents,
                model=language_model(svc.settings),
            )
        )
        svc.flows = conversation.flows
        self._conversation = conversation
        shared = SharedFlows(svc.flows, flow_archive(svc.redis, svc.settings.data_dir))
        svc.flows.shared = shared
        await shared.publish(svc.flow_sources.values())

    async def _check_and_render_prompts(self) -> None:
        # Backends that can tell a missing binary, voice or vendor do so before a prompt
        # fails for the same reason less clearly.
        await check_backends(self._svc.speech.backends)
        await self._render_all_prompts()

    async def _render_all_prompts(self) -> None:
        """Every flow's static prompts, the flows at once (the synthesizer bounds how many
        syntheses run together); the first failure cancels the rest and is raised."""
        tasks = [asyncio.create_task(self._render_prompts(s)) for s in self._svc.flow_sources.values()]
        if not tasks:
            return
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:  # a failure, or this start-up cancelled: the others are not wanted
            for task in tasks:
                if not task.done():
                    await _abandon(task)
        failed = [t for t in tasks if not t.cancelled() and t.exception() is not None]  # all retrieved
        if failed:
            await failed[0]  # raises its exception: the first failure is the one reported

    async def _serve_calls(self, svc: Services) -> None:
        """The call handler, once flows and prompts are ready; the idle sweep, the watcher."""
        conversation = self._conversation
        assert svc.campaigns is not None
        assert conversation is not None
        await svc.campaigns.open()
        public_url = public_base_url(svc.settings)
        svc.calls = CallHandler(
            conversation=conversation,
            sessions=svc.sessions,
            transcripts=svc.transcripts,
            speech=svc.speech,
            pbx=HandoverPBX(svc.pbx, svc.agent_screen) if svc.agent_screen else svc.pbx,
            default_flow=svc.settings.default_flow,
            filler_seconds=svc.settings.kb_filler_ms / 1000,
            action_margin_seconds=svc.settings.action_margin_ms / 1000,
            push_timeout_seconds=svc.settings.pbx_timeout_ms / 1000,
            retry_window_seconds=svc.settings.retry_window_ms / 1000,
            capacity=Capacity(
                svc.settings.max_live_calls, svc.settings.busy_text, svc.settings.busy_transfer
            ),
            on_call_end=partial(_call_ended, svc),
            links=CtiAudioLinks(public_url) if public_url else None,
            followup_late_seconds=svc.settings.followup_late_ms / 1000,
            placed=svc.campaigns,
        )
        await svc.calls.prepare()
        await svc.speech.scan_cache()
        self._sweeper = asyncio.create_task(self._sweep_idle_calls(svc.calls))
        if svc.settings.watch_flows:
            watcher = FlowWatcher(
                svc.settings.flows_dir,
                conversation.flows,
                self._prepare_flow,
                svc.flow_errors,
                HostAllowlist.of(svc.settings),
                speech_backends=svc.settings.tts,
            )
            self._watcher = asyncio.create_task(watcher.run(self._stop_watching))

    async def _prepare_flow(self, source: FlowSource) -> None:
        """A reloaded version before it goes live: its prompts rendered, and it shared
        with the other instances."""
        await self._render_prompts(source)
        if self._svc.flows is not None and self._svc.flows.shared is not None:
            await self._svc.flows.shared.publish([source])

    async def _render_prompts(self, source: FlowSource) -> None:
        """Synthesize (or convert the recording of) every static prompt of a flow, so that
        no caller waits for one."""
        clips = await self._svc.speech.render_prompts(source.flow.static_prompts(), voice=source.flow.voice)
        self._svc.prompts_rendered += len(clips)

    async def _sweep_idle_calls(self, calls: CallHandler) -> None:
        ttl_seconds = self._svc.settings.session_ttl_seconds
        while True:
            # Often, so that each sweep has few calls to forget (ended ones go after a
            # minute: every minute, thousands at once stalled the loop for 100 ms).
            await asyncio.sleep(min(SWEEP_SECONDS, ttl_seconds / 4))
            try:
                closed = await calls.close_idle(ttl_seconds)
            except Exception:  # a failed sweep must not end the sweeping
                logger.exception("closing idle calls failed")
                continue
            if closed:
                logger.info("closed %d abandoned calls", closed)

    async def stop(self) -> None:
        self._svc.ready = False
        if self._opinions is not None:
            if not self._training.is_set():
                self._opinions.cancel()  # still waiting to begin
            await asyncio.wait({self._opinions})  # a thread cannot be cancelled: it ends first
        if self._svc.agent_screen is not None:  # first: the agent pages' streams end at once
            await self._svc.agent_screen.close()
        if self._sweeper:  # first: a call it closed now could not be handed over any more
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._svc.calls is not None:
            await self._svc.calls.finish()
        if self._watcher:
            self._stop_watching.set()
            await self._watcher
        if self._svc.campaigns is not None:
            await self._svc.campaigns.close()
        if self._svc.outcomes is not None:
            await self._svc.outcomes.outbox.close()
        await self._svc.transcripts.close()
        await self._svc.sessions.close()
        if self._svc.redis is not None:
            await self._svc.redis.aclose()
        await self._svc.pbx.aclose()
        if self._svc.agents is not None:
            await self._svc.agents.aclose()
        if self._svc.recordings is not None:
            await self._svc.recordings.aclose()
        if self._svc.hwd is not None:
            await self._svc.hwd.aclose()
        await self._svc.speech.aclose()
        await close_backends(self._svc.speech.backends)
        await self._stack.aclose()  # the conversation: knowledge service and client
        await self._svc.business.aclose()


async def _train_opinions(flows: FlowRegistry, training: asyncio.Event) -> None:
    """The flows' intent classifiers' second opinions, trained once serving
    (``VOICEBOT_NLU_OPINION_LATER``, set by ``voicebot serve``): until each is ready, a
    turn is understood without it. It waits ``OPINIONS_AFTER_SECONDS`` first, so that
    the probes of readiness and the first calls are not answered between its steps
    (it holds the interpreter for most of its second or so a flow). The fit's freed heap
    is given back after, and what training built (the rivals' classifiers: some 50,000
    objects) is frozen as start-up's objects are (a full collection walked them in
    33 ms, docs/quality.md "Round 4"). ``training`` is set as its thread begins."""
    await asyncio.sleep(OPINIONS_AFTER_SECONDS)
    training.set()
    began = time.perf_counter()
    try:
        await asyncio.to_thread(flows.train_opinions)
    except Exception:  # the calls go on without it
        logger.exception("training the intents' second opinions failed")
        return
    await asyncio.to_thread(_freeze_trained)
    logger.info("intents' second opinions trained in %.2f s", time.perf_counter() - began)


def _freeze_trained() -> None:
    """Training's garbage freed, its heap given back, what it built kept out of the
    collected generations (with the few calls' objects alive at that moment: freed by
    their reference counts as ever, only a cycle among them would outlive its call)."""
    gc.collect()
    return_freed_memory()
    gc.freeze()


def _freeze_startup_objects() -> None:
    """What start-up built (the imports, the flows, the classifiers, the knowledge index,
    the prompts' catalogue) lives as long as the process: kept out of the collected
    generations, a full collection walks only the calls' objects. Measured
    (docs/performance.md, issue 17): a full collection at rest went from 6–9 ms to about
    0.5 ms; under load, before, it had paused the loop for 40–230 ms several times a
    minute. ``voicebot serve`` paused the collector before its first import
    (``bot/entry.py``): it runs again from here."""
    began = time.perf_counter()
    collected = gc.collect()  # start-up's garbage is freed, not frozen with the rest
    gc.freeze()
    gc.enable()
    logger.debug(
        "froze %d start-up objects (%d collected first) in %.1f ms",
        gc.get_freeze_count(),
        collected,
        (time.perf_counter() - began) * 1000,
    )
