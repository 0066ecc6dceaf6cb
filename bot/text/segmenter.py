"""The word segmenter: one jieba tokenizer, shared by the intents and the knowledge base.

jieba's dictionary takes about 100 MB and half a second to load, so a process loads it
once, in its start-up hook, and every classifier and the knowledge base cut with it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import warnings
from collections.abc import Iterable

with warnings.catch_warnings():
    # jieba 0.42.1 (its last release, 2020) has non-raw regex strings, which warn
    # when its bytecode is compiled on first import (DeprecationWarning on 3.11,
    # SyntaxWarning on 3.12), and imports pkg_resources, which newer setuptools
    # deprecate. Neither is ours to fix; silence exactly these, only here.
    for _category in (DeprecationWarning, SyntaxWarning):
        warnings.filterwarnings("ignore", r"invalid escape sequence", _category)
    warnings.filterwarnings("ignore", r".*pkg_resources", Warning)
    import jieba

logger = logging.getLogger(__name__)

# What jieba itself treats as Chinese (its re_han_default, less latin and digits): a
# clause of only these is one block for jieba, cut without any of its special cases.
_JIEBA_HAN_ONLY = re.compile(r"[\u4e00-\u9fd5]+")


class Segmenter:
    """Owns one jieba.Tokenizer (NOT jieba's global default), dictionary loaded once.

    Several classifiers may share one segmenter (its dictionary is ~100 MB); see
    ``add_words`` for the order that keeps them independent.
    """

    def __init__(self) -> None:
        # A Tokenizer only sets attributes here; its dictionary loads in initialize().
        self._tokenizer = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._ready = False
        self._pending: list[str] = []
        self._added: set[str] = set()

    @property
    def initialized(self) -> bool:
        """Whether the dictionary is loaded."""
        return self._ready

    def initialize(self) -> None:
        """Load the jieba dictionary (about 0.5 s, blocking); later calls return at once."""
        with self._lock:
            if self._ready:
                return
            started = time.perf_counter()
            self._tokenizer.initialize()
            for word in self._pending:
                self._tokenizer.add_word(word)
            self._pending.clear()
            self._ready = True
        logger.info("jieba dictionary loaded in %.2f s", time.perf_counter() - started)

    def add_words(self, words: Iterable[str]) -> int:
        """Teach jieba words it must not split (keywords, synonyms).

        Adding a word again does nothing: jieba's ``add_word`` would add its
        frequency to the dictionary total once more and so shift how other text is
        cut. Words are best all added before any classifier analyses its examples
        (``FlowRegistry.build`` does so), since every new word moves that total a little.

        Args:
            words: The words; blank ones are ignored. Before ``initialize`` they are
                kept for later, because jieba would load its dictionary right here.

        Returns:
            How many of them were new.
        """
        with self._lock:
            fresh = [w for w in dict.fromkeys(word.strip() for word in words) if w and w not in self._added]
            self._added.update(fresh)
            if not self._ready:
                self._pending.extend(fresh)
                return len(fresh)
            for word in fresh:
                self._tokenizer.add_word(word)
            return len(fresh)

    @property
    def words_added(self) -> int:
        """How many words ``add_words`` has taught so far: text is cut the same way while
        it stays the same (a classifier built before is still right)."""
        return len(self._added)

    def frequency(self, word: str) -> int:
        """How common ``word`` is in jieba's dictionary (0: not a word of it, or not loaded)."""
        return int(self._tokenizer.FREQ.get(word) or 0) if self._ready else 0

    def cut(self, text: str) -> list[str]:
        """Cut ``text`` into words (jieba's precise mode, without HMM).

        Args:
            text: Any text. Before ``initialize`` this loads the dictionary first
                (and logs a warning, since that blocks for half a second).

        Returns:
            The words, in order.
        """
        if not self._ready:
            logger.warning("Segmenter.cut() before initialize(): loading the dictionary now")
            self.initialize()
        if len(text) < 2:  # 对, 嗯, 好: one character is one word, whatever the dictionary
            return [text] if text else []
        # No HMM: it is slower and invents "words" out of ASR noise; the dictionary
        # plus the flow's own keywords is what there is to match.
        if not _JIEBA_HAN_ONLY.fullmatch(text):
            return list(self._tokenizer.lcut(text, HMM=False))
        # The usual case, about 20% faster than lcut: on one block of Han characters,
        # lcut(HMM=False) is get_DAG (the dictionary words starting at each position),
        # calc (the most probable path through them) and a walk along that path; its
        # regex block splitting, generators and merging of latin letters do nothing here.
        tokenizer = self._tokenizer
        route: dict[int, tuple[float, int]] = {}
        tokenizer.calc(text, tokenizer.get_DAG(text), route)
        words = []
        start = 0
        while start < len(text):
            end = route[start][1] + 1
            words.append(text[start:end])
            start = end
        return words
