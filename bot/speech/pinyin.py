"""Mandarin text as tone-numbered pinyin, for espeak-ng's pinyin voice.

espeak-ng 1.51 (Debian 12) reads most hanzi of its ``cmn`` voice through English
letter rules (您 comes out as "nin two"; espeak-ng issues #1236, #1370), while its
``cmn-latn-pinyin`` voice reads tone-numbered pinyin correctly. pypinyin turns hanzi
into that pinyin with its phrase dictionary, so polyphones are read in context
(银行 yin2 hang2, 行长 hang2 zhang3), and applies third-tone and 一/不 sandhi.
Digits, punctuation and other text pass through: the pinyin voice reads digits in
Mandarin and punctuation as pauses.
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

PINYIN_VOICE = "cmn-latn-pinyin"


def to_pinyin(text: str) -> str:
    """``您好，3500元`` → ``nin2 hao3 ， 3500 yuan2``."""
    syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=True)
    return " ".join(part.strip() for part in syllables if part.strip())
