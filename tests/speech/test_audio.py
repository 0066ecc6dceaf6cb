"""Telephone format conversion, concatenation and duration."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from bot.errors import TTSError
from bot.speech.audio import to_telephone_wav
from bot.speech.wav import TELEPHONE_RATE, concat_wavs, wav_duration_seconds


def make_wav(samples: npt.NDArray[np.int16], rate: int) -> bytes:
    """A 16-bit WAV of ``samples`` shaped (frames, channels)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(samples.shape[1])
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def sine(frequency: float, seconds: float, rate: int, amplitude: float = 0.5) -> npt.NDArray[np.int16]:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * 32767 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


@dataclass(frozen=True)
class Params:
    framerate: int
    nchannels: int
    sampwidth: int
    nframes: int


def read(wav: bytes) -> tuple[Params, npt.NDArray[np.int16]]:
    with wave.open(io.BytesIO(wav), "rb") as reader:
        params = Params(
            reader.getframerate(), reader.getnchannels(), reader.getsampwidth(), reader.getnframes()
        )
        frames = reader.readframes(params.nframes)
    return params, np.frombuffer(frames, dtype="<i2")


def test_stereo_44k_sine_becomes_8k_mono_of_same_duration_and_pitch() -> None:
    tone = sine(440.0, 1.5, 44100)
    source = make_wav(np.stack([tone, tone], axis=1), 44100)

    params, samples = read(to_telephone_wav(source))

    assert (params.framerate, params.nchannels, params.sampwidth) == (TELEPHONE_RATE, 1, 2)
    assert params.nframes == pytest.approx(1.5 * TELEPHONE_RATE, abs=2)
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    peak_hz = np.argmax(spectrum) * TELEPHONE_RATE / samples.size
    assert peak_hz == pytest.approx(440.0, abs=2.0)
    rms = np.sqrt(np.mean((samples[800:-800] / 32767.0) ** 2))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def test_channels_are_averaged() -> None:
    tone = sine(300.0, 0.5, 16000, amplitude=0.8)
    silent = np.zeros_like(tone)
    _, samples = read(to_telephone_wav(make_wav(np.stack([tone, silent], axis=1), 16000)))
    peak = np.max(np.abs(samples[400:-400])) / 32767.0
    assert peak == pytest.approx(0.4, rel=0.03)


@pytest.mark.parametrize("width", [1, 3, 4], ids=["8-bit", "24-bit", "32-bit"])
def test_other_sample_widths_are_converted(width: int) -> None:
    tone = sine(500.0, 0.25, 8000) / 32768.0
    if width == 1:
        frames = np.rint(tone * 127 + 128).astype(np.uint8).tobytes()
    elif width == 3:
        ints = np.rint(tone * 2**23).astype("<i4").view(np.uint8).reshape(-1, 4)
        frames = ints[:, :3].tobytes()
    else:
        frames = np.rint(tone * 2**31).astype("<i4").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(width)
        writer.setframerate(8000)
        writer.writeframes(frames)

    _, samples = read(to_telephone_wav(buffer.getvalue()))

    expected = sine(500.0, 0.25, 8000)
    assert np.max(np.abs(samples.astype(np.int32) - expected)) < 300


def test_streamed_header_with_oversized_data_length_is_tolerated() -> None:
    # espeak-ng --stdout cannot seek back, so its header claims ~2 GiB of data.
    wav = bytearray(make_wav(sine(440.0, 0.5, 22050)[:, None], 22050))
    wav[4:8] = (0x7FFFFFFF).to_bytes(4, "little")
    wav[40:44] = (0x7FFFF000).to_bytes(4, "little")
    assert wav_duration_seconds(bytes(wav)) == pytest.approx(0.5)
    assert wav_duration_seconds(to_telephone_wav(bytes(wav))) == pytest.approx(0.5, abs=0.001)


def test_telephone_input_passes_through_unchanged() -> None:
    wav = make_wav(sine(440.0, 0.3, TELEPHONE_RATE)[:, None], TELEPHONE_RATE)
    assert to_telephone_wav(wav) == wav


@pytest.mark.parametrize(
    "data", [b"", b"not a wav at all", b"RIFF\x00\x00\x00\x00WAVE"], ids=["empty", "text", "truncated"]
)
def test_unreadable_input_raises_tts_error(data: bytes) -> None:
    with pytest.raises(TTSError):
        to_telephone_wav(data)
    with pytest.raises(TTSError):
        wav_duration_seconds(data)


def test_concat_inserts_gaps_between_parts_only() -> None:
    parts = [make_wav(sine(440.0, s, TELEPHONE_RATE)[:, None], TELEPHONE_RATE) for s in (0.5, 0.25, 1.0)]
    joined = concat_wavs(parts, gap_ms=200)
    assert wav_duration_seconds(joined) == pytest.approx(0.5 + 0.25 + 1.0 + 2 * 0.2)
    _, samples = read(joined)
    assert not samples[4000 : 4000 + 1600].any()  # the first gap is silence


def test_concat_of_nothing_is_an_empty_wav() -> None:
    assert wav_duration_seconds(concat_wavs([])) == 0.0


def test_concat_refuses_non_telephone_parts() -> None:
    telephone = make_wav(sine(440.0, 0.1, TELEPHONE_RATE)[:, None], TELEPHONE_RATE)
    wideband = make_wav(sine(440.0, 0.1, 16000)[:, None], 16000)
    with pytest.raises(TTSError, match="part 1"):
        concat_wavs([telephone, wideband])
