"""Telephone WAV files: reading their headers and PCM, writing, joining and timing them.

The CTI plays our files on narrow-band phone lines. Inside the bot every clip is the
one format that joins, silences and durations are simple in: RIFF/WAVE, PCM, 8000 Hz,
mono, 16-bit signed little-endian. The file served may be 8 kHz G.711 instead
(``VOICEBOT_AUDIO_FORMAT``: μ-law, A-law), encoded where the clip's file is written
(:class:`bot.speech.clips.ClipStore`); :func:`read_wav_info` and
:func:`wav_duration_seconds` read the header of either, and of any other WAV.

This module needs only the standard library, so that code which merely checks or
times a WAV (the flow loader, ``voicebot simulate``) does not load numpy; decoding
other formats and encoding G.711 is :mod:`bot.speech.audio`'s job. The functions are
pure and CPU-bound; async callers run them in ``asyncio.to_thread``.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from bot.errors import TTSError, WavError

TELEPHONE_RATE = 8000
TELEPHONE_CHANNELS = 1
TELEPHONE_SAMPLE_WIDTH = 2  # bytes: 16-bit signed PCM

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_ALAW = 0x0006
WAVE_FORMAT_MULAW = 0x0007
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
FORMAT_NAMES = {
    WAVE_FORMAT_PCM: "PCM",
    WAVE_FORMAT_IEEE_FLOAT: "float",
    WAVE_FORMAT_ALAW: "A-law",
    WAVE_FORMAT_MULAW: "μ-law",
    WAVE_FORMAT_EXTENSIBLE: "extensible",
}
# Formats whose every frame is block_align bytes, so that a header alone gives the length.
_FIXED_FRAME_FORMATS = frozenset(
    {WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT, WAVE_FORMAT_ALAW, WAVE_FORMAT_MULAW}
)
# The tail shared by every KSDATAFORMAT_SUBTYPE_* GUID; its first two bytes are the format tag.
_SUBFORMAT_TAIL = bytes.fromhex("000000001000800000aa00389b71")
_PCM_SUBFORMAT = WAVE_FORMAT_PCM.to_bytes(2, "little") + _SUBFORMAT_TAIL
_STREAMING_SIZE = 0xFFFFFFFF  # written by encoders that do not know the length yet

AudioFormat = Literal["pcm16", "mulaw", "alaw"]
"""The served file (``VOICEBOT_AUDIO_FORMAT``): 8 kHz mono 16-bit PCM, or 8 kHz G.711."""

AUDIO_FORMATS: tuple[AudioFormat, ...] = get_args(AudioFormat)
SERVED_WAVS: dict[AudioFormat, tuple[int, int]] = {
    "pcm16": (WAVE_FORMAT_PCM, 16),
    "mulaw": (WAVE_FORMAT_MULAW, 8),
    "alaw": (WAVE_FORMAT_ALAW, 8),
}
"""Each served format's WAVE format tag and bits per sample (8000 Hz mono for all)."""
# pcm16 keeps the name the keys had before the format could be chosen: existing caches stay valid.
_FORMAT_IDS: dict[AudioFormat, str] = {
    "pcm16": "wav-8000-mono-s16",
    "mulaw": "wav-8000-mono-ulaw",
    "alaw": "wav-8000-mono-alaw",
}


def format_id(audio_format: AudioFormat) -> str:
    """The served format as cache keys name it, so that a change of format changes every key.

    Raises:
        ValueError: ``audio_format`` is not one of :data:`AUDIO_FORMATS`.
    """
    try:
        return _FORMAT_IDS[audio_format]
    except KeyError:
        raise ValueError(
            f"unknown audio format {audio_format!r}; valid: {', '.join(AUDIO_FORMATS)}"
        ) from None


@dataclass(frozen=True)
class WavInfo:
    """A WAV file's format and length, from its header.

    Attributes:
        format_tag: The WAVE format tag (1 PCM, 3 float, 6 A-law, 7 μ-law…); for a
            WAVE_FORMAT_EXTENSIBLE header, the tag of its subformat.
        sample_rate: Frames per second.
        channels: Samples per frame.
        bits_per_sample: As the header says (8 for G.711).
        byte_rate: Bytes per second.
        block_align: Bytes per frame (per block, for compressed formats).
        data_bytes: Bytes of audio data (see the reading function for which count).
        extensible: Whether the header is WAVE_FORMAT_EXTENSIBLE.
    """

    format_tag: int
    sample_rate: int
    channels: int
    bits_per_sample: int
    byte_rate: int
    block_align: int
    data_bytes: int
    extensible: bool = False

    @property
    def format_name(self) -> str:
        """``PCM``, ``float``, ``μ-law``, ``A-law``, or ``format <tag>``."""
        return FORMAT_NAMES.get(self.format_tag, f"format {self.format_tag}")

    @property
    def fixed_frames(self) -> bool:
        """Whether every frame has ``block_align`` bytes (PCM, float, G.711), so that the
        header alone gives the length exactly."""
        return self.format_tag in _FIXED_FRAME_FORMATS

    @property
    def duration_seconds(self) -> float:
        """Play time: whole frames over the rate (data over the byte rate when compressed)."""
        if self.fixed_frames:
            return self.data_bytes // self.block_align / self.sample_rate
        return self.data_bytes / self.byte_rate

    def __str__(self) -> str:
        channels = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} channels")
        return (
            f"WAV {self.format_name} {self.sample_rate} Hz {channels} {self.bits_per_sample}-bit, "
            f"{self.duration_seconds:.2f} s"
        )


def read_wav_info(data: bytes) -> WavInfo:
    """The format and length of the whole WAV file ``data``, strictly: as a CTI
    downloading it would find it (``voicebot simulate``).

    Args:
        data: The file.

    Returns:
        Its format; ``data_bytes`` is the data chunk's size.

    Raises:
        WavError: ``data`` is not a RIFF/WAVE file, is shorter than its header or a
            chunk announces, or lacks a fmt or data chunk.
    """
    if not is_wav(data):
        raise WavError(f"not a RIFF/WAVE file (it starts with {data[:12]!r})")
    riff_size = int.from_bytes(data[4:8], "little")
    if riff_size != _STREAMING_SIZE and riff_size + 8 > len(data):
        raise WavError(
            f"truncated: the RIFF header announces {riff_size + 8} bytes, the file has {len(data)}"
        )
    chunks: dict[bytes, tuple[int, int]] = {}
    for chunk_id, offset, size in _chunks(data):
        if offset + size > len(data):
            raise WavError(
                f"truncated: the {chunk_id.decode('latin-1')!r} chunk announces {size} bytes, "
                f"{len(data) - offset} follow"
            )
        chunks.setdefault(chunk_id, (offset, size))
    if b"fmt " not in chunks:
        raise WavError("no fmt chunk")
    if b"data" not in chunks:
        raise WavError("no data chunk")
    offset, size = chunks[b"fmt "]
    return _info(data[offset : offset + size], data_bytes=chunks[b"data"][1])


def read_wav_header(data: bytes, *, trust_sizes: bool = False) -> WavInfo:
    """The format and length of a WAV from its header, leniently.

    Args:
        data: The file, or (with ``trust_sizes``) its first bytes up to the data
            chunk's header at least.
        trust_sizes: Take the data chunk's size as written (a file this service wrote,
            of which only the header was read); else count the data bytes present, so
            that a header written by a tool streaming to a pipe, which claims ~2 GiB
            (espeak-ng ``--stdout``), still gives the true length.

    Returns:
        Its format and data size.

    Raises:
        WavError: ``data`` is not a RIFF/WAVE file, or no fmt chunk comes before its
            data chunk.
    """
    if not is_wav(data):
        raise WavError(f"not a RIFF/WAVE file ({len(data)} bytes starting {data[:4]!r})")
    fmt: bytes | None = None
    for chunk_id, offset, size in _chunks(data):
        if chunk_id == b"fmt ":
            fmt = data[offset : offset + size]
        elif chunk_id == b"data":
            if fmt is None:
                raise WavError("the data chunk comes before any fmt chunk")
            return _info(fmt, data_bytes=size if trust_sizes else min(size, len(data) - offset))
    raise WavError("no data chunk" if fmt is not None else "no fmt chunk")


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
    """Whether ``data`` starts like a RIFF/WAVE file."""
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
    """Play time of a WAV of PCM, float, μ-law or A-law, counted from the whole frames
    present (a streamed header's oversized data length is tolerated).

    Args:
        wav: A RIFF/WAVE file.

    Returns:
        The duration in seconds.

    Raises:
        WavError: ``wav`` is not a WAV, or one of a compressed format (ADPCM, MP3 in
            WAV) that only decoding can time (:func:`bot.speech.audio.audio_duration_seconds`).
    """
    info = read_wav_header(wav)
    if not info.fixed_frames:
        raise WavError(f"cannot time {info.format_name} WAV audio without decoding it")
    return info.duration_seconds


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
    for chunk_id, offset, size in _chunks(wav):
        if chunk_id == b"fmt ":
            tag = int.from_bytes(wav[offset : offset + 2], "little")
            if (
                tag == WAVE_FORMAT_EXTENSIBLE
                and size >= 40
                and wav[offset + 24 : offset + 40] == _PCM_SUBFORMAT
            ):
                return wav[:offset] + WAVE_FORMAT_PCM.to_bytes(2, "little") + wav[offset + 2 :]
            return wav
    return wav


def _chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """``(chunk id, payload offset, announced size)`` of each chunk header present, in order."""
    offset = 12
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        yield data[offset : offset + 4], offset + 8, size
        offset += 8 + size + (size & 1)  # chunks are padded to an even length


def _info(fmt: bytes, *, data_bytes: int) -> WavInfo:
    """A fmt chunk's payload read, and checked where the format's frames have a fixed size."""
    if len(fmt) < 16:
        raise WavError(f"fmt chunk of {len(fmt)} bytes, at least 16 expected")
    tag = int.from_bytes(fmt[0:2], "little")
    extensible = tag == WAVE_FORMAT_EXTENSIBLE and len(fmt) >= 40 and fmt[26:40] == _SUBFORMAT_TAIL
    info = WavInfo(
        format_tag=int.from_bytes(fmt[24:26], "little") if extensible else tag,
        channels=int.from_bytes(fmt[2:4], "little"),
        sample_rate=int.from_bytes(fmt[4:8], "little"),
        byte_rate=int.from_bytes(fmt[8:12], "little"),
        block_align=int.from_bytes(fmt[12:14], "little"),
        bits_per_sample=int.from_bytes(fmt[14:16], "little"),
        data_bytes=data_bytes,
        extensible=extensible,
    )
    if not (info.channels and info.sample_rate and info.byte_rate and info.block_align):
        raise WavError(f"fmt chunk with zero channels, sample rate, byte rate or block size: {info!r}")
    if info.fixed_frames and info.byte_rate != info.sample_rate * info.block_align:
        raise WavError(
            f"inconsistent fmt chunk: byte rate {info.byte_rate} ≠ {info.sample_rate} Hz × {info.block_align}"
        )
    return info
