"""``VOICEBOT_AUDIO_FORMAT``: clips made in 16-bit PCM, served as 8 kHz μ-law or A-law WAV;
joins, silences, recordings and durations right in every format, and the format part of
every cache key."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from quart import Quart

from bot.app import create_app
from bot.config import Settings
from bot.language.flow import Prompt
from bot.language.loader import load_flow
from bot.services import EXTENSION_KEY, Services
from bot.speech.cache import AudioCache
from bot.speech.espeak import EspeakTTS
from bot.speech.joining import join_key, silence_key
from bot.speech.recordings import read_recording, recording_key
from bot.speech.synthesizer import SpeechSynthesizer
from bot.speech.wav import (
    AUDIO_FORMATS,
    SERVED_WAVS,
    AudioFormat,
    read_wav_header,
    read_wav_info,
    wav_duration_seconds,
)
from bot.text.segmenter import Segmenter
from tests.conftest import CTI
from tests.speech.audio_samples import mp3_tone, sox_decode, sox_tone
from tests.speech.test_recordings import FLOW, WELCOME, write_recording

from .conftest import CountingBackend

TEXT = "您好，请问有什么可以帮您？"
G711: list[AudioFormat] = ["mulaw", "alaw"]


def served_shape(served: Path | bytes) -> tuple[int, int, int, int]:
    """(format tag, rate, channels, bits) of a served file."""
    info = read_wav_info(served.read_bytes() if isinstance(served, Path) else served)
    return info.format_tag, info.sample_rate, info.channels, info.bits_per_sample


def expected_shape(audio_format: AudioFormat) -> tuple[int, int, int, int]:
    tag, bits = SERVED_WAVS[audio_format]
    return tag, 8000, 1, bits


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "flows"
    write_recording(directory / "recordings" / "welcome.wav")
    write_recording(directory / "recordings" / "bye.wav", rate=16000, channels=1, width=2, seconds=0.3)
    (directory / "recorded.yaml").write_text(FLOW, encoding="utf-8")
    return directory


def synthesizer(
    backend: CountingBackend, directory: Path, audio_format: AudioFormat, flows_dir: Path
) -> SpeechSynthesizer:
    return SpeechSynthesizer(
        backend, AudioCache(directory, audio_format=audio_format), recordings_dir=flows_dir
    )


# --- keys -------------------------------------------------------------------------------


def test_the_format_is_part_of_every_key_and_pcm16_keeps_the_keys_of_before(tmp_path: Path) -> None:
    espeak = EspeakTTS()
    caches = {f: AudioCache(tmp_path / f, audio_format=f) for f in AUDIO_FORMATS}
    recording = b"RIFF recording bytes"

    for keys in (
        {f: c.key_for(TEXT, espeak) for f, c in caches.items()},
        {f: join_key(["a" * 64, "b" * 64], 150, f) for f in AUDIO_FORMATS},
        {f: silence_key(300, f) for f in AUDIO_FORMATS},
        {f: recording_key(recording, f) for f in AUDIO_FORMATS},
    ):
        assert len(set(keys.values())) == len(AUDIO_FORMATS), keys

    # The key a pcm16 clip had before the format could be chosen: existing caches stay valid.
    before = {
        "text": TEXT,
        "backend": espeak.name,
        "identity": espeak.identity(),
        "format": "wav-8000-mono-s16",
    }
    canonical = json.dumps(before, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert caches["pcm16"].key_for(TEXT, espeak) == hashlib.sha256(canonical.encode()).hexdigest()


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown audio format 'mp3'; valid: pcm16, mulaw, alaw"):
        AudioCache(tmp_path, audio_format="mp3")  # type: ignore[arg-type]


def test_the_setting_offers_the_formats_the_cache_knows() -> None:
    assert Settings(audio_format="mulaw").audio_format == "mulaw"
    annotation = Settings.model_fields["audio_format"].annotation
    assert set(getattr(annotation, "__args__", ())) == set(AUDIO_FORMATS)


# --- clips, joins, silences, recordings --------------------------------------------------


@pytest.mark.parametrize("audio_format", G711)
async def test_a_synthesized_clip_is_served_in_g711_and_as_long_as_in_pcm(
    backend: CountingBackend, tmp_path: Path, flows_dir: Path, audio_format: AudioFormat
) -> None:
    pcm = await synthesizer(backend, tmp_path / "pcm", "pcm16", flows_dir).render(TEXT)
    g711 = await synthesizer(backend, tmp_path / "g711", audio_format, flows_dir).render(TEXT)

    assert served_shape(g711.path) == expected_shape(audio_format)
    assert served_shape(pcm.path) == expected_shape("pcm16")
    assert g711.duration_seconds == pcm.duration_seconds == wav_duration_seconds(g711.path.read_bytes())
    assert g711.path.stat().st_size < pcm.path.stat().st_size / 2 + 64
    assert g711.key != pcm.key


@pytest.mark.parametrize("audio_format", G711)
async def test_joins_and_silences_are_served_in_g711_with_the_right_length(
    backend: CountingBackend, tmp_path: Path, flows_dir: Path, audio_format: AudioFormat
) -> None:
    synth = synthesizer(backend, tmp_path / "audio", audio_format, flows_dir)
    first, second = await synth.render("您好。"), await synth.render("再见。")

    joined = await synth.join([first, second], gap_ms=200)
    silence = await synth.silence(450)

    for clip in (joined, silence):
        assert served_shape(clip.path) == expected_shape(audio_format)
        assert clip.duration_seconds == read_wav_header(clip.path.read_bytes()).duration_seconds
    assert joined.duration_seconds == pytest.approx(first.duration_seconds + 0.2 + second.duration_seconds)
    assert silence.duration_seconds == 0.45
    # Joining decodes the G.711 parts exactly: the first part's samples open the joined clip.
    first_samples = sox_decode(first.path.read_bytes())
    assert (sox_decode(joined.path.read_bytes())[: first_samples.size] == first_samples).all()


@pytest.mark.parametrize("audio_format", G711)
async def test_a_restart_finds_g711_clips_by_their_header(
    backend: CountingBackend, tmp_path: Path, flows_dir: Path, audio_format: AudioFormat
) -> None:
    made = await synthesizer(backend, tmp_path / "audio", audio_format, flows_dir).render(TEXT)
    calls = backend.calls

    found = await synthesizer(backend, tmp_path / "audio", audio_format, flows_dir).render(TEXT)

    assert backend.calls == calls
    assert (found.key, found.duration_seconds) == (made.key, made.duration_seconds)


RECORDINGS = {
    "talent.mp3": lambda: mp3_tone(rate=44100, channels=2, seconds=0.6),
    "talent-ulaw.wav": lambda: sox_tone("mulaw", rate=8000, seconds=0.6),
    "talent-alaw.wav": lambda: sox_tone("alaw", rate=22050, channels=2, seconds=0.6),
    "talent-float.wav": lambda: sox_tone("float", rate=48000, seconds=0.6),
}


@pytest.mark.parametrize("name", list(RECORDINGS))
@pytest.mark.parametrize("audio_format", ["pcm16", "mulaw"])
async def test_a_recording_of_any_format_is_served_in_the_served_format(
    backend: CountingBackend, tmp_path: Path, flows_dir: Path, name: str, audio_format: AudioFormat
) -> None:
    (flows_dir / "recordings" / name).write_bytes(RECORDINGS[name]())
    synth = synthesizer(backend, tmp_path / "audio", audio_format, flows_dir)

    clip = await synth.render_prompt(Prompt(text=WELCOME, audio=f"recordings/{name}"))

    assert clip.backend == "recording"
    assert backend.calls == 0
    assert served_shape(clip.path) == expected_shape(audio_format)
    assert clip.duration_seconds == pytest.approx(0.6, abs=0.002)
    assert sox_decode(clip.path.read_bytes()).size == pytest.approx(0.6 * 8000, abs=16)


@pytest.mark.parametrize("name", list(RECORDINGS))
def test_the_flow_loader_accepts_recordings_of_any_format(flows_dir: Path, name: str) -> None:
    (flows_dir / "recordings" / name).write_bytes(RECORDINGS[name]())
    path = flows_dir / "recorded.yaml"
    path.write_text(FLOW.replace("recordings/bye.wav", f"recordings/{name}"), encoding="utf-8")

    flow = load_flow(path).flow

    assert f"recordings/{name}" in {p.audio for p in flow.static_prompts()}
    assert read_recording(flows_dir / "recordings" / name)[1] == pytest.approx(0.6, abs=0.002)


def test_timing_a_pcm_or_g711_recording_does_not_load_the_decoder(tmp_path: Path) -> None:
    (tmp_path / "a.wav").write_bytes(sox_tone("alaw", rate=8000, seconds=0.5))
    write_recording(tmp_path / "b.wav", seconds=0.5)
    (tmp_path / "c.mp3").write_bytes(mp3_tone(rate=16000, seconds=0.5))
    code = (
        "import sys; from pathlib import Path; from bot.speech.recordings import read_recording\n"
        f"for name in ('a.wav', 'b.wav', 'c.mp3'):\n"
        f"    seconds = read_recording(Path({str(tmp_path)!r}) / name)[1]\n"
        "    print(name, round(seconds, 3), 'soundfile' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == ["a.wav 0.5 False", "b.wav 0.5 False", "c.mp3 0.5 True"]


# --- through the app ---------------------------------------------------------------------


@pytest.fixture
async def mulaw_app(tmp_path: Path, flows_dir: Path, segmenter: Segmenter) -> AsyncIterator[Quart]:
    settings = Settings(
        data_dir=tmp_path / "var",
        flows_dir=flows_dir,
        default_flow="recorded",
        kb_filler_ms=30000,
        audio_format="mulaw",
    )
    app = create_app(settings, segmenter=segmenter)
    async with app.test_app():
        yield app


async def test_the_app_hands_the_cti_mu_law_audio(mulaw_app: Quart, flows_dir: Path) -> None:
    client = mulaw_app.test_client()
    svc: Services = mulaw_app.extensions[EXTENSION_KEY]
    welcome = recording_key((flows_dir / "recordings" / "welcome.wav").read_bytes(), "mulaw")
    assert svc.speech.cache.exists(welcome)  # converted at start-up, in the served format

    greeting = await CTI(client).say("ulaw-1", "ready2speak")
    audio = await client.get(urlsplit(greeting).path)

    assert audio.status_code == 200
    assert audio.content_type == "audio/wav"
    data = await audio.get_data(as_text=False)
    assert served_shape(data) == expected_shape("mulaw")
    assert sox_decode(data).size == len(data) - 58  # one byte a sample, and sox reads them all
