"""What every slot type shares: the match, the call context, the protocol, option reading."""

from __future__ import annotations

import datetime
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, Self

SlotValue = str | int | float | bool
"""A normalized slot value; dates and times are ISO strings ("2026-11-25", "15:30")."""


@dataclass(frozen=True)
class SlotMatch:
    """One value found in an utterance.

    Attributes:
        value: The normalized value ("13812345678", 3500, "2026-11-25", "15:30", True).
        start: Offset of the first character in the original text.
        end: Offset one past the last character in the original text.
        text: ``original[start:end]``, as the caller's ASR wrote it.
        unsure: The value is a guess the caller may not have meant: 两点 with no
            part of the day (02:00 or 14:00), 三千五 with no unit for an amount,
            周六 said on a Saturday (today or in a week). A collect step should
            read it back or ask again rather than store it silently.
        alternatives: The other readings of an unsure value, most likely first
            (empty when there is no other value to offer, as for a missing unit).
    """

    value: SlotValue
    start: int
    end: int
    text: str
    unsure: bool = False
    alternatives: tuple[SlotValue, ...] = ()


@dataclass(frozen=True)
class SlotContext:
    """What a slot type may need to know about the call besides the utterance.

    Attributes:
        today: The call's date in the configured time zone; relative dates
            (明天, 下周三, 15号) are resolved against it.
    """

    today: datetime.date


class SlotType(Protocol):
    """A kind of value that can be pulled out of one utterance."""

    name: str

    def extract(self, text: str, context: SlotContext) -> SlotMatch | None:
        """Return the best match in ``text`` (the first one), or None."""
        ...

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        """Return every match in ``text``, non-overlapping, in order of position."""
        ...


class SlotTypeBase(ABC):
    """Implements ``extract`` as the first of ``extract_all``, which subclasses define."""

    name: str = ""

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> Self:
        """Build from a flow's options; ValueError names a bad one (see ``make_slot_type``).
        This is for a type that takes none; a type with options defines its own."""
        OptionReader(cls.name, options, ())
        return cls()

    def extract(self, text: str, context: SlotContext) -> SlotMatch | None:
        """Return the first match in ``text``, or None.

        Args:
            text: One utterance as the ASR produced it.
            context: The call's context.

        Returns:
            The leftmost match, or None when the utterance holds no value.
        """
        matches = self.extract_all(text, context)
        return matches[0] if matches else None

    @abstractmethod
    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        """Return every match in ``text``, non-overlapping, in order of position."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


@dataclass(frozen=True)
class Candidate:
    """A possible match before overlaps are resolved; larger ``rank`` wins a tie in length.

    A candidate whose ``value`` is None is a veto: text that has the form of a
    value but is not a valid one (2月30日). It wins overlaps like any other, so a
    shorter reading inside it (30日) does not slip through, and is then dropped.
    """

    start: int
    end: int
    value: SlotValue | None
    rank: int = 0
    unsure: bool = False
    alternatives: tuple[SlotValue, ...] = ()


def resolve(text: str, candidates: Iterable[Candidate]) -> list[SlotMatch]:
    """Keep the longest of overlapping candidates and return them as matches in text order.

    Longest first because a longer reading explains more of what the caller said
    (大后天 over 后天, 下个月5号 over 5号, 北京市 over 北京).
    """
    ordered = sorted(candidates, key=lambda c: (-(c.end - c.start), -c.rank, c.start))
    taken: list[Candidate] = []
    for cand in ordered:
        if all(cand.end <= t.start or cand.start >= t.end for t in taken):
            taken.append(cand)
    taken.sort(key=lambda c: c.start)
    return [
        SlotMatch(
            c.value, c.start, c.end, text[c.start : c.end], c.unsure or bool(c.alternatives), c.alternatives
        )
        for c in taken
        if c.value is not None
    ]


def number_value(value: Decimal) -> int | float:
    """An int when the value is whole (3500, not 3500.0), else a float."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


_CJK_FIRST, _CJK_LAST = "\u4e00", "\u9fff"
"""The CJK Unified Ideographs: NFKC and lower() leave each of them as it is."""


def is_han(char: str) -> bool:
    """Whether ``char`` is a Chinese character (of the CJK Unified Ideographs)."""
    return _CJK_FIRST <= char <= _CJK_LAST


def fold(text: str) -> str:
    """Fold width and case character by character, so offsets stay those of ``text``.

    Full-width ASR output (ＡＢＣ, １２３) compares equal to half-width; a character
    whose folded form is not one character (rare ligatures) is kept as it is.
    """
    if text.isascii():
        return text.lower()  # NFKC keeps ASCII; lower() maps it one to one
    out = []
    for char in text:
        if _CJK_FIRST <= char <= _CJK_LAST:  # most of a caller's text: NFKC and lower() keep it
            out.append(char)
            continue
        folded = unicodedata.normalize("NFKC", char).lower()
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


class OptionReader:
    """Reads a slot type's options and explains every problem to a flow author.

    Args:
        kind: The slot kind, named in every message.
        options: The options as written in the flow.
        allowed: The option names this kind understands.

    Raises:
        ValueError: An option is not one of ``allowed``.
    """

    def __init__(self, kind: str, options: Mapping[str, object], allowed: Sequence[str]) -> None:
        self.kind = kind
        self.options = options
        unknown = [key for key in options if key not in allowed]
        if unknown:
            known = ", ".join(allowed) if allowed else "none"
            raise self.error(f"unknown option {unknown[0]!r}", f"options of {kind!r}: {known}")

    def error(self, problem: str, fix: str) -> ValueError:
        """Build the error for ``problem``, with a hint how to ``fix`` it."""
        return ValueError(f"slot type {self.kind!r}: {problem} — {fix}")

    def integer(self, key: str, default: int | None, minimum: int) -> int | None:
        """An optional whole number, at least ``minimum``."""
        raw = self.options.get(key, default)
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
            raise self.error(
                f"{key!r} must be a whole number >= {minimum}, got {raw!r}", f"write e.g. `{key}: 6`"
            )
        return raw

    def number(self, key: str) -> Decimal | None:
        """An optional int or float bound, kept exact as a Decimal."""
        raw = self.options.get(key)
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise self.error(f"{key!r} must be a number, got {raw!r}", f"write e.g. `{key}: 100`")
        return Decimal(str(raw))

    def bounds(self, low_key: str, high_key: str, low: Decimal | None, high: Decimal | None) -> None:
        """Check that a lower bound is not above its upper bound."""
        if low is not None and high is not None and low > high:
            raise self.error(
                f"{low_key!r} ({low}) is greater than {high_key!r} ({high})", "swap them or fix the typo"
            )

    def text(self, key: str) -> str:
        """A required non-empty string."""
        raw = self.options.get(key)
        if not isinstance(raw, str) or not raw:
            raise self.error(f"option {key!r} is required and must be text, got {raw!r}", f"add `{key}: ...`")
        return raw

    def pattern(self, key: str) -> re.Pattern[str]:
        """A required regular expression, compiled once."""
        source = self.text(key)
        try:
            return re.compile(source)
        except re.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            raise self.error(
                f"{key!r} is not a valid regular expression: {exc.msg}{where} in {source!r}",
                "check brackets and escape special characters such as ( ) [ ] . * + ? with a backslash",
            ) from exc
