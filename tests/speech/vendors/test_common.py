"""What the vendor backends share: texts cut at sentence ends, tokens kept fresh, pieces joined."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import TTSError
from bot.speech.vendors.common import (
    TokenCache,
    gbk_bytes,
    join_wavs,
    pcm_wav,
    speak_in_pieces,
    split_text,
    utf8_bytes,
)
from bot.speech.wav import read_pcm

FIRST_SENTENCES = "您好，这里是医保服务热线。异地就医需要先备案！"
ANSWER = FIRST_SENTENCES + "备案以后，请带好身份证和医保卡去医院结算。还有别的问题吗？"


def test_a_short_text_is_one_piece() -> None:
    assert split_text("  您好。 ", 10) == ["您好。"]


def test_pieces_end_at_sentence_ends_within_the_limit() -> None:
    pieces = split_text(ANSWER, 30)
    assert "".join(pieces) == ANSWER.replace(" ", "")
    assert all(len(p) <= 30 for p in pieces)
    assert pieces[0] == FIRST_SENTENCES
    assert all(p[-1] in "。！？" for p in pieces)


def test_a_sentence_longer_than_the_limit_is_cut_after_a_comma_then_anywhere() -> None:
    assert split_text("一二三四五，六七八九十。", 8) == ["一二三四五，", "六七八九十。"]
    assert split_text("一二三四五六七八九十", 4) == ["一二三四", "五六七八", "九十"]


def test_the_limit_counts_as_the_vendor_counts() -> None:
    pieces = split_text(ANSWER, 60, measure=utf8_bytes)
    assert all(utf8_bytes(p) <= 60 for p in pieces)
    assert len(pieces) > len(split_text(ANSWER, 60))
    assert gbk_bytes("您好a") == 5
    assert utf8_bytes("您好a") == 7


def test_a_closing_quote_stays_with_its_sentence() -> None:
    assert split_text("他说：“好的。”然后走了。", 8) == ["他说：“好的。”", "然后走了。"]


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split_text("您好", 0)


async def test_pieces_are_said_in_order_and_joined() -> None:
    said: list[str] = []

    async def speak(piece: str) -> bytes:
        said.append(piece)
        return pcm_wav(b"\x01\x00" * (100 * len(piece)), 16000)

    wav = await speak_in_pieces(ANSWER, 30, speak)
    assert said == split_text(ANSWER, 30)
    pcm = read_pcm(wav)
    assert (pcm.rate, pcm.channels, pcm.width) == (16000, 1, 2)
    assert len(pcm.frames) == 200 * sum(len(p) for p in said)


async def test_pieces_of_two_formats_are_an_error() -> None:
    with pytest.raises(TTSError, match="two formats"):
        join_wavs([pcm_wav(b"\0\0", 8000), pcm_wav(b"\0\0", 16000)])


def test_raw_pcm_is_wrapped_whole_frames_only() -> None:
    pcm = read_pcm(pcm_wav(b"\x01\x02\x03", 8000))
    assert (pcm.rate, pcm.frames) == (8000, b"\x01\x02")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_token_is_fetched_once_and_again_before_it_expires() -> None:
    clock = Clock()
    issued: list[str] = []

    async def fetch() -> tuple[str, float]:
        await asyncio.sleep(0)
        issued.append(f"t{len(issued)}")
        return issued[-1], clock.now + 3600

    tokens = TokenCache(fetch, refresh_margin_seconds=300, clock=clock)
    assert await asyncio.gather(*(tokens.get() for _ in range(5))) == ["t0"] * 5
    clock.now += 3600 - 301
    assert await tokens.get() == "t0"
    clock.now += 2
    assert await tokens.get() == "t1"
    assert tokens.fetches == 2


async def test_an_invalidated_token_is_fetched_anew_but_only_the_refused_one() -> None:
    clock = Clock()
    count = 0

    async def fetch() -> tuple[str, float]:
        nonlocal count
        count += 1
        return f"t{count}", clock.now + 3600

    tokens = TokenCache(fetch, clock=clock)
    first = await tokens.get()
    tokens.invalidate("some older token")
    assert await tokens.get() == first
    tokens.invalidate(first)
    assert await tokens.get() == "t2"
