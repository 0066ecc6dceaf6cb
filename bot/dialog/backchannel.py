"""Backchannels: what callers say while the bot talks, that must not interrupt it.

"嗯", "对对对", "好的好的", "嗯，是的。" are listening noises, not answers. The whole
utterance is judged after removing punctuation, spaces and filler words
(``VOICEBOT_FILLERS``: by default ``bot.text.fillers.SPOKEN_FILLERS``, the list the
intents and the knowledge base use too): it is a backchannel when nothing is left, or
when what is left is only backchannel words, repeated or chained.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable


class BackchannelDetector:
    """Tells whether an utterance is only a backchannel."""

    def __init__(self, words: Iterable[str], fillers: Iterable[str]) -> None:
        longest_first = sorted({w for w in words if w}, key=len, reverse=True)
        self._only_backchannels = re.compile(
            "(?:" + "|".join(map(re.escape, longest_first)) + ")+" if longest_first else r"(?!)"
        )
        self._fillers = re.compile(
            "|".join(map(re.escape, sorted(set(fillers), key=len, reverse=True))) or r"(?!)"
        )

    def __call__(self, text: str) -> bool:
        kept = "".join(ch for ch in unicodedata.normalize("NFKC", text) if _is_word_char(ch))
        if self._only_backchannels.fullmatch(kept):
            return True
        rest = self._fillers.sub("", kept)
        return not rest or self._only_backchannels.fullmatch(rest) is not None


def _is_word_char(ch: str) -> bool:
    return not (ch.isspace() or unicodedata.category(ch)[0] in "PSZC")
