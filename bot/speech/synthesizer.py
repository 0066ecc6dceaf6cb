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
disk is found and only its 44-byte header is read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from bot.errors import TTSError
from bot.speech.cache import AudioCache, is_valid_key
from bot.speech.clips import AudioClip, ClipStore
from bot.speech.joining import DEFAULT_GAP_MS, DEFAULT_SILENCE_MS, ClipJoiner
from bot.speech.memo import Lru
from bot.speech.normalize import normalize_for_speech
from bot.speech.prompt_recordings import PromptRecordings
from bot.speech.rendering import ChainRenderer
from bot.speech.tts import TTSBackend

# AudioClip is defined in bot.speech.clips; callers have always imported it from here.
__all__ = ["AudioClip", "SpeechSynthesizer", "SpokenPrompt"]

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
        backends: The speech engines in order of preference (or just one).
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

    Raises:
        ValueError: No backend, ``concurrency`` or ``memo_size`` below 1, or a
            negative time.
    """

    def __init__(
        self,
        backends: TTSBackend | Sequence[TTSBackend],
        cache: AudioCache,
        *,
        concurrency: int = 2,
        memo_size: int = 10_000,
        attempt_timeout_seconds: float | None = DEFAULT_ATTEMPT_TIMEOUT_SECONDS,
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
        recordings_dir: Path | None = None,
    ) -> None:
        chain = (backends,) if isinstance(backends, TTSBackend) else tuple(backends)
        if not chain:
            raise ValueError("a synthesizer needs at least one backend")
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, not {concurrency}")
        self._backends = chain
        self._clips = ClipStore(cache, memo_size)
        slots = asyncio.Semaphore(concurrency)  # shared: syntheses and conversions use the same CPU
        self._renderer = ChainRenderer(
            chain,
            self._clips,
            slots,
            attempt_timeout_seconds=attempt_timeout_seconds,
            cooldown_seconds=cooldown_seconds,
        )
        self._recordings = PromptRecordings(recordings_dir, self._clips, slots, memo_size)
        self._joiner = ClipJoiner(self._clips, memo_size)
        self._by_text: Lru[str, AudioClip] = Lru(memo_size)  # text as given → preferred backend's clip

    @property
    def backends(self) -> tuple[TTSBackend, ...]:
        """The speech engines, in order of preference."""
        return self._backends

    @property
    def cache(self) -> AudioCache:
        """The on-disk store of clips."""
        return self._clips.cache

    async def render(self, text: str) -> AudioClip:
        """The clip of ``text``: from memory, else from disk, else synthesized and stored.

        The backends are asked in order: the first that has the text cached, or
        else synthesizes it in time, gives the clip. Concurrent calls for the same
        text (or texts that normalise alike) share one synthesis per backend.

        Args:
            text: A prompt as written; it is normalised for speech here.

        Returns:
            The clip; its ``backend`` says which backend made it.

        Raises:
            SpeechUnavailableError: Every backend failed or is cooling down.
            TTSError: The text is empty after normalisation, or the clip cannot
                be stored.
        """
        clip = self._by_text.get(text)
        if clip is not None:
            return clip
        spoken = normalize_for_speech(text)
        if not spoken:
            raise TTSError(
                "nothing to say: the text is empty after normalisation", backend=self._backends[0].name
            )
        clip, preferred = await self._renderer.render(spoken)
        if preferred:
            self._by_text.put(text, clip)
        return clip

    async def render_prompt(self, prompt: SpokenPrompt) -> AudioClip:
        """A flow prompt's clip: its recording when it has one that plays, else its text.

        A recording that is missing or unreadable is logged at WARNING and its text
        is synthesized instead, so a caller never hears nothing.

        Args:
            prompt: A prompt with ``text`` and, optionally, ``audio`` (a path relative
                to ``recordings_dir``).

        Returns:
            The clip (``backend`` is ``recording`` for a recording).

        Raises:
            SpeechUnavailableError, TTSError: As :meth:`render`, when the text is
                synthesized.
        """
        if prompt.audio:
            clip = await self._recordings.clip(prompt.audio)
            if clip is not None:
                return clip
        return await self.render(prompt.text)

    async def render_prompts(self, prompts: Iterable[SpokenPrompt]) -> list[AudioClip]:
        """Render several prompts concurrently (each distinct text and recording once).

        Args:
            prompts: Prompts; duplicates are allowed.

        Returns:
            One clip per distinct ``(text, audio)``, in first-seen order.

        Raises:
            TTSError: A render failed (the others still complete and are cached).
        """
        unique = {(p.text, p.audio): p for p in prompts}
        return list(await asyncio.gather(*(self.render_prompt(p) for p in unique.values())))

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
        return await self._joiner.join(clips, gap_ms=gap_ms)

    async def silence(self, duration_ms: int = DEFAULT_SILENCE_MS) -> AudioClip:
        """A clip of silence: the answer when a turn has nothing to say before it acts.

        Args:
            duration_ms: Length of the silence.

        Returns:
            The cached silent clip.
        """
        return await self._joiner.silence(duration_ms)

    async def clip(self, key: str) -> AudioClip | None:
        """The clip named ``key``, for serving.

        Known keys cost a dictionary lookup; an unknown well-formed key (after a
        restart, or made by another worker) costs one read of the file's 44-byte
        header, in a worker thread.

        Args:
            key: Untrusted key, e.g. from a URL.

        Returns:
            The clip, or None for a malformed key or a clip that is not stored.
        """
        if not is_valid_key(key):
            return None
        return await self._clips.find(key)
