"""Text normalisation before Mandarin speech synthesis.

Flow authors write prompts for people to read; the synthesizer reads them aloud
on a phone line, through whichever backend is up. :func:`normalize_for_speech`
rewrites a prompt into what a call-center agent would say, in hanzi and a few
pause marks, so that every backend (espeak-ng, a cloud vendor, a local voice)
says 13800138000 as a phone number and ¥1,500.50 as money. Its output is part of
the audio cache key. The steps, in order:

1. Full-width forms become ASCII (``１３８``, ``Ａ``, ``％``, ``－``, ``．``, ``￥``),
   except the Chinese punctuation ``，：；！？（）～`` that reads as pauses anyway;
   control characters, emoji and other pictographs go.
2. Numbers (:mod:`bot.speech.reading_numbers`): dates, years, times, money,
   percentages, units, ranges, fractions, ordinals, and identifiers read digit by
   digit in groups (:mod:`bot.speech.reading_ids`: phone, ID, bank card,
   service and reference numbers, 1 as 幺).
3. Latin letters (:mod:`bot.speech.reading_letters`): abbreviations spelled
   (VIP → ``V I P``), a few words in one spelling (Wi-Fi → WiFi).
4. Marks (:mod:`bot.speech.reading_marks`): symbols said (& → 和, # → 井号),
   punctuation made into the pause marks ``，。！？；：、`` and ``……`` (a long
   pause, see :mod:`bot.speech.ssml`), brackets and quotes dropped.
5. Whitespace runs collapse to one space; leading and trailing whitespace goes.

The result holds no ASCII digit, and normalising it again changes nothing.

Conventions (how an agent reads in standard Mandarin):

* 2 is 两 before a measure word that counts (两个, 两天, 两元, 两公里), in the
  thousands and before 万/亿 (两千, 两万, 两亿) and as the hour (两点); it is 二
  elsewhere: alone, in tens and hundreds (二十, 二百: the reading convention, not
  the colloquial 两百), in ordinals and positions (第二, 二月, 二号, 二楼), in
  decimals (二点五) and degrees (二摄氏度).
* Identifiers use 幺 for 1; quantities, years (一九九八) and single digits (请按一)
  use 一.
"""

from __future__ import annotations

import re

from bot.speech.reading_letters import read_letters
from bot.speech.reading_marks import read_marks
from bot.speech.reading_numbers import read_numbers

_KEPT_FULL_WIDTH = frozenset("！（），：；？～")
_FULL_WIDTH = str.maketrans(
    {
        **{
            chr(code): chr(code - 0xFEE0)
            for code in range(0xFF01, 0xFF5F)
            if chr(code) not in _KEPT_FULL_WIDTH
        },
        "\u3000": " ",  # ideographic space
        "\u00a0": " ",  # no-break space
        "\u2212": "-",  # minus sign
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\ufe63": "-",  # small hyphen-minus
        "\u301c": "～",  # wave dash
        "\uffe5": "¥",  # full-width yen sign
        "\uff61": "。",  # half-width ideographic full stop
    }
)
# C0/C1 controls, zero-width characters, surrogates, variation selectors, and the
# pictographs and emoji no engine should try to name.
_UNSPEAKABLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202f\u2060-\u206f\ud800-\udfff"
    "\ufe00-\ufe0f\ufeff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff\U000e0000-\U000e007f]"
)
_WHITESPACE = re.compile(r"\s+")


def normalize_for_speech(text: str) -> str:
    """Rewrite a prompt so that a Mandarin synthesizer reads it the way an agent would.

    See the module docstring for the rules.

    Args:
        text: The prompt as written in the flow or produced by the dialog.

    Returns:
        The text to synthesize; empty when ``text`` holds nothing speakable.
    """
    text = _UNSPEAKABLE.sub("", text.translate(_FULL_WIDTH))
    text = read_numbers(text)
    text = read_letters(text)
    text = read_marks(text)
    return _WHITESPACE.sub(" ", text).strip()
