"""Chinese reaches espeak-ng as pinyin, and espeak-ng reads all of it as Mandarin."""

from __future__ import annotations

import subprocess

import pytest

from bot.language.loader import load_flows
from bot.speech.normalize import normalize_for_speech
from bot.speech.pinyin import PINYIN_VOICE, to_pinyin
from tests.conftest import FLOWS_DIR


@pytest.mark.parametrize(
    ("text", "pinyin"),
    [
        ("您好", "nin2 hao3"),
        ("银行行长", "yin2 hang2 hang2 zhang3"),
        ("一个人，不要", "yi2 ge4 ren2 ， bu2 yao4"),
        ("3500元", "3500 yuan2"),
        ("绿色", "lv4 se4"),
        ("幺三八", "yao1 san1 ba1"),
    ],
    ids=["tones", "polyphones", "sandhi", "digits-pass", "u-umlaut", "phone-digits"],
)
def test_to_pinyin(text: str, pinyin: str) -> None:
    assert to_pinyin(text) == pinyin


def phonemes(text: str, voice: str) -> str:
    done = subprocess.run(
        ["espeak-ng", "-v", voice, "-q", "-x", "--stdin"],
        input=text.encode(),
        capture_output=True,
        check=True,
    )
    return done.stdout.decode()


def test_every_sample_prompt_is_read_as_mandarin() -> None:
    texts = {p.text for source in load_flows(FLOWS_DIR).values() for p in source.flow.static_prompts()}
    # espeak-ng marks text it falls back to reading as English with "(en)".
    misread = {
        t: out
        for t in sorted(texts)
        if "(en)" in (out := phonemes(to_pinyin(normalize_for_speech(t)), PINYIN_VOICE))
    }
    assert misread == {}
