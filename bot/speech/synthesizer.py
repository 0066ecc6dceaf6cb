"""Text → cached telephone WAV clips, as served to the CTI.

:class:`SpeechSynthesizer` is the one entry point the rest of the bot uses:
``render`` turns a prompt into an :class:`AudioClip` whose file the web layer
serves, ``join`` glues several clips into one prompt, ``clip`` finds a clip by
the key in an audio URL.

Performance model: the first render of a text runs the backend (a process) and
resamples; every later render of the same text in this process is a dictionary
lookup (no normalisation, hashing, stat or process). After a restart, or for a
clip made by another worker sharing the directory, the file on disk is found and
only its 44-byte header is read. Files are assumed to stay in the directory while
the service runs (nothing here deletes them).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import wave
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Generic, TypeVar

from bot.errors import TTSError
from bot.speech.audio import concat_wavs, silence_wav, to_telephone_wav, wav_duration_seconds
from bot.speech.cache import AUDIO_FORMAT, AudioCache, is_valid_key
from bot.speech.normalize import normalize_for_speech
from bot.speech.tts import TTSBackend

logger = logging.getLogger(__name__)

_K = TypeVar("_K")
_V = TypeVar("_V")

DEFAULT_GAP_MS = 150
DEFAULT_SILENCE_MS = 300


@dataclass(frozen=True)
class AudioClip:
    """A telephone WAV in the audio cache.

    Attributes:
        key: Cache key; also the clip's public name in audio URLs.
        path: The WAV file (8000 Hz mono 16-bit).
        duration_seconds: Play time.
    """

    key: str
    path: Path
    duration_seconds: float


class SpeechSynthesizer:
    """Render texts to cached telephone clips, synthesizing each distinct text once.

    Use one instance per event loop: its semaphore and in-flight table belong to
    the loop that first uses them.

    Args:
        backend: The speech engine.
        cache: Where clips are stored.
        concurrency: Most syntheses (backend call plus resampling) run at once.
        memo_size: Most texts and clips remembered in memory (least recently
            used go first; their files stay on disk and are found again).

    Raises:
        ValueError: ``concurrency`` or ``memo_size`` is below 1.
    """

    def __init__(
        self,
        backend: TTSBackend,
        cache: AudioCache,
        *,
        concurrency: int = 2,
        memo_size: int = 10_000,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, not {concurrency}")
        self._backend = backend
        self._cache = cache
        self._semaphore = asyncio.Semaphore(concurrency)
        self._clips: _Lru[str, AudioClip] = _Lru(memo_size)  # key → clip, incl. duration
        self._by_text: _Lru[str, AudioClip] = _Lru(memo_size)  # text as given → clip
        self._joins: _Lru[tuple[int, tuple[str, ...]], AudioClip] = _Lru(memo_size)
        self._in_flight: dict[str, asyncio.Task[AudioClip]] = {}

    @property
    def backend(self) -> TTSBackend:
        """The speech engine used for new clips."""
        return self._backend

    @property
    def cache(self) -> AudioCache:
        """The on-disk store of clips."""
        return self._cache

    async def render(self, text: str) -> AudioClip:
        """The clip of ``text``: from memory, else from disk, else synthesized and stored.

        Concurrent calls for the same text (or texts that normalise alike) share
        one synthesis.

        Args:
            text: A prompt as written; it is normalised for speech here.

        Returns:
            The clip.

        Raises:
            TTSError: The text is empty after normalisation, or synthesis,
                conversion or storing failed.
        """
        clip = self._by_text.get(text)
        if clip is not None:
            return clip
        spoken = normalize_for_speech(text)
        if not spoken:
            raise TTSError(
                "nothing to say: the text is empty after normalisation", backend=self._backend.name
            )
        key = self._cache.key_for(spoken, self._backend)
        clip = self._clips.get(key)
        if clip is None:
            clip = await self._single_flight(key, partial(self._synthesize, key, spoken))
        self._by_text.put(text, clip)
        return clip

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
        return clip

    async def _store_silence(self, key: str, duration_ms: int) -> AudioClip:
        path = await self._cache.put(key, silence_wav(duration_ms))
        return AudioClip(key, path, duration_ms / 1000)

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

    async def _synthesize(self, key: str, spoken: str) -> AudioClip:
        """Backend → telephone format → cache."""
        started = time.perf_counter()
        async with self._semaphore:
            raw = await self._backend.synthesize(spoken)
            wav, duration = await asyncio.to_thread(_telephone_with_duration, raw)
        path = await self._cache.put(key, wav)
        # Key and length only: prompts can carry callers' phone and ID numbers.
        logger.info(
            "synthesized clip %s: %d characters, %.2f s of audio, in %.0f ms",
            key[:12],
            len(spoken),
            duration,
            (time.perf_counter() - started) * 1000,
        )
        return AudioClip(key, path, duration)

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


class _Lru(Generic[_K, _V]):
    """A dictionary that forgets its least recently used entries beyond ``capacity``."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"memo_size must be >= 1, not {capacity}")
        self._capacity = capacity
        self._data: OrderedDict[_K, _V] = OrderedDict()

    def get(self, key: _K) -> _V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: _K, value: _V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self._capacity:
            self._data.popitem(last=False)
