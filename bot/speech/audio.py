"""Telephone audio format helpers.

The CTI plays our files on narrow-band phone lines, so every clip we hand out is
the one format it surely accepts: RIFF/WAVE, PCM, 8000 Hz, mono, 16-bit signed
little-endian. These functions are pure and CPU-bound; async callers run them in
``asyncio.to_thread``.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import soxr

from bot.errors import TTSError

TELEPHONE_RATE = 8000
TELEPHONE_CHANNELS = 1
TELEPHONE_SAMPLE_WIDTH = 2  # bytes: 16-bit signed PCM

_INT16_MAX = 32767
_WAVE_FORMAT_PCM = 0x0001
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE
_PCM_SUBFORMAT = bytes.fromhex("0100000000001000800000aa00389b71")  # KSDATAFORMAT_SUBTYPE_PCM
_Float = npt.NDArray[np.float32]


@dataclass(frozen=True)
class _Pcm:
    """Decoded PCM: interleaved little-endian frames plus their format."""

    rate: int
    channels: int
    width: int
    frames: bytes


def is_wav(data: bytes) -> bool:
    """Whether ``data`` starts like a RIFF/WAVE file (what every backend must answer)."""
    return data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def to_telephone_wav(wav: bytes) -> bytes:
    """Convert a PCM WAV of any rate, channel count and sample width to telephone format.

    Channels are averaged to mono and the signal is resampled with soxr (high
    quality) to :data:`TELEPHONE_RATE`.

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
    pcm = _read_pcm(wav)
    if _is_telephone(pcm):
        return _write_wav(pcm.frames)
    samples = _mono_float(pcm)
    if pcm.rate != TELEPHONE_RATE and samples.size:
        try:
            samples = soxr.resample(samples, pcm.rate, TELEPHONE_RATE, quality="HQ")
        except (ValueError, TypeError, RuntimeError, MemoryError) as exc:
            raise TTSError(f"cannot resample {pcm.rate} Hz audio: {exc}") from exc
    return _write_wav(_float_to_int16(samples).tobytes())


def concat_wavs(parts: Sequence[bytes], *, gap_ms: int = 150) -> bytes:
    """Join telephone WAVs into one, with a short silence between consecutive parts.

    Args:
        parts: Telephone-format WAVs (as made by :func:`to_telephone_wav`).
            An empty sequence gives an empty (zero-frame) WAV.
        gap_ms: Silence between two parts, in milliseconds; none before the
            first or after the last.

    Returns:
        One telephone-format WAV.

    Raises:
        TTSError: A part is unreadable or not in telephone format.
        ValueError: ``gap_ms`` is negative.
    """
    if gap_ms < 0:
        raise ValueError(f"gap_ms must be >= 0, not {gap_ms}")
    gap = _silence_frames(gap_ms)
    chunks: list[bytes] = []
    for index, part in enumerate(parts):
        pcm = _read_pcm(part)
        if not _is_telephone(pcm):
            raise TTSError(
                f"part {index} is {pcm.rate} Hz, {pcm.channels} channel(s), "
                f"{8 * pcm.width}-bit; concat_wavs needs telephone-format WAVs"
            )
        if chunks:
            chunks.append(gap)
        chunks.append(pcm.frames)
    return _write_wav(b"".join(chunks))


def silence_wav(duration_ms: int) -> bytes:
    """A telephone WAV of ``duration_ms`` milliseconds of silence."""
    return _write_wav(_silence_frames(duration_ms))


def _silence_frames(duration_ms: int) -> bytes:
    return b"\x00" * (TELEPHONE_RATE * duration_ms // 1000 * TELEPHONE_SAMPLE_WIDTH)


def wav_duration_seconds(wav: bytes) -> float:
    """Play time of a PCM WAV, counted from the frames actually present.

    Args:
        wav: A RIFF/WAVE file with uncompressed PCM.

    Returns:
        The duration in seconds.

    Raises:
        TTSError: ``wav`` is not a readable PCM WAV.
    """
    pcm = _read_pcm(wav)
    return len(pcm.frames) / (pcm.rate * pcm.channels * pcm.width)


def _read_pcm(wav: bytes) -> _Pcm:
    """Parse a WAV with the stdlib, keeping only whole frames."""
    try:
        with wave.open(io.BytesIO(_plain_pcm_header(wav)), "rb") as reader:
            rate = reader.getframerate()
            channels = reader.getnchannels()
            width = reader.getsampwidth()
            # readframes stops at the end of the data, so a streamed header that
            # claims ~2 GiB of data (espeak-ng --stdout) still reads correctly.
            frames = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError, ValueError, OSError) as exc:
        raise TTSError(f"unreadable WAV audio ({len(wav)} bytes): {exc}") from exc
    if rate <= 0 or channels <= 0 or width not in (1, 2, 3, 4):
        raise TTSError(f"unsupported WAV format: {rate} Hz, {channels} channel(s), {width}-byte samples")
    frame_size = channels * width
    return _Pcm(rate, channels, width, frames[: len(frames) - len(frames) % frame_size])


def _plain_pcm_header(wav: bytes) -> bytes:
    """A WAVE_FORMAT_EXTENSIBLE file of integer PCM relabelled as plain PCM, else ``wav``.

    Recording tools write the extensible header for 24-bit or multi-channel audio;
    the ``wave`` module reads it only from Python 3.12 on, and the samples are the same.
    """
    if not is_wav(wav):
        return wav
    offset = 12
    while offset + 8 <= len(wav):
        size = int.from_bytes(wav[offset + 4 : offset + 8], "little")
        body = offset + 8
        if wav[offset : offset + 4] == b"fmt ":
            tag = int.from_bytes(wav[body : body + 2], "little")
            if tag == _WAVE_FORMAT_EXTENSIBLE and size >= 40 and wav[body + 24 : body + 40] == _PCM_SUBFORMAT:
                return wav[:body] + _WAVE_FORMAT_PCM.to_bytes(2, "little") + wav[body + 2 :]
            return wav
        offset = body + size + (size & 1)
    return wav


def _is_telephone(pcm: _Pcm) -> bool:
    return (
        pcm.rate == TELEPHONE_RATE
        and pcm.channels == TELEPHONE_CHANNELS
        and pcm.width == TELEPHONE_SAMPLE_WIDTH
    )


def _mono_float(pcm: _Pcm) -> _Float:
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


def _write_wav(frames: bytes) -> bytes:
    """Wrap 8000 Hz mono 16-bit frames in a WAV header with the true sizes."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(TELEPHONE_CHANNELS)
        writer.setsampwidth(TELEPHONE_SAMPLE_WIDTH)
        writer.setframerate(TELEPHONE_RATE)
        writer.writeframes(frames)
    return buffer.getvalue()
