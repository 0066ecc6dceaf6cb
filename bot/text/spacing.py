"""Spaces in what the ASR wrote: breaks between words, or pauses of the caller.

Chinese is written without spaces, yet ASR engines put them in: some between every
word (请问 你们 是 301 医院 吗), others where the caller paused (对的 身份证尾号就是四五六七,
人工就算了吧 排队太久). The first kind says nothing a reader of unspaced text needs; the
second marks the end of a clause, as a comma would. A text whose spaces are at least
one in ``CHARS_A_WORD`` of its Chinese characters is taken for the first kind.
"""

from __future__ import annotations

import re

__all__ = ["CHARS_A_WORD", "pauses_as_commas", "words_spaced"]

CHARS_A_WORD = 3
"""Chinese characters per space, at most, of a text whose spaces break words."""
_HAN = re.compile("[\u4e00-\u9fff]")
_PAUSE = re.compile(r"(?<=[\u4e00-\u9fff])[ \t\u3000]+(?=[\u4e00-\u9fff])")


def words_spaced(text: str) -> bool:
    """Whether the spaces of ``text`` break its words rather than mark pauses."""
    spaces = text.count(" ")
    return spaces > 1 and spaces * CHARS_A_WORD >= len(_HAN.findall(text))


def pauses_as_commas(text: str) -> str:
    """``text`` with each pause between two Chinese characters written as a comma
    (人工就算了吧，排队太久), unless its spaces break words."""
    if " " not in text and "\u3000" not in text and "\t" not in text:
        return text
    return text if words_spaced(text) else _PAUSE.sub("，", text)
