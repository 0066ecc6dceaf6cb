"""Numbers as phone-line ASR writes them: spoken digit strings and Chinese numerals.

Two different readings, used by different slot types:

* Digit strings (phone, ID card, digits): each character is one digit, read the way
  Chinese callers read numbers aloud -- 幺 for 1, 两 for 2, 洞/零/〇 for 0, 拐 for 7
  (the radio style that avoids 一/七 confusion) -- and ASR splits them with spaces,
  commas and dashes ("幺三八，幺二三四 五六七八"). ``normalize_spoken_digits``
  rewrites them to ASCII and keeps a map back to the original offsets.
* Numerals (number, amount, date, time): positional Chinese numbers (三千五 = 3500,
  两万三 = 23000, 一百零五, 一点五) and Arabic ones ("3500", "1.5万"). The
  positional arithmetic, including the spoken elisions, is cn2an's; finding the
  numerals in a sentence and keeping their offsets is ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import cn2an  # type: ignore[import-untyped]

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


CN_DIGITS = "零〇一二两三四五六七八九幺"
CN_UNITS = "十百千万亿"
DIGIT_CLASS = f"0-9０-９{CN_DIGITS}"
NUMERAL_PATTERN = (
    r"(?:[0-9]{1,3}(?:,[0-9]{3})+"  # 3,500
    rf"|[{DIGIT_CLASS}{CN_UNITS}]+)"
    rf"(?:(?:点|(?<=[0-9])\.(?=[0-9]))[{DIGIT_CLASS}]{{1,8}}[万亿]?)?"
)
"""A numeral: Chinese, Arabic or mixed, with an optional 点/. decimal part."""

# 一 before these is a word (一下, 一些, 一共, 一点儿), not the number 1.
_WORD_AFTER_YI = "下些样般直起定会切致旦边共同再向道律概并齐"
_NOT_NUMBER_YI = re.compile(rf"[一幺](?=[{_WORD_AFTER_YI}]|点(?![{DIGIT_CLASS}]))")


def is_word_yi(text: str, start: int, end: int) -> bool:
    """Tell whether ``text[start:end]`` is a lone 一 that belongs to a word (一下, 一点儿)."""
    return end - start == 1 and _NOT_NUMBER_YI.match(text, start) is not None


# cn2an says "not a number" with ValueError, but some malformed input (十23 in
# smart mode) trips a KeyError inside it instead; both mean "not a number" here.
_CN2AN_REJECTS = (ValueError, KeyError, IndexError)
_FULL_WIDTH = str.maketrans({chr(0xFF10 + d): str(d) for d in range(10)})
_MULTIPLIER = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
_ASCII_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def parse_numeral(numeral: str) -> Decimal | None:
    """Convert one numeral as found by ``NUMERAL_PATTERN`` to its exact value.

    Args:
        numeral: "三千五", "两万三", "一百零五", "一点五", "1.5万", "3,500", "3千5"...

    Returns:
        The value, or None when the characters do not form a well-made number
        (五五百, 千万 as in 千万别).
    """
    text = numeral.replace(",", "").translate(_FULL_WIDTH)
    scale = Decimal(1)
    # "1.5万" and "一点五万": cn2an reads 万 after a decimal part only for Arabic digits.
    if text[-1] in _MULTIPLIER and ("点" in text or "." in text):
        scale = _MULTIPLIER[text[-1]]
        text = text[:-1]
    if _ASCII_NUMBER.fullmatch(text):
        return Decimal(text) * scale
    mode = "smart" if any(c.isascii() for c in text) else "normal"
    try:
        raw: object = cn2an.cn2an(text, mode)
    except _CN2AN_REJECTS:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    # str() of the float is the shortest repr, so 1.5 stays 1.5, not 1.4999…
    return Decimal(str(raw)) * scale


def small_int(numeral: str) -> int | None:
    """Convert a small numeral of a date or time (五, 二十, 12, 零五, 二零二六) to an int."""
    value = parse_numeral(numeral)
    if value is None or value != value.to_integral_value():
        return None
    return int(value)


def digits_value(spoken: str) -> str | None:
    """Read every character as one digit (二零二六 -> "2026"); None if one is not a digit."""
    try:
        return "".join(DIGIT_OF[c] for c in spoken)
    except KeyError:
        return None


def squeeze_numerals(text: str) -> tuple[str, list[int]]:
    """Drop whitespace ASR put inside a Chinese numeral ("三千 五百"), keeping offsets.

    Only a gap next to a Chinese numeral character goes: between two Arabic
    numbers ("3 5") the space may be the caller's own, so it stays.

    Returns:
        The squeezed text and, for each of its characters, its offset in ``text``.
    """
    numeral_chars = CN_DIGITS + CN_UNITS
    out: list[str] = []
    index: list[int] = []
    for i, char in enumerate(text):
        if char.isspace() and out and i + 1 < len(text):
            after = text[i + 1 :].lstrip()
            before, nxt = out[-1], after[:1]
            both = (before in numeral_chars or before.isdigit()) and (nxt in numeral_chars or nxt.isdigit())
            if both and (before in numeral_chars or nxt in numeral_chars):
                continue
        out.append(char)
        index.append(i)
    return "".join(out), index


@dataclass(frozen=True)
class Span:
    """A piece of the original text: offsets and characters."""

    start: int
    end: int


def original_span(index: list[int], start: int, end: int) -> Span:
    """Map a span of a normalized text back to the original through its index map."""
    return Span(index[start], index[end - 1] + 1)
