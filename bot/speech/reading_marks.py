"""Punctuation as pauses, and the symbols left once the numbers are read.

After :mod:`bot.speech.reading_numbers`, what remains of the written marks is
made into the few pause marks every engine reads as a pause and none reads aloud
(the marks :mod:`bot.speech.ssml` knows):

* ``，`` a short pause, ``。`` a sentence's end, ``？`` and ``！`` keep their tune,
  ``、`` ``；`` ``：`` as written, and ``……`` (:data:`bot.speech.ssml.LONG_PAUSE`)
  a long pause: what ``...``, ``…``, ``。。。`` and ``⋯`` become.
* ASCII punctuation becomes its Chinese form (``,`` → ``，``, ``?`` → ``？``; a
  ``.`` between Latin letters, as in a web address, stays).
* A run of marks says one pause, the strongest: ``！！！`` → ``！``, ``，。`` →
  ``。``, ``？！`` → ``？``; a text does not start with a pause.
* Brackets that mark options or titles (``[] 【】 《》 「」``) and quotes go; the
  content stays. Round brackets ``()`` ``（）`` set off an aside: a short pause.
* Dashes (``—``, ``——``, ``--``) are a short pause; a ``-``, ``~`` or ``～``
  between two numbers' readings or two weekdays is 到 (周一~周五 → 周一到周五);
  a ``~`` that ends a clause ("您好~", a friendly tone in writing) goes, any
  other is a short pause. A hyphen between letters (``e-mail``) stays.
* Symbols are said: ``&`` 和, ``#`` 井号, ``*`` 星号, ``+`` 加, ``@`` 艾特,
  ``=`` 等于, ``±`` 正负, ``%`` 百分号, ``‰`` 千分号, ``°`` 度, ``℃`` 摄氏度,
  ``¥`` 元, ``$`` 美元; ``/`` is 每 before a unit of time or count (元/月 →
  元每月, 元/人 → 元每人) and 或 elsewhere (是/否 → 是或否). Other ASCII
  symbols (``<>{}^_`\\|``) are dropped.
"""

from __future__ import annotations

import re

_DROPPED = re.compile(r"[\[\]［］【】〔〕《》〈〉「」『』\"“”‘’<>{}^_`\\]|(?<![A-Za-z])'|'(?![A-Za-z])")
_ASIDE = re.compile(r"[()（）|]")
_SAID = {
    "&": "和",
    "#": "井号",
    "*": "星号",
    "+": "加",
    "@": "艾特",
    "=": "等于",
    "±": "正负",
    "%": "百分号",
    "‰": "千分号",
    "°": "度",
    "℃": "摄氏度",
    "¥": "元",
    "$": "美元",
}
# A key named with 号 after it ("#号键") is said once: 井号键, not 井号号键.
_SYMBOL = re.compile(r"([#*])号|[&#*+@=±%‰°℃¥$]")
_PER = re.compile(
    r"(?<=[\u4e00-\u9fffA-Za-z])[/／](?=月|天|日|年|周|次|人|位|小时|时|分钟|秒|晚|间|台|件|张|份"
    r"|个|斤|公斤|千克|克|平方米|平米|公里|米|户|辆|吨|升|度|G|兆|M|条|单)"
)
_SLASH = re.compile(r"[/／]")
_ELLIPSIS = re.compile(r"\.{2,}|…+|⋯+|。{3,}|·{3,}")
_READING_END = "零一二三四五六七八九十百千万亿两幺日号点分秒月年天"
_TO = re.compile(rf"(?<=[{_READING_END}])\s*[-~～–—]\s*(?=[零一二三四五六七八九十两幺]|周|星期)")
_TILDE_AT_END = re.compile(r"[~～]+(?=\s*(?:[，。！？；：、,.!?;:…]|$))")
_DASH = re.compile(r"[—―]+|-{2,}|[~～–]+")
_HYPHEN = re.compile(r"(?<![A-Za-z])-|-(?![A-Za-z])")
_PERIOD = re.compile(r"\.(?![A-Za-z])|(?<![A-Za-z])\.")
_TO_CHINESE = str.maketrans({",": "，", "?": "？", "!": "！", ";": "；", ":": "："})
_PAUSES = "，。！？；：、…"
_PAUSE_RUN = re.compile(rf"\s*[{_PAUSES}](?:\s*[{_PAUSES}])*\s*")
_STRONGEST = ("？", "！", "……", "。", "；", "：", "，", "、")  # strongest first
_LEADING = re.compile(rf"^[\s{_PAUSES}]+")
_TRAILING_CLAUSE_PAUSE = re.compile(r"[，、；：]$")


def read_marks(text: str) -> str:
    """``text`` with its punctuation made pauses and its symbols said (module docstring).

    Args:
        text: Text whose numbers are already read.

    Returns:
        The text with only the pause marks ``，。！？；：、……`` left as punctuation.
    """
    text = _DROPPED.sub("", text)
    text = _ELLIPSIS.sub("…", text)
    text = _PER.sub("每", text)
    text = _SLASH.sub("或", text)
    text = _SYMBOL.sub(lambda match: _SAID[match.group(1) or match.group()], text)
    text = _TO.sub("到", text)
    text = _TILDE_AT_END.sub("", text)
    text = _DASH.sub("，", text)
    text = _HYPHEN.sub(_hyphen, text)
    text = _ASIDE.sub("，", text)
    text = _PERIOD.sub("。", text).translate(_TO_CHINESE)
    text = _PAUSE_RUN.sub(_strongest, text)
    # A text neither starts with a pause nor trails off on a comma ("（含税）" at the end).
    return _TRAILING_CLAUSE_PAUSE.sub("", _LEADING.sub("", text))


def _hyphen(match: re.Match[str]) -> str:
    """A hyphen joining a code's letter to its digits (A-301) goes; any other is a pause."""
    before = match.string[match.start() - 1 : match.start()]
    return "" if before.isascii() and before.isalpha() else "，"


def _strongest(match: re.Match[str]) -> str:
    """The one pause a run of marks says."""
    run = match.group()
    return next(mark for mark in _STRONGEST if mark[0] in run)
