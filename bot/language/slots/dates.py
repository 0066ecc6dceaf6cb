"""The date slot type: absolute and relative dates resolved against the call's date.

Rules, for dates that do not name everything:

========================  ==================================================
Said                      Resolved to
========================  ==================================================
今天 明天 后天 大后天     today + 0, 1, 2, 3 (昨天 前天 大前天: -1, -2, -3)
下周三 下星期三 下礼拜三  Wednesday of next week; weeks start on Monday
下下周三 / 上周三         two weeks on / last week (上上周三: two weeks ago)
这周五 本周五             Friday of the current week, even if it is past: the
                          caller named the week ("我这周三已经还了")
周五 星期五 (bare)        the next Friday on or after today (today included;
                          said on a Friday it is unsure: a week on is offered)
3月5号 三月五日 五月二十  this year, or next year if already past; told as
                          past (3月5号买的, 五号办过), this year's all the same
下个月5号 这个月5号       that day of that month, past or not (上上个月: two ago)
15号 (bare)               this month, or next month if already past (told as
                          past, 15号交的: this month's all the same); no match
                          if that month has no such day (31号 in November)
月底 / 下个月底           the last day of this / next month
2026年3月5日 2026-03-05   as said; 今年 / 明年 / 去年 3月5号 likewise
98年3月5号 二五年十月八号 a two-digit year: 20xx up to ten years ahead, else 19xx
今早 今晚 明晚 昨晚       the day of 今天 / 明天 / 昨天
========================  ==================================================

"Past" means before today; today itself is never past. Impossible dates (2月30日)
are no match. "5.20" and other dot forms without a year are ambiguous with
decimals and prices and are not read as dates.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable, Iterator

from bot.language.slots.base import (
    Candidate,
    SlotContext,
    SlotMatch,
    SlotTypeBase,
    fold,
    is_han,
    resolve,
)
from bot.language.slots.numeral_words import in_numeral_idiom, inside_word, lexicon, numeral_words
from bot.language.slots.spoken import small_int, squeezed_candidates
from bot.text.digits import digits_value

_N = "[0-9０-９零〇一二两三四五六七八九十幺]{1,3}"
# A date's first numeral is not the tail of a longer number (1012号 is not the 12th) nor
# of a vague one (几十号人: some tens of people).
_START = "(?<![0-9０-９零〇一二两三四五六七八九十百千万幺几])"
_YEAR = "[0-9０-９零〇一二三四五六七八九幺]{4}"
_SHORT_YEAR = "[0-9０-９零〇一二三四五六七八九幺]{2}"
# A two-digit year up to this many years ahead is this century's (26年, 30年), else
# the last one's (98年, 八九年): callers name birth years and past events far more
# often than years more than a decade away.
_SHORT_YEAR_AHEAD = 10
_MONTH_OFFSET = {"下下": 2, "下": 1, "这": 0, "本": 0, "上": -1, "上上": -2}
_RELATIVE_DAYS = {
    "大前天": -3,
    "前天": -2,
    "昨天": -1,
    "昨日": -1,
    "今天": 0,
    "今日": 0,
    "今儿": 0,
    "明天": 1,
    "明日": 1,
    "明儿": 1,
    "后天": 2,
    "大后天": 3,
    # A part of the day fused with its day: 今早七点, 明晚八点半, 昨晚.
    **dict.fromkeys(("今早", "今晚", "今夜"), 0),
    **dict.fromkeys(("明早", "明晚"), 1),
    **dict.fromkeys(("昨早", "昨晚", "昨夜"), -1),
}
_YEAR_OFFSET = {"去年": -1, "今年": 0, "明年": 1}
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY.update({str(d + 1): d for d in range(6)})


def _offset(rel: str | None) -> int:
    """Months or weeks from now named by 下下/下/这/本/上 (with or without 个)."""
    return _MONTH_OFFSET[rel.rstrip("个")] if rel else 0


def _add_months(day: datetime.date, months: int) -> tuple[int, int]:
    total = day.year * 12 + day.month - 1 + months
    return total // 12, total % 12 + 1


def _make(year: int, month: int | None, day: int | None) -> datetime.date | None:
    if month is None or day is None:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


_Resolver = Callable[[re.Match[str], datetime.date], datetime.date | None]


def _full_date(m: re.Match[str], today: datetime.date) -> datetime.date | None:
    year_text = digits_value(m["year"])
    return _make(int(year_text), small_int(m["month"]), small_int(m["day"])) if year_text else None


def _short_year_date(m: re.Match[str], today: datetime.date) -> datetime.date | None:
    digits = digits_value(m["year"])
    if digits is None:
        return None
    year = 2000 + int(digits)
    if year > today.year + _SHORT_YEAR_AHEAD:
        year -= 100
    return _make(year, small_int(m["month"]), small_int(m["day"]))


def _iso_date(m: re.Match[str], today: datetime.date) -> datetime.date | None:
    return _make(int(m["y"]), int(m["m"]), int(m["d"]))


def _relative_year(m: re.Match[str], today: datetime.date) -> datetime.date | None:
    return _make(today.year + _YEAR_OFFSET[m["ry"]], small_int(m["month"]), small_int(m["day"]))


def _month_day(m: re.Match[str], today: datetime.date) -> datetime.date | None:
    month, day = small_int(m["month"]), small_int(m["day"])
    this_year = _make(today.year, month, day)
    if this_year is not None and this_year >= today:
        return this_year
    # Past (or 2月29日 outside a leap year): the caller means the next one.
    return _make(today.year + 1, month, day)


def _month_day_past(m: re.Match[str], today: datetime.date) -> datetime.date | None:
    # Told as past (see ``_told_as_past``): this year's, past or not, never next year's.
    return _make(today.year, small_int(m["month"]), small_int(m["day"]))


def _relative_month_day(m: re.Match[str], today: datetime.date) -> datetime.date | None:
    year, month = _add_months(today, _offset(m["rel"]))
    return _make(year, month, small_int(m["day"]))


def _day_only(m: re.Match[str], today: datetime.date) -> datetime.date | None:
    day = small_int(m["day"])
    if day is None:
        return None
    months = 0 if day >= today.day else 1
    year, month = _add_months(today, months)
    return _make(year, month, day)


def _day_only_past(m: re.Match[str], today: datetime.date) -> datetime.date | None:
    # Told as past: this month's, past or not, never next month's.
    return _make(today.year, today.month, small_int(m["day"]))


_IN_THE_PAST: dict[_Resolver, _Resolver] = {_month_day: _month_day_past, _day_only: _day_only_past}
"""The readings of a day told as past (see ``_told_as_past``)."""

# A day told as past: a verb of a few characters after it and then 的 (是11月20号买的,
# 二十六号交的钱; but 5号去的话, 12号来的时候 are ahead) or 过 (3号去过).
_PAST_REACH = 3
_PAST_MARKS = frozenset("的过")
_NOT_PAST_AFTER = ("的话", "的时候", "过来", "过去")


def _told_as_past(text: str, end: int) -> bool:
    """Whether a day ending at ``end`` is told as past: one to three characters of a
    verb (no function word, no numeral) and 的 or 过 after it, but not 的话, 的时候."""
    words = lexicon()
    for at in range(end + 1, min(end + _PAST_REACH + 1, len(text))):
        char = text[at - 1]
        if not is_han(char) or char in words.function_chars:
            return False
        if text[at] in _PAST_MARKS:
            return not text.startswith(_NOT_PAST_AFTER, at) and text[end] in words.verbs
    return False


def _month_end(m: re.Match[str], today: datetime.date) -> datetime.date | None:
    year, month = _add_months(today, _offset(m["rel"]))
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def _relative_day(m: re.Match[str], today: datetime.date) -> datetime.date | None:
    return today + datetime.timedelta(days=_RELATIVE_DAYS[m[0]])


def _weekday(m: re.Match[str], today: datetime.date) -> datetime.date | None:
    # 周六 said on a Saturday: today, or a week on? ``_alternatives`` offers the other.
    weekday = _WEEKDAY[m["wd"]]
    if m["wrel"] is None:
        return today + datetime.timedelta(days=(weekday - today.weekday()) % 7)
    monday = today - datetime.timedelta(days=today.weekday())
    return monday + datetime.timedelta(weeks=_offset(m["wrel"]), days=weekday)


# The last characters of the names of places, rooms, fixtures, shops, machines and the
# staff numbered like them (门, 馆, 仓库, 诊室, 车厢, 航站楼, 泳道, 出口, 充电桩, 七号店,
# 3号机, 三号技师, 一号样板间, 一号商业街), and of things sold by a size called 号 (五号电池,
# 7号球): a number and 号 before such a name is the place's number or the size, not a day.
# Events after a day are days (3号体检, 12号手术, 6号婚礼, 3号登机: a verb ends a name).
_PLACES = frozenset("楼线床房室院窗台门馆库站厅柜仓厢岗位区栋桌梯道口桩店场机师间池球街")
_PLACES_NAMED_BY_A_VERB = (
    *("出口", "入口", "进口", "检票口", "登机口", "充电桩", "停车位", "候车室", "候诊室"),
    *("分店", "门店", "训练场", "练习场", "考场"),
)
"""Names of places that begin with a verb (出, 充, 停), which otherwise ends a name: a
number and 号 before one is the place's (3号出口, 5号充电桩), as before 3号交房 it is a day."""
_PLACE_NAME_REACH = 3
"""The longest name after 号 looked at (航站楼, 候车室)."""
_OPENINGS = ("口", "窗口")
"""What ends the name of a counter or a gate that may begin with a verb (卸货口, 售票口,
取餐口, 缴费窗口): a number and 号 before a verb and a noun and one of these is the
place's (2号卸货口), as 3号交房 is a day; but not after a verb of going (3号到门口: a day)."""
_GOING = frozenset("去到在来回往")
# Before a number and 号, a street: a house number (建设路25号), not a day.
_STREETS = frozenset("路街巷弄")


def _names_a_place(text: str, found: re.Match[str]) -> bool:
    """Whether a bare day (N号) is the number of a place: before the name of a place
    (5号门, 8号仓库, 1号航站楼, 4号诊室), or after a street (解放街16号). A verb or a
    function word after 号 ends the name (20号到店, 3号以前: days)."""
    start, end = found.start(), found.end()
    if (start > 0 and text[start - 1] in _STREETS) or text.startswith(_PLACES_NAMED_BY_A_VERB, end):
        return True
    named = is_han(text[end : end + 1]) and is_han(text[end + 1 : end + 2]) and text[end] not in _GOING
    if named and text.startswith(_OPENINGS, end + 2):
        return True  # 2号卸货口, 3号缴费窗口
    words = lexicon()
    for char in text[end : end + _PLACE_NAME_REACH]:
        if char in _PLACES:
            return True
        if not is_han(char) or char in words.verbs or char in words.function_chars:
            return False
    return False


def _names_no_day(text: str, found: re.Match[str]) -> bool:
    """Whether a bare day (N号, N日) names a place (see ``_names_a_place``) or is cut by
    a word (一日游)."""
    return _names_a_place(text, found) or inside_word(text, found.start(), found.end(), numeral_words())


# The 下 of 一下 is no "next": 问一下下周三 is next Wednesday (问一下下下周三, the one after).
_REL = "(?<!一)下下个?|下个?|这个?|本|上上个?|上个?"
_DAY = rf"(?P<day>{_N})\s*(?:日|号)"
# After a month the day needs no 号: 五月二十.
_MONTH_DAY = rf"(?P<month>{_N})月份?\s*(?P<day>{_N})\s*(?:日|号)?"
# In order of specificity: an earlier pattern wins a tie in length.
_PATTERNS: tuple[tuple[re.Pattern[str], _Resolver], ...] = (
    (re.compile(rf"{_START}(?P<year>{_YEAR})年\s*{_MONTH_DAY}"), _full_date),
    (re.compile(rf"{_START}(?P<year>{_SHORT_YEAR})年\s*{_MONTH_DAY}"), _short_year_date),
    (re.compile(r"(?<![0-9])(?P<y>[0-9]{4})([-/.])(?P<m>[0-9]{1,2})\2(?P<d>[0-9]{1,2})(?![0-9])"), _iso_date),
    (re.compile(rf"(?P<ry>今年|明年|去年)\s*{_MONTH_DAY}"), _relative_year),
    (re.compile(rf"{_START}{_MONTH_DAY}"), _month_day),
    (re.compile(rf"(?P<rel>{_REL})月\s*{_DAY}"), _relative_month_day),
    # 3号线, 5号楼 and the like are places, not days (see ``_names_a_place``).
    (re.compile(rf"{_START}{_DAY}(?![楼线床房室院窗台])"), _day_only),
    (re.compile(rf"(?:(?P<rel>{_REL}))?月底"), _month_end),
    (re.compile("|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True))), _relative_day),
    (re.compile(rf"(?:(?P<wrel>{_REL})\s*)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-6])"), _weekday),
)


class DateSlot(SlotTypeBase):
    """A calendar day, resolved against ``SlotContext.today``; the value is "YYYY-MM-DD".

    See the module docstring for how partial and relative dates are resolved.
    """

    name = "date"

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        # Folding (width) keeps offsets, so the spans found in it are the text's.
        found = squeezed_candidates(fold(text), lambda squeezed: self._candidates(squeezed, context.today))
        return resolve(text, found)

    @staticmethod
    def _candidates(text: str, today: datetime.date) -> Iterator[Candidate]:
        for rank, (pattern, resolver) in enumerate(reversed(_PATTERNS)):
            for found in pattern.finditer(text):
                if in_numeral_idiom(text, found.start(), found.end()):
                    continue  # 一日三餐 is no 1st of the month
                if resolver is _day_only and _names_no_day(text, found):
                    continue  # 5号门, 解放街16号, 一日游
                past = _IN_THE_PAST.get(resolver)
                day = (past if past and _told_as_past(text, found.end()) else resolver)(found, today)
                # Earlier patterns are more specific: they win a tie in length. An
                # impossible date vetoes the shorter readings inside it.
                value = None if day is None else day.isoformat()
                others = _alternatives(found, day, today) if resolver is _weekday else ()
                yield Candidate(found.start(), found.end(), value, rank, alternatives=others)


def _alternatives(found: re.Match[str], day: datetime.date | None, today: datetime.date) -> tuple[str, ...]:
    """A bare weekday that is today's (周六 on a Saturday) may mean a week on."""
    if day is None or found["wrel"] is not None or day != today:
        return ()
    return ((day + datetime.timedelta(weeks=1)).isoformat(),)
