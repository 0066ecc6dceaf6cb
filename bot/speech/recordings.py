"""Recorded prompts: audio files a voice talent recorded, played instead of synthesized speech.

A flow names one beside the words it says (``say: {text: 您好…, audio:
recordings/welcome.wav}``), relative to the flows directory. Any audio the decoder
reads will do (a WAV of PCM, float, μ-law or A-law, an MP3…: :mod:`bot.speech.audio`);
the synthesizer converts it to the served format and caches it under the hash of the
file's bytes and that format, so a replaced recording is picked up and an unchanged
one is converted once.

The flow loader imports this module, so it stays light: a WAV of PCM, float or G.711
is timed from its header by the standard library, and only other formats (MP3,
ADPCM…) load the decoder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from bot.errors import WavError
from bot.speech.wav import AudioFormat, format_id, wav_duration_seconds

RECORDING_BACKEND = "recording"
"""What :attr:`AudioClip.backend` says for a clip made from a recording."""


def check_recording_name(name: str) -> str:
    """Accept only a relative path that stays inside the flows directory.

    Args:
        name: The ``audio:`` of a prompt, as written in the flow.

    Returns:
        ``name`` unchanged.

    Raises:
        ValueError: ``name`` is absolute or climbs out with ``..``; the message says
            what is wrong and how to fix it (``what — fix``).
    """
    parts = PurePosixPath(name.replace("\\", "/"))
    if parts.is_absolute() or ".." in parts.parts or not parts.parts:
        raise ValueError(
            f"the recording {name!r} is not a path inside the flows directory — "
            "write it relative to the flows directory, e.g. recordings/welcome.wav"
        )
    return name


def recording_path(directory: Path, name: str) -> Path:
    """The file of the recording ``name`` in the flows directory ``directory``.

    Raises:
        ValueError: ``name`` does not stay inside ``directory`` (see :func:`check_recording_name`).
    """
    return directory / check_recording_name(name)


def read_recording(path: Path) -> tuple[bytes, float]:
    """Read a recording and check that it is audio we can play (blocking: use a thread).

    Args:
        path: The audio file.

    Returns:
        The file's bytes and its play time in seconds.

    Raises:
        OSError: The file cannot be read.
        TTSError: It is not audio the decoder reads.
    """
    data = path.read_bytes()
    try:
        return data, wav_duration_seconds(data)
    except WavError:
        # Not a WAV of fixed-size frames: only the decoder can tell, and time, it.
        from bot.speech.audio import audio_duration_seconds  # noqa: PLC0415 (numpy: see the docstring)

        return data, audio_duration_seconds(data)


def recording_key(data: bytes, audio_format: AudioFormat) -> str:
    """Cache key of a recording's served clip: its bytes' hash and the served format.

    Args:
        data: The recording file's bytes.
        audio_format: The served format (``VOICEBOT_AUDIO_FORMAT``).

    Returns:
        64 lowercase hex characters.
    """
    material = f"recording:{format_id(audio_format)}:{hashlib.sha256(data).hexdigest()}"
    return hashlib.sha256(material.encode("ascii")).hexdigest()
