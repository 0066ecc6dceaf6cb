"""Recorded prompts: played instead of speech, converted and cached by content, checked when
the flow loads, and replaced by speech of their text when the file cannot be played."""

from __future__ import annotations

import logging
import math
import os
import re
import struct
import wave
from array import array
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.errors import FlowValidationError
from bot.language.flow import Prompt
from bot.language.loader import load_flow
from bot.services import EXTENSION_KEY, Services
from bot.speech.cache import AudioCache
from bot.speech.recordings import recording_key
from bot.speech.synthesizer import SpeechSynthesizer
from bot.text.segmenter import Segmenter
from tests.conftest import CTI

from .conftest import CountingBackend

WELCOME = "您好，这里是医保服务热线。"
FLOW = f"""\
title: 录音
intents:
  bye: {{examples: [再见, 没事了]}}
steps:
  welcome:
    say: {{text: {WELCOME}, audio: recordings/welcome.wav}}
    goto: menu
  menu:
    say: 请问有什么可以帮您？
    ask: {{bye: end}}
    silence: {{prompts: [请问您还在吗？], then: end}}
    no_match: {{prompts: [抱歉没有听清。], then: end}}
  end:
    say:
      text: 感谢您的来电，再见。
      audio: recordings/bye.wav
      interruptible: false
    hangup: true
"""


def write_recording(
    path: Path,
    *,
    rate: int = 44100,
    channels: int = 2,
    width: int = 3,
    seconds: float = 0.5,
    pitch: int = 440,
) -> bytes:
    """A studio-format WAV (44.1 kHz stereo 24-bit by default): a tone of ``seconds``."""
    scale = 2 ** (8 * width - 1) - 1
    frames = bytearray()
    for n in range(int(rate * seconds)):
        sample = int(0.3 * scale * math.sin(2 * math.pi * pitch * n / rate))
        frames += sample.to_bytes(width, "little", signed=True) * channels
    if width == 1:  # WAV's 8-bit samples are unsigned
        frames = bytearray(array("B", ((b + 128) % 256 for b in frames)).tobytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(bytes(frames))
    return path.read_bytes()


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "flows"
    write_recording(directory / "recordings" / "welcome.wav")
    write_recording(directory / "recordings" / "bye.wav", rate=16000, channels=1, width=2, seconds=0.3)
    (directory / "recorded.yaml").write_text(FLOW, encoding="utf-8")
    return directory


@pytest.fixture
def recorded_synth(backend: CountingBackend, cache: AudioCache, flows_dir: Path) -> SpeechSynthesizer:
    return SpeechSynthesizer(backend, cache, recordings_dir=flows_dir)


# --- playing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "audio_format",
    [(44100, 2, 3), (48000, 1, 2), (8000, 1, 1), (22050, 2, 4), (8000, 1, 2)],
    ids=["44k-stereo-24", "48k-mono-16", "8k-8bit", "22k-stereo-32", "telephone"],
)
async def test_a_recording_of_any_pcm_format_plays_in_telephone_format(
    recorded_synth: SpeechSynthesizer,
    backend: CountingBackend,
    flows_dir: Path,
    audio_format: tuple[int, int, int],
) -> None:
    rate, channels, width = audio_format
    write_recording(flows_dir / "any.wav", rate=rate, channels=channels, width=width, seconds=0.4)

    clip = await recorded_synth.render_prompt(Prompt(text=WELCOME, audio="any.wav"))

    assert clip.backend == "recording"
    assert clip.duration_seconds == pytest.approx(0.4, abs=0.002)
    with wave.open(str(clip.path)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
    assert backend.calls == 0


async def test_an_extensible_header_recording_plays(
    recorded_synth: SpeechSynthesizer, flows_dir: Path
) -> None:
    """What recording tools write for 24-bit or multi-channel audio (WAVE_FORMAT_EXTENSIBLE)."""
    write_recording(flows_dir / "plain.wav", rate=48000, channels=2, width=3, seconds=0.3)
    with wave.open(str(flows_dir / "plain.wav")) as reader:
        frames = reader.readframes(reader.getnframes())
    pcm_guid = bytes.fromhex("0100000000001000800000aa00389b71")
    fmt = struct.pack("<HHIIHHHHI16s", 0xFFFE, 2, 48000, 48000 * 6, 6, 24, 22, 24, 3, pcm_guid)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(frames)) + frames
    (flows_dir / "extensible.wav").write_bytes(
        b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks
    )

    clip = await recorded_synth.render_prompt(Prompt(text=WELCOME, audio="extensible.wav"))

    assert clip.backend == "recording"
    assert clip.duration_seconds == pytest.approx(0.3, abs=0.002)


async def test_a_recording_is_cached_by_its_content(
    recorded_synth: SpeechSynthesizer, cache: AudioCache, flows_dir: Path
) -> None:
    path = flows_dir / "recordings" / "welcome.wav"
    prompt = Prompt(text=WELCOME, audio="recordings/welcome.wav")
    first = await recorded_synth.render_prompt(prompt)
    assert first.key == recording_key(path.read_bytes(), "pcm16")
    assert await recorded_synth.render_prompt(prompt) == first

    replaced = write_recording(path, seconds=0.8, pitch=330)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    second = await recorded_synth.render_prompt(prompt)

    assert second.key == recording_key(replaced, "pcm16") != first.key
    assert second.duration_seconds == pytest.approx(0.8, abs=0.002)
    restarted = SpeechSynthesizer(
        recorded_synth.backends, AudioCache(cache.directory), recordings_dir=flows_dir
    )
    assert await restarted.render_prompt(prompt) == second


@pytest.mark.parametrize("problem", ["missing", "garbage", "outside", "no-directory"])
async def test_an_unplayable_recording_falls_back_to_speech_of_its_text(
    backend: CountingBackend,
    cache: AudioCache,
    flows_dir: Path,
    caplog: pytest.LogCaptureFixture,
    problem: str,
) -> None:
    synth = SpeechSynthesizer(backend, cache, recordings_dir=None if problem == "no-directory" else flows_dir)
    audio = {"outside": "../outside.wav"}.get(problem, "recordings/welcome.wav")
    prompt = Prompt(text=WELCOME, audio="recordings/welcome.wav").model_copy(update={"audio": audio})
    if problem == "missing":
        (flows_dir / "recordings" / "welcome.wav").unlink()
    elif problem == "garbage":
        (flows_dir / "recordings" / "welcome.wav").write_bytes(b"RIFF but not really")

    with caplog.at_level(logging.WARNING, logger="bot.speech"):
        clip = await synth.render_prompt(prompt)

    assert clip == await synth.render(WELCOME)
    assert clip.backend == "espeak-ng"
    assert any("cannot be played" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


async def test_a_prompt_without_a_recording_is_its_text_spoken(recorded_synth: SpeechSynthesizer) -> None:
    clip = await recorded_synth.render_prompt(Prompt(text=WELCOME))
    assert clip == await recorded_synth.render(WELCOME)
    assert clip.backend == "espeak-ng"


# --- checked when the flow loads --------------------------------------------------------------


def problem_of(flows_dir: Path, old: str, new: str) -> tuple[str, int]:
    """The one problem of the sample flow with ``old`` replaced by ``new``, and the line of ``new``."""
    text = FLOW.replace(old, new)
    assert text != FLOW
    path = flows_dir / "recorded.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FlowValidationError) as caught:
        load_flow(path)
    [problem] = caught.value.problems
    shown = str(problem)
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: .+ — .+", shown), shown
    return shown, text[: text.index(new)].count("\n") + 1


def test_the_sample_with_recordings_loads(flows_dir: Path) -> None:
    flow = load_flow(flows_dir / "recorded.yaml").flow
    assert flow.steps["welcome"].say == Prompt(text=WELCOME, audio="recordings/welcome.wav")
    assert {p.audio for p in flow.static_prompts()} >= {"recordings/welcome.wav", "recordings/bye.wav"}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "recordings/welcome.wav",
            "recordings/welcom.wav",
            "cannot read the recording .*welcom.wav .*— put the WAV",
        ),
        (
            "recordings/bye.wav",
            "recordings/bye.mp3",
            "bye.mp3 is not audio the bot can play .*— save it as a WAV .* or an MP3",
        ),
        (
            "recordings/welcome.wav",
            "../welcome.wav",
            "not a path inside the flows directory — write it relative",
        ),
        ("recordings/bye.wav", "/srv/bye.wav", "not a path inside the flows directory"),
        (
            f"text: {WELCOME}",
            "text: '您好{{name}}'",
            "a recording cannot say a variable, and this text has {{name}}",
        ),
    ],
    ids=["missing", "not-wav", "climbs-out", "absolute", "placeholder"],
)
def test_a_bad_recording_is_a_located_flow_error(flows_dir: Path, old: str, new: str, expected: str) -> None:
    (flows_dir / "recordings" / "bye.mp3").write_bytes(b"ID3\x04\x00" + bytes(200))
    shown, line = problem_of(flows_dir, old, new)
    assert re.search(expected, shown), shown
    assert f":{line}:" in shown


def test_a_silent_recording_is_a_flow_error(flows_dir: Path) -> None:
    write_recording(flows_dir / "recordings" / "bye.wav", seconds=0)
    with pytest.raises(FlowValidationError, match="has no sound"):
        load_flow(flows_dir / "recorded.yaml")


# --- through the app -----------------------------------------------------------------------------


@pytest.fixture
async def recorded_app(tmp_path: Path, flows_dir: Path, segmenter: Segmenter) -> AsyncIterator[Quart]:
    settings = Settings(
        data_dir=tmp_path / "var", flows_dir=flows_dir, default_flow="recorded", kb_filler_ms=30000
    )
    app = create_app(settings, segmenter=segmenter)
    async with app.test_app():
        yield app


async def test_a_call_hears_the_recording_joined_with_speech(recorded_app: Quart, flows_dir: Path) -> None:
    client: QuartClient = recorded_app.test_client()
    svc: Services = recorded_app.extensions[EXTENSION_KEY]
    welcome = recording_key((flows_dir / "recordings" / "welcome.wav").read_bytes(), "pcm16")
    assert svc.speech.cache.exists(welcome)  # converted at start-up, with the other static prompts

    greeting = await CTI(client).say("rec-1", "ready2speak")

    assert svc.flows is not None
    flow = svc.flows.get("recorded").flow
    parts = [await svc.speech.render_prompt(flow.steps[s].say) for s in ("welcome", "menu")]  # type: ignore[arg-type]
    expected = await svc.speech.join(parts)
    assert urlsplit(greeting).path == f"/audio/{expected.key}.wav"
    assert expected.backend == "recording+espeak-ng"
    audio = await client.get(urlsplit(greeting).path)
    assert audio.status_code == 200
