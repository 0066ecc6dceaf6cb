"""``voicebot simulate``: scripts, the checks of each answer as the CTI reads it, and
WAV inspection. The answers here come from an httpx MockTransport playing a bot
that gets the protocol right or wrong; tests/tools/test_tools_processes.py runs
the command against a real ``voicebot serve``."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from bot.errors import ScriptError, WavError
from bot.tools.fakepbx_hwd import tone_wav
from bot.tools.simulate import Simulator, callback_url, simulate_command, transcript_url
from bot.tools.simulate_script import Step, load_script, parse_command
from bot.tools.wavinfo import read_wav_info

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "simulate" / "yibao.yaml"
URL = "http://bot.test/cti/ai"
AUDIO = "http://bot.test/audio/a.wav"
TONE_WAV = tone_wav("你好")  # 16 kHz mono, 0.5 s


def wav_header(format_tag: int, rate: int, bits: int, data: bytes) -> bytes:
    block_align = bits // 8
    fmt = struct.pack("<HHIIHH", format_tag, 1, rate, rate * block_align, block_align, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    body = b"WAVE" + chunks
    return b"RIFF" + struct.pack("<I", len(body)) + body


NO_DATA = b"RIFF" + struct.pack("<I", 28) + wav_header(1, 8000, 16, b"")[8:36]


# Scripts


def test_the_sample_script_loads() -> None:
    steps = load_script(SAMPLE)
    assert [s.kind for s in steps] == ["ready", "barge", "say", "silence", "say", "say", "wait", "hangup"]
    assert steps[0].expect == "audio"
    assert steps[0].reply_contains == "欢迎致电医保服务热线"
    assert (steps[1].txt, steps[1].playing, steps[1].expect) == ("嗯", True, "continue")
    assert (steps[3].txt, steps[-1].txt) == ("ready2speak", "hungup")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("ready: 1\n", 1, "a YAML list of steps"),
        ("- ready\n- dance\n", 2, "unknown step 'dance': write ready, silence, hangup, say: TEXT"),
        ("- say: 你好\n  expected: audio\n", 1, "unknown key 'expected' beside say: use expect,"),
        ("- ready\n- say: 你好\n  barge: 嗯\n", 2, "exactly one thing, this one 2 (say, barge)"),
        ("- say:\n", 1, "say: needs the words"),
        ("- say: 0012\n", 1, 'quote digits: say: "0012"'),
        ("- wait: -1\n", 1, "wait must be between 0"),
        ("- wait: 1\n  expect: audio\n", 1, "a wait has no answer"),
        ("- ready:\n  expect: music\n", 1, "expect is one of audio, continue, empty"),
        ("- barge: 嗯\n  expect: continue\n  min_seconds: 1\n", 1, "are about audio"),
        ("- ready: now\n", 1, "ready: takes no value"),
        ("- ready\n- hangup\n- ready\n", 2, "nothing can follow hangup"),
        ("- ready\n  expect: audio\n", 2, "takes a colon: '- ready:'"),
        ("- ready  # hello\n  expect: audio\n", 2, "takes a colon: '- ready:'"),
        ("- say: [unclosed\n", 2, "invalid YAML"),
        ("- 12\n", 1, "a step is a word or a mapping"),
    ],
    ids=[
        "not-a-list",
        "unknown-step",
        "unknown-expectation",
        "two-actions",
        "say-nothing",
        "say-a-number",
        "negative-wait",
        "wait-expects",
        "bad-expect",
        "seconds-of-continue",
        "ready-with-value",
        "after-hangup",
        "missing-colon",
        "missing-colon-comment",
        "bad-yaml",
        "number-step",
    ],
)
def test_a_bad_script_names_its_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "call.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert words in str(caught.value)


def test_an_unreadable_script_says_so(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match=r"missing.yaml: cannot read the script: No such file"):
        load_script(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("我要转人工", Step("say", text="我要转人工")),
        ("/ready", Step("ready")),
        ("/silence", Step("silence")),
        ("/barge 嗯 ", Step("barge", text="嗯")),
        ("/wait 1.5", Step("wait", seconds=1.5)),
        ("/hangup", Step("hangup")),
        ("/quit", "quit"),
        ("/help", "help"),
        ("  ", None),
    ],
    ids=["text", "ready", "silence", "barge", "wait", "hangup", "quit", "help", "blank"],
)
def test_typed_commands(line: str, expected: object) -> None:
    assert parse_command(line) == expected


@pytest.mark.parametrize("line", ["/barge", "/wait soon", "/dance", "/ready now"], ids=str)
def test_a_bad_command_says_so(line: str) -> None:
    with pytest.raises(ValueError, match="/"):
        parse_command(line)


# WAV inspection


def test_wav_info_of_pcm_and_mu_law() -> None:
    pcm = read_wav_info(TONE_WAV)
    assert (pcm.format_name, pcm.sample_rate, pcm.channels, pcm.bits_per_sample) == ("PCM", 16000, 1, 16)
    assert str(pcm) == "WAV PCM 16000 Hz mono 16-bit, 0.50 s"
    mu_law = read_wav_info(wav_header(7, 8000, 8, b"\xff" * 8000))
    assert (mu_law.format_name, mu_law.duration_seconds) == ("μ-law", 1.0)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<html>not found</html>", "not a RIFF/WAVE file"),
        (TONE_WAV[:-100], "truncated"),
        (b"RIFF" + struct.pack("<I", 4) + b"WAVE", "no fmt chunk"),
        (NO_DATA, "no data chunk"),
    ],
    ids=["html", "truncated", "no-fmt", "no-data"],
)
def test_a_broken_wav_says_why(data: bytes, words: str) -> None:
    with pytest.raises(WavError, match=words):
        read_wav_info(data)


# Checking answers


def bot(answer: str | Callable[[httpx.Request], httpx.Response], **routes: Any) -> httpx.Client:
    """A client whose bot answers every callback with ``answer`` (text, or a handler)
    and serves ``routes`` (path → (status, bytes or JSON))."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cti/ai":
            return answer(request) if callable(answer) else httpx.Response(200, text=answer)
        status, content = routes.get(request.url.path, (404, b"no such file"))
        if isinstance(content, bytes):
            return httpx.Response(status, content=content)
        return httpx.Response(status, json=content)

    return httpx.Client(transport=httpx.MockTransport(handle))


def play(client: httpx.Client, *steps: Step, transcript: bool = False) -> tuple[Simulator, str]:
    out = io.StringIO()
    simulator = Simulator(client, url=URL, callid="c1", telnum="138", out=out, transcript=transcript)
    for step in steps:
        simulator.play(step)
    return simulator, out.getvalue()


def test_a_good_audio_answer(tmp_path: Path) -> None:
    client = bot(f"{AUDIO}?canbeinterrupted=false", **{"/audio/a.wav": (200, TONE_WAV)})
    simulator, out = play(client, Step("ready", expect="audio", interruptible=False, min_seconds=0.4))
    assert simulator.problems == 0, out
    assert "#1 ready (ready2speak) → audio, not interruptible" in out
    assert "WAV PCM 16000 Hz mono 16-bit, 0.50 s (note: the CTI's own files are 8 kHz mono)" in out
    assert simulator.summary().startswith("call c1: 1 turns, 0 problems; latency max ")


@pytest.mark.parametrize(
    ("step", "body", "problem"),
    [
        (Step("ready"), '{"url": "http://bot.test/audio/a.wav"}', "the body is JSON"),
        (Step("ready"), "http:\\/\\/bot.test\\/audio\\/a.wav?canbeinterrupted=true", "escaped (\\/)"),
        (Step("ready"), '"http://bot.test/audio/a.wav?canbeinterrupted=true"', "quoted string"),
        (Step("ready"), f"{AUDIO}?canbeinterrupted=true\n", "whitespace around it"),
        (Step("ready"), AUDIO, "no canbeinterrupted"),
        (Step("ready"), f"{AUDIO}?canbeinterrupted=yes", "'yes', not true or false"),
        (Step("say", text="你好"), "continue", "continue only answers a barge-in"),
        (Step("say", text="你好"), "", "empty answer"),
        (Step("say", text="你好"), "好的", "neither an http(s) URL nor continue"),
    ],
    ids=["json", "escaped", "quoted", "newline", "no-flag", "bad-flag", "continue", "empty", "words"],
)
def test_a_body_the_cti_cannot_use_is_a_problem(step: Step, body: str, problem: str) -> None:
    simulator, out = play(bot(body, **{"/audio/a.wav": (200, TONE_WAV)}), step)
    assert simulator.problems >= 1
    assert problem in out


@pytest.mark.parametrize(
    ("routes", "problem"),
    [
        ({}, "audio download answered HTTP 404"),
        ({"/audio/a.wav": (200, b"<html>oops</html>")}, "audio is not a valid WAV: not a RIFF/WAVE file"),
        ({"/audio/a.wav": (200, wav_header(1, 8000, 16, b""))}, "audio has no samples"),
    ],
    ids=["missing", "not-wav", "no-samples"],
)
def test_broken_audio_is_a_problem(routes: dict[str, Any], problem: str) -> None:
    simulator, out = play(bot(f"{AUDIO}?canbeinterrupted=true", **routes), Step("ready"))
    assert simulator.problems == 1
    assert f"PROBLEM: {problem}" in out


def test_a_failed_callback_is_a_problem() -> None:
    simulator, out = play(bot(lambda _: httpx.Response(400, text="missing callid")), Step("ready"))
    assert simulator.problems == 1
    assert "→ HTTP 400, error" in out
    assert "callback answered HTTP 400: 'missing callid'" in out


def test_a_callback_without_an_answer_in_time_is_a_problem() -> None:
    def too_slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    simulator, out = play(bot(too_slow), Step("ready"), Step("hangup"))
    assert simulator.problems == 2
    assert "PROBLEM: no answer within 5.0 s" in out
    assert simulator.hung_up


def test_hangup_may_be_empty_and_continue_answers_a_barge_in() -> None:
    simulator, out = play(bot(""), Step("hangup", expect="empty"))
    simulator2, out2 = play(bot("continue"), Step("barge", text="嗯", expect="continue"))
    assert simulator.problems == simulator2.problems == 0, out + out2
    assert simulator.hung_up


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        (Step("barge", text="嗯", expect="continue"), "expected continue, the answer is audio"),
        (Step("ready", interruptible=False), "expected interruptible: false"),
        (Step("ready", min_seconds=2), "audio lasts 0.50 s, expected at least 2 s"),
        (Step("ready", max_seconds=0.1), "audio lasts 0.50 s, expected at most 0.1 s"),
        (Step("ready", reply_contains="再见"), "expected '再见' in the bot's reply"),
    ],
    ids=["continue", "interruptible", "min", "max", "reply"],
)
def test_an_unmet_expectation_is_a_problem(step: Step, problem: str) -> None:
    transcript = {"turns": [{"event": "ready2speak", "reply": "您好，欢迎致电。"}]}
    routes = {"/audio/a.wav": (200, TONE_WAV), "/calls/c1": (200, transcript)}
    client = bot(f"{AUDIO}?canbeinterrupted=true", **routes)
    simulator, out = play(client, step, transcript=True)
    assert "bot: 您好，欢迎致电。" in out
    assert simulator.problems == 1
    assert f"PROBLEM: {problem}" in out


def test_the_post_method_sends_a_form() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="continue")

    out = io.StringIO()
    simulator = Simulator(bot(answer), url=URL, callid="c 1", telnum="138", method="post", out=out)
    simulator.play(Step("barge", text="嗯"))
    assert seen[0].method == "POST"
    assert seen[0].content == b"telnum=138&txt=%E5%97%AF&callid=c+1&playing=true"


def test_the_transcript_sits_beside_the_callback() -> None:
    beside = transcript_url("http://h:8080/cti/ai?flow=survey", "a@1.2.3.4")
    assert beside == "http://h:8080/calls/a%401.2.3.4"
    assert transcript_url("http://h:8080/robot", "c1") is None


def recorder(seen: list[httpx.Request], answer: str = "continue") -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text=answer)

    return bot(handle)


def play_twice(url: str, method: str) -> tuple[Simulator, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    out = io.StringIO()
    simulator = Simulator(recorder(seen), url=url, callid="c1", telnum="138", method=method, out=out)
    simulator.play(Step("say", text="你好"))
    simulator.play(Step("barge", text="嗯"))
    return simulator, seen


def test_get_keeps_the_url_query_and_the_call_s_own_values_win() -> None:
    simulator, seen = play_twice(f"{URL}?flow=survey&callid=other&playing=true&telnum=1", "get")
    assert simulator.overridden == ["callid", "telnum", "playing"]
    assert [dict(request.url.params) for request in seen] == [
        {"flow": "survey", "telnum": "138", "txt": "你好", "callid": "c1"},
        {"flow": "survey", "telnum": "138", "txt": "嗯", "callid": "c1", "playing": "true"},
    ]


def test_post_keeps_the_url_query_beside_the_form() -> None:
    simulator, seen = play_twice(f"{URL}?callid=other&flow=survey", "post")
    assert simulator.overridden == ["callid"]
    assert [str(request.url) for request in seen] == [f"{URL}?flow=survey"] * 2
    assert seen[1].content == b"telnum=138&txt=%E5%97%AF&callid=c1&playing=true"


def test_a_url_without_a_query_is_sent_as_it_is() -> None:
    url, overridden = callback_url("http://h:8080/cti/ai")
    assert (str(url), overridden) == ("http://h:8080/cti/ai", [])


def test_a_url_that_cannot_be_read_stops_before_any_callback() -> None:
    result = CliRunner().invoke(simulate_command, ["--url", "http://[::1/cti/ai", "--script", str(SAMPLE)])
    assert result.exit_code == 2
    assert "Invalid value for --url: Invalid port" in result.output


def test_a_call_running_another_flow_than_the_url_asks_is_a_problem() -> None:
    transcript = {"flow": "yibao", "turns": [{"event": "ready2speak", "reply": "您好"}]}
    client = bot("continue", **{"/calls/c1": (200, transcript)})
    out = io.StringIO()
    simulator = Simulator(client, url=f"{URL}?flow=survey", callid="c1", telnum="138", out=out)
    for step in (Step("barge", text="嗯"), Step("barge", text="嗯")):
        simulator.play(step)
    assert simulator.problems == 1
    assert "PROBLEM: the call runs flow 'yibao', not 'survey' as the URL asks" in out.getvalue()
