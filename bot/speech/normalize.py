"""Text normalisation before Mandarin speech synthesis.

Flow authors write prompts for people to read; the synthesizer reads them aloud
on a phone line. :func:`normalize_for_speech` bridges the two with these rules,
applied in order:

1. Full-width digits, spaces, hyphens and the letter X (``１３８``, ``－``,
   ``Ｘ``) become their ASCII forms, so the rules below see one alphabet.
2. Square brackets ``[…]``, ``［…］`` and ``【…】`` lose their bracket
   characters; the content stays. Flow authors use them to mark options
   ("请问您是想咨询[转诊转院],[异地安置]还是[异地急诊]?"), and a synthesizer
   would otherwise read or stumble over the brackets.
3. Long digit runs are read digit by digit in hanzi, the way call-center agents
   read phone numbers: ``0`` → 零, ``1`` → 幺 (not 一, which is easily misheard
   as 七), ``2`` → 二 and so on. A run is digits optionally separated by single
   spaces or dashes ("138 1234 5678", "0571-88888888"); it is spelled when it
   holds 7 or more digits (phone numbers, ID numbers, reference numbers).
   The writer's grouping is kept as a short pause (``，``) between groups.
   Exceptions, left untouched so the synthesizer reads them as numbers/dates:

   * runs of fewer than 7 digits (amounts such as 3500, years, short codes);
   * a run that is part of a decimal number (``1234567.89``);
   * a run directly followed by a unit of amount (元, 块, 角, 分, 万, 亿, %);
   * dashed dates and year ranges (``2023-01-15``, ``2023-2024``).

4. An 18-character resident ID number whose check character is ``X``/``x``
   (17 digits then X) reads the X as 叉.
5. Whitespace runs collapse to one space; leading/trailing whitespace goes.
"""

from __future__ import annotations

import re

from bot.speech.chinese_numbers import digits_to_chinese

_FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９Ｘｘ－\u3000\u00a0",
    "0123456789Xx-  ",
)
_BRACKETS = re.compile(r"[\[\]［］【】]")
_WHITESPACE = re.compile(r"\s+")

# Digits separated by at most one space or dash (hyphen, en dash) each, plus an
# optional trailing X for ID numbers. ASCII digits only: `\d` would also match
# other scripts' digits, which the reading table below does not cover.
_SEPARATOR = r"[ \-\u2013]"
_DIGIT_RUN = re.compile(
    rf"(?<![0-9.])(?<![0-9]\.)"  # not the fraction part of a decimal
    rf"(?P<run>[0-9](?:{_SEPARATOR}?[0-9])*)"
    rf"(?P<x>[Xx](?![A-Za-z0-9]))?"
)
_AFTER_AMOUNT = re.compile(r"\.[0-9]|[元块角分万亿%％]")
_DATE_OR_YEAR_RANGE = re.compile(r"(?:19|20)[0-9]{2}-(?:(?:19|20)[0-9]{2}|[01]?[0-9]-[0-3]?[0-9])")

_MIN_SPELLED_DIGITS = 7
_ID_DIGITS_BEFORE_X = 17
_GROUP_PAUSE = "，"


def normalize_for_speech(text: str) -> str:
    """Rewrite a prompt so that a Mandarin synthesizer reads it the way an agent would.

    See the module docstring for the rules.

    Args:
        text: The prompt as written in the flow or produced by the dialog.

    Returns:
        The text to synthesize; empty when ``text`` holds nothing speakable.
    """
    text = text.translate(_FULL_WIDTH)
    text = _BRACKETS.sub("", text)
    text = _DIGIT_RUN.sub(_read_digit_run, text)
    return _WHITESPACE.sub(" ", text).strip()


def _read_digit_run(match: re.Match[str]) -> str:
    """Spell one digit run when it is long enough and not an amount or a date."""
    run = match.group("run")
    x = match.group("x") or ""
    groups = re.split(_SEPARATOR, run)
    digit_count = sum(len(g) for g in groups)
    if not _should_spell(run, digit_count, match.string, match.end("run")):
        return run + x
    spelled = _GROUP_PAUSE.join(digits_to_chinese(g) for g in groups)
    if x:
        # Only a resident ID number (17 digits + X) reads X as a digit; any other
        # X after a number ("X光") is a word of its own and stays as written.
        spelled += "叉" if digit_count == _ID_DIGITS_BEFORE_X else x
    return spelled


def _should_spell(run: str, digit_count: int, text: str, end: int) -> bool:
    """Whether a digit run is an identifier (spelled) rather than a quantity or date."""
    if digit_count < _MIN_SPELLED_DIGITS:
        return False
    if _AFTER_AMOUNT.match(text, end):
        return False
    return not _DATE_OR_YEAR_RANGE.fullmatch(run)
