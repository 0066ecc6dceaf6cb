"""Slot extraction: typed values pulled out of one caller utterance.

Callers speak Mandarin on phone lines and the CTI's ASR writes what it heard: it
mishears homophones, writes digits as hanzi or mixes both ("138一二三四5678"),
reads 1 as 幺 and 2 as 两, and scatters spaces and commas through numbers. Each
slot type copes with that for one kind of value and returns normalized values
with their span in the original text (for Rasa-style entities).

Built-in kinds (``make_slot_type(kind, options)``):

=========  =====================================  ==================================
kind       value                                  options
=========  =====================================  ==================================
phone      digits of a mobile or landline         -
id_card    18-character resident ID, checked      -
digits     digit string                           ``min_length``, ``max_length``
number     int, or float when not whole           ``min``, ``max``
amount     yuan; int, or float rounded to cents   ``min``, ``max``
date       "YYYY-MM-DD" (see ``slots.dates``)     -
time       "HH:MM" (see ``slots.times``)          -
part_of_day 上午, 下午, 晚上… (``slots.parts_of_day``) -
yes_no     True / False                           -
enum       the canonical value                    ``values``
regex      the match, or its group 1              ``pattern``
=========  =====================================  ==================================

``extract`` returns the first (leftmost) match; ``extract_all`` every match,
non-overlapping (the longer reading wins), in order. A match may be ``unsure`` (两点
with no part of the day, an amount with no unit, 周六 said on a Saturday), with the
other readings in ``alternatives``: a guess to read back, not to store silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.language.slots.base import SlotContext, SlotMatch, SlotType, SlotTypeBase, SlotValue
from bot.language.slots.dates import DateSlot
from bot.language.slots.digits import DigitsSlot, IdCardSlot, PhoneSlot, id_card_check_char
from bot.language.slots.numbers import AmountSlot, NumberSlot
from bot.language.slots.numeral_words import numeral_words
from bot.language.slots.parts_of_day import PARTS_OF_DAY, PartOfDaySlot
from bot.language.slots.times import TimeSlot
from bot.language.slots.words import EnumSlot, RegexSlot, YesNoSlot
from bot.text.digits import normalize_spoken_digits

__all__ = [
    "BUILTIN_KINDS",
    "PARTS_OF_DAY",
    "AmountSlot",
    "DateSlot",
    "DigitsSlot",
    "EnumSlot",
    "IdCardSlot",
    "NumberSlot",
    "PartOfDaySlot",
    "PhoneSlot",
    "RegexSlot",
    "SlotContext",
    "SlotMatch",
    "SlotType",
    "SlotTypeBase",
    "SlotValue",
    "TimeSlot",
    "YesNoSlot",
    "id_card_check_char",
    "make_slot_type",
    "normalize_spoken_digits",
]

_FACTORIES: dict[str, Callable[[Mapping[str, object]], SlotType]] = {
    "phone": PhoneSlot.from_options,
    "id_card": IdCardSlot.from_options,
    "digits": DigitsSlot.from_options,
    "number": NumberSlot.from_options,
    "amount": AmountSlot.from_options,
    "date": DateSlot.from_options,
    "time": TimeSlot.from_options,
    "part_of_day": PartOfDaySlot.from_options,
    "yes_no": YesNoSlot.from_options,
    "enum": EnumSlot.from_options,
    "regex": RegexSlot.from_options,
}

BUILTIN_KINDS: tuple[str, ...] = tuple(_FACTORIES)
"""Every slot kind ``make_slot_type`` knows."""


def make_slot_type(kind: str, options: Mapping[str, object]) -> SlotType:
    """Build the slot type of ``kind`` configured by ``options`` (from a flow file).

    Args:
        kind: One of ``BUILTIN_KINDS``.
        options: The kind's options; unknown keys are an error, not ignored,
            so a misspelt option names itself.

    Returns:
        A ready slot type; it holds no per-call state and may be shared.

    Raises:
        ValueError: Unknown kind or bad options; the message names the problem
            and how to fix it.
    """
    factory = _FACTORIES.get(kind)
    if factory is None:
        raise ValueError(f"unknown slot type {kind!r} — use one of: {', '.join(BUILTIN_KINDS)}")
    if kind in ("number", "amount", "time"):
        numeral_words()  # read now, as flows load (in a thread), not in a call's first turn
    return factory(options)
