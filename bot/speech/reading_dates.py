"""Dates, years and clock times, read as a call-center agent says them.

* ``2024-03-05``, ``2024/3/5`` and ``2024.3.5`` → 二零二四年三月五日; the year
  is read digit by digit with 一 and 零 (一九九八, 二零零八), month and day as
  numbers (三月五日, 十二月二十五日). Only real months (1–12) and days (1–31)
  make a date; anything else is left to the other readings.
* A year written before 年 (``2024年``, ``1990年代``), 1900–2099, is read the
  same way; ``2023-2024年`` → 二零二三到二零二四年.
* ``14:30`` → 十四点三十分, ``8:05`` → 八点零五分, ``9:00`` → 九点, ``2:00`` →
  两点 (the hour counts, so 2 is 两), ``14:30:15`` → 十四点三十分十五秒. The full-width
  colon (``14：30``) works alike.

The patterns are pieces of :mod:`bot.speech.reading_numbers`' one scanner; each
reader takes that scanner's match.
"""

from __future__ import annotations

import re

from bot.speech.chinese_numbers import integer_to_chinese, year_to_chinese

_MONTH = r"(?:0?[1-9]|1[0-2])"
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_YEAR = r"(?:1[89][0-9]{2}|20[0-9]{2})"

DATE_PATTERN = (
    rf"(?<![0-9.])(?P<date_y>{_YEAR})(?P<date_sep>[-/.])(?P<date_m>{_MONTH})(?P=date_sep)"
    rf"(?P<date_d>{_DAY})(?![0-9]|\.[0-9])"
)
"""A full date with dashes, slashes or dots; the day may be followed by 日 or 号."""

YEAR_RANGE_PATTERN = rf"(?<![0-9])(?P<years_a>{_YEAR})\s*[-~～–—至到]\s*(?P<years_b>{_YEAR})(?=\s*年)"
"""Two years joined as a range before 年."""

YEAR_PATTERN = rf"(?<![0-9.])(?P<year>{_YEAR})(?=\s*年)"
"""A year before 年 (2024年, 1990年代)."""

TIME_PATTERN = (
    r"(?<![0-9:：.])(?P<time_h>[01]?[0-9]|2[0-4])[:：](?P<time_m>[0-5][0-9])"
    r"(?:[:：](?P<time_s>[0-5][0-9]))?(?![0-9]|[:：][0-9])"
)
"""A clock time, hours and minutes, optionally seconds."""

_DATE_DAY_WORD = re.compile(r"[日号]")


def read_date(match: re.Match[str]) -> str:
    """二零二四年三月五日 for a matched ``2024-03-05``."""
    year = year_to_chinese(match["date_y"])
    month = integer_to_chinese(int(match["date_m"]))
    day = integer_to_chinese(int(match["date_d"]))
    # "2024-03-05日" is rare, but its 日 is already there: do not say it twice.
    day_word = "" if _DATE_DAY_WORD.match(match.string, match.end()) else "日"
    return f"{year}年{month}月{day}{day_word}"


def read_year_range(match: re.Match[str]) -> str:
    """二零二三到二零二四 for a matched ``2023-2024`` before 年."""
    return year_to_chinese(match["years_a"]) + "到" + year_to_chinese(match["years_b"])


def read_year(match: re.Match[str]) -> str:
    """二零二四 for a matched ``2024`` before 年."""
    return year_to_chinese(match["year"])


def read_time(match: re.Match[str]) -> str:
    """十四点三十分 for a matched ``14:30``; whole hours are just 九点."""
    hour = int(match["time_h"])
    minute = int(match["time_m"])
    text = ("两" if hour == 2 else integer_to_chinese(hour)) + "点"
    seconds = match["time_s"]
    if minute or (seconds and int(seconds)):
        text += _minutes(minute) + "分"
    if seconds and int(seconds):
        text += integer_to_chinese(int(seconds)) + "秒"
    return text


def _minutes(minute: int) -> str:
    """Minutes after the hour: 零五 for 5 (八点零五分), 三十 for 30, 零 for 0."""
    return ("零" if minute < 10 else "") + integer_to_chinese(minute) if minute else "零"
