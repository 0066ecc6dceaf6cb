"""Recorded prompts: WAV files a voice talent recorded, played instead of synthesized speech.

A flow names one beside the words it says (``say: {text: 您好…, audio:
recordings/welcome.wav}``), relative to the flows directory. Any PCM WAV will do;
the synthesizer converts it to the served telephone format and caches it under the
hash of the file's bytes, so a replaced recording is picked up and an unchanged one
is converted once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from bot.speech.cache import AUDIO_FORMAT
from bot.speech.wav import wav_duration_seconds

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
        path: The WAV file.

    Returns:
        The file's bytes and its play time in seconds.

    Raises:
        OSError: The file cannot be read.
        TTSError: It is not a readable PCM WAV.
    """
    data = path.read_bytes()
    return data, wav_duration_seconds(data)


def recording_key(data: bytes) -> str:
    """Cache key of a recording's telephone clip: its bytes' hash and the served format.

    Args:
        data: The recording file's bytes.

    Returns:
        64 lowercase hex characters.
    """
    material = f"recording:{AUDIO_FORMAT}:{hashlib.sha256(data).hexdigest()}"
    return hashlib.sha256(material.encode("ascii")).hexdigest()
