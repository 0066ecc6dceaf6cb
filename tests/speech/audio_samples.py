"""Audio of every format the decoder reads, made by encoders other than the code under test
(sox, Debian's; libsndfile's MP3 encoder through soundfile, since Debian's sox has no MP3
handler), and what a test measures of a decoded signal: its pitch and its loudness."""

from __future__ import annotations

import io
import subprocess
import wave

import numpy as np
import numpy.typing as npt
import soundfile

SOX = "/usr/bin/sox"
SOX_ENCODINGS = {"mulaw": ("u-law", 8), "alaw": ("a-law", 8), "float": ("floating-point", 32)}
"""Our name for an input kind → sox's ``-e`` encoding and ``-b`` bits."""

AMPLITUDE = 0.5
"""Of every test tone, in full scale: its RMS is AMPLITUDE / √2."""


def sox_tone(
    kind: str, *, rate: int, channels: int = 1, seconds: float = 0.5, frequency: float = 440.0
) -> bytes:
    """A sine at :data:`AMPLITUDE` as a WAV that sox encodes (``kind`` in :data:`SOX_ENCODINGS`)."""
    encoding, bits = SOX_ENCODINGS[kind]
    command = [SOX, "-n", "-t", "wav", "-e", encoding, "-b", str(bits), "-r", str(rate), "-c", str(channels)]
    command += ["-", "synth", str(seconds), "sine", str(frequency), "vol", str(AMPLITUDE)]
    return subprocess.run(command, capture_output=True, check=True, timeout=30).stdout


def mp3_tone(*, rate: int, channels: int = 1, seconds: float = 0.5, frequency: float = 440.0) -> bytes:
    """A sine at :data:`AMPLITUDE` as an MP3 (no ID3 tag: the bytes start with a frame)."""
    t = np.arange(int(rate * seconds)) / rate
    tone = AMPLITUDE * np.sin(2 * np.pi * frequency * t)
    buffer = io.BytesIO()
    soundfile.write(buffer, np.stack([tone] * channels, axis=1), rate, format="MP3")
    return buffer.getvalue()


def pcm16_samples(wav: bytes) -> tuple[tuple[int, int, int], npt.NDArray[np.int16]]:
    """A 16-bit PCM WAV's (rate, channels, bytes per sample) and samples, read by the
    standard library."""
    with wave.open(io.BytesIO(wav), "rb") as reader:
        shape = (reader.getframerate(), reader.getnchannels(), reader.getsampwidth())
        frames = reader.readframes(reader.getnframes())
    return shape, np.frombuffer(frames, dtype="<i2")


def sox_decode(wav: bytes) -> npt.NDArray[np.int16]:
    """A WAV of any encoding sox reads, decoded by sox to 16-bit samples (of its first channel)."""
    command = [
        SOX,
        "-t",
        "wav",
        "-",
        "-t",
        "raw",
        "-e",
        "signed-integer",
        "-b",
        "16",
        "-L",
        "-",
        "remix",
        "1",
    ]
    raw = subprocess.run(command, input=wav, capture_output=True, check=True, timeout=30).stdout
    return np.frombuffer(raw, dtype="<i2")


def peak_hz(samples: npt.NDArray[np.int16], rate: int) -> float:
    """The frequency of the spectrum's highest peak."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.argmax(spectrum) * rate / samples.size)


def rms(samples: npt.NDArray[np.int16], *, skip: int = 400) -> float:
    """Loudness in full scale, leaving out ``skip`` samples at each end (the resampler's
    and the MP3 encoder's ramps)."""
    inner = samples[skip:-skip].astype(np.float64) / 32768.0
    return float(np.sqrt(np.mean(inner**2)))
