"""A normalised text → the clip of the first backend of the chain that has or makes it.

Backends form a chain, in order of preference. A text is taken from the first
backend that has it cached, else synthesized by the first backend that answers
within the time budget; a backend that failed is skipped for a cooldown
(:mod:`bot.speech.chain`; its cached clips are still used), so that a dead vendor
does not cost every turn its timeout. When none can say the text,
:class:`SpeechUnavailableError` lets the caller answer with audio it rendered earlier.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from functools import partial

from bot import metrics
from bot.errors import SpeechUnavailableError, TTSError
from bot.speech.audio import to_telephone_wav_with_duration
from bot.speech.chain import BackendHealth
from bot.speech.clips import AudioClip, ClipStore
from bot.speech.tts import TTSBackend

logger = logging.getLogger(__name__)


class ChainRenderer:
    """Say normalised texts with the first backend of a chain that can.

    Args:
        backends: The speech engines in order of preference, at least one.
        clips: Where clips are found and stored.
        slots: Limits how many syntheses (backend call plus resampling) run at once;
            shared with the conversion of recordings.
        attempt_timeout_seconds: Longest one backend may take for one text (waiting
            for a free slot not counted); then the next is tried. None: no limit
            beyond the backend's own.
        cooldown_seconds: How long a backend that failed or was too slow is skipped.
        health: The cooldowns, shared with the other chains of the same backends
            (the chains of flows' voices); default: this chain's own, of
            ``cooldown_seconds``.

    Raises:
        ValueError: ``attempt_timeout_seconds`` is not positive, or
            ``cooldown_seconds`` is negative.
    """

    def __init__(
        self,
        backends: Sequence[TTSBackend],
        clips: ClipStore,
        slots: asyncio.Semaphore,
        *,
        attempt_timeout_seconds: float | None,
        cooldown_seconds: float,
        health: BackendHealth | None = None,
    ) -> None:
        if attempt_timeout_seconds is not None and attempt_timeout_seconds <= 0:
            raise ValueError(f"attempt_timeout_seconds must be > 0, not {attempt_timeout_seconds}")
        self._backends = backends
        self._clips = clips
        self._slots = slots
        self._attempt_timeout_seconds = attempt_timeout_seconds
        self._health = health if health is not None else BackendHealth(cooldown_seconds)

    async def render(self, spoken: str) -> tuple[AudioClip, bool]:
        """The clip of ``spoken`` and whether the preferred (first) backend made it.

        Args:
            spoken: A text already normalised for speech, not empty.

        Returns:
            The clip, labelled with its backend's name, and True when that backend
            is the first of the chain (only such a clip may be remembered by text).

        Raises:
            SpeechUnavailableError: Every backend failed or is cooling down.
        """
        failures: list[tuple[str, str]] = []
        made: list[str] = []  # the backends that synthesized (a miss), told by _synthesize
        for index, backend in enumerate(self._backends):
            key = self._clips.cache.key_for(spoken, backend)
            clip = self._clips.remembered(key)
            if clip is None and self._usable(index):
                try:
                    make = partial(self._synthesize, key, spoken, index, made)
                    clip = await self._clips.find_or_make(key, make)
                except TTSError as exc:
                    metrics.TTS_FAILURES[backend.name].inc()
                    failures.append((backend.name, str(exc)))
                    continue
            elif clip is None:
                # Cooling down: what it said before is still better than a fallback's voice.
                clip = await self._clips.find(key)
                if clip is None:
                    failures.append((backend.name, "skipped: it failed recently"))
                    continue
            metrics.count_tts(backend.name, hit=backend.name not in made)
            return clip.labelled(backend.name), index == 0
        raise SpeechUnavailableError(failures)

    async def _synthesize(self, key: str, spoken: str, index: int, made: list[str]) -> AudioClip:
        """Backend ``index`` → telephone format → cache (``made`` told that it synthesized)."""
        backend = self._backends[index]
        started = time.perf_counter()
        async with self._slots:
            # Asked again now: it may have failed for another text while this one queued.
            if not self._usable(index):
                raise TTSError("skipped: it failed while this text waited", backend=backend.name)
            made.append(backend.name)
            attempted = time.perf_counter()
            wav, duration_seconds = await self._attempt(index, spoken)
            metrics.TTS_SECONDS[backend.name].observe(time.perf_counter() - attempted)
        clip = await self._clips.store(key, wav, duration_seconds, backend.name)
        # Key and length only: prompts can carry callers' phone and ID numbers.
        logger.info(
            "synthesized clip %s with %s: %d characters, %.2f s of audio, in %.0f ms",
            key[:12],
            backend.name,
            len(spoken),
            duration_seconds,
            (time.perf_counter() - started) * 1000,
        )
        return clip

    async def _attempt(self, index: int, spoken: str) -> tuple[bytes, float]:
        """One backend's try within the time budget; a failure starts its cooldown."""
        backend = self._backends[index]
        try:
            async with asyncio.timeout(self._attempt_timeout_seconds):
                raw = await backend.synthesize(spoken)
            result = await asyncio.to_thread(to_telephone_wav_with_duration, raw)
        except TimeoutError as exc:
            error = TTSError(f"no audio {self._budget()}", backend=backend.name)
            self._failed(index, str(error))
            raise error from exc
        except TTSError as exc:
            self._failed(index, str(exc))
            raise
        except Exception as exc:
            # A backend's bug (an error it should have translated) must not silence the
            # call while another backend could speak: it counts as a failure, loudly.
            logger.exception("speech backend %s raised %s", backend.name, type(exc).__name__)
            error = TTSError(f"unexpected {type(exc).__name__}", backend=backend.name)
            self._failed(index, str(error))
            raise error from exc
        self._health.succeeded(backend)
        return result

    def _usable(self, index: int) -> bool:
        return self._health.usable(self._backends[index], last=index == len(self._backends) - 1)

    def _failed(self, index: int, reason: str) -> None:
        then = self._backends[index + 1] if index + 1 < len(self._backends) else None
        self._health.failed(self._backends[index], reason, then=then)

    def _budget(self) -> str:
        if self._attempt_timeout_seconds is None:
            return "in time"
        return f"within {self._attempt_timeout_seconds * 1000:.0f} ms"
