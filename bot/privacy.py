"""Callers' phone and ID numbers masked wherever text leaves the process for a person to read.

The service holds callers' numbers: the CTI sends them in every callback's query string
(``extnum=…``), flows put them in business-system requests and in what the bot says, and
ASR writes them in what the caller said. Logs, the console's default view and (optionally)
transcripts at rest must not show them whole. One masking rule serves all of them (the log
filter of :mod:`bot.logs`, the console, transcripts), so they agree on what a number is;
the full-run log scan (``tests/log_scan.py``) checks it with patterns of its own:

* mainland mobile numbers, ``1[3-9]`` and 9 more digits, also after ``+86``/``0086``/``86``
  or a trunk ``0``, and written as ASR and CTIs write them (``138 1234 5678``,
  ``138-1234-5678``);
* fixed-line numbers with their area code, 10 to 12 digits (``010-12345678``,
  ``(0571) 8765 4321``, ``+86 10 1234 5678``);
* 18-character resident ID numbers, 17 digits and a digit or ``X``.

A number is only a number when no digit or Latin letter touches it on either side, so
dates (``20261205``), 6-digit codes, extensions (``8001``), amounts, long identifiers and
hexadecimal keys (``0123456789ab``, an audio file's SHA-256) are left alone, while a
number in Chinese text (``手机13812345678``) or after a URL's percent escape is masked.
Masking keeps the first 3 and the last 4 digits and stars the rest, keeping separators:
``138****5678``, ``138 **** 5678``, ``110***********123X``; enough to tell two callers
apart in a log, not enough to call them.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["NUMBER_PATTERN", "mask_json", "mask_number", "mask_text"]

KEEP_HEAD = 3
KEEP_TAIL = 4

# Between groups of digits: a space or a dash, and in URLs a "+" or "%20" (a space;
# "%2520" when encoded twice, as GX's biz_data is).
_SEP = r"(?:[ \-+]|%20|%2520)?"
# Each alternative is one number; the groups ``id``, ``m``, ``l`` and ``f`` are what gets
# masked (a country or trunk prefix before it is kept as it is). No digit or Latin letter
# may touch a number on either side, except the end of a URL's percent escape before it
# (``%E5%8F%B7138…``), also encoded twice (``%2522138…``).
NUMBER_PATTERN = re.compile(
    r"(?:(?<![\dA-Za-z])|(?<=%[0-9A-Fa-f]{2})|(?<=%25[0-9A-Fa-f]{2}))(?:"
    # ID number: 6-digit region, 8-digit birth date, 3 digits and a check character.
    rf"(?P<id>\d{{6}}{_SEP}\d{{8}}{_SEP}\d{{3}}[\dXx])"
    # Mobile, with an optional country or trunk prefix.
    rf"|(?P<mp>(?:\+|00)86{_SEP}|86|0)?(?P<m>1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}})"
    # Fixed line after the country code: area code without its trunk 0.
    rf"|(?P<lp>(?:\+|00)86{_SEP})(?P<l>[1-9]\d{{1,2}}{_SEP}\d{{3,4}}{_SEP}\d{{4}})"
    # Fixed line with its area code (2-3 digits after the 0), possibly in brackets.
    rf"|(?P<f>[(（]?0[1-9]\d{{1,2}}[)）]?{_SEP}\d{{3,4}}{_SEP}\d{{4}})"
    r")(?![\dA-Za-z])"
)
# Where a number may be: 10 or more digits, separators and closing brackets from a digit to
# a digit (or X). Found with a character-class scan, far cheaper than the full pattern at
# every position; the full pattern then runs only around these spans.
_CANDIDATE = re.compile(r"\d[\d \-+%)）]{8,}[\dXx]")
_SEPARATOR = re.compile(r"(%2520|%20|[^0-9Xx])")


def mask_number(number: str) -> str:
    """``number`` with all but its first 3 and last 4 digits (or ``X``) starred, separators kept."""
    if number.isdigit() or number[:-1].isdigit():  # most numbers: no separator
        return number[:KEEP_HEAD] + "*" * (len(number) - KEEP_HEAD - KEEP_TAIL) + number[-KEEP_TAIL:]
    parts = _SEPARATOR.split(number)  # digit runs at even indexes, separators at odd ones
    last_starred = sum(len(run) for run in parts[::2]) - KEEP_TAIL
    seen = 0
    for index in range(0, len(parts), 2):
        run = parts[index]
        parts[index] = "".join(
            c if seen + i < KEEP_HEAD or seen + i >= last_starred else "*" for i, c in enumerate(run)
        )
        seen += len(run)
    return "".join(parts)


_PREFIX_OF = {"m": "mp", "l": "lp"}


def _replace(match: re.Match[str]) -> str:
    name = match.lastgroup or ""  # the number's group: it closes after its prefix's
    prefix = _PREFIX_OF.get(name)
    head = (match.group(prefix) or "") if prefix else ""
    return head + mask_number(match.group(name))


def mask_text(text: str) -> str:
    """``text`` with every phone and ID number in it masked (see the module docstring)."""
    candidate = _CANDIDATE.search(text)
    if candidate is None:  # most log lines
        return text
    parts: list[str] = []
    done = 0  # text[:done] is in parts
    while candidate is not None:
        # One character before the span (a "+" or a bracket), one after it for the lookahead.
        start = max(candidate.start() - 1, done)
        end = min(candidate.end() + 1, len(text))
        for match in NUMBER_PATTERN.finditer(text, start, end):
            parts.append(text[done : match.start()])
            parts.append(_replace(match))
            done = match.end()
        candidate = _CANDIDATE.search(text, candidate.end())
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def mask_json(value: Any) -> Any:
    """A copy of a JSON-like value with every string (keys too) masked.

    Integers that are phone or ID numbers (a business system's ``"phone": 13812345678``)
    become their masked string: the shape of the value matters less than the number.
    """
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_text(k) if isinstance(k, str) else k: mask_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_json(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        masked = mask_text(text)
        return value if masked == text else masked
    return value
