"""Latin letters in a Mandarin prompt: abbreviations spelled, a few words kept as words.

Callers hear abbreviations letter by letter (VIP, APP, ID, ETC), so a run of two
to five capitals is written with spaces between its letters (``V I P``), which
every engine reads as letter names. Single letters (A座, B超, 4S店) and words in
lower or mixed case (iPhone, email) are left as written. A few words are said
one way whatever their spelling: Wi-Fi, WIFI and wifi are WiFi; app is A P P.
"""

from __future__ import annotations

import re

_WORDS = {"wifi": "WiFi", "wi-fi": "WiFi", "app": "A P P", "e-mail": "email"}
_WORD = re.compile(r"(?<![A-Za-z])(?:wi-?fi|app|e-mail)(?![A-Za-z])", re.IGNORECASE)
_ABBREVIATION = re.compile(r"(?<![A-Za-z])[A-Z]{2,5}(?![A-Za-z])")


def read_letters(text: str) -> str:
    """``text`` with abbreviations spelled and the known words in one spelling.

    Args:
        text: Any text.

    Returns:
        ``VIP客户`` → ``V I P客户``; ``连接Wi-Fi`` → ``连接WiFi``.
    """
    text = _WORD.sub(lambda match: _WORDS[match.group().lower()], text)
    return _ABBREVIATION.sub(lambda match: " ".join(match.group()), text)
