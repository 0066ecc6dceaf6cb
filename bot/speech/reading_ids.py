"""Identifiers read digit by digit: phone, ID, bank card, service and reference numbers.

Agents read an identifier one digit at a time, 1 as 幺 (一 is easily misheard as
七 on a phone line), in short groups with a pause (``，``) between them, so the
caller can write along. The groups:

* a mobile number and a resident ID number by their shape, however written;
* else the writer's own grouping, when the number is written with spaces or dashes
  (``0571-88888888``, ``4008-123-123``); a written group longer than five digits
  is split further as below;
* else by shape: an 11-digit mobile number (1[3-9]…) 3-4-4; an 18-character
  resident ID number (17 digits and a digit or X whose check character is right,
  GB 11643) 6-8-4, X said 叉; a landline with its area code (0…, 10–12 digits)
  the area code, then the local number; anything else in :func:`even_groups`
  (at most four, as even as possible: 7 → 4-3, 8 → 4-4, 10 → 4-3-3 as 400 and 800
  numbers are written, 19-digit bank cards 4-4-4-4-3);
* a country code (``+86``, ``0086``) first: 加八六; a landline's third group is
  its extension: 转 and the digits.

Shorter numbers are identifiers too when :func:`spelled_in_context` says so: a
service number (95588, 10086, 12345), a number with a leading zero (0832), a
room (1203室), or any number right after a word that introduces one (验证码,
工号, 尾号, 拨打 …).
"""

from __future__ import annotations

import re

from bot.speech.chinese_numbers import digits_to_chinese

IDENTIFIER_PATTERN = (
    r"(?<![0-9.])(?:(?P<id_cc>\+86|0086)[ -]?)?"
    r"(?=[0-9](?:[ \-–]?[0-9]){6})"  # at least seven digits
    r"(?P<id_run>[0-9]+(?:[ \-–][0-9]+)*)"
    r"(?P<id_x>[Xx](?![A-Za-z]))?"
    # Not the integer part of a decimal, nor a quantity of money or a percentage.
    r"(?![ \-–]?[0-9]|\.[0-9]|\s*[元块角万亿%‰])"
)
"""Seven or more digits, maybe grouped with single spaces or dashes: spelled."""

GROUP_PAUSE = "，"
"""What the reader puts between groups: every backend pauses there."""

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_LONGEST_WRITTEN_GROUP = 5
_SERVICE_NUMBER = re.compile(r"95[0-9]{3}|96[0-9]{3}|100[0-9]{2}|12[0-9]{3}")
# Words that introduce an identifier: a number right after one (and 是, 为, a colon)
# is spelled. A tuple for str.endswith: cheaper than a regular expression of them all.
_CUE_WORDS = (
    "验证码 校验码 动态码 密码 工号 工单 工单号 单号 订单 订单号 编号 案件号 受理号 流水号 尾号 "
    "卡号 账号 帐号 号码 电话 手机 手机号 热线 分机 拨打 致电 房间 房间号 车次 航班 航班号 邮编 "
    "批次 批次号 客服 报警 急救 呼叫 联系 回拨 代码 序列号 查询码 取件码 提货码 PIN"
)
_SPELLING_CUES = tuple(_CUE_WORDS.split())
_CUE_TAIL = "是为:： "  # what may stand between a cue and its number ("验证码是：")
_CUE_WINDOW = 8  # characters looked back at: the longest cue and its tail
_ROOM = re.compile(r"\s?(?:室|房)")
_POSITION_WORD = re.compile(r"\s?[号楼层栋室路期年月日级班届]")


def read_identifier(match: re.Match[str]) -> str:
    """A matched :data:`IDENTIFIER_PATTERN`, spelled in groups."""
    written = re.split(r"[ \-–]", match["id_run"])
    x = match["id_x"] or ""
    digits = "".join(written)
    if x and len(digits) != 17:
        # Only a resident ID reads X as a digit; any other X ("X光") is a word of its own.
        return _read_groups(_groups_by_shape(digits)) + x
    if len(written) == 1 or _is_mobile(digits) or _is_resident_id(digits + x.upper()):
        groups = _groups_by_shape(digits + x.upper())
    elif _is_landline_with_extension(written):
        local = [written[0], *even_groups(written[1])]
        return _read_groups(local) + GROUP_PAUSE + "转" + digits_to_chinese(written[2])
    else:
        groups = [part for group in written for part in even_groups(group)]
        groups[-1] += x.upper()
    prefix = "加八六" + GROUP_PAUSE if match["id_cc"] == "+86" else ""
    prefix = "零零八六" + GROUP_PAUSE if match["id_cc"] == "0086" else prefix
    return prefix + _read_groups(groups)


def spell(digits: str) -> str:
    """Digits one by one, 1 as 幺: 10086 → 幺零零八六."""
    return digits_to_chinese(digits)


def spelled_in_context(digits: str, text: str, start: int, end: int) -> bool:
    """Whether a short run of digits is an identifier rather than a quantity.

    Args:
        digits: The number's digits, with nothing after them that makes it a
            quantity (a unit, a measure word, 元 or %: the caller checks that).
        text: The text it stands in.
        start: Where it starts in ``text``.
        end: Where it ends in ``text``.

    Returns:
        ``True`` for a service number (95xxx, 96xxx, 100xx, 12xxx), a number with
        a leading zero (007, 0571), a room (1203室), or any number right after a
        cue such as 验证码, 工号, 尾号 or 拨打; not a service number followed by a
        word that makes it a position (12306号 is a house number).
    """
    if (len(digits) > 1 and digits.startswith("0")) or _ROOM.match(text, end):
        return True
    if _SERVICE_NUMBER.fullmatch(digits) and not _POSITION_WORD.match(text, end):
        return True
    return text[max(0, start - _CUE_WINDOW) : start].rstrip(_CUE_TAIL).endswith(_SPELLING_CUES)


def _read_groups(groups: list[str]) -> str:
    return GROUP_PAUSE.join(digits_to_chinese(group) for group in groups)


def _groups_by_shape(digits: str) -> list[str]:
    """The groups of an ungrouped identifier (see the module docstring)."""
    size = len(digits)
    if _is_mobile(digits):
        return _cut(digits, 3, 4)
    if _is_resident_id(digits):
        return _cut(digits, 6, 8)
    if digits.startswith("0") and 10 <= size <= 12:
        area = 3 if digits[1] in "12" else 4
        return [digits[:area], *even_groups(digits[area:])]
    return even_groups(digits)


def even_groups(digits: str) -> list[str]:
    """Groups of at most four, as even as possible, longer ones first.

    7 → 4-3, 8 → 4-4, 9 → 3-3-3, 10 → 4-3-3, 16 → 4-4-4-4, 19 → 4-4-4-4-3; five
    digits or fewer (95588, a code) are one group, said in one breath. The same
    grouping as the prompt templates' (``bot.language.templates``).

    Args:
        digits: The digits of one written group.

    Returns:
        The groups, in order.
    """
    if len(digits) <= _LONGEST_WRITTEN_GROUP:
        return [digits]
    count = -(-len(digits) // 4)
    size, longer = divmod(len(digits), count)
    return _cut(digits, *(size + (index < longer) for index in range(count)))


def _cut(digits: str, *sizes: int) -> list[str]:
    """``digits`` cut after each of ``sizes`` in turn; the rest is the last group."""
    groups, start = [], 0
    for size in sizes:
        groups.append(digits[start : start + size])
        start += size
    groups.append(digits[start:])
    return [group for group in groups if group]


def _is_mobile(digits: str) -> bool:
    """Eleven digits starting 13–19: a mobile number."""
    return len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789"


def _is_resident_id(number: str) -> bool:
    """Whether 18 characters carry a right GB 11643 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def _is_landline_with_extension(groups: list[str]) -> bool:
    """0571-88888888-123: an area code, a local number of 7 or 8 digits, an extension."""
    return (
        len(groups) == 3
        and groups[0].startswith("0")
        and 3 <= len(groups[0]) <= 4
        and 7 <= len(groups[1]) <= 8
        and len(groups[2]) <= _LONGEST_WRITTEN_GROUP
    )
