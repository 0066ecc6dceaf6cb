"""The time slot type: a time of day as "HH:MM".

Forms: 下午三点半, 上午十点, 晚上八点, 三点一刻, 九点四十五, 十点二十分, 十点零五,
两点整, 八点钟, 15:30, 下午3:30, 15点30分.

How the hour is read:

==============================  ============================================
Said                            Hour
==============================  ============================================
no period, 1-7 (三点一刻)       afternoon: 13-19. A call center is open in
                                the day; nobody books a callback at 03:15.
no period, 0 and 8-23           as said (九点 09:00, 十二点 12:00, 15:30)
凌晨                            as said; 十二点 is 00:00
早上 早晨 清晨 上午             as said, up to 12
中午                            1-5 afternoon (中午一点 13:00), else as said
下午 傍晚                       1-11 plus 12
晚上 今晚                       5-11 plus 12, 十二点 00:00, 1-4 as said
                                (晚上一点 is after midnight)
夜里 夜间 半夜 深夜             6-11 plus 12, 十二点 00:00, 0-5 as said
==============================  ============================================

An hour said in 24-hour form (13-23) is kept whatever the period. A lone 一点
after 快/早/晚/慢/多/少... or before 儿 is "a little", not one o'clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bot.language.slots.base import (
    Candidate,
    OptionReader,
    SlotContext,
    SlotMatch,
    SlotTypeBase,
    fold,
    resolve,
)
from bot.language.slots.spoken import small_int

_NUM = "[0-9０-９零〇一二两三四五六七八九十幺]"
_PERIODS = "凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上|今晚|夜里|夜间|半夜|深夜"
_PERIOD = rf"(?:(?P<period>{_PERIODS})\s*)?"
_CLOCK = re.compile(rf"{_PERIOD}(?<![0-9])(?P<hour>[0-9]{{1,2}})\s*[:：]\s*(?P<minute>[0-9]{{2}})(?![0-9])")
_SPOKEN = re.compile(
    rf"{_PERIOD}(?<!{_NUM})(?P<hour>{_NUM}{{1,3}})\s*(?:点钟|点|时)\s*"
    rf"(?:(?P<half>半)|(?P<quarter>一刻|三刻)|整|(?P<minute>{_NUM}{{1,3}})\s*分?)?"
)
# 快一点, 早一点, 多一点儿: "a little", not one o'clock.
_A_LITTLE_BEFORE = frozenset("快早晚慢多少大小好高低些再稍")


def _afternoon(hour: int) -> int:
    return hour + 12 if 1 <= hour <= 11 else hour


def _evening(hour: int) -> int:
    if hour == 12:
        return 0
    return hour + 12 if 5 <= hour <= 11 else hour


def _night(hour: int) -> int:
    if hour == 12:
        return 0
    return hour + 12 if 6 <= hour <= 11 else hour


def _bare(hour: int) -> int:
    return hour + 12 if 1 <= hour <= 7 else hour


_PERIOD_RULES: dict[str | None, Callable[[int], int | None]] = {
    None: _bare,
    "凌晨": lambda h: 0 if h == 12 else h,
    **dict.fromkeys(("早上", "早晨", "清晨", "上午"), lambda h: h if h <= 12 else None),
    "中午": lambda h: h + 12 if 1 <= h <= 5 else h,
    **dict.fromkeys(("下午", "傍晚"), _afternoon),
    **dict.fromkeys(("晚上", "今晚"), _evening),
    **dict.fromkeys(("夜里", "夜间", "半夜", "深夜"), _night),
}


def _clock_hour(hour: int, period: str | None) -> int | None:
    if not 0 <= hour <= 23:
        return None
    if hour >= 13:
        return hour  # 24-hour form needs no period
    return _PERIOD_RULES[period](hour)


def _minute(found: re.Match[str]) -> int | None:
    groups = found.groupdict()  # the clock pattern has no 半 or 刻
    if groups.get("half"):
        return 30
    if quarter := groups.get("quarter"):
        return 15 if quarter == "一刻" else 45
    if groups["minute"]:
        return small_int(groups["minute"])
    return 0


def _is_a_little(text: str, found: re.Match[str]) -> bool:
    """一点 in 快一点 / 一点儿 is an amount, not a time."""
    if found["period"] or found["hour"] != "一" or found.end() != found.end("hour") + 1:
        return False
    before = text[found.start() - 1] if found.start() else ""
    return before in _A_LITTLE_BEFORE or text.startswith("儿", found.end())


class TimeSlot(SlotTypeBase):
    """A time of day; the value is "HH:MM". See the module docstring for the hour rules."""

    name = "time"

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> TimeSlot:
        """Build from a flow's options; ValueError names a bad one (see ``make_slot_type``)."""
        OptionReader(cls.name, options, ())
        return cls()

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        folded = fold(text)  # １５：３０ is 15:30; offsets are unchanged
        candidates: list[Candidate] = []
        for rank, pattern in enumerate((_SPOKEN, _CLOCK)):
            for found in pattern.finditer(folded):
                value = self._value(folded, found)
                if value is not None:
                    candidates.append(Candidate(found.start(), found.end(), value, rank))
        return resolve(text, candidates)

    @staticmethod
    def _value(text: str, found: re.Match[str]) -> str | None:
        raw_hour = small_int(found["hour"])
        minute = _minute(found)
        if raw_hour is None or minute is None or not 0 <= minute <= 59 or _is_a_little(text, found):
            return None
        hour = _clock_hour(raw_hour, found["period"])
        return None if hour is None else f"{hour:02d}:{minute:02d}"
