"""Digit strings as phone-line ASR writes them: each character one digit.

Chinese callers read numbers aloud digit by digit -- 幺 for 1, 两 for 2, 洞/零/〇 for 0,
拐 for 7 (the radio style that avoids 一/七 confusion) -- and ASR splits the groups with
spaces, commas and dashes ("幺三八，幺二三四 五六七八"). The slots (phone, ID card,
digits, years) and the knowledge base (幺二三九三 is the hotline 12393) read them alike,
here. Positional numerals (三千五) are another reading: ``bot.language.slots.spoken``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

DIGIT_OF: dict[str, str] = {
    **{str(d): str(d) for d in range(10)},
    **{chr(0xFF10 + d): str(d) for d in range(10)},  # full-width ０-９
    **dict.fromkeys("零〇洞", "0"),
    **dict.fromkeys("一幺", "1"),
    **dict.fromkeys("二两", "2"),
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    **dict.fromkeys("七拐", "7"),
    "八": "8",
    "九": "9",
}
"""Every character that stands for one spoken or written digit."""

# What ASR puts between the groups of a number read aloud; removed only between digits.
_SEPARATORS = frozenset(" \t\u3000,，、-－‐–—()（）")


def normalize_spoken_digits(text: str) -> tuple[str, list[int]]:
    """Rewrite spoken digits to ASCII and drop the separators between them.

    Hanzi digits (and 幺 两 洞 拐) become ASCII digits; spaces, commas, dashes and
    brackets are removed where they stand between two digits; everything else is
    kept. "幺三八 幺二三四" becomes "1381234".

    Args:
        text: The utterance as the ASR wrote it.

    Returns:
        The normalized text and, for each of its characters, the offset of the
        character it came from in ``text``.
    """
    out: list[str] = []
    index: list[int] = []
    pending: list[int] = []  # separators after a digit, dropped if a digit follows
    for i, char in enumerate(text):
        digit = DIGIT_OF.get(char)
        if digit is None and char in _SEPARATORS and out and out[-1].isascii() and out[-1].isdigit():
            pending.append(i)
            continue
        if digit is None:
            for j in pending:
                out.append(text[j])
                index.append(j)
        pending.clear()
        out.append(digit if digit is not None else char)
        index.append(i)
    for j in pending:
        out.append(text[j])
        index.append(j)
    return "".join(out), index


@dataclass(frozen=True)
class DigitChunk:
    """Digits read without a pause, with their span in the original text."""

    digits: str
    start: int
    end: int


@dataclass(frozen=True)
class DigitRun:
    """Digits that follow each other, possibly split into chunks by separators."""

    chunks: tuple[DigitChunk, ...]

    @property
    def digits(self) -> str:
        """All the digits of the run."""
        return "".join(c.digits for c in self.chunks)

    @property
    def start(self) -> int:
        """Offset of the first digit in the original text."""
        return self.chunks[0].start

    @property
    def end(self) -> int:
        """Offset one past the last digit in the original text."""
        return self.chunks[-1].end

    def pieces(self) -> Iterator[tuple[str, int, int]]:
        """Every run of whole consecutive chunks, the whole run first, then shorter ones.

        ASR joins a number to a neighbouring digit across a comma ("…5678，两个人"),
        so a slot that rejects the whole run may still find its value in a part of
        it. Parts only ever end at a separator: digits read without a pause are
        never cut, so an 18-digit ID read in one breath never yields a phone number.
        """
        count = len(self.chunks)
        spans = [(i, j) for i in range(count) for j in range(i + 1, count + 1)]
        spans.sort(key=lambda ij: (-(ij[1] - ij[0]), ij[0]))
        for i, j in spans:
            part = self.chunks[i:j]
            yield "".join(c.digits for c in part), part[0].start, part[-1].end


_ASCII_DIGIT_RUN = re.compile(r"[0-9]+")


def digit_runs(text: str) -> list[DigitRun]:
    """Find the digit strings of an utterance, spoken or written.

    A single spoken digit on its own is skipped: 一 and 两 are far more often a
    word (查一下, 两个) than a one-digit answer.

    Args:
        text: The utterance as the ASR wrote it.

    Returns:
        The maximal digit runs, in order, with offsets into ``text``.
    """
    normalized, index = normalize_spoken_digits(text)
    runs: list[DigitRun] = []
    for found in _ASCII_DIGIT_RUN.finditer(normalized):
        chunks: list[DigitChunk] = []
        begin = found.start()
        for k in range(found.start() + 1, found.end() + 1):
            # A gap in the original offsets is where separators were removed.
            if k == found.end() or index[k] != index[k - 1] + 1:
                chunks.append(DigitChunk(normalized[begin:k], index[begin], index[k - 1] + 1))
                begin = k
        run = DigitRun(tuple(chunks))
        if len(run.digits) == 1 and not text[run.start].isascii():
            continue
        runs.append(run)
    return runs


def digits_value(spoken: str) -> str | None:
    """Read every character as one digit (二零二六 -> "2026"); None if one is not a digit."""
    try:
        return "".join(DIGIT_OF[c] for c in spoken)
    except KeyError:
        return None


# The Chinese characters above, in runs this long or longer: shorter runs are words
# (一下, 两个, 三四天) far more often than digit strings.
_SPOKEN_RUN = re.compile("[" + "".join(c for c in DIGIT_OF if "\u3007" <= c <= "\u9fff") + "]{3,}")


def spoken_digits_to_ascii(text: str) -> str:
    """Rewrite runs of three or more spoken digits to ASCII (幺二三九三 → 12393).

    Args:
        text: Text without separators between the digits (punctuation already removed).

    Returns:
        ``text`` with each such run replaced by its digits; everything else as it was.
    """
    return _SPOKEN_RUN.sub(lambda match: digits_value(match.group()) or match.group(), text)
