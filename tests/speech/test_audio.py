"""Every audio format in, one format out: decoding, conversion to the telephone format,
the served G.711 files, concatenation and duration."""

from __future__ import annotations

import io
import struct
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from bot.errors import TTSError, WavError
from bot.speech.audio import audio_duration_seconds, is_audio, to_served_wav, to_telephone_wav
from bot.speech.recordings import read_recording
from bot.speech.wav import (
    TELEPHONE_RATE,
    WAVE_FORMAT_ALAW,
    WAVE_FORMAT_MULAW,
    AudioFormat,
    concat_wavs,
    read_wav_header,
    read_wav_info,
    wav_duration_seconds,
    write_wav,
)
from tests.speech.audio_samples import (
    AMPLITUDE,
    SOX,
    mp3_tone,
    pcm16_samples,
    peak_hz,
    rms,
    sox_decode,
    sox_tone,
)


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
    "data",
    [b"", b"not a wav at all", b"RIFF\x00\x00\x00\x00WAVE", b"ID3\x04\x00" + bytes(200)],
    ids=["empty", "text", "truncated", "id3-without-audio"],
)
def test_unreadable_input_raises_tts_error(data: bytes) -> None:
    with pytest.raises(TTSError, match=r"^unreadable audio \(\d+ bytes\): ") as info:
        to_telephone_wav(data)
    assert "BytesIO" not in str(info.value)  # libsndfile's words, not soundfile's object
    with pytest.raises(TTSError):
        audio_duration_seconds(data)
    assert not is_audio(data)
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


# --- every format in ------------------------------------------------------------------

INPUTS = [
    ("mulaw", 8000, 1),
    ("mulaw", 16000, 2),
    ("alaw", 8000, 1),
    ("alaw", 44100, 2),
    ("float", 8000, 1),
    ("float", 22050, 2),
    ("mp3", 8000, 1),
    ("mp3", 16000, 1),
    ("mp3", 44100, 2),
]


def make_input(kind: str, rate: int, channels: int, seconds: float = 0.5) -> bytes:
    """A 440 Hz tone, made by sox (WAV) or libsndfile's encoder (MP3)."""
    if kind == "mp3":
        return mp3_tone(rate=rate, channels=channels, seconds=seconds)
    return sox_tone(kind, rate=rate, channels=channels, seconds=seconds)


@pytest.mark.parametrize(("kind", "rate", "channels"), INPUTS, ids=[f"{k}-{r}-{c}ch" for k, r, c in INPUTS])
def test_every_format_becomes_telephone_pcm_and_the_signal_survives(
    kind: str, rate: int, channels: int
) -> None:
    source = make_input(kind, rate, channels)

    shape, samples = pcm16_samples(to_telephone_wav(source))

    assert shape == (TELEPHONE_RATE, 1, 2)
    assert samples.size == pytest.approx(0.5 * TELEPHONE_RATE, abs=2)
    assert peak_hz(samples, TELEPHONE_RATE) == pytest.approx(440.0, abs=2.0)
    assert rms(samples) == pytest.approx(AMPLITUDE / np.sqrt(2), rel=0.02)
    assert audio_duration_seconds(source) == pytest.approx(0.5, abs=0.001)
    assert is_audio(source)


@pytest.mark.parametrize("kind", ["mulaw", "alaw", "float"])
def test_a_wav_of_g711_or_float_is_timed_from_its_header_alone(kind: str) -> None:
    # sox writing to a pipe cannot seek back: its header may claim ~2 GiB of data.
    source = sox_tone(kind, rate=16000, channels=2, seconds=0.75)
    info = read_wav_header(source)
    assert wav_duration_seconds(source) == pytest.approx(0.75)
    assert (info.sample_rate, info.channels) == (16000, 2)


def test_an_mp3_is_timed_by_the_decoder_only() -> None:
    mp3 = mp3_tone(rate=16000, seconds=0.5)
    assert mp3[:2] == b"\xff\xf3"  # no ID3 tag: the format is told from the frames themselves
    with pytest.raises(WavError, match="not a RIFF/WAVE file"):
        wav_duration_seconds(mp3)
    assert audio_duration_seconds(mp3) == pytest.approx(0.5, abs=0.001)


# --- one format out -------------------------------------------------------------------

G711 = [("mulaw", WAVE_FORMAT_MULAW, "u-law"), ("alaw", WAVE_FORMAT_ALAW, "a-law")]


def telephone_tone(seconds: float = 0.5) -> bytes:
    return make_wav(sine(440.0, seconds, TELEPHONE_RATE)[:, None], TELEPHONE_RATE)


@pytest.mark.parametrize(("audio_format", "tag", "sox_name"), G711, ids=[g[0] for g in G711])
def test_the_served_g711_file_is_an_8k_wav_sox_reads_back(
    audio_format: AudioFormat, tag: int, sox_name: str
) -> None:
    telephone = telephone_tone()

    served = to_served_wav(telephone, audio_format)

    info = read_wav_info(served)
    assert (info.format_tag, info.sample_rate, info.channels, info.bits_per_sample) == (tag, 8000, 1, 8)
    assert (info.byte_rate, info.block_align) == (8000, 1)  # 64 kbps, as GX's own voice files (§5)
    assert wav_duration_seconds(served) == wav_duration_seconds(telephone) == 0.5
    assert len(served) < len(telephone) / 2 + 64
    assert _fact_frames(served) == 4000  # the fact chunk non-PCM formats carry
    decoded = sox_decode(served)  # an independent reader of the file we serve
    assert decoded.size == 4000
    assert peak_hz(decoded, TELEPHONE_RATE) == pytest.approx(440.0, abs=2.0)
    assert rms(decoded) == pytest.approx(AMPLITUDE / np.sqrt(2), rel=0.02)


@pytest.mark.parametrize("audio_format", ["mulaw", "alaw"])
def test_a_served_g711_clip_decodes_exactly_and_encodes_back_to_the_same_sound(
    audio_format: AudioFormat,
) -> None:
    served = to_served_wav(telephone_tone(), audio_format)

    shape, decoded = pcm16_samples(to_telephone_wav(served))
    again = to_served_wav(write_wav(decoded.tobytes()), audio_format)

    assert shape == (TELEPHONE_RATE, 1, 2)
    assert (decoded == sox_decode(served)).all()  # the values G.711 stands for, as sox reads them
    assert (sox_decode(again) == decoded).all()  # what a join decodes and encodes again is unchanged


def test_pcm16_is_served_as_it_is_and_an_empty_clip_encodes() -> None:
    telephone = telephone_tone()
    assert to_served_wav(telephone, "pcm16") is telephone
    empty = to_served_wav(write_wav(b""), "mulaw")
    assert wav_duration_seconds(empty) == 0.0
    assert read_wav_header(empty, trust_sizes=True).format_tag == WAVE_FORMAT_MULAW


def test_only_telephone_wavs_are_encoded() -> None:
    wideband = make_wav(sine(440.0, 0.1, 16000)[:, None], 16000)
    with pytest.raises(TTSError, match="only telephone WAVs are served, not 16000 Hz"):
        to_served_wav(wideband, "mulaw")
    with pytest.raises(ValueError, match="unknown audio format 'gsm'"):
        to_served_wav(telephone_tone(), "gsm")  # type: ignore[arg-type]


def test_a_header_is_read_with_its_sizes_trusted_or_counted() -> None:
    served = to_served_wav(telephone_tone(1.0), "mulaw")
    header = served[:80]
    assert read_wav_header(header, trust_sizes=True).duration_seconds == 1.0
    assert read_wav_header(header).data_bytes == len(header) - 58
    with pytest.raises(WavError, match="truncated"):
        read_wav_info(header)


def _fact_frames(wav: bytes) -> int:
    at = wav.index(b"fact")
    size, frames = struct.unpack("<II", wav[at + 4 : at + 12])
    assert size == 4
    return int(frames)


@pytest.mark.parametrize(
    ("sox_output", "seconds"),
    [
        (["-e", "ima-adpcm", "x.wav"], 0.505),  # IMA ADPCM pads the last block of 505 samples
        (["-e", "ms-adpcm", "x.wav"], 0.5),
        (["-e", "floating-point", "-b", "64", "x.wav"], 0.5),
        (["x.flac"], 0.5),
        (["x.ogg"], 0.5),
    ],
    ids=["ima-adpcm", "ms-adpcm", "float64", "flac", "ogg-vorbis"],
)
def test_what_else_libsndfile_reads_is_converted_and_timed(
    tmp_path: Path, sox_output: list[str], seconds: float
) -> None:
    path = tmp_path / sox_output[-1]
    options = sox_output[:-1]
    subprocess.run(
        [SOX, "-n", "-r", "16000", *options, str(path), "synth", "0.5", "sine", "440", "vol", str(AMPLITUDE)],
        check=True,
        timeout=30,
    )

    shape, samples = pcm16_samples(to_telephone_wav(path.read_bytes()))

    assert shape == (TELEPHONE_RATE, 1, 2)
    assert samples.size / TELEPHONE_RATE == pytest.approx(seconds, abs=0.001)
    assert peak_hz(samples, TELEPHONE_RATE) == pytest.approx(440.0, abs=2.0)
    assert rms(samples) == pytest.approx(AMPLITUDE / np.sqrt(2), rel=0.02)
    assert read_recording(path)[1] == pytest.approx(seconds, abs=0.001)
