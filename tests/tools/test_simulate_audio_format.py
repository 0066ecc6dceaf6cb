"""``voicebot simulate --audio-format``: the CTI set up for one WAV format (GX plays its own
voice files as "u-Law, 8000Hz, 64kbps, mono", GX CTI manual §5), against a bot serving
``VOICEBOT_AUDIO_FORMAT`` — in process, and end to end with real processes on loopback."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import httpx
import pytest

from bot.speech.audio import to_served_wav
from bot.speech.wav import AudioFormat, read_wav_info, write_wav
from bot.tools.simulate import Simulator
from bot.tools.simulate_script import Step
from bot.tools.wavinfo import served_format_problem
from tests.conftest import FLOWS_DIR
from tests.loopback import unused_port
from tests.speech.audio_samples import sox_decode
from tests.test_serve import VOICEBOT, start, stop, wait_healthy

SAMPLE_SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "simulate" / "yibao.yaml"
AUDIO = "http://bot.test/audio/a.wav"
TELEPHONE = write_wav(b"\x10\x00" * 8000)  # one second
SERVED = {name: to_served_wav(TELEPHONE, name) for name in ("pcm16", "mulaw", "alaw")}
SHOWN = {
    "pcm16": "WAV PCM 8000 Hz mono 16-bit, 1.00 s",
    "mulaw": "WAV μ-law 8000 Hz mono 8-bit, 1.00 s",
    "alaw": "WAV A-law 8000 Hz mono 8-bit, 1.00 s",
}


def simulate_once(served: bytes, audio_format: AudioFormat | None) -> tuple[Simulator, str]:
    """One ``ready`` callback against a bot whose answer's audio is ``served``."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cti/ai":
            return httpx.Response(200, text=f"{AUDIO}?canbeinterrupted=true")
        return httpx.Response(200, content=served)

    out = io.StringIO()
    with httpx.Client(transport=httpx.MockTransport(handle)) as client:
        simulator = Simulator(
            client,
            url="http://bot.test/cti/ai",
            callid="c1",
            telnum="138",
            out=out,
            transcript=False,
            audio_format=audio_format,
        )
        simulator.play(Step("ready", expect="audio"))
    return simulator, out.getvalue()


@pytest.mark.parametrize("served", list(SERVED))
@pytest.mark.parametrize("expected", ["pcm16", "mulaw", "alaw", None])
def test_only_the_format_the_cti_is_set_up_for_passes(
    served: AudioFormat, expected: AudioFormat | None
) -> None:
    simulator, out = simulate_once(SERVED[served], expected)

    assert f"   {SHOWN[served]}\n" in out
    if expected is None or expected == served:
        assert simulator.problems == 0, out
    else:
        assert simulator.problems == 1
        assert f"PROBLEM: the audio is {SHOWN[served]}; a CTI set up for {expected} expects " in out


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (["-r", "16000", "-e", "u-law"], "WAV μ-law 16000 Hz mono 8-bit"),
        (["-r", "8000", "-c", "2", "-e", "u-law"], "WAV μ-law 8000 Hz stereo 8-bit"),
        (["-r", "8000", "-e", "a-law"], "WAV A-law 8000 Hz mono 8-bit"),
    ],
    ids=["wideband", "stereo", "a-law"],
)
def test_mu_law_that_is_not_gx_s_own_format_is_a_problem(tmp_path: Path, kind: list[str], words: str) -> None:
    path = tmp_path / "x.wav"  # a file, not a pipe: sox then writes the true sizes
    subprocess.run(
        ["/usr/bin/sox", "-n", *kind, str(path), "synth", "0.5", "sine", "440"], check=True, timeout=30
    )
    wav = path.read_bytes()
    problem = served_format_problem(read_wav_info(wav), "mulaw")
    assert problem is not None
    assert problem.startswith(f"the audio is {words}")
    assert problem.endswith("a CTI set up for mulaw expects μ-law 8000 Hz mono 8-bit")


def test_a_gx_style_mu_law_bot_passes_the_cti_simulator_end_to_end(tmp_path: Path) -> None:
    """``voicebot serve`` with VOICEBOT_AUDIO_FORMAT=mulaw, played by ``voicebot simulate
    --audio-format mulaw`` (which downloads every audio URL as the CTI does); the same bot
    against a simulator set up for 16-bit PCM shows the check can fail."""
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    bot = start(tmp_path, FLOWS_DIR, port, settings={"VOICEBOT_AUDIO_FORMAT": "mulaw"})
    try:
        wait_healthy(base, bot, tmp_path)
        command = [VOICEBOT, "simulate", "--url", f"{base}/cti/ai", "--script", str(SAMPLE_SCRIPT)]
        gx = subprocess.run(
            [*command, "--callid", "ulaw-1", "--audio-format", "mulaw"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        pcm = subprocess.run(
            [*command, "--callid", "ulaw-2", "--audio-format", "pcm16"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        url = next(line.strip() for line in gx.stdout.splitlines() if "/audio/" in line)
        download = httpx.get(url, timeout=10)
    finally:
        stop(bot)
    assert bot.returncode == 0

    assert gx.returncode == 0, gx.stdout + gx.stderr
    assert gx.stdout.count("WAV μ-law 8000 Hz mono 8-bit, ") == 5
    assert "PROBLEM" not in gx.stdout
    assert gx.stdout.splitlines()[-1].startswith("call ulaw-1: 7 turns, 0 problems")

    assert pcm.returncode == 1
    assert pcm.stdout.count("a CTI set up for pcm16 expects PCM 8000 Hz mono 16-bit") == 5

    assert download.status_code == 200
    assert download.headers["content-type"] == "audio/wav"
    info = read_wav_info(download.content)
    assert (info.format_name, info.sample_rate, info.channels, info.byte_rate) == ("μ-law", 8000, 1, 8000)
    assert sox_decode(download.content).size == info.data_bytes  # sox, an independent reader, plays it all
    assert info.duration_seconds > 1.0
