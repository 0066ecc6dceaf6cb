"""The mechanical check of a grounded answer: it may name no fact that its cited entries
do not hold.

A fact is a number or an amount (三十天 and 30天 are the same 30), a date (次月十五号,
read on the call's date), a digit string (a phone number, 12393), or a term of the
offered entries' keyword lists. Every one the answer names must be in the entries it
cites; one that is not drops the answer. The lone numeral 一 is not a fact: it is an
article far more often than a number (一下, 一次性, 一个月内 aside, 办理一次).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from typing import Protocol

from bot.language.slots import make_slot_type
from bot.language.slots.base import SlotContext, SlotType

_ASCII_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_SPOKEN_ONE = frozenset("一壹幺")


class Source(Protocol):
    """A knowledge entry offered to the model (``bot.dialog.knowledge.RelatedEntry``)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def answer(self) -> str: ...
    @property
    def keywords(self) -> Sequence[str]: ...


@cache
def _kinds() -> tuple[SlotType, ...]:
    return tuple(make_slot_type(name, {}) for name in ("number", "amount", "date", "digits"))


def facts(text: str, today: dt.date) -> set[str]:
    """The facts ``text`` names: ``n:<number>``, ``d:<date>`` and ``s:<digit string>``.

    Each reading is kept only where no wider one covers it: the 1 and the 万 of 1万元 are
    one fact, 10000, never also a 1; the 12 and 000 of 12,000 are 12000.
    """
    context = SlotContext(today)
    found: list[tuple[int, int, str]] = []
    for kind in _kinds():
        for match in kind.extract_all(text, context):
            if text[match.start : match.end] in _SPOKEN_ONE:
                continue
            value = match.value
            if kind.name == "date":
                fact = f"d:{value}"
            elif kind.name == "digits":
                digits = str(value)
                fact = f"s:{digits}" if len(digits) >= 5 else f"n:{_number(digits)}"
            else:
                fact = f"n:{_number(str(value))}"
            found.append((match.start, match.end, fact))
    for written in _ASCII_NUMBER.finditer(text):
        found.append((written.start(), written.end(), f"n:{_number(written.group().replace(',', ''))}"))
    return {fact for start, end, fact in found if not _covered(start, end, found)}


def _covered(start: int, end: int, spans: list[tuple[int, int, str]]) -> bool:
    """Whether a wider reading covers ``text[start:end]``."""
    return any(s <= start and end <= e and e - s > end - start for s, e, _ in spans)


def _number(text: str) -> str:
    """``30``, ``30.0`` and ``030`` alike."""
    value = Decimal(text).normalize()
    return format(value, "f")


def source_text(source: Source) -> str:
    return "\n".join((source.title, source.answer, *source.keywords))


class Grounds:
    """What an answer citing ``cited`` may name, read once for every sentence checked.

    Args:
        cited: The entries the answer cites.
        offered: Every entry the model was shown; their keywords count as facts.
        today: The call's date (relative dates).
    """

    def __init__(self, cited: Iterable[Source], offered: Iterable[Source], today: dt.date) -> None:
        self._text = "\n".join(source_text(s) for s in cited)
        self._today = today
        self._facts = facts(self._text, today)
        self._terms = sorted({k for s in offered for k in s.keywords if k}, key=len, reverse=True)

    def missing(self, answer: str) -> str | None:
        """What ``answer`` names that the cited entries do not hold, in words; None when it
        names nothing else."""
        absent = sorted(facts(answer, self._today) - self._facts)
        if absent:
            return f"it names {absent[0].partition(':')[2]}, which no cited entry holds"
        for term in self._terms:
            if term in answer and term not in self._text:
                return f"it names {term}, a term of an entry it does not cite"
        return None


def ungrounded(answer: str, cited: Iterable[Source], offered: Iterable[Source], today: dt.date) -> str | None:
    """What ``answer`` names that its ``cited`` entries do not hold (``Grounds.missing``)."""
    return Grounds(cited, offered, today).missing(answer)
