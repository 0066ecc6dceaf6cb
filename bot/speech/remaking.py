"""Clips made again from their recipes (:meth:`bot.speech.synthesizer.SpeechSynthesizer.serve`),
and joins whose parts vanished made whole again.

A clip handed out is known by its recipe (:mod:`bot.speech.catalog`): a text and the
backend that said it, a recording, a silence, or a join of parts with their own recipes.
:class:`Remaker` follows one to make the clip again when its file is not here (evicted by
a bounded cache, or made by another instance), and joins clips, making again a part whose
file another process deleted meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from bot.errors import TTSError
from bot.speech.catalog import (
    MAX_JOIN_DEPTH,
    JoinPart,
    JoinRecipe,
    Recipe,
    RecipeMemory,
    RecordingRecipe,
    SilenceRecipe,
    SpeechRecipe,
)
from bot.speech.chain import BackendHealth
from bot.speech.clips import AudioClip, ClipStore
from bot.speech.joining import ClipJoiner, MissingPartError
from bot.speech.prompt_recordings import PromptRecordings
from bot.speech.rendering import ChainRenderer
from bot.speech.tts import TTSBackend

logger = logging.getLogger(__name__)


class MissingAudioError(TTSError):
    """No clip of that key is here and none can be made: a malformed or unknown key, or a
    recipe this instance cannot follow (another voice, a changed recording). HTTP 404."""


class Remaker:
    """Makes a clip again from its recipe, for
    :meth:`~bot.speech.synthesizer.SpeechSynthesizer.serve`; and joins clips, making again a
    part whose file vanished."""

    def __init__(
        self,
        *,
        backends: Callable[[], Sequence[TTSBackend]],
        clips: ClipStore,
        joiner: ClipJoiner,
        recordings: PromptRecordings,
        recipes: RecipeMemory,
        slots: asyncio.Semaphore,
        attempt_timeout_seconds: float | None,
        health: BackendHealth,
    ) -> None:
        self._backends = backends  # every backend that may have said a clip: flows' voices too
        self._clips = clips
        self._joiner = joiner
        self._recordings = recordings
        self._recipes = recipes
        self._slots = slots
        self._attempt_timeout_seconds = attempt_timeout_seconds
        self._health = health
        self._single: dict[int, ChainRenderer] = {}  # id(backend) → a chain of it alone

    async def remember(self, clip: AudioClip, recipe: Recipe) -> None:
        """Keep how to make ``clip`` again, unless it is kept and fresh already."""
        if not self._recipes.fresh(clip.key):
            await self._recipes.remember(clip.key, recipe)

    def speech_recipe(self, spoken: str, clip: AudioClip) -> SpeechRecipe:
        """How to say ``clip`` again: its normalised text and the backend whose key it is."""
        for backend in self._backends():
            if backend.name == clip.backend and self._clips.cache.key_for(spoken, backend) == clip.key:
                return SpeechRecipe(spoken, backend.name, backend.identity())
        return SpeechRecipe(spoken, clip.backend)

    async def join_remembered(self, clips: Sequence[AudioClip], gap_ms: int) -> AudioClip:
        """:meth:`join`, and the joined clip's recipe kept (its parts' recipes in it)."""
        joined = await self.join(clips, gap_ms)
        if len(clips) > 1:
            parts = tuple(JoinPart(c.key, self._recipes.recipe(c.key)) for c in clips)
            await self.remember(joined, JoinRecipe(parts, gap_ms))
        return joined

    async def join(self, clips: Sequence[AudioClip], gap_ms: int) -> AudioClip:
        """Join; a part whose file vanished (another process evicted it) is made again."""
        parts = list(clips)
        for _ in range(len(parts)):
            try:
                return await self._joiner.join(parts, gap_ms=gap_ms)
            except MissingPartError as exc:
                self._clips.forget(exc.key)
                again = await self.resolve(exc.key)
                parts = [again.labelled(p.backend) if p.key == exc.key else p for p in parts]
        return await self._joiner.join(parts, gap_ms=gap_ms)

    async def resolve(self, key: str, hint: Recipe | None = None, depth: int = 0) -> AudioClip:
        """The clip of a well-formed ``key``: stored, else made from a recipe."""
        clip = await self._clips.find(key)
        if clip is not None:
            return clip
        recipe = hint or self._recipes.recipe(key)
        if recipe is None:
            recipe = await self._recipes.catalog.recipe(key)
            if recipe is None:
                raise MissingAudioError(f"no audio {key[:12]} here, and no recipe to make it")
            self._recipes.learned(key, recipe)
        started = time.perf_counter()
        try:
            clip = await self._make(key, recipe, depth)
        except (OSError, ValueError) as exc:
            raise MissingAudioError(f"audio {key[:12]} cannot be made again: {exc}") from exc
        if clip.key != key:
            raise MissingAudioError(
                f"the recipe of audio {key[:12]} makes other audio here "
                "(another voice, format or recording than where it was made)"
            )
        logger.info(
            "made audio %s again from its %s recipe in %.0f ms",
            key[:12],
            type(recipe).__name__.removesuffix("Recipe").lower(),
            (time.perf_counter() - started) * 1000,
        )
        return clip

    async def _make(self, key: str, recipe: Recipe, depth: int) -> AudioClip:
        if isinstance(recipe, SpeechRecipe):
            return await self._speak_again(key, recipe)
        if isinstance(recipe, RecordingRecipe):
            clip = await self._recordings.clip(recipe.name)
            if clip is None:
                raise MissingAudioError(f"the recording {recipe.name} of {key[:12]} cannot be played here")
            self._clips.pin(clip.key)
            return clip
        if isinstance(recipe, SilenceRecipe):
            return await self._joiner.silence(recipe.duration_ms)
        if depth >= MAX_JOIN_DEPTH or len(recipe.parts) < 2:
            raise MissingAudioError(f"the join recipe of audio {key[:12]} is malformed")
        parts = [await self.resolve(p.key, p.recipe, depth + 1) for p in recipe.parts]
        return await self.join(parts, recipe.gap_ms)

    async def _speak_again(self, key: str, recipe: SpeechRecipe) -> AudioClip:
        """Say a recipe's text with the backend whose key for it is ``key``."""
        backend = next(
            (
                backend
                for backend in self._backends()
                if backend.name == recipe.backend and self._clips.cache.key_for(recipe.text, backend) == key
            ),
            None,
        )
        if backend is None:
            raise MissingAudioError(
                f"audio {key[:12]} was said by a {recipe.backend} backend that this instance does not have"
            )
        renderer = self._single.get(id(backend))
        if renderer is None:
            # A chain of that backend alone: its last (only) backend is never skipped.
            renderer = ChainRenderer(
                (backend,),
                self._clips,
                self._slots,
                attempt_timeout_seconds=self._attempt_timeout_seconds,
                cooldown_seconds=0,  # unused: the shared health's cooldown counts
                health=self._health,
            )
            self._single[id(backend)] = renderer
        # Never the text: it is normalised, so a caller's number in it is hanzi digits.
        logger.debug("saying again for %s (%d characters)", key[:12], len(recipe.text))
        clip, _ = await renderer.render(recipe.text)
        return clip
