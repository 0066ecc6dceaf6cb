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
after 快/早/晚/慢/多/少..., after an adjective (近一点, 贵一点) or 了 (用了一点), before
儿, or before what it measures and 都 or 也 and a negation (一点消息都没有), is "a
little", not one o'clock; so is one after any other verb or adjective (便宜一点,
正经一点的, 会一点英语) unless a verb follows it (一点开会). After a word of time, a
pronoun, a preposition or a verb that sets a time (明天一点, 我一点到, 在一点, 约一点), or
alone, it is 13:00.

Two digits side by side (两三点, 三四点) are "two or three o'clock": no one time, no
value. A number of minutes said without 分 before a unit (二点五毫升, 一点五倍) is a
decimal, no time.

A time right after a day (明天一点半, 周五三点, 周五15点, 星期一一点半) or a part of the
day (一大早六点半) is read whatever word the characters before it start (天一, 五三,
一大早): the day and the period are words of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.language.slots.base import (
    Candidate,
    SlotContext,
    SlotMatch,
    SlotTypeBase,
    fold,
    is_han,
    resolve,
)
from bot.language.slots.numeral_context import even_negated
from bot.language.slots.numeral_shapes import is_unpaired_digits
from bot.language.slots.numeral_words import (
    in_numeral_idiom,
    inside_word,
    lexicon,
    measure_end,
    numeral_words,
)
from bot.language.slots.spoken import small_int, squeezed_candidates

_NUM = "[0-9０-９零〇一二两三四五六七八九十幺]"
_MORNING = ("早上", "早晨", "清晨", "清早", "大清早", "一早", "大早上", "今早", "明早", "昨早", "早", "上午")
_EVENING = ("晚上", "今晚", "明晚", "昨晚", "晚间", "夜晚", "晚")
_NIGHT = ("夜里", "夜间", "半夜", "深夜", "今夜", "昨夜")
_PERIODS = "|".join(
    sorted(("凌晨", "中午", "下午", "傍晚", *_MORNING, *_EVENING, *_NIGHT), key=len, reverse=True)
)
_PERIOD = rf"(?:(?P<period>{_PERIODS})\s*)?"
_WEEK_MARKS = "周期拜"
"""The last character of a word for the week (周, 星期, 礼拜): a weekday's digit follows."""
_WEEKDAYS = "一二三四五六日天1234567"
_WEEKDAY = f"[{_WEEK_MARKS}][{_WEEKDAYS}]"
# An hour's first digit follows no other (二十三点 is one hour), but for a weekday's
# (周五三点, 星期一一点, 周五15点), and is no weekday's itself (周五 in 周五三点).
_HOUR_START = rf"(?<![{_WEEK_MARKS}])(?:(?<!{_NUM})|(?<={_WEEKDAY}))"
# 差一刻四点, 四点差一刻, 差十分三点: minutes before the hour.
_GAP = rf"(?P<gap>一刻|三刻|{_NUM}{{1,2}}\s*分钟?)"
_BEFORE = re.compile(
    rf"{_PERIOD}(?:差\s*{_GAP}\s*{_HOUR_START}(?P<hour>{_NUM}{{1,3}})\s*(?:点钟|点)"
    rf"|{_HOUR_START}(?P<hour2>{_NUM}{{1,3}})\s*(?:点钟|点)\s*差\s*{_GAP.replace('gap', 'gap2')})"
)
_CLOCK = re.compile(rf"{_PERIOD}(?<![0-9])(?P<hour>[0-9]{{1,2}})\s*[:：]\s*(?P<minute>[0-9]{{2}})(?![0-9])")
_SPOKEN = re.compile(
    rf"{_PERIOD}{_HOUR_START}(?P<hour>{_NUM}{{1,3}})\s*(?:点钟|点|时)\s*"
    rf"(?:(?P<half>半)|(?P<quarter>一刻|三刻)|整|(?P<minute>{_NUM}{{1,3}})\s*分?)?"
)
# 快一点, 早一点, 多一点儿, 差一点, 有一点: "a little", not one o'clock; so is 一点
# before 儿/也/都/点 (一点儿, 一点也不, 一点都不, 一点点).
_A_LITTLE_BEFORE = frozenset("快早晚慢多少大小好高低些再稍差有了")
_A_LITTLE_AFTER = frozenset("儿也都点")
# 一点消息都没有, 一点耐心也没有: "not a bit of", up to this many characters between.
_WHAT_A_LITTLE_REACH = 4
# After 一点, what goes on with a clock time (一点钟, 一点以前, 一点左右, 一点到, 一点的):
# no measured thing.
_CLOCK_GOES_ON = frozenset("钟前后之以左到多过半的开起整见")
_TIME_CONTEXT = frozenset(
    "到约定改等是挪排推提为成"  # verbs that set a time
    "就才都还也或者们从至"  # adverbs, joins, pronouns
    "天日号午上晚早周拜期明今后前点时钟半整"  # words of time
)
"""Before a bare 一点, what makes it a clock time: verbs that set one (约, 改到, 定在),
adverbs (就一点), words of time (明天, 周三, 下午), joins (或者一点)."""
_OF = "的"
_DAY_ENDS = frozenset("天日号")


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
    **dict.fromkeys(_MORNING, lambda h: h if h <= 12 else None),
    "中午": lambda h: h + 12 if 1 <= h <= 5 else h,
    **dict.fromkeys(("下午", "傍晚"), _afternoon),
    **dict.fromkeys(_EVENING, _evening),
    **dict.fromkeys(_NIGHT, _night),
}


def _clock_hour(hour: int, period: str | None) -> int | None:
    if not 0 <= hour <= 23:
        return None
    if hour >= 13:
        return hour  # 24-hour form needs no period
    return _PERIOD_RULES[period](hour)


def _minute(found: re.Match[str]) -> int | None:
    groups = found.groupdict()  # the clock pattern has no 半 or 刻
    if gap := groups.get("gap") or groups.get("gap2"):
        before = 15 if gap == "一刻" else 45 if gap == "三刻" else small_int(gap.rstrip("分钟 "))
        return None if before is None or not 1 <= before <= 59 else 60 - before
    if groups.get("half"):
        return 30
    if quarter := groups.get("quarter"):
        return 15 if quarter == "一刻" else 45
    if groups["minute"]:
        return small_int(groups["minute"])
    return 0


def _is_a_little(text: str, found: re.Match[str]) -> bool:
    """一点 in 快一点 / 一点儿 / 早一点 is an amount, not a time."""
    hour = found.groupdict().get("hour")
    end = found.end("hour") + 1 if hour else found.end()  # 一点, less the spaces after it
    if hour != "一" or text[end : found.end()].strip() or found["period"] not in (None, "早", "晚"):
        return False
    if found["period"]:  # 早一点, 晚一点: earlier, later
        return True
    before = text[found.start() - 1] if found.start() else ""
    if before in _A_LITTLE_BEFORE or before in lexicon().adjectives:
        return True
    # A pause after it ends what it belongs to: 小心一点 是我姥爷的 is 小心一点.
    after = "" if end < found.end() else text[end : end + 1]
    return after in _A_LITTLE_AFTER or _not_a_bit_of(text, end) or _after_a_word(before, after)


def _after_a_word(before: str, after: str) -> bool:
    """Whether a bare 一点 after ``before`` and before ``after`` (a character each, or
    nothing) is "a little" after a verb or an adjective (便宜一点, 正经一点的, 会一点英语):
    a clock time follows a word of time, a pronoun or a preposition (明天一点, 我一点到,
    在一点), a verb that sets a time (约一点, 改到一点), or stands alone, and goes on
    with 钟, 以前… or a verb (一点开会)."""
    if not before or not is_han(before) or before in _TIME_CONTEXT or before in _WEEKDAYS:
        return False  # 星期一一点
    if before in lexicon().function_chars:
        return False
    if not after or not is_han(after) or after == _OF:
        return True  # 便宜一点, 正经一点的工作
    return after not in _CLOCK_GOES_ON and after not in lexicon().verbs


def _not_a_bit_of(text: str, end: int) -> bool:
    """Whether what follows 一点 (ending at ``end``) is a thing, then 都 or 也 and a
    negation: 一点消息都没有, 一点耐心也没有."""
    if end >= len(text) or text[end] in _CLOCK_GOES_ON:
        return False
    return even_negated(text, end + 1, end + _WHAT_A_LITTLE_REACH + 1)


def _after_a_day(text: str, start: int) -> bool:
    """Whether a day is named right before ``start``: 明天, 那天, 五号, 十二日, 周五,
    星期三, 礼拜天."""
    if start == 0:
        return False
    if text[start - 1] in _DAY_ENDS:
        return True
    return start > 1 and text[start - 2] in _WEEK_MARKS and text[start - 1] in _WEEKDAYS


class TimeSlot(SlotTypeBase):
    """A time of day; the value is "HH:MM". See the module docstring for the hour rules."""

    name = "time"

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        # fold: １５：３０ is 15:30; offsets are unchanged.
        return resolve(text, squeezed_candidates(fold(text), self._candidates))

    def _candidates(self, folded: str) -> list[Candidate]:
        words = numeral_words()
        candidates: list[Candidate] = []
        for rank, pattern in enumerate((_SPOKEN, _CLOCK, _BEFORE)):
            for found in pattern.finditer(folded):
                start, end = found.start(), found.end()
                # Spaces aside: the pattern takes those after the time (一时 拿不定).
                whole_word = found["period"] is None and folded[start:end].replace(" ", "") in words
                # After a day (明天一点, 周五三点) or with a period (一大早六点半) no word
                # begins before the time (天一, 五三, 一大早).
                cut = start if found["period"] or _after_a_day(folded, start) else 0
                if whole_word or inside_word(folded[cut:], start - cut, end - cut, words):
                    continue  # 一时 (for a moment) is a word; so is 三点水 around 三点
                if in_numeral_idiom(folded[cut:], start - cut, end - cut):
                    continue  # 一点一滴
                candidate = self._candidate(folded, found, rank)
                if candidate is not None:
                    candidates.append(candidate)
        return candidates

    @staticmethod
    def _candidate(text: str, found: re.Match[str], rank: int) -> Candidate | None:
        said_hour = found["hour"] or found.groupdict().get("hour2")
        if said_hour is None or is_unpaired_digits(said_hour):
            return None  # 两三点: "two or three", no one time
        raw_hour = small_int(said_hour)
        minute = _minute(found)
        if raw_hour is None or minute is None or not 0 <= minute <= 59 or _is_a_little(text, found):
            return None
        said_minute = found.groupdict().get("minute")
        if said_minute and "十" not in said_minute and measure_end(text, found.end()) is not None:
            # 二点五毫升, 一点五倍: a decimal before its unit; but a decimal's digits are
            # said one by one, so 四点四十五把件放进去 is a time.
            return None
        hour = _clock_hour(raw_hour, found["period"])
        if hour is None:
            return None
        before_hour = found.groupdict().get("gap") or found.groupdict().get("gap2")
        others: tuple[str, ...] = ()
        if found["period"] is None and 1 <= raw_hour <= 11:  # 两点: 02:00 or 14:00?
            other = raw_hour if hour != raw_hour else raw_hour + 12
            others = (_clock(other, minute, before_hour is not None),)
        value = _clock(hour, minute, before_hour is not None)
        return Candidate(found.start(), found.end(), value, rank, alternatives=others)


def _clock(hour: int, minute: int, before_hour: bool) -> str:
    """ "HH:MM"; ``before_hour``: ``minute`` is in the hour before (差一刻四点 is 3:45)."""
    return f"{(hour - 1) % 24 if before_hour else hour:02d}:{minute:02d}"
