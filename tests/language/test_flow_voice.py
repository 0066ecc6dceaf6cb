"""A flow's `voice:`: both forms load; a wrong one is `file:line:col: what — fix`, by the
loader, by `voicebot flows check` (which knows VOICEBOT_TTS) and by the service's start;
the JSON schema for editors takes what the loader takes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from bot.app import create_app
from bot.cli import main
from bot.config import Settings
from bot.errors import FlowValidationError
from bot.language.loader import load_flow
from bot.text.segmenter import Segmenter
from tests.conftest import FLOWS_DIR

FLOW = """\
title: 语音测试
{voice}
steps:
  greeting:
    say: 您好，这里是语音测试热线。
    hangup: true
"""


def flow_file(tmp_path: Path, voice: str) -> Path:
    path = tmp_path / "hello.yaml"
    path.write_text(FLOW.format(voice=voice), encoding="utf-8")
    return path


def problem_of(path: Path, speech_backends: tuple[str, ...] | None = None) -> str:
    with pytest.raises(FlowValidationError) as caught:
        load_flow(path, speech_backends=speech_backends)
    [problem] = str(caught.value).splitlines()
    return problem


@pytest.mark.parametrize(
    ("voice", "backend", "name"),
    [
        ("voice: aliyun", "aliyun", None),
        ("voice: {backend: aliyun, name: aixia}", "aliyun", "aixia"),
        ("voice:\n  backend: tencent\n  name: 101001", "tencent", "101001"),
        ("voice: {backend: sherpa, name: 3}", "sherpa", "3"),
        ("", None, None),
    ],
    ids=["backend", "backend-and-name", "number-as-name", "speaker-id", "none"],
)
def test_both_forms_load(tmp_path: Path, voice: str, backend: str | None, name: str | None) -> None:
    listed = ("aliyun", "tencent", "sherpa", "espeak")
    flow = load_flow(flow_file(tmp_path, voice), speech_backends=listed).flow

    chosen = (flow.voice.backend, flow.voice.name) if flow.voice else (None, None)
    assert chosen == (backend, name)


@pytest.mark.parametrize(
    ("voice", "expected"),
    [
        (
            "voice: aliyn",
            r":2:1: voice\.backend: unknown speech backend 'aliyn' — did you mean 'aliyun'\? use one of: ",
        ),
        (
            "voice: {backend: hwd, name: x}",
            r":2:23: voice\.name: the hwd speech backend has no voice to choose \(the "
            r"PBX chooses it\) — remove `name:`, or choose another backend",
        ),
        (
            "voice:\n  backend: tencent\n  name: zhimei",
            r":4:3: voice\.name: 'zhimei' is not a voice of tencent "
            r"\(VOICEBOT_TTS_TENCENT_VOICE_TYPE: .*\) — "
            r"name one that `voicebot tts voices --backend tencent` lists",
        ),
        ("voice: {backend: aliyun, voice: aixia}", r":2:26: voice\.voice: unknown key 'voice' — "),
        ("voice: {name: aixia}", r":2:1: voice: the required key 'backend' is missing — add `backend:` here"),
        (
            "voice: {backend: espeak, name: cmn latn}",
            r":2:26: voice\.name: 'cmn latn' is not a voice of espeak "
            r"\(invalid espeak-ng voice name 'cmn latn'\) — ",
        ),
    ],
    ids=[
        "unknown-backend",
        "hwd-has-no-voice",
        "not-a-number",
        "unknown-key",
        "no-backend",
        "bad-espeak-name",
    ],
)
def test_a_wrong_voice_is_reported_at_its_line(tmp_path: Path, voice: str, expected: str) -> None:
    path = flow_file(tmp_path, voice)

    assert re.fullmatch(re.escape(str(path)) + expected + ".*", problem_of(path))


def test_a_voice_not_in_voicebot_tts_is_an_error_with_its_fix(tmp_path: Path) -> None:
    path = flow_file(tmp_path, "voice: {backend: aliyun, name: aixia}")

    assert problem_of(path, ("hwd", "espeak")) == (
        f"{path}:2:9: voice.backend: the speech backend 'aliyun' is not in VOICEBOT_TTS (hwd,espeak) — "
        "add it, e.g. VOICEBOT_TTS=aliyun,hwd,espeak, and set its VOICEBOT_TTS_ALIYUN_* settings "
        "(docs/speech.md), or remove `voice:`"
    )
    load_flow(path, speech_backends=("hwd", "aliyun", "espeak"))  # listed anywhere: fine


def test_flows_check_knows_voicebot_tts(tmp_path: Path) -> None:
    path = flow_file(tmp_path, "voice: http")
    runner = CliRunner()

    refused = runner.invoke(main, ["flows", "check", str(path)], env={"VOICEBOT_TTS": "espeak"})
    passed = runner.invoke(main, ["flows", "check", str(path)], env={"VOICEBOT_TTS": "http,espeak"})

    assert refused.exit_code == 1
    assert refused.stdout.splitlines() == [
        f"{path}:2:1: voice.backend: the speech backend 'http' is not in VOICEBOT_TTS (espeak) — add it, "
        "e.g. VOICEBOT_TTS=http,espeak, and set its VOICEBOT_TTS_HTTP_* settings (docs/speech.md), "
        "or remove `voice:`"
    ]
    assert (passed.exit_code, passed.stdout) == (0, "")


def test_the_service_does_not_start_with_a_voice_voicebot_tts_lacks(
    tmp_path: Path, segmenter: Segmenter
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    flow_file(flows, "voice: http")
    settings = Settings(data_dir=tmp_path / "var", flows_dir=flows, default_flow="hello")

    with pytest.raises(FlowValidationError, match=r"hello\.yaml:2:1: voice\.backend: .* not in VOICEBOT_TTS"):
        create_app(settings, segmenter=segmenter)


@pytest.mark.parametrize(
    ("voice", "valid"),
    [
        ("aliyun", True),
        ({"backend": "tencent", "name": 101001}, True),
        ({"backend": "aliyun", "name": "aixia"}, True),
        ("aliyn", False),
        ({"backend": "aliyun", "voice": "aixia"}, False),
        ({"name": "aixia"}, False),
    ],
    ids=["backend", "number-name", "name", "unknown-backend", "unknown-key", "no-backend"],
)
def test_the_schema_takes_what_the_loader_takes(voice: object, valid: bool) -> None:
    schema = json.loads((FLOWS_DIR / "flow.schema.json").read_text(encoding="utf-8"))
    flow = {**yaml.safe_load(FLOW.format(voice="")), "voice": voice}
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(flow))

    assert (not errors) == valid
