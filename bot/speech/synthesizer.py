"""Text → cached telephone WAV clips, as served to the CTI.

:class:`SpeechSynthesizer` is the one entry point the rest of the bot uses:
``render`` turns a text into an :class:`AudioClip` whose file the web layer
serves, ``render_prompt`` plays a flow prompt's recording or says its text,
``join`` glues several clips into one prompt, ``clip`` finds a clip by the key in
an audio URL. It puts together parts that each keep one concern: the backend chain
and its time budget (:mod:`bot.speech.rendering`), recordings
(:mod:`bot.speech.prompt_recordings`), joins and silence (:mod:`bot.speech.joining`),
and the store of clips by key (:mod:`bot.speech.clips`).

Performance model: the first render of a text runs the backend (a process or a
request) and resamples; every later render of the same text in this process is a
dictionary lookup (no normalisation, hashing, stat or process) as long as the clip
came from the preferred backend. A fallback's clip is not remembered by text: the
next render looks for the preferred backend's clip again (a memory lookup and one
header read), so the preferred backend takes over as soon as it is back. After a
restart, or for a clip made by another worker sharing the directory, the file on
disk is found and only its header is read (44 bytes for PCM, 58 for G.711).

Voices: a flow may choose its voice (``voice:``, :mod:`bot.speech.voices`); its words
are said by the chain that voice leads (``render(text, voice=…)``), with the text
memory, the clips and the backends' cooldowns of the other chains.

Audio across instances: every key handed out has a recipe (:mod:`bot.speech.catalog`),
written to the catalog the first time this process hands the key out (and again
before the shared copy expires), awaited so that another instance can read it by the
time the answer leaves; later renders of a known key do not touch the catalog.
:meth:`SpeechSynthesizer.serve` makes a clip that is not on disk from its recipe: from
this process's memory of recipes (a clip evicted from a bounded cache), else from the
catalog (a clip another instance made).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Protocol

from bot import metrics
from bot.errors import TTSError
from bot.speech.cache import AudioCache, is_valid_key
from bot.speech.catalog import (
    RECIPE_MEMO_SIZE,
    AudioCatalog,
    AudioCatalogError,
    LocalAudioCatalog,
    RecipeMemory,
    RecordingRecipe,
    SilenceRecipe,
)
from bot.speech.clips import AudioClip, ClipStore
from bot.speech.joining import DEFAULT_GAP_MS, DEFAULT_SILENCE_MS, ClipJoiner
from bot.speech.normalize import normalize_for_speech
from bot.speech.prompt_recordings import PromptRecordings
from bot.speech.remaking import MissingAudioError, Remaker
from bot.speech.sentences import MIN_SPLIT_CHARS, say_all, sentence_pieces
from bot.speech.speakers import Speaker, Speakers
from bot.speech.tts import TTSBackend
from bot.speech.voices import VoiceChains, VoiceChoice

# AudioClip is defined in bot.speech.clips; callers have always imported it from here.
__all__ = ["AudioClip", "MissingAudioError", "SpeechSynthesizer", "SpokenPrompt"]

logger = logging.getLogger(__name__)

DEFAULT_ATTEMPT_TIMEOUT_SECONDS = 2.5
DEFAULT_COOLDOWN_SECONDS = 30.0


class SpokenPrompt(Protocol):
    """What :meth:`SpeechSynthesizer.render_prompt` needs of a prompt (``bot.language.flow.Prompt``)."""

    @property
    def text(self) -> str: ...

    @property
    def audio(self) -> str | None: ...


class SpeechSynthesizer:
    """Render texts to cached telephone clips, synthesizing each distinct text once.

    Use one instance per event loop: its semaphore and in-flight table belong to
    the loop that first uses them.

    Args:
        backends: The speech engines in order of preference (or just one); or their
            :class:`VoiceChains`, which also make the chains of flows' voices.
        cache: Where clips are stored.
        concurrency: Most syntheses (backend call plus resampling) run at once.
        memo_size: Most texts and clips remembered in memory (least recently
            used go first; their files stay on disk and are found again).
        attempt_timeout_seconds: Longest one backend may take for one text (waiting
            for a free synthesis slot not counted); then the next is tried. None:
            no limit beyond the backend's own.
        cooldown_seconds: How long a backend that failed or was too slow is skipped.
            The last backend of the chain is never skipped: after it there is
            nothing but silence.
        recordings_dir: The flows directory, which prompts' ``audio`` paths are
            relative to; None plays no recordings (their text is synthesized).
        catalog: Where the recipes of the clips handed out are shared with other
            instances; default: :class:`LocalAudioCatalog` (nothing shared).
        recipe_memo_size: Most recipes remembered in memory, to make again the clips
            that a bounded cache evicted.
        split_min_chars: A text this long or longer once normalised is said sentence by
            sentence (:mod:`bot.speech.sentences`) by a ``remote`` backend, except static
            prompts (:meth:`render_prompts`); None: every text in one piece.

    Raises:
        ValueError: No backend, ``concurrency`` or ``memo_size`` below 1, or a
            negative time.
    """

    def __init__(
        self,
        backends: TTSBackend | Sequence[TTSBackend] | VoiceChains,
        cache: AudioCache,
        *,
        concurrency: int = 2,
        memo_size: int = 10_000,
        attempt_timeout_seconds: float | None = DEFAULT_ATTEMPT_TIMEOUT_SECONDS,
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
        recordings_dir: Path | None = None,
        catalog: AudioCatalog | None = None,
        recipe_memo_size: int = RECIPE_MEMO_SIZE,
        split_min_chars: int | None = MIN_SPLIT_CHARS,
    ) -> None:
        self._voices = backends if isinstance(backends, VoiceChains) else VoiceChains(backends)
        self._backends = self._voices.default
        if not self._backends:
            raise ValueError("a synthesizer needs at least one backend")
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, not {concurrency}")
        self._clips = ClipStore(cache, memo_size)
        self._split_min_chars = split_min_chars
        slots = asyncio.Semaphore(concurrency)  # shared: syntheses and conversions use the same CPU
        self._speakers = Speakers(
            self._voices,
            self._clips,
            slots,
            cooldown_seconds=cooldown_seconds,
            attempt_timeout_seconds=attempt_timeout_seconds,
            memo_size=memo_size,
        )
        self._recordings = PromptRecordings(recordings_dir, self._clips, slots, memo_size)
        self._joiner = ClipJoiner(self._clips, memo_size)
        self._recipes = RecipeMemory(catalog or LocalAudioCatalog(), recipe_memo_size)
        self._remaker = Remaker(
            backends=self._voices.known,
            clips=self._clips,
            joiner=self._joiner,
            recordings=self._recordings,
            recipes=self._recipes,
            slots=slots,
            attempt_timeout_seconds=attempt_timeout_seconds,
            health=self._speakers.health,
        )

    @property
    def backends(self) -> tuple[TTSBackend, ...]:
        """The speech engines, in order of preference."""
        return self._backends

    @property
    def cache(self) -> AudioCache:
        """The on-disk store of clips."""
        return self._clips.cache

    async def render(self, text: str, *, voice: VoiceChoice | None = None) -> AudioClip:
        """The clip of ``text``: from memory, else from disk, else synthesized and stored.

        The backends are asked in order: the first that has the text cached, or
        else synthesizes it in time, gives the clip. Concurrent calls for the same
        text (or texts that normalise alike) share one synthesis per backend. A remote
        backend says a long text's sentences at the same time (:mod:`bot.speech.sentences`).

        Args:
            text: A prompt as written; it is normalised for speech here.
            voice: The flow's voice: its backend is asked first, then the backends.

        Returns:
            The clip; its ``backend`` says which backend made it.

        Raises:
            SpeechUnavailableError: Every backend failed or is cooling down.
            TTSError: The text is empty after normalisation, or the clip cannot
                be stored.
        """
        return await self._render(text, voice, whole=False)

    async def _render(self, text: str, voice: VoiceChoice | None, *, whole: bool) -> AudioClip:
        """:meth:`render`; ``whole``: in one piece, however long (a static prompt)."""
        speaker = self._speakers.default if voice is None else await self._speakers.of(voice)
        clip = speaker.by_text.get(text)
        if clip is not None and self._clips.touch(clip.key) and self._recipes.fresh(clip.key):
            metrics.count_tts(clip.backend, hit=True)
            return clip
        spoken = normalize_for_speech(text)
        if not spoken:
            raise TTSError(
                "nothing to say: the text is empty after normalisation", backend=self._backends[0].name
            )
        cut = speaker.by_sentence and not whole
        pieces = sentence_pieces(spoken, min_chars=self._split_min_chars) if cut else [spoken]
        said = await say_all(pieces, partial(self._say, speaker))
        clip = said[0][0] if len(said) == 1 else await self.join([piece for piece, _ in said])
        if all(preferred for _, preferred in said):
            speaker.by_text.put(text, clip)
        return clip

    async def _say(self, speaker: Speaker, spoken: str) -> tuple[AudioClip, bool]:
        """A normalised text's clip by ``speaker``'s chain, and whether its first backend made it."""
        clip, preferred = await speaker.renderer.render(spoken)
        await self._remaker.remember(clip, self._remaker.speech_recipe(spoken, clip))
        return clip, preferred

    async def render_prompt(self, prompt: SpokenPrompt, *, voice: VoiceChoice | None = None) -> AudioClip:
        """A flow prompt's clip: its recording when it has one that plays, else its text.

        A recording that is missing or unreadable is logged at WARNING and its text
        is synthesized instead, so a caller never hears nothing. A recording's clip is
        pinned: a bounded cache never evicts it.

        Args:
            prompt: A prompt with ``text`` and, optionally, ``audio`` (a path relative
                to ``recordings_dir``).
            voice: The flow's voice, for the text (see :meth:`render`).

        Returns:
            The clip (``backend`` is ``recording`` for a recording).

        Raises:
            SpeechUnavailableError, TTSError: As :meth:`render`, when the text is
                synthesized.
        """
        return await self._render_prompt(prompt, voice, False)

    async def _render_prompt(self, prompt: SpokenPrompt, voice: VoiceChoice | None, whole: bool) -> AudioClip:
        if prompt.audio:
            clip = await self._recordings.clip(prompt.audio)
            if clip is not None:
                self._clips.pin(clip.key)
                await self._remaker.remember(clip, RecordingRecipe(prompt.audio))
                return clip
        return await self._render(prompt.text, voice, whole=whole)

    async def render_prompts(
        self, prompts: Iterable[SpokenPrompt], *, voice: VoiceChoice | None = None
    ) -> list[AudioClip]:
        """Render several prompts concurrently (each distinct text and recording once).

        For a flow's static prompts, at start-up and when a flow is reloaded: the clips
        are pinned, so a bounded cache never evicts them. Each text is said in one piece,
        however long (no caller waits for it).

        Args:
            prompts: Prompts; duplicates are allowed.
            voice: The flow's voice (see :meth:`render`); its backend is built, and
                checked, before the first prompt is said.

        Returns:
            One clip per distinct ``(text, audio)``, in first-seen order.

        Raises:
            TTSError: A render failed (the others still complete and are cached).
        """
        if voice is not None:
            await self._speakers.of(voice)  # built (and checked) once, not by each prompt's task
        unique = {(p.text, p.audio): p for p in prompts}
        clips = list(await asyncio.gather(*(self._render_prompt(p, voice, True) for p in unique.values())))
        for clip in clips:
            self._clips.pin(clip.key)
        return clips

    async def join(self, clips: Sequence[AudioClip], *, gap_ms: int = DEFAULT_GAP_MS) -> AudioClip:
        """One clip that plays ``clips`` in order with ``gap_ms`` of silence between them.

        The joined clip is cached too, under a key derived from the parts' keys.

        Args:
            clips: Clips of this synthesizer's cache.
            gap_ms: Silence between consecutive clips, in milliseconds.

        Returns:
            The single clip itself when there is one, else the joined clip.

        Raises:
            ValueError: ``clips`` is empty or ``gap_ms`` negative.
            TTSError: A part cannot be read or the result cannot be stored.
        """
        return await self._remaker.join_remembered(clips, gap_ms)

    async def silence(self, duration_ms: int = DEFAULT_SILENCE_MS) -> AudioClip:
        """A clip of silence: the answer when a turn has nothing to say before it acts.

        Args:
            duration_ms: Length of the silence.

        Returns:
            The cached silent clip.
        """
        clip = await self._joiner.silence(duration_ms)
        await self._remaker.remember(clip, SilenceRecipe(duration_ms))
        return clip

    async def clip(self, key: str) -> AudioClip | None:
        """The clip named ``key``, or None when it cannot be had (see :meth:`serve`).

        Args:
            key: Untrusted key, e.g. from a URL.

        Returns:
            The clip, or None for a malformed or unknown key, or a clip that cannot be
            made now (logged at WARNING).
        """
        if not is_valid_key(key):
            return None
        try:
            return await self.serve(key)
        except MissingAudioError as exc:
            logger.debug("no audio %s: %s", key[:12], exc)
        except (TTSError, AudioCatalogError) as exc:
            logger.warning("audio %s cannot be made now: %s", key[:12], exc)
        return None

    async def serve(self, key: str) -> AudioClip:
        """The clip named ``key``, for serving: from memory, disk, else made from its recipe.

        Known keys cost a dictionary lookup; a key not in memory (after a restart, or
        made by another worker) one read of the file's header, in a worker
        thread. A clip not on disk (evicted here, or made by another instance) is made
        again from its recipe: remembered here, else read from the catalog; a join's
        parts first. It is then stored like any clip.

        Args:
            key: Untrusted key, e.g. from a URL.

        Returns:
            The clip.

        Raises:
            MissingAudioError: The key is malformed or unknown, or its recipe cannot be
                followed here (HTTP 404).
            SpeechUnavailableError: The backend that said it fails now (HTTP 503).
            AudioCatalogError: The catalog cannot be read (HTTP 503).
            TTSError: The clip cannot be stored.
        """
        if not is_valid_key(key):
            raise MissingAudioError(f"malformed audio key {key[:80]!r}")
        return await self._remaker.resolve(key)

    def pin(self, clip: AudioClip) -> None:
        """Never evict ``clip`` from a bounded cache (e.g. the apology said when no backend works)."""
        self._clips.pin(clip.key)

    def forget(self, key: str) -> None:
        """The file of ``key`` vanished (another process sharing the directory deleted it):
        the next :meth:`serve` looks for it, or makes it, again."""
        if is_valid_key(key):
            self._clips.forget(key)

    async def scan_cache(self) -> int:
        """Learn the sizes of the clips already in the cache directory (in a thread), so
        that a bounded cache evicts them too. A no-op without a bound.

        Call once at start-up, after the flows' static prompts are rendered (they are
        pinned by then).

        Returns:
            How many clips on disk count towards the bound.
        """
        return await self._clips.scan()

    async def aclose(self) -> None:
        """Wait for a running eviction of the bounded cache to finish; close the backends
        built for flows' voices (those of :attr:`backends` are the caller's)."""
        await self._clips.aclose()
        await self._voices.aclose()
