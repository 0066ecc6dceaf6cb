"""Backchannels never interrupt a prompt; real answers do."""

from __future__ import annotations

import pytest

from bot.config import DEFAULT_BACKCHANNELS, DEFAULT_FILLERS
from bot.dialog.backchannel import BackchannelDetector

detect = BackchannelDetector(DEFAULT_BACKCHANNELS, DEFAULT_FILLERS)


@pytest.mark.parametrize(
    "text",
    [
        "嗯",
        "嗯。",
        "嗯嗯，好的好的",
        "呃，好吧",
        "对对对！",
        "是的是的",
        "喂",
        "喂喂喂",
        " 哦 ",
        "好的。",
        "",
        "，，",
        "嗯～",
        "知道了",
        "对，是的",
    ],
    ids=[
        "hm",
        "hm-dot",
        "chain",
        "filler-ok",
        "repeat",
        "repeat2",
        "hello",
        "hellos",
        "spaces",
        "ok",
        "empty",
        "punct",
        "fullwidth-tilde",
        "know",
        "yes-chain",
    ],
)
def test_backchannels(text: str) -> None:
    assert detect(text)


@pytest.mark.parametrize(
    "text",
    [
        "我要转人工",
        "嗯，我要转人工",
        "好的，帮我查一下报销进度",
        "不是",
        "不对",
        "喂，你好，我医保卡丢了",
        "对了我还有个问题",
    ],
    ids=["transfer", "hm-then-request", "ok-then-request", "no", "wrong", "hello-then-request", "by-the-way"],
)
def test_real_answers(text: str) -> None:
    assert not detect(text)


def test_custom_words() -> None:
    assert BackchannelDetector(["OK"], [])("OK OK")
    assert not BackchannelDetector([], [])("嗯嗯")
    assert BackchannelDetector([], ["嗯"])("嗯嗯")
