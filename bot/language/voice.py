"""A flow's ``voice:``: the speech backend that says its words first (docs/flows.md).

::

    voice: aliyun                          # the backend as VOICEBOT_TTS_ALIYUN_* configure it
    voice: {backend: aliyun, name: aixia}  # another of its voices

The backend is checked here, as the file is read; that ``VOICEBOT_TTS`` lists it is
checked where the settings are known (:func:`check_voice`: ``voicebot flows check``,
the service's start, a hot reload).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

# The speech modules are imported where a flow names a voice, not with the flow model:
# the backends load numpy and soxr, which reading a flow must not pay (tests/speech/test_imports.py).


class FlowVoice(BaseModel):
    """The speech backend that says the flow's words first, then VOICEBOT_TTS's backends in
    their order: ``voice: aliyun``, or ``voice: {backend: aliyun, name: aixia}`` for another
    of its voices than the one its settings name. VOICEBOT_TTS must list the backend."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    backend: str = Field(min_length=1, description="a speech backend that VOICEBOT_TTS lists")
    name: str | None = Field(
        None,
        min_length=1,
        description="one of the backend's voices (`voicebot tts voices`); default: the one its settings name",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        is_name = isinstance(value, str | int | float) and not isinstance(value, bool)
        return {"backend": value} if is_name else value

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from bot.speech.backends import BACKEND_NAMES  # noqa: PLC0415 (see the module's comment)

        if value not in BACKEND_NAMES:
            raise ValueError(f"unknown speech backend {value!r} — use one of: {', '.join(BACKEND_NAMES)}")
        return value

    @field_validator("name")
    @classmethod
    def _voice_of_backend(cls, value: str | None, info: ValidationInfo) -> str | None:
        from bot.speech.voices import voice_setting, voice_value  # noqa: PLC0415 (see the module's comment)

        backend = info.data.get("backend")
        if value is None or backend is None:  # None: the backend was refused already
            return value
        if voice_setting(backend) is None:
            raise ValueError(
                f"the {backend} speech backend has no voice to choose"
                + (" (the PBX chooses it)" if backend == "hwd" else "")
                + " — remove `name:`, or choose another backend"
            )
        try:
            voice_value(backend, value)
        except ValueError as exc:
            raise ValueError(
                f"{exc} — name one that `voicebot tts voices --backend {backend}` lists"
            ) from exc
        return value


Finding = tuple[tuple[str | int, ...], str, str]  # where, what is wrong, how to fix it


def check_voice(voice: FlowVoice | None, speech_backends: Sequence[str] | None) -> Iterator[Finding]:
    """The flow's voice must be a backend of ``VOICEBOT_TTS``.

    Args:
        voice: The flow's ``voice:``.
        speech_backends: ``VOICEBOT_TTS``; None checks nothing (no settings at hand).
    """
    if voice is None or speech_backends is None or voice.backend in speech_backends:
        return
    listed = ",".join(speech_backends)
    yield (
        ("voice", "backend"),
        f"the speech backend {voice.backend!r} is not in VOICEBOT_TTS ({listed})",
        f"add it, e.g. VOICEBOT_TTS={voice.backend},{listed}{_settings_of(voice.backend)}, "
        "or remove `voice:`",
    )


def _settings_of(backend: str) -> str:
    """Where a backend's settings are, for the fix of a voice that ``VOICEBOT_TTS`` lacks."""
    if backend == "espeak":
        return ""
    prefix = "VOICEBOT_HWD_" if backend == "hwd" else f"VOICEBOT_TTS_{backend.upper()}_"
    return f", and set its {prefix}* settings (docs/speech.md)"
