"""Which backends say a flow's words: its ``voice:`` first, then ``VOICEBOT_TTS``'s chain.

A flow may choose its voice (docs/flows.md): a backend that ``VOICEBOT_TTS`` lists
(``voice: aliyun``), optionally speaking another of its voices than its setting names
(``voice: {backend: aliyun, name: aixia}``). The chain of such a flow is that backend,
then ``VOICEBOT_TTS``'s backends in their order (the chosen one not twice), so that
when the chosen vendor fails its prompts fall back as every other flow's do. Another
voice of a backend is another instance of it, built from the settings with that voice
and kept until shutdown. Cooldowns are per instance and shared by every chain it is in
(:class:`bot.speech.chain.BackendHealth`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Protocol

from pydantic import TypeAdapter, ValidationError

from bot.config import Settings
from bot.errors import ConfigError, TTSError
from bot.speech.backends import VENDOR_BACKENDS, build_backend
from bot.speech.espeak import EspeakTTS
from bot.speech.tts import TTSBackend

logger = logging.getLogger(__name__)

VoiceKey = tuple[str, str | None]


class VoiceChoice(Protocol):
    """A voice chosen for a flow (``bot.language.voice.FlowVoice``) or a command.

    Attributes:
        backend: A ``VOICEBOT_TTS`` name (``aliyun``).
        name: One of that backend's voices instead of the one its settings name; None
            for the backend as configured.
    """

    @property
    def backend(self) -> str: ...

    @property
    def name(self) -> str | None: ...


@dataclass(frozen=True)
class ChosenVoice:
    """A :class:`VoiceChoice` made in code (``voicebot tts say --voice``)."""

    backend: str
    name: str | None = None


def describe(voice: VoiceChoice) -> str:
    """``aliyun``, or ``aliyun (voice aixia)``."""
    return voice.backend if voice.name is None else f"{voice.backend} (voice {voice.name})"


def tts_name(backend: TTSBackend) -> str:
    """The ``VOICEBOT_TTS`` name of a backend (espeak-ng's backend calls itself ``espeak-ng``)."""
    return "espeak" if backend.name == EspeakTTS.name else backend.name


_VOICE_SETTINGS = {
    "espeak": "tts_voice",
    "http": "tts_http_voice",
    "tencent": "tts_tencent_voice_type",
    "sherpa": "tts_sherpa_speaker_id",
}  # the others: tts_<backend>_voice


def voice_setting(backend: str) -> str | None:
    """The setting that names a backend's voice (``tts_aliyun_voice``), or None when it has
    none (``hwd``: the PBX chooses its voice; a vendor module not in this build)."""
    field = _VOICE_SETTINGS.get(backend)
    if field is None and backend in VENDOR_BACKENDS:
        field = f"tts_{backend}_voice"
    return field if field is not None and field in Settings.model_fields else None


def voice_value(backend: str, name: str) -> object:
    """``name`` as the value of ``backend``'s voice setting (Tencent's and Baidu's voices
    are numbers).

    Raises:
        ValueError: The backend has no voice setting, or ``name`` is not a value of it;
            the message says which and why.
    """
    field = voice_setting(backend)
    if field is None:
        raise ValueError(f"the {backend} speech backend has no voice to choose")
    info = Settings.model_fields[field]
    adapter: TypeAdapter[object] = TypeAdapter(
        Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    )
    try:
        value = adapter.validate_python(name)
        if backend == "espeak":  # its setting takes any text; the backend checks the name
            EspeakTTS(voice=name)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise ValueError(
            f"{name!r} is not a voice of {backend} (VOICEBOT_{field.upper()}: {reason})"
        ) from exc
    except ValueError as exc:
        raise ValueError(f"{name!r} is not a voice of {backend} ({exc})") from exc
    return value


BuildVoice = Callable[[VoiceChoice], TTSBackend]
"""Builds a backend speaking a voice its settings do not name (a choice with a ``name``)."""


def voice_builder(settings: Settings, *, hwd: TTSBackend | None = None) -> BuildVoice:
    """Builds backends from ``settings`` with the voice setting replaced by a choice's name.

    Args:
        settings: The service's settings.
        hwd: The HWD PBX's speech, for ``hwd`` (which has no voice to replace).

    Returns:
        A builder raising :class:`ConfigError` when the backend has no voice setting or
        cannot be built with that voice.
    """

    def build(voice: VoiceChoice) -> TTSBackend:
        if voice.name is None:
            return build_backend(voice.backend, settings, hwd=hwd)
        try:
            value = voice_value(voice.backend, voice.name)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        field = voice_setting(voice.backend)
        assert field is not None  # voice_value raised otherwise
        return build_backend(voice.backend, settings.model_copy(update={field: value}), hwd=hwd)

    return build


class VoiceChains:
    """The chain of ``VOICEBOT_TTS``, and the chain of each voice a flow chooses.

    Args:
        backends: ``VOICEBOT_TTS``'s backends, in its order (or just one).
        names: Their ``VOICEBOT_TTS`` names; default: :func:`tts_name` of each.
        build: Builds a backend speaking another of its voices; None: a choice of another
            voice is said by the backend as configured.

    Raises:
        ValueError: ``names`` and ``backends`` differ in length.
    """

    def __init__(
        self,
        backends: TTSBackend | Sequence[TTSBackend],
        *,
        names: Sequence[str] | None = None,
        build: BuildVoice | None = None,
    ) -> None:
        self.default = (backends,) if isinstance(backends, TTSBackend) else tuple(backends)
        listed = tuple(names) if names is not None else tuple(tts_name(b) for b in self.default)
        if len(listed) != len(self.default):
            raise ValueError(f"{len(listed)} names for {len(self.default)} speech backends")
        self._configured = dict(zip(listed, self.default, strict=True))
        self._build = build
        self._chains: dict[VoiceKey, tuple[TTSBackend, ...]] = {}
        self._built: list[TTSBackend] = []  # every instance built for a voice, to close
        self._variants: list[TTSBackend] = []  # those that speak in some chain
        self._lock = asyncio.Lock()

    @property
    def variants(self) -> tuple[TTSBackend, ...]:
        """The backends built for flows' voices, besides ``VOICEBOT_TTS``'s own."""
        return tuple(self._variants)

    def known(self) -> tuple[TTSBackend, ...]:
        """Every backend that may have said a clip here: the default chain, then the variants."""
        return (*self.default, *self._variants)

    def ready(self, voice: VoiceChoice | None) -> tuple[TTSBackend, ...] | None:
        """The chain of ``voice`` if it is ready (a dictionary lookup), else None."""
        if voice is None:
            return self.default
        return self._chains.get((voice.backend, voice.name))

    async def chain(self, voice: VoiceChoice | None) -> tuple[TTSBackend, ...]:
        """The chain that says the words of ``voice``: its backend first, then the default.

        A voice of another name is built once (in a worker thread: a local model loads
        from disk) and checked once (``check()``, a failure logged at WARNING: the chain
        falls back past it). A backend this service does not have (an archived flow
        version from an instance configured otherwise), or a voice that cannot be built,
        leaves the default chain, logged once: the words are still said.
        """
        ready = self.ready(voice)
        if ready is not None:
            return ready
        assert voice is not None
        async with self._lock:
            key = (voice.backend, voice.name)
            if key not in self._chains:
                try:
                    lead = await self._lead(voice)
                except ConfigError as exc:  # the flow was checked: settings changed under it
                    logger.error(
                        "the voice %s cannot be built (%s): VOICEBOT_TTS's chain speaks", describe(voice), exc
                    )
                    lead = None
                self._chains[key] = self.default if lead is None else self._led_by(lead)
            return self._chains[key]

    async def aclose(self) -> None:
        """Close the backends built for voices (those with an ``aclose()``)."""
        for backend in self._built:
            aclose = getattr(backend, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _lead(self, voice: VoiceChoice) -> TTSBackend | None:
        configured = self._configured.get(voice.backend)
        if configured is None:
            logger.warning(
                "the voice %s is not among the speech backends here (%s): VOICEBOT_TTS's chain speaks",
                describe(voice),
                ", ".join(self._configured),
            )
            return None
        if voice.name is None or self._build is None:
            return configured
        built = await asyncio.to_thread(self._build, voice)
        self._built.append(built)
        if built.name == configured.name and built.identity() == configured.identity():
            return configured  # the voice its settings name anyway: one instance, one cooldown
        await _check(built, voice)
        self._variants.append(built)
        return built

    def _led_by(self, lead: TTSBackend) -> tuple[TTSBackend, ...]:
        return (lead, *(b for b in self.default if b is not lead))


async def _check(backend: TTSBackend, voice: VoiceChoice) -> None:
    check = getattr(backend, "check", None)
    if check is None:
        return
    try:
        await check()
    except TTSError as exc:
        logger.warning(
            "speech backend %s failed its check with the voice %s: %s", backend.name, describe(voice), exc
        )
