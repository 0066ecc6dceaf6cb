"""Units and measure words after a number, as a Mandarin speaker says them.

Two facts the number reader (:mod:`bot.speech.reading_numbers`) needs about what
follows a number:

* :data:`UNIT_WORDS`: symbols and Latin abbreviations of units, and the words said
  for them (``km`` → 公里, ``m²`` → 平方米, ``℃`` → 摄氏度, ``GB`` → G as phone
  operators say it). They are read only right after a number: ``5km`` becomes
  五公里, but the letters ``km`` alone stay letters.
* :func:`takes_liang`: whether a lone 2 before that word is 两 (两个, 两天, 两元,
  两公里, 两万) or stays 二 (二月, 二号, 二楼, 二层, 二摄氏度). Measure words that
  count things take 两; words that name a position in a series (a month, a day, a
  floor, a bus line) and degrees keep 二.
"""

from __future__ import annotations

import re

UNIT_WORDS: dict[str, str] = {
    "km/h": "公里每小时",
    "km²": "平方公里",
    "km": "公里",
    "kg": "公斤",
    "mg": "毫克",
    "g": "克",
    "mL": "毫升",
    "ml": "毫升",
    "L": "升",
    "cm²": "平方厘米",
    "cm": "厘米",
    "mm": "毫米",
    "m²": "平方米",
    "㎡": "平方米",
    "m³": "立方米",
    "㎥": "立方米",
    "m": "米",
    "℃": "摄氏度",
    "°C": "摄氏度",
    "°": "度",
    "TB": "T",
    "GB": "G",
    "MB": "兆",
    "KB": "K",
    "Mbps": "兆",
    "M": "兆",
    "kWh": "千瓦时",
    "kW": "千瓦",
    "W": "瓦",
    "mAh": "毫安时",
    "V": "伏",
    "Hz": "赫兹",
    "ms": "毫秒",
    "min": "分钟",
    "h": "小时",
    "s": "秒",
}
"""Unit symbols read after a number → the words said for them."""

DEGREE_UNITS = frozenset({"℃", "°C", "°"})
"""Units of temperature and angle: a negative temperature is 零下 (零下五摄氏度)."""

# Longest first, so that "km/h" wins over "km" and "mAh" over "m".
UNIT_PATTERN = "|".join(re.escape(unit) for unit in sorted(UNIT_WORDS, key=len, reverse=True))

# Measure words after which a lone 2 is said 两. Positions in a series (月 号 日 楼 层
# 路 期 栋 单元 级 班) and 度 are not here: 二月, 二号, 二楼, 二层, 二路, 二度. Plain
# string tests, not a regular expression: this runs for every number, and a pattern
# of a hundred alternatives costs milliseconds to compile at import.
_LIANG_TEXT = (
    "个 位 名 人 次 遍 回 趟 轮 场 天 周 星期 年 小时 钟头 分钟 分 秒 刻 点 元 块 角 毛 千 万 亿 "
    "张 件 份 台 部 辆 条 家 种 套 箱 瓶 盒 袋 包 本 只 支 把 双 对 根 片 粒 颗 项 笔 户 间 床 口 "
    "节 门 道 批 款 倍 岁 斤 公斤 千克 克 吨 公里 千米 米 厘米 毫米 升 毫升 平方米 平米 立方米 亩 "
    "通 封 晚 餐 顿 杯 瓦 伏 G 兆 T K"
)
_LIANG_WORDS = tuple(_LIANG_TEXT.split())
_NOT_COUNTS = ("年级", "年代")  # 二年级, 二零年代: 年 that names a position


def takes_liang(text: str, position: int) -> bool:
    """Whether a lone 2 that ends at ``position`` in ``text`` is said 两.

    Args:
        text: The text the number stands in.
        position: Where the number's reading is followed by its measure word.

    Returns:
        ``True`` before a measure word that counts (两个, 两天, 两公里).
    """
    if text.startswith(" ", position):
        position += 1
    return text.startswith(_LIANG_WORDS, position) and not text.startswith(_NOT_COUNTS, position)


def unit_takes_liang(unit: str) -> bool:
    """Whether a lone 2 before a unit symbol is 两: every unit but degrees (二摄氏度)."""
    return unit not in DEGREE_UNITS
