"""Any PCM WAV → the telephone format (8000 Hz mono 16-bit), with numpy and soxr.

Only what synthesizes or plays audio imports this module: numpy and soxr take a
tenth of a second to load, which the flow loader, the linter and the tools that
merely read a WAV (:mod:`bot.speech.wav`) should not pay. The functions are pure
and CPU-bound; async callers run them in ``asyncio.to_thread``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import soxr

from bot.errors import TTSError
from bot.speech.wav import TELEPHONE_RATE, Pcm, read_pcm, wav_duration_seconds, write_wav

_INT16_MAX = 32767
_Float = npt.NDArray[np.float32]


def to_telephone_wav(wav: bytes) -> bytes:
    """Convert a PCM WAV of any rate, channel count and sample width to telephone format.

    Channels are averaged to mono and the signal is resampled with soxr (high
    quality) to :data:`~bot.speech.wav.TELEPHONE_RATE`.

    Args:
        wav: A RIFF/WAVE file with uncompressed integer PCM of 8, 16, 24 or 32
            bits (plain or WAVE_FORMAT_EXTENSIBLE). A data size in the header
            larger than the data present (as written by tools streaming to a
            pipe) is tolerated.

    Returns:
        An 8000 Hz mono 16-bit PCM WAV.

    Raises:
        TTSError: ``wav`` is not a readable PCM WAV or cannot be resampled.
    """
    pcm = read_pcm(wav)
    if pcm.is_telephone:
        return write_wav(pcm.frames)
    samples = _mono_float(pcm)
    if pcm.rate != TELEPHONE_RATE and samples.size:
        try:
            samples = soxr.resample(samples, pcm.rate, TELEPHONE_RATE, quality="HQ")
        except (ValueError, TypeError, RuntimeError, MemoryError) as exc:
            raise TTSError(f"cannot resample {pcm.rate} Hz audio: {exc}") from exc
    return write_wav(_float_to_int16(samples).tobytes())


def to_telephone_wav_with_duration(wav: bytes) -> tuple[bytes, float]:
    """:func:`to_telephone_wav` and the result's play time in seconds: the CPU part of
    a synthesis or of a recording's conversion, run in a worker thread."""
    converted = to_telephone_wav(wav)
    return converted, wav_duration_seconds(converted)


def _mono_float(pcm: Pcm) -> _Float:
    """Decode PCM samples to float32 in [-1, 1) and average the channels."""
    samples = _decode(pcm.frames, pcm.width).reshape(-1, pcm.channels)
    mono: _Float = samples.mean(axis=1, dtype=np.float32)
    return mono


def _decode(frames: bytes, width: int) -> _Float:
    """Little-endian PCM bytes to float32; WAV 8-bit is unsigned, wider is signed."""
    if width == 1:
        raw8 = np.frombuffer(frames, dtype=np.uint8).astype(np.float32)
        return (raw8 - 128.0) / 128.0
    if width == 3:
        # No 24-bit numpy dtype: place each 3-byte sample in the top of an int32.
        triplets = np.frombuffer(frames, dtype=np.uint8).reshape(-1, 3)
        padded = np.zeros((triplets.shape[0], 4), dtype=np.uint8)
        padded[:, 1:] = triplets
        return padded.view("<i4").reshape(-1).astype(np.float32) / 2.0**31
    dtype = "<i2" if width == 2 else "<i4"
    scale = 2.0 ** (8 * width - 1)
    return np.frombuffer(frames, dtype=dtype).astype(np.float32) / np.float32(scale)


def _float_to_int16(samples: _Float) -> npt.NDArray[np.int16]:
    """Scale to 16-bit, clipping the overshoot that resampling can add to full-scale audio."""
    scaled = np.clip(np.rint(samples * _INT16_MAX), -_INT16_MAX - 1, _INT16_MAX)
    return scaled.astype("<i2")
