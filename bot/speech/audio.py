"""Any audio → the telephone format (8000 Hz mono 16-bit PCM WAV), and that → the served file.

Decoding is libsndfile's, through soundfile: WAV of integer PCM of any width, float,
μ-law, A-law or ADPCM (plain or extensible header), MP3, and what else libsndfile
reads (FLAC, Ogg Vorbis, AIFF…). The format is told by the bytes, never by a file
name or a Content-Type. Resampling is soxr's (high quality). A telephone PCM WAV,
which most clips already are, takes a fast path that needs neither.

The served file is the telephone WAV itself (``VOICEBOT_AUDIO_FORMAT=pcm16``), or its
G.711 encoding (``mulaw``, ``alaw``) made by :func:`to_served_wav` where the clip's
file is written; joins, silences and durations stay in 16-bit PCM.

Only what synthesizes or plays audio imports this module: numpy, soxr and soundfile
take a tenth of a second to load, which the flow loader, the linter and the tools that
merely read a WAV header (:mod:`bot.speech.wav`) should not pay. The functions are pure
and CPU-bound; async callers run them in ``asyncio.to_thread``.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile
import soxr

from bot.errors import TTSError
from bot.speech.wav import (
    TELEPHONE_CHANNELS,
    TELEPHONE_RATE,
    AudioFormat,
    read_pcm,
    wav_duration_seconds,
    write_wav,
)

_INT16_MAX = 32767
_Float = npt.NDArray[np.float32]
_G711_SUBTYPES: dict[AudioFormat, str] = {"mulaw": "ULAW", "alaw": "ALAW"}
# G.711 codes stand for 16-bit values: read as such, a served clip decoded for a join
# encodes back to the same sound (through float, a few samples would move a step).
_EXACT_SUBTYPES = frozenset(_G711_SUBTYPES.values())
# What soundfile raises for bytes it cannot read: LibsndfileError is a RuntimeError.
_DECODER_ERRORS = (soundfile.SoundFileError, RuntimeError, TypeError, ValueError)


def to_telephone_wav(data: bytes) -> bytes:
    """Convert audio of any format, rate, channel count and sample width to telephone format.

    Channels are averaged to mono and the signal is resampled with soxr (high
    quality) to :data:`~bot.speech.wav.TELEPHONE_RATE`.

    Args:
        data: Audio libsndfile reads: a WAV of integer PCM of 8 to 32 bits, float,
            μ-law, A-law or ADPCM (plain or WAVE_FORMAT_EXTENSIBLE header), MP3, FLAC,
            Ogg Vorbis… A data size in a WAV header larger than the data present (as
            written by tools streaming to a pipe) is tolerated.

    Returns:
        An 8000 Hz mono 16-bit PCM WAV.

    Raises:
        TTSError: ``data`` is not audio the decoder reads, or cannot be resampled.
    """
    frames = _telephone_frames(data)
    if frames is not None:
        return write_wav(frames)
    samples, rate = _decode(data)
    if samples.dtype == np.int16:
        return write_wav(samples.astype("<i2").tobytes())
    mono: _Float = samples.mean(axis=1, dtype=np.float32)
    if rate != TELEPHONE_RATE and mono.size:
        try:
            mono = soxr.resample(mono, rate, TELEPHONE_RATE, quality="HQ")
        except (ValueError, TypeError, RuntimeError, MemoryError) as exc:
            raise TTSError(f"cannot resample {rate} Hz audio: {exc}") from exc
    return write_wav(_float_to_int16(mono).tobytes())


def to_telephone_wav_with_duration(data: bytes) -> tuple[bytes, float]:
    """:func:`to_telephone_wav` and the result's play time in seconds: the CPU part of
    a synthesis or of a recording's conversion, run in a worker thread."""
    converted = to_telephone_wav(data)
    return converted, wav_duration_seconds(converted)


def to_served_wav(wav: bytes, audio_format: AudioFormat) -> bytes:
    """A telephone WAV as the file served in ``audio_format``.

    Args:
        wav: An 8000 Hz mono 16-bit PCM WAV (:func:`to_telephone_wav`).
        audio_format: ``pcm16``: ``wav`` itself. ``mulaw`` / ``alaw``: 8000 Hz mono
            G.711 WAV as libsndfile writes it: WAVE format tag 7 / 6, 8 bits, a fmt
            chunk of 18 bytes and a fact chunk with the frame count (which the WAVE
            specification asks of every format but PCM); half the size, as long.

    Returns:
        The served file.

    Raises:
        TTSError: ``wav`` is not a telephone WAV.
        ValueError: ``audio_format`` is unknown.
    """
    if audio_format == "pcm16":
        return wav
    if audio_format not in _G711_SUBTYPES:
        raise ValueError(f"unknown audio format {audio_format!r}")
    pcm = read_pcm(wav)
    if not pcm.is_telephone:
        shape = f"{pcm.rate} Hz, {pcm.channels} channel(s), {8 * pcm.width}-bit"
        raise TTSError(f"only telephone WAVs are served, not {shape}")
    buffer = io.BytesIO()
    samples = np.frombuffer(pcm.frames, dtype="<i2")
    soundfile.write(buffer, samples, TELEPHONE_RATE, subtype=_G711_SUBTYPES[audio_format], format="WAV")
    return buffer.getvalue()


def audio_duration_seconds(data: bytes) -> float:
    """Play time of audio of any format the decoder reads, from its header.

    Also the check that ``data`` is such audio: it reads the bytes, whatever a file
    name or a Content-Type says.

    Args:
        data: Audio (see :func:`to_telephone_wav`).

    Returns:
        The duration in seconds.

    Raises:
        TTSError: ``data`` is not audio the decoder reads.
    """
    frames = _telephone_frames(data)
    if frames is not None:
        return len(frames) / (TELEPHONE_RATE * 2)
    try:
        info = soundfile.info(io.BytesIO(data))
    except _DECODER_ERRORS as exc:
        raise _unreadable(data, exc) from exc
    return float(info.frames) / float(info.samplerate)


def is_audio(data: bytes) -> bool:
    """Whether the decoder reads ``data`` (sniffed from the bytes: a WAV, MP3…)."""
    try:
        audio_duration_seconds(data)
    except TTSError:
        return False
    return True


def _telephone_frames(data: bytes) -> bytes | None:
    """The frames of a telephone PCM WAV, read without the decoder; None for anything else."""
    try:
        pcm = read_pcm(data)
    except TTSError:  # not PCM (μ-law, MP3…): the decoder's job
        return None
    return pcm.frames if pcm.is_telephone else None


def _decode(data: bytes) -> tuple[npt.NDArray[Any], int]:
    """Samples shaped (frames, channels) and their rate: int16 for 8 kHz mono G.711,
    float32 in [-1, 1) for the rest."""
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as source:
            exact = (source.samplerate, source.channels) == (TELEPHONE_RATE, TELEPHONE_CHANNELS) and (
                source.subtype in _EXACT_SUBTYPES
            )
            samples: npt.NDArray[Any] = source.read(dtype="int16" if exact else "float32", always_2d=True)
            return samples, int(source.samplerate)
    except _DECODER_ERRORS as exc:
        raise _unreadable(data, exc) from exc


def _unreadable(data: bytes, exc: Exception) -> TTSError:
    # libsndfile's own words; soundfile's message also names the BytesIO object.
    reason = getattr(exc, "error_string", None) or str(exc)
    return TTSError(f"unreadable audio ({len(data)} bytes): {reason}")


def _float_to_int16(samples: _Float) -> npt.NDArray[np.int16]:
    """Scale to 16-bit, clipping the overshoot that resampling can add to full-scale audio."""
    scaled = np.clip(np.rint(samples * _INT16_MAX), -_INT16_MAX - 1, _INT16_MAX)
    return scaled.astype("<i2")
