"""Recipes: how to make a clip of the audio cache again, shared by every instance.

An audio URL names a clip by key (``/audio/<key>.wav``). With several instances behind
a load balancer, the PBX may fetch the URL from an instance that never made the clip;
and a clip evicted from a bounded cache may be asked for again. Both are served by
making the clip again from its *recipe*, which the synthesizer remembers for every
key it hands out:

- :class:`SpeechRecipe`: a normalised text and the backend that said it;
- :class:`RecordingRecipe`: a recording, by its path relative to the flows directory;
- :class:`SilenceRecipe`: so many milliseconds of silence;
- :class:`JoinRecipe`: parts (keys, each with its own recipe when known) and the gap.

An :class:`AudioCatalog` keeps them: :class:`LocalAudioCatalog` (one instance: the
local directory is the truth, nothing is shared) or :class:`RedisAudioCatalog` (one
Redis key per clip, ``voicebot:audio:<key>``, expiring after a day; the synthesizer
writes each key once per process and again before it expires, never on the hot path
of a known key).

Recipes hold callers' words (numbers, names): they are never logged, and Redis keeps
them only for :data:`RECIPE_TTL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

from bot.errors import VoicebotError
from bot.speech.cache import is_valid_key
from bot.speech.memo import Lru
from bot.speech.tts import IdentityValue

if TYPE_CHECKING:  # redis is imported only where it is configured (≈ 10 MB)
    import redis.asyncio as redis_asyncio

logger = logging.getLogger(__name__)

RECIPE_TTL_SECONDS = 24 * 3600
"""How long Redis keeps a recipe; the synthesizer writes it again after half of it."""
RECIPE_REFRESH_SECONDS = RECIPE_TTL_SECONDS / 2
"""A key handed out again this long after its recipe was written has it written again."""
CATALOG_RETRY_SECONDS = 10.0
"""After the catalog failed, how long recipes are not written (answers are not held up)."""
RECIPE_MEMO_SIZE = 50_000
"""Most recipes remembered in memory by default."""
REDIS_PREFIX = "voicebot:audio:"
DEFAULT_TIMEOUT_SECONDS = 1.0
MAX_JOIN_DEPTH = 4
"""Deepest nesting of joins in a recipe (the bot joins only clips that are not joins)."""
_RECIPE_VERSION = 1


class AudioCatalogError(VoicebotError):
    """The shared store of recipes cannot be read or written (Redis down or too slow)."""


@dataclass(frozen=True)
class SpeechRecipe:
    """A text as one backend says it.

    Attributes:
        text: The text after normalisation, exactly as synthesized.
        backend: The backend's ``name``.
        identity: The backend's ``identity()`` (voice, options), for messages; the
            backend that makes the clip again is the one whose key for ``text`` is the
            clip's key.
    """

    text: str
    backend: str
    identity: Mapping[str, IdentityValue] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordingRecipe:
    """A recording converted to the served format.

    Attributes:
        name: The path relative to the flows directory, as a prompt's ``audio`` says it.
    """

    name: str


@dataclass(frozen=True)
class SilenceRecipe:
    """Silence.

    Attributes:
        duration_ms: Its length.
    """

    duration_ms: int


@dataclass(frozen=True)
class JoinPart:
    """One part of a joined clip: its key, and its recipe when the joiner knew it.

    Carrying the parts' recipes makes a join's recipe whole: another instance makes
    it from one read, even when a part's own recipe has expired.
    """

    key: str
    recipe: Recipe | None = None


@dataclass(frozen=True)
class JoinRecipe:
    """Clips played one after the other.

    Attributes:
        parts: The parts, in order (two or more).
        gap_ms: The silence between consecutive parts.
    """

    parts: tuple[JoinPart, ...]
    gap_ms: int


Recipe = SpeechRecipe | RecordingRecipe | SilenceRecipe | JoinRecipe
"""How to make a clip again."""


class AudioCatalog(Protocol):
    """Where recipes are kept, by clip key."""

    async def remember(self, key: str, recipe: Recipe) -> None:
        """Keep ``recipe`` for ``key``; when this returns, any instance can read it.

        Raises:
            AudioCatalogError: The store cannot be written.
        """
        ...

    async def recipe(self, key: str) -> Recipe | None:
        """The recipe of ``key``, or None when none is kept.

        Raises:
            AudioCatalogError: The store cannot be read.
        """
        ...


class LocalAudioCatalog:
    """One instance: nothing is shared, the local cache directory is the truth.

    The synthesizer still keeps the recipes of the clips it made in memory (bounded),
    so that a clip evicted from a bounded cache is made again when asked for.
    """

    def __repr__(self) -> str:
        return "LocalAudioCatalog()"

    async def remember(self, key: str, recipe: Recipe) -> None:
        """Nothing to share."""

    async def recipe(self, key: str) -> Recipe | None:
        """None: no other instance made anything."""
        return None


class RedisAudioCatalog:
    """Recipes in Redis, one string key per clip, so that every instance can make any clip.

    Args:
        client: An asyncio Redis client (``decode_responses`` either way).
        prefix: Prepended to the clip key.
        ttl_seconds: How long a recipe is kept after it was last written.
        timeout_seconds: Longest one read or write may take.
    """

    def __init__(
        self,
        client: redis_asyncio.Redis,
        *,
        prefix: str = REDIS_PREFIX,
        ttl_seconds: int = RECIPE_TTL_SECONDS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be >= 1, not {ttl_seconds}")
        self._client = client
        self._prefix = prefix
        self.ttl_seconds = ttl_seconds
        self._timeout_seconds = timeout_seconds
        from redis.exceptions import RedisError  # noqa: PLC0415  (see the imports)

        self._failures = (RedisError, OSError, TimeoutError)

    def __repr__(self) -> str:
        return f"RedisAudioCatalog(prefix={self._prefix!r})"

    async def remember(self, key: str, recipe: Recipe) -> None:
        """``SET <prefix><key> <recipe JSON> EX <ttl>``.

        Raises:
            AudioCatalogError: Redis failed or took longer than the timeout.
        """
        try:
            async with asyncio.timeout(self._timeout_seconds):
                await self._client.set(self._prefix + key, recipe_to_json(recipe), ex=self.ttl_seconds)
        except self._failures as exc:
            raise AudioCatalogError(f"cannot store the recipe of audio {key[:12]}: {_reason(exc)}") from exc

    async def recipe(self, key: str) -> Recipe | None:
        """The recipe stored for ``key``; an unreadable one is logged and taken as none.

        Raises:
            AudioCatalogError: Redis failed or took longer than the timeout.
        """
        try:
            async with asyncio.timeout(self._timeout_seconds):
                stored = await self._client.get(self._prefix + key)
        except self._failures as exc:
            raise AudioCatalogError(f"cannot read the recipe of audio {key[:12]}: {_reason(exc)}") from exc
        if stored is None:
            return None
        try:
            return recipe_from_json(stored)
        except ValueError as exc:
            logger.warning("ignoring the unreadable recipe of audio %s: %s", key[:12], exc)
            return None


@dataclass(frozen=True)
class _Known:
    recipe: Recipe
    written_at: float  # monotonic time it was written to the catalog; -inf: not by this process


class RecipeMemory:
    """The recipes of the keys this process handed out, in memory, and their writing to a catalog.

    A key is written to the catalog the first time it is handed out, and again when
    it is handed out :data:`RECIPE_REFRESH_SECONDS` later (before a shared copy
    expires); in between, :meth:`fresh` is a dictionary lookup. The memory is bounded:
    a recipe forgotten is written again when its key is handed out again.

    Args:
        catalog: Where recipes are shared.
        size: Most recipes remembered.
    """

    def __init__(self, catalog: AudioCatalog, size: int = RECIPE_MEMO_SIZE) -> None:
        self.catalog = catalog
        self._known: Lru[str, _Known] = Lru(size)
        self._down_until = -math.inf  # monotonic time until which the catalog is not asked

    def fresh(self, key: str) -> bool:
        """Whether the recipe of ``key`` was written recently enough (a memory lookup)."""
        known = self._known.get(key)
        return known is not None and time.monotonic() - known.written_at < RECIPE_REFRESH_SECONDS

    def recipe(self, key: str) -> Recipe | None:
        """The recipe of ``key`` if it is remembered here."""
        known = self._known.get(key)
        return known.recipe if known is not None else None

    def learned(self, key: str, recipe: Recipe) -> None:
        """Remember a recipe read from the catalog (written again if this process hands it out)."""
        self._known.put(key, _Known(recipe, -math.inf))

    async def remember(self, key: str, recipe: Recipe) -> None:
        """Remember ``recipe`` and write it to the catalog; a failing catalog holds nothing up.

        While the catalog fails (and for :data:`CATALOG_RETRY_SECONDS` after each
        failure), recipes are only remembered here: the answer still plays from this
        instance, and a WARNING says other instances may not serve it.
        """
        now = time.monotonic()
        # As if written long enough ago that the key is written again after the retry delay.
        retry_at = now - RECIPE_REFRESH_SECONDS + CATALOG_RETRY_SECONDS
        if now < self._down_until:
            self._known.put(key, _Known(recipe, retry_at))
            return
        try:
            await self.catalog.remember(key, recipe)
        except AudioCatalogError as exc:
            # At most once per retry delay: the catalog is not asked in between.
            logger.warning("%s; audio URLs may not play from other instances", exc)
            self._down_until = now + CATALOG_RETRY_SECONDS
            self._known.put(key, _Known(recipe, retry_at))
            return
        if self._down_until != -math.inf:
            self._down_until = -math.inf
            logger.info("the audio catalog works again")
        self._known.put(key, _Known(recipe, now))


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def recipe_to_json(recipe: Recipe) -> str:
    """The compact JSON of a recipe (a version, a ``kind`` and its fields)."""
    return json.dumps({"v": _RECIPE_VERSION, **_to_dict(recipe)}, ensure_ascii=False, separators=(",", ":"))


def recipe_from_json(data: str | bytes) -> Recipe:
    """The recipe in ``data`` (from :func:`recipe_to_json`).

    Raises:
        ValueError: ``data`` is not a recipe this version understands.
    """
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(value, dict) or value.get("v") != _RECIPE_VERSION:
        raise ValueError("not a recipe of this version")
    return _from_dict(value)


def _to_dict(recipe: Recipe) -> dict[str, Any]:
    if isinstance(recipe, SpeechRecipe):
        identity = dict(recipe.identity)
        return {"kind": "speech", "text": recipe.text, "backend": recipe.backend, "identity": identity}
    if isinstance(recipe, RecordingRecipe):
        return {"kind": "recording", "name": recipe.name}
    if isinstance(recipe, SilenceRecipe):
        return {"kind": "silence", "ms": recipe.duration_ms}
    return {
        "kind": "join",
        "gap_ms": recipe.gap_ms,
        "parts": [
            {"key": p.key, "recipe": None if p.recipe is None else _to_dict(p.recipe)} for p in recipe.parts
        ],
    }


def _from_dict(value: Any, depth: int = 0) -> Recipe:
    if not isinstance(value, dict) or depth > MAX_JOIN_DEPTH:
        raise ValueError("a recipe must be an object, nested at most a few joins deep")
    kind = value.get("kind")
    if kind == "speech":
        text, backend, identity = value.get("text"), value.get("backend"), value.get("identity", {})
        if not (isinstance(text, str) and text and isinstance(backend, str) and isinstance(identity, dict)):
            raise ValueError("a speech recipe needs a text, a backend and an identity")
        return SpeechRecipe(text, backend, identity)
    if kind == "recording":
        name = value.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("a recording recipe needs a name")
        return RecordingRecipe(name)
    if kind == "silence":
        duration_ms = value.get("ms")
        if not _is_count(duration_ms):
            raise ValueError("a silence recipe needs its length in ms")
        return SilenceRecipe(duration_ms)
    if kind == "join":
        gap_ms, parts = value.get("gap_ms"), value.get("parts")
        if not (_is_count(gap_ms) and isinstance(parts, list)):
            raise ValueError("a join recipe needs a gap in ms and parts")
        return JoinRecipe(tuple(_part(p, depth) for p in parts), gap_ms)
    raise ValueError(f"unknown recipe kind {str(kind)[:20]!r}")


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _part(value: Any, depth: int) -> JoinPart:
    if not isinstance(value, dict) or not isinstance(value.get("key"), str) or not is_valid_key(value["key"]):
        raise ValueError("a join part needs a well-formed key")
    recipe = value.get("recipe")
    return JoinPart(value["key"], None if recipe is None else _from_dict(recipe, depth + 1))
