"""The part-of-day slot type: a window of the day (上午, 下午, 晚上…), not a clock time.

Callers book "下周一上午" as often as "下周一十点". The value is one of nine Chinese
names, which prompts can say as they are (``{{window}}`` reads 上午):

======  ===========  ===============================================
value   about        said as
======  ===========  ===============================================
凌晨    00:00-06:00  凌晨
早上    06:00-09:00  早上 早晨 清晨 清早 大清早 一早 今早 明早; 早 before a clock time (早八点)
上午    09:00-12:00  上午 上半天 午前
中午    11:00-13:00  中午 晌午 正午 午间
下午    13:00-18:00  下午 下半天 午后
傍晚    17:00-19:00  傍晚 黄昏
晚上    18:00-23:00  晚上 今晚 明晚 昨晚 晚间 夜晚; 晚 before a clock time (晚八点)
半夜    23:00-05:00  半夜 深夜 夜里 夜间 午夜 后半夜
白天    08:00-18:00  白天 白日
======  ===========  ===============================================

The hours are a guide for whoever acts on the value; the slot gives the name only.
A lone 早 or 晚 is a window only before a clock time: 早点休息, 晚点再说 are not.
"""

from __future__ import annotations

import re

from bot.language.slots.base import (
    Candidate,
    SlotContext,
    SlotMatch,
    SlotTypeBase,
    fold,
    resolve,
)

PARTS_OF_DAY: dict[str, tuple[str, ...]] = {
    "凌晨": ("凌晨",),
    "早上": ("早上", "早晨", "清晨", "清早", "大清早", "一早", "大早上", "今早", "明早", "昨早"),
    "上午": ("上午", "上半天", "午前"),
    "中午": ("中午", "晌午", "正午", "午间"),
    "下午": ("下午", "下半天", "午后"),
    "傍晚": ("傍晚", "黄昏"),
    "晚上": ("晚上", "今晚", "明晚", "昨晚", "晚间", "夜晚"),
    "半夜": ("半夜", "深夜", "夜里", "夜间", "午夜", "后半夜"),
    "白天": ("白天", "白日"),
}
"""Each value and the words that say it."""

_VALUE_OF = {word: value for value, words in PARTS_OF_DAY.items() for word in words}
_WORDS = re.compile("|".join(sorted(_VALUE_OF, key=len, reverse=True)))
# 早八点, 晚九点半: the lone character before an hour.
_LONE = re.compile("(?P<part>[早晚])(?=[0-9零〇一二两三四五六七八九十幺]{1,3}(?:点|:|：))")
_LONE_VALUE = {"早": "早上", "晚": "晚上"}


class PartOfDaySlot(SlotTypeBase):
    """A part of the day; the value is its Chinese name (上午, 下午, 晚上…, see the module)."""

    name = "part_of_day"

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        folded = fold(text)
        candidates = [
            Candidate(m.start(), m.end(), _VALUE_OF[m.group()], rank=1) for m in _WORDS.finditer(folded)
        ]
        candidates.extend(
            Candidate(m.start(), m.end(), _LONE_VALUE[m["part"]]) for m in _LONE.finditer(folded)
        )
        return resolve(text, candidates)
