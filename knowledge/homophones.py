"""Putting back the knowledge base's own words where ASR wrote a homophone.

Phone ASR writes what it heard with the characters it likes best: 报效 for 报销,
以保 for 医保, 挂使 for 挂失. The sound view of retrieval (``p:``) already meets those,
but the word and character views lose them, and the misheard word even counts against
the question as a word the knowledge base has never seen. So before a question is
analysed, a run of two to four Han characters that is not one of the knowledge base's
words, but sounds exactly like one of them (folded pinyin, ``bot.text.pinyin``), is
rewritten as that word.

Only the knowledge base's own topic words are targets, so only a question that sounds
like the knowledge base is changed; a sound that two of its words share (ambiguous) is
left alone; the knowledge base's words are never rewritten (the scan keeps a known word
whole). Entries are not corrected: their text is what it should be.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from bot.text.pinyin import char_syllables, word_syllables

MIN_CHARS = 2
MAX_CHARS = 4
COMMON_WORD = 1000
"""A word said this often (jieba's dictionary frequency) is taken as said, not misheard:
意外 stays 意外 though the knowledge base says 以外 somewhere; 报效 (138) becomes 报销."""
GENERIC_WORD = 5000
"""A knowledge base word this common (显示, 根据, 以下) is no topic word: never a target."""


def _is_han(text: str) -> bool:
    return all("\u4e00" <= char <= "\u9fff" for char in text)


class Homophones:
    """The knowledge base's words by sound.

    Args:
        vocabulary: Its topic words; those of two to four Han characters are targets.
        protected: Other words never rewritten (function words, the thesaurus's words:
            一下 stays 一下, though it sounds like 以下).
        frequency: How common a word is (``Segmenter.frequency``).
    """

    def __init__(
        self,
        vocabulary: Iterable[str],
        protected: Iterable[str] = (),
        frequency: Callable[[str], int] = lambda word: 0,
    ) -> None:
        self._frequency = frequency
        words = frozenset(w for w in vocabulary if MIN_CHARS <= len(w) <= MAX_CHARS and _is_han(w))
        targets = frozenset(w for w in words if frequency(w) < GENERIC_WORD)
        self._known = words | frozenset(w for w in protected if MIN_CHARS <= len(w) <= MAX_CHARS)
        by_sound: dict[str, str | None] = {}
        for word in sorted(targets):
            # Its reading as a word (银行: yin hang) and character by character (as a
            # misheard window is read: yin xing), so that both meet.
            for syllables in {word_syllables(word), tuple(char_syllables(word))}:
                key = " ".join(syllables)
                by_sound[key] = word if by_sound.get(key, word) == word else None
        self._by_sound = {key: word for key, word in by_sound.items() if word is not None}

    def __len__(self) -> int:
        return len(self._by_sound)

    def correct(self, text: str, words: Sequence[str]) -> str:
        """``text`` (normalized) with each misheard word of the knowledge base put back.

        Args:
            text: The normalized question.
            words: ``text`` as cut: a misheard word is one or more whole words (以/保 for
                医保), never part of one (跟居民 holds no 根据), and one common word is
                taken as said.
        """
        if not self._by_sound:
            return text
        ends = {0}
        end = 0
        for word in words:
            end += len(word)
            ends.add(end)
        syllables = char_syllables(text)
        out = []
        i = 0
        while i < len(text):
            step = 1
            replacement = text[i]
            for length in range(min(MAX_CHARS, len(text) - i), MIN_CHARS - 1, -1):
                window = text[i : i + length]
                if window in self._known:  # a word of its own: kept whole
                    replacement, step = window, length
                    break
                if i not in ends or i + length not in ends or not _is_han(window):
                    continue
                target = self._by_sound.get(" ".join(syllables[i : i + length]))
                if target is not None and self._frequency(window) < COMMON_WORD:
                    replacement, step = target, length
                    break
            out.append(replacement)
            i += step
        return "".join(out)
