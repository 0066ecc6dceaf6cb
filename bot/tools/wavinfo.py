"""What a WAV file holds, read from its RIFF chunks: any format tag (PCM, μ-law, A-law…),
which the standard ``wave`` module (PCM only) cannot read. ``voicebot simulate``
checks every audio URL a bot answers with it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import WavError
from bot.speech.wav import is_wav

FORMAT_NAMES = {1: "PCM", 3: "float", 6: "A-law", 7: "μ-law", 0xFFFE: "extensible"}
_STREAMING_SIZE = 0xFFFFFFFF  # written by encoders that do not know the length yet


@dataclass(frozen=True)
class WavInfo:
    """A WAV file's format and length."""

    format_tag: int
    sample_rate: int
    channels: int
    bits_per_sample: int
    byte_rate: int
    data_bytes: int

    @property
    def format_name(self) -> str:
        return FORMAT_NAMES.get(self.format_tag, f"format {self.format_tag}")

    @property
    def duration_seconds(self) -> float:
        return self.data_bytes / self.byte_rate

    def __str__(self) -> str:
        channels = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} channels")
        return (
            f"WAV {self.format_name} {self.sample_rate} Hz {channels} {self.bits_per_sample}-bit, "
            f"{self.duration_seconds:.2f} s"
        )


def read_wav_info(data: bytes) -> WavInfo:
    """The format and length of the WAV file ``data``; WavError when it is not one."""
    if not is_wav(data):
        raise WavError(f"not a RIFF/WAVE file (it starts with {data[:12]!r})")
    riff_size = int.from_bytes(data[4:8], "little")
    if riff_size != _STREAMING_SIZE and riff_size + 8 > len(data):
        raise WavError(
            f"truncated: the RIFF header announces {riff_size + 8} bytes, the file has {len(data)}"
        )
    chunks = dict(_chunks(data))
    if b"fmt " not in chunks:
        raise WavError("no fmt chunk")
    if b"data" not in chunks:
        raise WavError("no data chunk")
    return _info(data, *chunks[b"fmt "], data_bytes=chunks[b"data"][1])


def _chunks(data: bytes) -> list[tuple[bytes, tuple[int, int]]]:
    """(chunk id, (payload offset, payload size)) of each chunk, in file order."""
    found = []
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = data[offset : offset + 4], int.from_bytes(data[offset + 4 : offset + 8], "little")
        if offset + 8 + size > len(data):
            raise WavError(
                f"truncated: the {chunk_id.decode('latin-1')!r} chunk announces {size} bytes, "
                f"{len(data) - offset - 8} follow"
            )
        found.append((chunk_id, (offset + 8, size)))
        offset += 8 + size + (size & 1)  # chunks are padded to an even length
    return found


def _info(data: bytes, offset: int, size: int, *, data_bytes: int) -> WavInfo:
    if size < 16:
        raise WavError(f"fmt chunk of {size} bytes, at least 16 expected")
    fmt = data[offset : offset + 16]
    info = WavInfo(
        format_tag=int.from_bytes(fmt[0:2], "little"),
        channels=int.from_bytes(fmt[2:4], "little"),
        sample_rate=int.from_bytes(fmt[4:8], "little"),
        byte_rate=int.from_bytes(fmt[8:12], "little"),
        bits_per_sample=int.from_bytes(fmt[14:16], "little"),
        data_bytes=data_bytes,
    )
    block_align = int.from_bytes(fmt[12:14], "little")
    if not (info.channels and info.sample_rate and info.byte_rate):
        raise WavError(f"fmt chunk with zero channels, sample rate or byte rate: {info!r}")
    if info.byte_rate != info.sample_rate * block_align:
        raise WavError(
            f"inconsistent fmt chunk: byte rate {info.byte_rate} ≠ {info.sample_rate} Hz × {block_align}"
        )
    return info
