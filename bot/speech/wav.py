"""Telephone WAV files: reading their PCM, writing, joining and timing them.

The CTI plays our files on narrow-band phone lines, so every clip we hand out is
the one format it surely accepts: RIFF/WAVE, PCM, 8000 Hz, mono, 16-bit signed
little-endian. This module needs only the standard library, so that code which
merely checks or times a WAV (the flow loader, ``voicebot simulate``) does not load
numpy; converting other formats to this one is :mod:`bot.speech.audio`'s job. The
functions are pure and CPU-bound; async callers run them in ``asyncio.to_thread``.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import TTSError

TELEPHONE_RATE = 8000
TELEPHONE_CHANNELS = 1
TELEPHONE_SAMPLE_WIDTH = 2  # bytes: 16-bit signed PCM

_WAVE_FORMAT_PCM = 0x0001
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE
_PCM_SUBFORMAT = bytes.fromhex("0100000000001000800000aa00389b71")  # KSDATAFORMAT_SUBTYPE_PCM


@dataclass(frozen=True)
class Pcm:
    """Decoded PCM: interleaved little-endian frames plus their format.

    Attributes:
        rate: Frames per second.
        channels: Samples per frame.
        width: Bytes per sample.
        frames: Whole frames only.
    """

    rate: int
    channels: int
    width: int
    frames: bytes

    @property
    def is_telephone(self) -> bool:
        """Whether this is already the served format (8000 Hz mono 16-bit)."""
        return (
            self.rate == TELEPHONE_RATE
            and self.channels == TELEPHONE_CHANNELS
            and self.width == TELEPHONE_SAMPLE_WIDTH
        )


def is_wav(data: bytes) -> bool:
    """Whether ``data`` starts like a RIFF/WAVE file (what every backend must answer)."""
    return data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def read_pcm(wav: bytes) -> Pcm:
    """Parse a PCM WAV with the stdlib, keeping only whole frames.

    Args:
        wav: A RIFF/WAVE file with uncompressed integer PCM of 8, 16, 24 or 32 bits
            (plain or WAVE_FORMAT_EXTENSIBLE). A data size in the header larger than
            the data present (as written by tools streaming to a pipe) is tolerated.

    Returns:
        Its frames and format.

    Raises:
        TTSError: ``wav`` is not a readable PCM WAV.
    """
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
    return Pcm(rate, channels, width, frames[: len(frames) - len(frames) % frame_size])


def wav_duration_seconds(wav: bytes) -> float:
    """Play time of a PCM WAV, counted from the frames actually present.

    Args:
        wav: A RIFF/WAVE file with uncompressed PCM.

    Returns:
        The duration in seconds.

    Raises:
        TTSError: ``wav`` is not a readable PCM WAV.
    """
    pcm = read_pcm(wav)
    return len(pcm.frames) / (pcm.rate * pcm.channels * pcm.width)


def write_wav(frames: bytes) -> bytes:
    """Wrap 8000 Hz mono 16-bit frames in a WAV header with the true sizes."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(TELEPHONE_CHANNELS)
        writer.setsampwidth(TELEPHONE_SAMPLE_WIDTH)
        writer.setframerate(TELEPHONE_RATE)
        writer.writeframes(frames)
    return buffer.getvalue()


def concat_wavs(parts: Sequence[bytes], *, gap_ms: int = 150) -> bytes:
    """Join telephone WAVs into one, with a short silence between consecutive parts.

    Args:
        parts: Telephone-format WAVs (as made by :func:`bot.speech.audio.to_telephone_wav`).
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
        pcm = read_pcm(part)
        if not pcm.is_telephone:
            raise TTSError(
                f"part {index} is {pcm.rate} Hz, {pcm.channels} channel(s), "
                f"{8 * pcm.width}-bit; concat_wavs needs telephone-format WAVs"
            )
        if chunks:
            chunks.append(gap)
        chunks.append(pcm.frames)
    return write_wav(b"".join(chunks))


def silence_wav(duration_ms: int) -> bytes:
    """A telephone WAV of ``duration_ms`` milliseconds of silence."""
    return write_wav(_silence_frames(duration_ms))


def _silence_frames(duration_ms: int) -> bytes:
    return b"\x00" * (TELEPHONE_RATE * duration_ms // 1000 * TELEPHONE_SAMPLE_WIDTH)


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
