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

_ASCII_NUMBER = re.compile(r"\d+(?:\.\d+)?")
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
    """The facts ``text`` names: ``n:<number>``, ``d:<date>`` and ``s:<digit string>``."""
    found: set[str] = set()
    context = SlotContext(today)
    for kind in _kinds():
        for match in kind.extract_all(text, context):
            said = text[match.start : match.end]
            if said in _SPOKEN_ONE:
                continue
            value = match.value
            if kind.name == "date":
                found.add(f"d:{value}")
            elif kind.name == "digits":
                digits = str(value)
                found.add(f"s:{digits}" if len(digits) >= 5 else f"n:{_number(digits)}")
            else:
                found.add(f"n:{_number(str(value))}")
    found.update(f"n:{_number(m.group())}" for m in _ASCII_NUMBER.finditer(text))
    return found


def _number(text: str) -> str:
    """``30``, ``30.0`` and ``030`` alike."""
    value = Decimal(text).normalize()
    return format(value, "f")


def source_text(source: Source) -> str:
    return "\n".join((source.title, source.answer, *source.keywords))


def ungrounded(answer: str, cited: Iterable[Source], offered: Iterable[Source], today: dt.date) -> str | None:
    """What ``answer`` names that its ``cited`` entries do not hold, in words; None when
    it names nothing else. ``offered``: every entry the model was shown, whose keywords
    count as facts."""
    cited_text = "\n".join(source_text(s) for s in cited)
    missing = sorted(facts(answer, today) - facts(cited_text, today))
    if missing:
        return f"it names {missing[0].partition(':')[2]}, which no cited entry holds"
    for term in sorted({k for s in offered for k in s.keywords}, key=len, reverse=True):
        if term and term in answer and term not in cited_text:
            return f"it names {term}, a term of an entry it does not cite"
    return None
