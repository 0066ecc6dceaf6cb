"""`voicebot tts say` and `voicebot tts voices`, run in-process as tests/test_cli.py runs the
command: espeak-ng is real, the HTTP backend's vendor is the loopback server (in a thread
of its own: the command runs its own event loop)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.speech.normalize import normalize_for_speech
from bot.speech.vendors.aliyun import VOICES as ALIYUN_VOICES
from bot.speech.voice_list import parse_espeak_voices, vendor_voices
from bot.speech.wav import read_wav_info
from bot.tools.wavinfo import served_format_problem
from tests.loopback import LoopbackServer

TEXT = "您好，您的号码是13800138000。"


@pytest.fixture
def vendor() -> Iterator[LoopbackServer]:
    server = LoopbackServer.in_thread()
    yield server
    server.stop_thread()


def tts(*args: str, **env: str) -> Result:
    return CliRunner().invoke(main, ["tts", *args], env={"VOICEBOT_TTS": "espeak", **env})


def http_env(vendor: LoopbackServer, path: str = "/tts/wav") -> dict[str, str]:
    return {"VOICEBOT_TTS_HTTP_URL": f"{vendor.base_url}{path}", "VOICEBOT_TTS_HTTP_VOICE": "xiaoyun"}


def said(result: Result, output: Path) -> tuple[str, float]:
    """The backend and the duration `say` printed (and that it printed the file)."""
    assert result.exit_code == 0, result.output
    match = re.fullmatch(rf"(\S+): (\d+\.\d\d) s, wrote {re.escape(str(output))}\n", result.stdout)
    assert match is not None, result.stdout
    return match[1], float(match[2])


@pytest.mark.parametrize("audio_format", ["pcm16", "mulaw"])
def test_say_writes_the_served_format_with_the_chain(tmp_path: Path, audio_format: str) -> None:
    output = tmp_path / "x.wav"

    backend, seconds = said(tts("say", TEXT, "-o", str(output), VOICEBOT_AUDIO_FORMAT=audio_format), output)

    info = read_wav_info(output.read_bytes())
    assert backend == "espeak-ng"
    assert served_format_problem(info, audio_format) is None  # type: ignore[arg-type]
    assert seconds == pytest.approx(info.data_bytes / info.byte_rate, abs=0.01)


def test_say_asks_the_named_backend_for_the_normalised_text(tmp_path: Path, vendor: LoopbackServer) -> None:
    output = tmp_path / "http.wav"

    result = tts("say", TEXT, "--backend", "http", "-o", str(output), **http_env(vendor))

    assert said(result, output)[0] == "http"
    asked = json.loads(vendor.received["/tts/wav"].body)
    assert asked == {"text": normalize_for_speech(TEXT), "voice": "xiaoyun"}
    assert "幺三八" in asked["text"]  # the phone number is read digit by digit, as the service says it


def test_say_with_another_voice_of_the_backend(tmp_path: Path, vendor: LoopbackServer) -> None:
    output = tmp_path / "xiaoyan.wav"

    result = tts(
        "say", TEXT, "--backend", "http", "--voice", "xiaoyan", "-o", str(output), **http_env(vendor)
    )

    assert said(result, output)[0] == "http"
    assert json.loads(vendor.received["/tts/wav"].body)["voice"] == "xiaoyan"


def test_say_with_a_voice_of_the_chains_first_backend_falls_back(
    tmp_path: Path, vendor: LoopbackServer
) -> None:
    vendor.tts_status = 503
    output = tmp_path / "fallback.wav"

    result = tts(
        "say", TEXT, "--voice", "xiaoyan", "-o", str(output), VOICEBOT_TTS="http,espeak", **http_env(vendor)
    )

    # The voice asked for is checked when built, then the chain: the vendor in that voice,
    # the vendor as configured, espeak-ng.
    assert said(result, output)[0] == "espeak-ng"
    assert vendor.hits["/tts/wav"] == 3
    assert json.loads(vendor.received["/tts/wav"].body)["voice"] == "xiaoyun"  # the last asked


@pytest.mark.parametrize(
    ("text", "args", "status", "message"),
    [
        (TEXT, ["--backend", "http"], 2, "voicebot: http: VOICEBOT_TTS_HTTP_URL is not set\n"),
        (TEXT, ["--backend", "espeak", "--voice", "no-such-voice"], 1, "has no voice 'no-such-voice'"),
        (TEXT, ["--backend", "tencent", "--voice", "zhimei"], 2, "'zhimei' is not a voice of tencent"),
        (TEXT, ["--voice", "cmn latn"], 2, "invalid espeak-ng voice name 'cmn latn'"),
        (TEXT, ["--backend", "nope"], 2, "Invalid value for '--backend'"),
        ("  ", [], 1, "voicebot: nothing to say: the text is empty after normalisation\n"),
        (TEXT, ["-o", "/nonexistent/x.wav"], 1, "voicebot: cannot write /nonexistent/x.wav: No such file"),
    ],
    ids=[
        "no-settings",
        "unknown-espeak-voice",
        "bad-vendor-voice",
        "bad-voice-of-the-chain",
        "unknown-backend",
        "empty-text",
        "unwritable",
    ],
)
def test_say_refuses_with_a_clear_message(
    tmp_path: Path, text: str, args: list[str], status: int, message: str
) -> None:
    output = [] if "-o" in args else ["-o", str(tmp_path / "x.wav")]

    result = tts("say", text, *args, *output)

    assert result.exit_code == status
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_vendor_that_fails_is_the_commands_failure(tmp_path: Path, vendor: LoopbackServer) -> None:
    vendor.tts_status = 503
    result = tts("say", TEXT, "--backend", "http", "-o", str(tmp_path / "x.wav"), **http_env(vendor))

    assert result.exit_code == 1
    assert "HTTP 503" in result.stderr
    assert "13800138000" not in result.output  # texts carry callers' numbers: never in errors
    assert not (tmp_path / "x.wav").exists()


def test_voices_lists_every_backend_with_its_state_and_voices(vendor: LoopbackServer) -> None:
    result = tts("voices", VOICEBOT_TTS="http,espeak", **http_env(vendor))

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    headings = [line.split(":", 1)[0] for line in lines if not line.startswith(" ")]
    assert headings == [
        "espeak",
        "http",
        "hwd",
        "aliyun",
        "tencent",
        "iflytek",
        "baidu",
        "azure",
        "volcengine",
        "sherpa",
    ]
    assert "espeak: VOICEBOT_TTS #2; configured; voice cmn-latn-pinyin" in lines
    assert re.search(r"^  \* cmn-latn-pinyin +Chinese \(Mandarin, latin as Pinyin\)$", result.stdout, re.M)
    assert "http: VOICEBOT_TTS #1; configured; voice xiaoyun" in lines
    assert "hwd: not in VOICEBOT_TTS; not configured: set VOICEBOT_HWD_URL" in result.stdout
    assert "    the PBX chooses its voice" in lines
    aliyun = next(line for line in lines if line.startswith("aliyun:"))
    assert aliyun.startswith("aliyun: not in VOICEBOT_TTS; not configured: VOICEBOT_TTS_ALIYUN_ACCESS_KEY_ID")
    assert all(
        re.search(rf"^  [ *] {v.name} +{re.escape(v.description)}$", result.stdout, re.M)
        for v in ALIYUN_VOICES
    )
    assert vendor.hits == {}  # listing asks no vendor anything


def test_voices_of_one_backend(tmp_path: Path) -> None:
    result = tts("voices", "--backend", "tencent")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("tencent: not in VOICEBOT_TTS; not configured: ")
    assert "  * 101003  " in result.stdout  # VOICEBOT_TTS_TENCENT_VOICE_TYPE's default


def test_a_vendor_module_not_in_the_build_lists_no_voices() -> None:
    assert vendor_voices("nonexistent") == ((), "not in this build (no bot/speech/vendors/nonexistent.py)")


def test_espeak_listing_is_read_by_the_names_v_takes() -> None:
    listing = (
        "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
        " 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn  (zh-cmn 5)(zh 5)\n"
        " 5  cmn-latn-pinyin --/M      Chinese_(Mandarin,_latin_as_Pinyin) sit/cmn-Latn-pinyin (zh 5)\n"
        " 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn  (zh-cmn 5)(zh 5)\n"
    )

    assert [(v.name, v.description) for v in parse_espeak_voices(listing)] == [
        ("cmn", "Chinese (Mandarin, latin as English)"),
        ("cmn-latn-pinyin", "Chinese (Mandarin, latin as Pinyin)"),
    ]
