"""The chain of speech backends named by ``VOICEBOT_TTS``: building, checking, closing.

The synthesizer tries the backends in the order given and falls through to the next
when one is slow or fails (:class:`bot.speech.synthesizer.SpeechSynthesizer`).
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Sequence

from bot.config import Settings
from bot.errors import ConfigError, TTSError
from bot.speech.espeak import EspeakTTS
from bot.speech.http_tts import HttpTTS
from bot.speech.tts import TTSBackend

logger = logging.getLogger(__name__)

VENDOR_BACKENDS = ("aliyun", "tencent", "iflytek", "baidu", "azure", "volcengine", "sherpa")
"""Backends of their own module, ``bot.speech.vendors.<name>``, each with a
``build(settings) -> TTSBackend`` (imported only when listed)."""

BACKEND_NAMES = ("espeak", "http", "hwd", *VENDOR_BACKENDS)
"""What ``VOICEBOT_TTS`` may list."""

_HWD_SETTINGS = ("hwd_url", "hwd_client_id", "hwd_client_secret", "hwd_username", "hwd_password")


def build_backends(settings: Settings, *, hwd: TTSBackend | None = None) -> list[TTSBackend]:
    """The backends ``VOICEBOT_TTS`` lists, in its order.

    Args:
        settings: The service's settings.
        hwd: The HWD PBX's speech (``bot.speech.hwd.HWDTTS``), built with the PBX's API
            client; needed when ``hwd`` is listed.

    Returns:
        At least one backend.

    Raises:
        ConfigError: A name is unknown or repeated, the list is empty, or a listed
            backend's settings are missing or invalid.
    """
    names = list(settings.tts)
    if not names:
        raise ConfigError(
            f"VOICEBOT_TTS lists no speech backend; name one or more of: {', '.join(BACKEND_NAMES)}"
        )
    for name in names:
        if name not in BACKEND_NAMES:
            raise ConfigError(
                f"VOICEBOT_TTS: unknown speech backend {name!r}; valid: {', '.join(BACKEND_NAMES)}"
            )
        if names.count(name) > 1:
            raise ConfigError(f"VOICEBOT_TTS lists {name!r} twice; name each backend once")
    return [_build(name, settings, hwd) for name in names]


def _build(name: str, settings: Settings, hwd: TTSBackend | None) -> TTSBackend:
    if name == "espeak":
        try:
            return EspeakTTS(voice=settings.tts_voice, rate_wpm=settings.tts_rate_wpm)
        except ValueError as exc:
            raise ConfigError(f"VOICEBOT_TTS_VOICE / VOICEBOT_TTS_RATE_WPM: {exc}") from exc
    if name == "http":
        return _http(settings)
    if name in VENDOR_BACKENDS:
        vendor = importlib.import_module(f"bot.speech.vendors.{name}")
        backend: TTSBackend = vendor.build(settings)
        return backend
    if hwd is None:
        missing = [f"VOICEBOT_{s.upper()}" for s in _HWD_SETTINGS if getattr(settings, s, None) is None]
        needed = f"set {', '.join(missing)}" if missing else "the HWD API client was not built"
        raise ConfigError(f"VOICEBOT_TTS lists hwd, the HWD PBX's speech, but {needed}")
    return hwd


def _http(settings: Settings) -> HttpTTS:
    if settings.tts_http_url is None:
        raise ConfigError("VOICEBOT_TTS lists http, but VOICEBOT_TTS_HTTP_URL is not set")
    try:
        return HttpTTS(
            settings.tts_http_url,
            method=settings.tts_http_method,
            body_template=settings.tts_http_body,
            headers={k: v.get_secret_value() for k, v in settings.tts_http_headers.items()},
            voice=settings.tts_http_voice,
            audio=settings.tts_http_audio,
            timeout_seconds=settings.tts_timeout_ms / 1000,
        )
    except ValueError as exc:
        raise ConfigError(f"VOICEBOT_TTS_HTTP_*: {exc}") from exc


async def check_backends(backends: Sequence[TTSBackend]) -> None:
    """Run the start-up ``check()`` of every backend that has one.

    A backend that fails its check is logged at WARNING: the synthesizer falls through
    past it while it fails. The service cannot speak only when every backend fails.

    Raises:
        ConfigError: Every backend failed its check.
    """
    failures: list[str] = []
    for backend in backends:
        check = getattr(backend, "check", None)
        if check is None:
            continue
        try:
            await check()
        except TTSError as exc:
            failures.append(f"{backend.name}: {exc}")
            logger.warning("speech backend %s failed its start-up check: %s", backend.name, exc)
    if backends and len(failures) == len(backends):
        raise ConfigError("no speech backend works (VOICEBOT_TTS):\n" + "\n".join(failures))


async def close_backends(backends: Sequence[TTSBackend]) -> None:
    """Close the backends that hold connections (those with an ``aclose()``)."""
    for backend in backends:
        aclose = getattr(backend, "aclose", None)
        if aclose is not None:
            await aclose()


# --- voices: `voicebot tts`, a flow's voice (bot/speech/voices.py) ---


def build_backend(name: str, settings: Settings, *, hwd: TTSBackend | None = None) -> TTSBackend:
    """One backend by its ``VOICEBOT_TTS`` name, whether ``VOICEBOT_TTS`` lists it or not
    (``voicebot tts say --backend``, another voice of a backend for a flow).

    Raises:
        ConfigError: The name is unknown, the backend's module cannot be loaded, or its
            settings are missing or invalid.
    """
    if name not in BACKEND_NAMES:
        raise ConfigError(f"unknown speech backend {name!r}; valid: {', '.join(BACKEND_NAMES)}")
    try:
        return _build(name, settings, hwd)
    except ImportError as exc:  # a vendor module not in this build, or its library missing
        raise ConfigError(f"the {name} speech backend cannot be loaded: {exc}") from exc
    except ConfigError as exc:
        if name in settings.tts:
            raise
        # Its message is worded for a backend VOICEBOT_TTS lists; this one it does not.
        unlisted = re.sub(rf"^VOICEBOT_TTS lists {name}(, [^,]*)?, but ", f"{name}: ", str(exc))
        raise ConfigError(unlisted) from exc
