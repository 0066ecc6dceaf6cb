"""Slot types for quantities: plain numbers and money amounts."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal

from bot.language.slots.base import (
    Candidate,
    OptionReader,
    SlotContext,
    SlotMatch,
    SlotTypeBase,
    fold,
    number_value,
    resolve,
)
from bot.language.slots.numeral_context import counted_at
from bot.language.slots.numeral_words import COUNTERS, measure_end
from bot.language.slots.spoken import (
    CN_UNITS,
    DIGIT_CLASS,
    NUMERAL_PATTERN,
    is_not_quantity,
    original_span,
    parse_numeral,
    squeeze_numerals,
)
from bot.text.digits import digits_value

_NUMERAL = re.compile(NUMERAL_PATTERN)


class _Bounded(SlotTypeBase):
    """A quantity slot with optional ``min`` and ``max`` (inclusive)."""

    def __init__(self, minimum: Decimal | None = None, maximum: Decimal | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum

    @classmethod
    def _bounds(cls, options: Mapping[str, object]) -> tuple[Decimal | None, Decimal | None]:
        reader = OptionReader(cls.name, options, ("min", "max"))
        low, high = reader.number("min"), reader.number("max")
        reader.bounds("min", "max", low, high)
        return low, high

    def _in_range(self, value: Decimal) -> bool:
        above = self.minimum is None or value >= self.minimum
        return above and (self.maximum is None or value <= self.maximum)


class NumberSlot(_Bounded):
    """An integer or decimal, spoken or written: 三千五, 两万三, 一点五, 3500, 1.5万.

    The value is an int when whole, else a float. A unit after the number
    (三千五百块) is not part of the match. Numbers outside ``min``..``max`` are
    skipped, so ``extract`` gives the first one in range. A bare number, with no
    classifier or unit after it (三千五, not 三十个), is ``unsure``, as an amount with
    no unit is: nothing said what it counts, so it is asked back when it came from
    words said for something else (see ``bot.dialog.walk.in_doubt``).
    """

    name = "number"

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> NumberSlot:
        """Build from a flow's options; ValueError names a bad one (see ``make_slot_type``)."""
        return cls(*cls._bounds(options))

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        squeezed, index = squeeze_numerals(fold(text))  # fold: "０．７５" is "0.75"
        candidates: list[Candidate] = []
        for found in _NUMERAL.finditer(squeezed):
            if is_not_quantity(squeezed, found.start(), found.end()):
                continue
            value = parse_numeral(found.group())
            if value is None:
                continue
            end = found.end()
            half = _and_a_half(squeezed, end) if value == value.to_integral_value() else None
            if half is not None:
                value, end = value + _HALF, half  # 一片半, 两个半小时: 1.5, 2.5
            if self._in_range(value):
                span = original_span(index, found.start(), end)
                bare = not counted_at(squeezed, found.end())
                candidates.append(Candidate(span.start, span.end, number_value(value), unsure=bare))
        candidates += self._pairs_and_trios(text)
        return resolve(text, candidates)

    def _pairs_and_trios(self, text: str) -> Iterator[Candidate]:
        """俩 and 仨, 两个 and 三个 in one character (来俩, 收仨, 俩人): a count, but not
        after a determiner, a pronoun or a word of kin (这俩, 咱俩, 我们仨, 姐妹俩, 娘俩:
        which or who, not how many), nor in 伎俩."""
        if not any(char in text for char in _PAIRS_AND_TRIOS):
            return  # on the callback path: most utterances have neither
        for at, char in enumerate(text):
            value = _PAIRS_AND_TRIOS.get(char)
            if value is None or text[at - 1 : at] in _WHO_BEFORE_A_PAIR:
                continue
            if self._in_range(Decimal(value)):
                yield Candidate(at, at + 1, number_value(Decimal(value)))


_PAIRS_AND_TRIOS = {"俩": 2, "仨": 3}
_WHO_BEFORE_A_PAIR = frozenset("这那哪我你他她它咱们伎哥姐弟妹兄叔伯姑舅姨爷奶婶嫂侄孙娘妈爸夫妻儿女子")
"""Before 俩 or 仨, a determiner (这俩: "these two") or the last characters of who they are
(咱俩, 我们仨, 兄弟俩, 娘俩, 父子俩), and 伎 of 伎俩."""
_HALF = Decimal("0.5")
_HALF_MARK = "半"
_HALF_A_DAY = "半天"
"""After a classifier, a noun of its own (两个半天: two half-days), not "and a half"."""


def _and_a_half(text: str, end: int) -> int | None:
    """Where 半 after the classifier or measure at ``end`` ends (一片半, 两个半小时, 一年半:
    "and a half"), or None."""
    after = measure_end(text, end)
    if after is None or text[after : after + 1] != _HALF_MARK or text.startswith(_HALF_A_DAY, after):
        return None
    return after + 1


_ONE_DIGIT = f"[{DIGIT_CLASS}]"
# After 块 and a digit, a classifier makes a price per thing (五块一斤, 三块一个), not 角
# or 分 (一块八一斤 is 1.8 yuan a jin).
_PER_THING = "".join(sorted(COUNTERS - set("分毛角钱")))
_SMALL_DIGIT = f"{_ONE_DIGIT}(?![{_PER_THING}])"
_MONEY_UNITS = frozenset("块元圆角毛钱分")


def _counts_things(text: str, end: int) -> bool:
    """A bare numeral before a classifier or measure noun that is not money counts
    things (一个月, 三次, 两小时, 五公里)."""
    return counted_at(text, end) and text[end] not in _MONEY_UNITS


_AMOUNT = re.compile(
    r"(?:[¥￥]\s*)?(?:"
    # 三千五百块, 三块五, 一千二百三十四块五毛六, 2000块钱, 三块零五
    rf"(?P<yuan>{NUMERAL_PATTERN})\s*(?:块|元|圆)(?:钱|人民币)?"
    # 三块半
    r"(?:(?P<half>半)"
    # 两块八毛, 二十块零八毛 (零 before 毛 is a pause, not a digit)
    rf"|零?(?P<jiao_unit>{_ONE_DIGIT})[毛角](?:(?P<fen_unit>{_SMALL_DIGIT})分?)?"
    rf"|(?P<jiao>{_SMALL_DIGIT})(?![{CN_UNITS}])(?:(?P<fen>{_SMALL_DIGIT})分?)?)?"
    # 五毛, 五毛六, 五角六分
    rf"|(?P<jiao_only>{_ONE_DIGIT})[毛角](?:(?P<fen_only>{_SMALL_DIGIT})分?)?"
    # 五分钱: 分 alone needs 钱 (五分 is also a score, or minutes)
    rf"|(?P<fen_alone>{_ONE_DIGIT})分钱"
    # 三千五, 1.5万
    rf"|(?P<bare>{NUMERAL_PATTERN})"
    r")(?:钱)?"
)
_CENT = Decimal("0.01")


def _digit(spoken: str | None) -> Decimal:
    return Decimal(digits_value(spoken) or 0) if spoken else Decimal(0)


class AmountSlot(_Bounded):
    """A sum of money in yuan: 三千五, 两万三千块, 1.5万, 三块五毛, 一千二百三十四块五毛六.

    The value is an int when whole, else a float rounded to cents. A bare number
    is taken as yuan, as callers answer "how much" with one, but the match is
    ``unsure``: nothing said it was money. ``min`` and ``max`` filter like those
    of ``number``.
    """

    name = "amount"

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> AmountSlot:
        """Build from a flow's options; ValueError names a bad one (see ``make_slot_type``)."""
        return cls(*cls._bounds(options))

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        squeezed, index = squeeze_numerals(fold(text))
        candidates: list[Candidate] = []
        for found, value in self._amounts(squeezed):
            if self._in_range(value):
                span = original_span(index, found.start(), found.end())
                unit_said = found["bare"] is None
                candidates.append(Candidate(span.start, span.end, number_value(value), unsure=not unit_said))
        return resolve(text, candidates)

    @staticmethod
    def _amounts(text: str) -> Iterator[tuple[re.Match[str], Decimal]]:
        for found in _AMOUNT.finditer(text):
            groups = found.groupdict()
            if groups["jiao_only"] or groups["fen_alone"]:
                digit = "jiao_only" if groups["jiao_only"] else "fen_alone"
                if is_not_quantity(text, found.start(), found.end()):  # 九牛一毛
                    continue
                if is_not_quantity(text, found.start(digit), found.end(digit)):  # 一毛都没退
                    continue
                yuan: Decimal | None = Decimal(0)
                jiao, fen = groups["jiao_only"], groups["fen_only"] or groups["fen_alone"]
            else:
                name = "yuan" if groups["yuan"] else "bare"
                if is_not_quantity(text, found.start(name), found.end(name)):
                    continue
                if name == "bare" and _counts_things(text, found.end(name)):
                    continue  # 一个月, 三个人: a count, not money
                yuan = parse_numeral(groups[name])
                jiao, fen = groups["jiao_unit"] or groups["jiao"], groups["fen_unit"] or groups["fen"]
            if yuan is None:
                continue
            value = yuan + _digit(jiao) / 10 + _digit(fen) / 100 + (_HALF if groups.get("half") else 0)
            yield found, value.quantize(_CENT, rounding=ROUND_HALF_UP)
