"""``voicebot tts voices``: every speech backend, whether it is configured, and its voices.

What each backend offers:

- a vendor module (``bot/speech/vendors/<name>.py``) lists the voices its vendor
  documents in ``VOICES`` (:class:`~bot.speech.vendors.common.Voice`);
- espeak-ng: its Mandarin voices, as ``espeak-ng --voices=cmn`` lists them;
- ``http``: the voice ``VOICEBOT_TTS_HTTP_VOICE`` names (the vendor's list is its own);
- ``hwd``: none to choose (the PBX chooses its voice).

A backend is *configured* when it can be built from the settings (its credentials are
set); building one opens no connection.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import Settings
from bot.errors import ConfigError
from bot.pbx.factory import hwd_api
from bot.speech.backends import BACKEND_NAMES, build_backend, close_backends
from bot.speech.hwd import HWDTTS
from bot.speech.vendors.common import Voice
from bot.speech.voices import voice_setting

ESPEAK_LANGUAGE = "cmn"  # espeak-ng's Mandarin voices; cmn-latn-pinyin is the default
_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class BackendVoices:
    """One backend as ``voicebot tts voices`` shows it.

    Attributes:
        name: Its ``VOICEBOT_TTS`` name.
        position: Its place in ``VOICEBOT_TTS`` (1 = preferred), None when not listed.
        problem: Why it cannot be used with these settings (settings missing, module
            not in this build); None when it is configured.
        voice: The voice its settings name, if it has a voice setting.
        voices: The voices it offers.
        note: What else an author should know (``the PBX chooses its voice``).
    """

    name: str
    position: int | None
    problem: str | None
    voice: str | None
    voices: tuple[Voice, ...]
    note: str = ""


async def list_voices(settings: Settings, names: Sequence[str] = BACKEND_NAMES) -> list[BackendVoices]:
    """Each backend of ``names`` (default: every one) with its voices, in that order.

    Raises:
        ConfigError: ``VOICEBOT_HWD_URL`` is set without its credentials.
    """
    return [await _backend(settings, name) for name in names]


async def _backend(settings: Settings, name: str) -> BackendVoices:
    position = settings.tts.index(name) + 1 if name in settings.tts else None
    field = voice_setting(name)
    voice = str(getattr(settings, field)) if field is not None else None
    problem = await _problem(settings, name)
    note = ""
    if name == "espeak":
        voices, note = await espeak_voices()
    elif name == "http":
        voices = (Voice(voice, "VOICEBOT_TTS_HTTP_VOICE"),) if voice else ()
        note = "its voices are the vendor's: VOICEBOT_TTS_HTTP_VOICE names one"
    elif name == "hwd":
        voices, note = (), "the PBX chooses its voice"
    else:
        voices, note = vendor_voices(name)
    return BackendVoices(name, position, problem, voice or None, voices, note)


async def _problem(settings: Settings, name: str) -> str | None:
    """Why ``name`` cannot be built from ``settings``; None when it can (then closed again)."""
    api = hwd_api(settings) if name == "hwd" else None
    try:
        backend = await asyncio.to_thread(
            build_backend, name, settings, hwd=HWDTTS(api) if api is not None else None
        )
    except ConfigError as exc:
        return str(exc).removeprefix(f"{name}: ")
    finally:
        if api is not None:
            await api.aclose()
    await close_backends([backend])
    return None


def vendor_voices(name: str) -> tuple[tuple[Voice, ...], str]:
    """The ``VOICES`` of vendor module ``name``, and a note when there are none (a module
    not in this build, or one that cannot be loaded)."""
    module_name = f"bot.speech.vendors.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return (), f"not in this build (no bot/speech/vendors/{name}.py)"
        return (), f"cannot be loaded: {exc}"
    except ImportError as exc:
        return (), f"cannot be loaded: {exc}"
    voices = getattr(module, "VOICES", None)
    if not voices:
        return (), "its module lists no voices"
    return tuple(voices), ""


async def espeak_voices(binary: str = "espeak-ng") -> tuple[tuple[Voice, ...], str]:
    """espeak-ng's Mandarin voices, and a note when they cannot be listed (no binary)."""
    try:
        process = await asyncio.create_subprocess_exec(
            binary,
            f"--voices={ESPEAK_LANGUAGE}",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError as exc:
        return (), f"{binary} cannot run: {exc.strerror or exc}"
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(), _TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        return (), f"{binary} --voices did not answer within {_TIMEOUT_SECONDS:g} s"
    if process.returncode != 0:
        return (), f"{binary} --voices exited with status {process.returncode}"
    return parse_espeak_voices(stdout.decode("utf-8", "replace")), ""


def parse_espeak_voices(listing: str) -> tuple[Voice, ...]:
    """The voices of an ``espeak-ng --voices=…`` listing, each once, by the name ``-v`` takes.

    Columns: priority, language, age/gender, voice name (``_`` for spaces), file, then
    other languages.
    """
    voices: dict[str, Voice] = {}
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5:
            language, description = fields[1], fields[3].replace("_", " ")
            voices.setdefault(language, Voice(language, description))
    return tuple(voices.values())
