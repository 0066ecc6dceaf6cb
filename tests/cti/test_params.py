"""Callback parameters are read byte-exact: UTF-8, GBK, or refused."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from bot.calls.events import Event
from bot.cti.params import parse_params, read_callback
from bot.errors import RequestError
from bot.text.decoding import decode_text


@pytest.mark.parametrize(
    ("raw", "text", "encoding"),
    [
        ("我要转人工".encode(), "我要转人工", "utf-8"),
        ("我要转人工".encode("gbk"), "我要转人工", "gbk"),
        (b"ready2speak", "ready2speak", "utf-8"),
        ("医保卡丢了，怎么办？".encode("gbk"), "医保卡丢了，怎么办？", "gbk"),
        ("喂喂".encode("gbk"), "喂喂", "gbk"),
        ("哦".encode("gbk"), "哦", "gbk"),
        ("喂，你好".encode("gbk"), "喂，你好", "gbk"),
        ("Ω中".encode(), "Ω中", "utf-8"),
    ],
    ids=[
        "utf8",
        "gbk",
        "ascii",
        "gbk-punctuation",
        "gbk-also-utf8",
        "gbk-also-utf8-2",
        "gbk-mixed",
        "greek-not-gbk",
    ],
)
def test_decode(raw: bytes, text: str, encoding: str) -> None:
    assert decode_text(raw) == (text, encoding)


def test_bytes_of_neither_encoding_are_refused() -> None:
    with pytest.raises(RequestError, match="neither UTF-8 nor GBK"):
        decode_text(b"\xff\xfe\xfd")


def test_query_and_form_are_merged_query_first() -> None:
    params = parse_params(b"callid=a&txt=" + quote("你好").encode(), b"txt=other&telnum=1")
    assert params["txt"] == ("你好", "utf-8")
    assert params["telnum"] == ("1", "utf-8")


def test_plus_is_a_space_and_blank_values_are_kept() -> None:
    params = parse_params(b"txt=a+b&telnum=&callid=x")
    assert params["txt"][0] == "a b"
    assert params["telnum"] == ("", "utf-8")


@pytest.mark.parametrize(
    ("txt", "event", "text"),
    [
        ("ready2speak", Event.READY, None),
        ("READY2SPEAK", Event.READY, None),
        ("  ", Event.READY, None),
        ("hungup", Event.HUNGUP, None),
        (" 转人工 ", Event.TEXT, "转人工"),
    ],
    ids=["ready", "ready-caps", "blank-is-silence", "hungup", "text-stripped"],
)
def test_events(txt: str, event: Event, text: str | None) -> None:
    callback = read_callback({"callid": ("c", "utf-8"), "txt": (txt, "utf-8")}, max_text_chars=10)
    assert (callback.event, callback.text) == (event, text)


@pytest.mark.parametrize(
    ("value", "playing"),
    [("true", True), ("TRUE", True), ("1", True), ("false", False), ("", False)],
    ids=["true", "caps", "one", "false", "blank"],
)
def test_playing(value: str, playing: bool) -> None:
    params = {"callid": ("c", "utf-8"), "txt": ("嗯", "utf-8"), "playing": (value, "utf-8")}
    assert read_callback(params, max_text_chars=10).playing is playing
