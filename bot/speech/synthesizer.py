"""Text → cached telephone WAV clips, as served to the CTI.

:class:`SpeechSynthesizer` is the one entry point the rest of the bot uses:
``render`` turns a text into an :class:`AudioClip` whose file the web layer
serves, ``render_prompt`` plays a flow prompt's recording or says its text,
``join`` glues several clips into one prompt, ``clip`` finds a clip by the key in
an audio URL.

Backends form a chain, in order of preference. A text is taken from the first
backend that has it cached, else synthesized by the first backend that answers
within the time budget; a backend that failed is skipped for a cooldown (its
cached clips are still used), so that a dead vendor does not cost every turn its
timeout. When none can say the text, :class:`SpeechUnavailableError` lets the
caller answer with audio it rendered earlier.

Performance model: the first render of a text runs the backend (a process or a
request) and resamples; every later render of the same text in this process is a
dictionary lookup (no normalisation, hashing, stat or process) as long as the clip
came from the preferred backend. A fallback's clip is not remembered by text: the
next render looks for the preferred backend's clip again (a memory lookup and one
header read), so the preferred backend takes over as soon as it is back. After a
restart, or for a clip made by another worker sharing the directory, the file on
disk is found and only its 44-byte header is read. Files are assumed to stay in the
directory while the service runs (nothing here deletes them).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
import wave
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

from bot.errors import SpeechUnavailableError, TTSError
from bot.speech.audio import concat_wavs, silence_wav, to_telephone_wav, wav_duration_seconds
from bot.speech.cache import AUDIO_FORMAT, AudioCache, is_valid_key
from bot.speech.chain import BackendHealth
from bot.speech.memo import Lru
from bot.speech.normalize import normalize_for_speech
from bot.speech.recordings import RECORDING_BACKEND, read_recording, recording_key, recording_path
from bot.speech.tts import TTSBackend

logger = logging.getLogger(__name__)

DEFAULT_GAP_MS = 150
DEFAULT_SILENCE_MS = 300
DEFAULT_ATTEMPT_TIMEOUT_SECONDS = 2.5
DEFAULT_COOLDOWN_SECONDS = 30.0
SILENCE_BACKEND = "silence"


@dataclass(frozen=True)
class AudioClip:
    """A telephone WAV in the audio cache.

    Attributes:
        key: Cache key; also the clip's public name in audio URLs.
        path: The WAV file (8000 Hz mono 16-bit).
        duration_seconds: Play time.
        backend: What made it, for transcripts: a backend's ``name``, ``recording``,
            ``silence``, the parts' names joined by ``+`` for a joined clip, or empty
            for a clip only looked up by key. Not part of the clip's identity.
    """

    key: str
    path: Path
    duration_seconds: float
    backend: str = dataclasses.field(default="", compare=False)


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
        if attempt_timeout_seconds is not None and attempt_timeout_seconds <= 0:
            raise ValueError(f"attempt_timeout_seconds must be > 0, not {attempt_timeout_seconds}")
        self._backends = chain
        self._cache = cache
        self._timeout = attempt_timeout_seconds
        self._health = BackendHealth(chain, cooldown_seconds)
        self._recordings_dir = recordings_dir
        self._semaphore = asyncio.Semaphore(concurrency)
        self._clips: Lru[str, AudioClip] = Lru(memo_size)  # key → clip, incl. duration
        self._by_text: Lru[str, AudioClip] = Lru(memo_size)  # text as given → preferred backend's clip
        self._joins: Lru[tuple[int, tuple[str, ...]], AudioClip] = Lru(memo_size)
        self._recordings: Lru[tuple[str, int, int], AudioClip] = Lru(memo_size)  # file, mtime, size
        self._in_flight: dict[str, asyncio.Task[AudioClip]] = {}

    @property
    def backends(self) -> tuple[TTSBackend, ...]:
        """The speech engines, in order of preference."""
        return self._backends

    @property
    def cache(self) -> AudioCache:
        """The on-disk store of clips."""
        return self._cache

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
        clip, preferred = await self._render_spoken(spoken)
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
            clip = await self._recording(prompt.audio)
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

    async def render_all(self, texts: Iterable[str]) -> list[AudioClip]:
        """Render several texts concurrently, each distinct text once.

        Args:
            texts: Prompts as written; duplicates are allowed.

        Returns:
            One clip per input text, in input order (duplicates share a clip).

        Raises:
            TTSError: A render failed (the others still complete and are cached).
        """
        ordered = list(texts)
        unique = list(dict.fromkeys(ordered))
        clips = await asyncio.gather(*(self.render(text) for text in unique))
        by_text = dict(zip(unique, clips, strict=True))
        return [by_text[text] for text in ordered]

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
        if not clips:
            raise ValueError("join needs at least one clip")
        if gap_ms < 0:
            raise ValueError(f"gap_ms must be >= 0, not {gap_ms}")
        if len(clips) == 1:
            return clips[0]
        parts = (gap_ms, tuple(c.key for c in clips))
        clip = self._joins.get(parts)  # a reply joins the same prompts again and again
        if clip is None:
            key = _join_key(parts[1], gap_ms)
            clip = self._clips.get(key)
            if clip is None:
                paths = tuple(c.path for c in clips)
                clip = await self._single_flight(key, partial(self._join_files, key, paths, gap_ms))
            clip = _labelled(clip, "+".join(dict.fromkeys(c.backend for c in clips if c.backend)))
            self._joins.put(parts, clip)
        return clip

    async def silence(self, duration_ms: int = DEFAULT_SILENCE_MS) -> AudioClip:
        """A clip of silence: the answer when a turn has nothing to say before it acts.

        Args:
            duration_ms: Length of the silence.

        Returns:
            The cached silent clip.
        """
        material = f"silence:{AUDIO_FORMAT}:{duration_ms}"
        key = hashlib.sha256(material.encode("ascii")).hexdigest()
        clip = self._clips.get(key)
        if clip is None:
            clip = await self._single_flight(key, partial(self._store_silence, key, duration_ms))
        return _labelled(clip, SILENCE_BACKEND)

    async def _store_silence(self, key: str, duration_ms: int) -> AudioClip:
        path = await self._cache.put(key, silence_wav(duration_ms))
        return AudioClip(key, path, duration_ms / 1000, SILENCE_BACKEND)

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
        clip = self._clips.get(key)
        if clip is None:
            clip = await asyncio.to_thread(self._load, key)
            if clip is not None:
                self._clips.put(key, clip)
        return clip

    async def _render_spoken(self, spoken: str) -> tuple[AudioClip, bool]:
        """The clip of normalised text from the first backend that has or makes it, and
        whether that was the preferred (first) backend."""
        failures: list[tuple[str, str]] = []
        for index, backend in enumerate(self._backends):
            key = self._cache.key_for(spoken, backend)
            clip = self._clips.get(key)
            if clip is None and self._health.usable(index):
                try:
                    clip = await self._single_flight(key, partial(self._synthesize, key, spoken, index))
                except TTSError as exc:
                    failures.append((backend.name, str(exc)))
                    continue
            elif clip is None:
                # Cooling down: what it said before is still better than a fallback's voice.
                clip = await asyncio.to_thread(self._load, key)
                if clip is None:
                    failures.append((backend.name, "skipped: it failed recently"))
                    continue
                self._clips.put(key, clip)
            return _labelled(clip, backend.name), index == 0
        raise SpeechUnavailableError(failures)

    async def _recording(self, name: str) -> AudioClip | None:
        """The clip of a recorded prompt, or None (logged) when the file is unusable.

        Remembered by file, modification time and size, so an unchanged file costs a
        ``stat``; a changed one is read again and cached under its new content hash.
        """
        try:
            if self._recordings_dir is None:
                raise ValueError("no recordings directory is configured")
            path = recording_path(self._recordings_dir, name)
            stat = await asyncio.to_thread(path.stat)
            stamp = (str(path), stat.st_mtime_ns, stat.st_size)
            clip = self._recordings.get(stamp)
            if clip is None:
                data, _ = await asyncio.to_thread(read_recording, path)
                key = recording_key(data)
                clip = self._clips.get(key) or await self._single_flight(
                    key, partial(self._convert_recording, key, data)
                )
                self._recordings.put(stamp, clip)
        except (OSError, ValueError, TTSError) as exc:
            logger.warning("recording %s cannot be played (%s); its text is spoken instead", name, exc)
            return None
        return _labelled(clip, RECORDING_BACKEND)

    async def _convert_recording(self, key: str, data: bytes) -> AudioClip:
        async with self._semaphore:
            wav, duration = await asyncio.to_thread(_telephone_with_duration, data)
        path = await self._cache.put(key, wav)
        logger.info("converted recording %s: %.2f s of audio", key[:12], duration)
        return AudioClip(key, path, duration, RECORDING_BACKEND)

    async def _single_flight(self, key: str, make: Callable[[], Awaitable[AudioClip]]) -> AudioClip:
        """Produce the clip of ``key`` once however many callers ask at the same time."""
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._produce(key, make))
            self._in_flight[key] = task
            task.add_done_callback(partial(self._forget, key))
        # shield: one caller giving up (a hung-up call) must not cancel the work
        # that the other callers wait for; it still finishes and fills the cache.
        return await asyncio.shield(task)

    def _forget(self, key: str, task: asyncio.Task[AudioClip]) -> None:
        if self._in_flight.get(key) is task:
            del self._in_flight[key]
        if not task.cancelled():
            task.exception()  # mark retrieved: the waiters got it, or nobody waits any more

    async def _produce(self, key: str, make: Callable[[], Awaitable[AudioClip]]) -> AudioClip:
        """Take the clip from disk when another run or worker stored it, else make it."""
        clip = await asyncio.to_thread(self._load, key)
        if clip is None:
            clip = await make()
        self._clips.put(key, clip)
        return clip

    async def _synthesize(self, key: str, spoken: str, index: int) -> AudioClip:
        """Backend ``index`` → telephone format → cache."""
        backend = self._backends[index]
        started = time.perf_counter()
        async with self._semaphore:
            # Asked again now: it may have failed for another text while this one queued.
            if not self._health.usable(index):
                raise TTSError("skipped: it failed while this text waited", backend=backend.name)
            wav, duration = await self._attempt(index, spoken)
        path = await self._cache.put(key, wav)
        # Key and length only: prompts can carry callers' phone and ID numbers.
        logger.info(
            "synthesized clip %s with %s: %d characters, %.2f s of audio, in %.0f ms",
            key[:12],
            backend.name,
            len(spoken),
            duration,
            (time.perf_counter() - started) * 1000,
        )
        return AudioClip(key, path, duration, backend.name)

    async def _attempt(self, index: int, spoken: str) -> tuple[bytes, float]:
        """One backend's try within the time budget; a failure starts its cooldown."""
        backend = self._backends[index]
        try:
            async with asyncio.timeout(self._timeout):
                raw = await backend.synthesize(spoken)
            result = await asyncio.to_thread(_telephone_with_duration, raw)
        except TimeoutError as exc:
            budget = f"within {self._timeout * 1000:.0f} ms" if self._timeout is not None else "in time"
            error = TTSError(f"no audio {budget}", backend=backend.name)
            self._health.failed(index, str(error))
            raise error from exc
        except TTSError as exc:
            self._health.failed(index, str(exc))
            raise
        except Exception as exc:
            # A backend's bug (an error it should have translated) must not silence the
            # call while another backend could speak: it counts as a failure, loudly.
            logger.exception("speech backend %s raised %s", backend.name, type(exc).__name__)
            error = TTSError(f"unexpected {type(exc).__name__}", backend=backend.name)
            self._health.failed(index, str(error))
            raise error from exc
        self._health.succeeded(index)
        return result

    async def _join_files(self, key: str, paths: tuple[Path, ...], gap_ms: int) -> AudioClip:
        """Concatenate stored clips into a new stored clip."""
        wav, duration = await asyncio.to_thread(_concat_files, paths, gap_ms)
        path = await self._cache.put(key, wav)
        logger.debug("joined %d clips into %s (%.2f s)", len(paths), key[:12], duration)
        return AudioClip(key, path, duration)

    def _load(self, key: str) -> AudioClip | None:
        """The stored clip of ``key`` with its duration from the WAV header, or None."""
        path = self._cache.path(key)
        try:
            with wave.open(str(path), "rb") as reader:
                duration = reader.getnframes() / reader.getframerate()
        except FileNotFoundError:
            return None
        except (wave.Error, EOFError, OSError, ZeroDivisionError) as exc:
            # Treated as absent: a render synthesizes it again and replaces the file.
            logger.warning("ignoring unreadable cached clip %s: %s", path, exc)
            return None
        return AudioClip(key, path, duration)


def _labelled(clip: AudioClip, backend: str) -> AudioClip:
    """``clip`` saying it was made by ``backend`` (a clip first met by key has no label)."""
    return clip if clip.backend == backend else dataclasses.replace(clip, backend=backend)


def _join_key(keys: Sequence[str], gap_ms: int) -> str:
    """Key of a joined clip: the parts' keys in order, the gap and the format."""
    material = f"join:{AUDIO_FORMAT}:gap={gap_ms}:" + ",".join(keys)
    return hashlib.sha256(material.encode("ascii")).hexdigest()


def _telephone_with_duration(raw: bytes) -> tuple[bytes, float]:
    """CPU part of a synthesis, run in a worker thread."""
    wav = to_telephone_wav(raw)
    return wav, wav_duration_seconds(wav)


def _concat_files(paths: Sequence[Path], gap_ms: int) -> tuple[bytes, float]:
    """Read and join stored clips, in a worker thread."""
    try:
        parts = [path.read_bytes() for path in paths]
    except OSError as exc:
        raise TTSError(f"cannot read a clip to join: {exc}") from exc
    wav = concat_wavs(parts, gap_ms=gap_ms)
    return wav, wav_duration_seconds(wav)
