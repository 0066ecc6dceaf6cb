"""Slot types read digit by digit: phone numbers, resident ID numbers, digit strings."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping

from bot.language.slots.base import (
    Candidate,
    OptionReader,
    SlotContext,
    SlotMatch,
    SlotTypeBase,
    fold,
    resolve,
)
from bot.text.digits import digit_runs

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Area code (010, 02x, 0xxx) plus a 7- or 8-digit local number: 10 to 12 digits.
_LANDLINE = re.compile(r"0[1-9][0-9]{8,10}")


class PhoneSlot(SlotTypeBase):
    """A mainland mobile (1[3-9] + 9 digits) or a landline with its area code.

    The value is the digits only. A number must be a whole digit run, or a part of
    one that ASR joined across a separator: never a slice of digits read in one
    breath, so the digits inside an 18-digit ID are not a phone number.
    """

    name = "phone"

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        candidates = [
            Candidate(start, end, digits)
            for run in digit_runs(text)
            for digits, start, end in run.pieces()
            if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits)
        ]
        return resolve(text, candidates)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# How callers say, and ASR writes, the check character X; 差 is ASR for 叉.
_SPOKEN_X = re.compile(r"[ \t\u3000,，、-]*(?:[x叉差]|[埃艾爱]克斯)")


def id_card_check_char(first17: str) -> str:
    """Compute the GB 11643-1999 check character of an ID's first 17 digits.

    Args:
        first17: The 17 digits before the check character.

    Returns:
        One of "0".."9" or "X".
    """
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _valid_id(number: str, today: datetime.date) -> bool:
    if number[0] == "0" or id_card_check_char(number[:17]) != number[17]:
        return False
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return datetime.date(1900, 1, 1) <= born <= today


class IdCardSlot(SlotTypeBase):
    """An 18-character PRC resident ID with a correct check character and birth date.

    The check character X may be spoken (叉, 埃克斯, 艾克斯, ASR's 差). An ID that
    fails the check is no match, so the flow asks again rather than store a typo.
    """

    name = "id_card"

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        folded = fold(text)
        candidates: list[Candidate] = []
        for run in digit_runs(text):
            for digits, start, end in run.pieces():
                if len(digits) == 18 and _valid_id(digits, context.today):
                    candidates.append(Candidate(start, end, digits))
                elif len(digits) == 17 and end == run.end:
                    spoken_x = _SPOKEN_X.match(folded, end)
                    if spoken_x and _valid_id(digits + "X", context.today):
                        candidates.append(Candidate(start, spoken_x.end(), digits + "X"))
        return resolve(text, candidates)


class DigitsSlot(SlotTypeBase):
    """A string of digits (an order or account number), spoken or written.

    Args:
        min_length: The fewest digits accepted.
        max_length: The most digits accepted; None for no limit.
    """

    name = "digits"

    def __init__(self, min_length: int = 1, max_length: int | None = None) -> None:
        self.min_length = min_length
        self.max_length = max_length

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> DigitsSlot:
        """Build from a flow's options; ValueError names a bad one (see ``make_slot_type``)."""
        reader = OptionReader(cls.name, options, ("min_length", "max_length"))
        low = reader.integer("min_length", 1, minimum=1)
        high = reader.integer("max_length", None, minimum=1)
        if low is not None and high is not None and low > high:
            raise reader.error(f"'min_length' ({low}) is greater than 'max_length' ({high})", "swap them")
        return cls(low or 1, high)

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        candidates = [
            Candidate(start, end, digits)
            for run in digit_runs(text)
            for digits, start, end in run.pieces()
            if self.min_length <= len(digits) and (self.max_length is None or len(digits) <= self.max_length)
        ]
        return resolve(text, candidates)
