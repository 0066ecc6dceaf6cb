"""The word segmenter: one jieba tokenizer, shared by the intents and the knowledge base.

jieba's whole dictionary takes about 70 MB and half a second to load. A segmenter
opens it in shards instead (``bot.text.jieba_shards``): its one-character entries at
once, and those beginning with a pair of characters the first time a text holds the
pair; the cut is the one the whole dictionary gives. A process shares one segmenter
between every classifier and the knowledge base, so each pair is loaded once.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import warnings
from collections.abc import Iterable
from pathlib import Path

with warnings.catch_warnings():
    # jieba 0.42.1 (its last release, 2020) has non-raw regex strings, which warn
    # when its bytecode is compiled on first import (DeprecationWarning on 3.11,
    # SyntaxWarning on 3.12), and imports pkg_resources, which newer setuptools
    # deprecate. Neither is ours to fix; silence exactly these, only here.
    for _category in (DeprecationWarning, SyntaxWarning):
        warnings.filterwarnings("ignore", r"invalid escape sequence", _category)
    warnings.filterwarnings("ignore", r".*pkg_resources", Warning)
    import jieba

from bot.text.jieba_shards import ShardedDictionary

logger = logging.getLogger(__name__)

# What jieba itself treats as Chinese (its re_han_default, less latin and digits): a
# clause of only these is one block for jieba, cut without any of its special cases.
_JIEBA_HAN_ONLY = re.compile(r"[\u4e00-\u9fd5]+")


class _ShardedTokenizer(jieba.Tokenizer):  # type: ignore[misc]  # jieba is untyped
    """A jieba tokenizer whose entries of two characters and more are loaded by their
    first two characters, when ``get_DAG`` first looks one up.

    Every lookup of jieba's cut and of its ``add_word`` goes through ``get_DAG`` or is
    prepared by the segmenter (``Segmenter._add_word``, ``Segmenter.frequency``).
    """

    def __init__(self) -> None:
        super().__init__()  # sets attributes only; jieba's initialize() is never called
        self.shards: ShardedDictionary | None = None
        # The pairs not loaded yet: first character -> second characters. A pair that is
        # in neither this nor FREQ begins no entry (a loaded pair is always in FREQ: as
        # a word or as the prefix of one). Not a set of pairs met: callers' text holds
        # far more pairs that begin no entry than pairs that do.
        self.unloaded: dict[str, str] = {}
        self.pairs_loaded = 0
        self._loading = threading.Lock()

    def open(self, shards: ShardedDictionary) -> None:
        """What ``Tokenizer.initialize()`` would set, less the longer entries: FREQ fills
        as pairs are met; ``total`` is the whole dictionary's from the start."""
        self.shards = shards
        self.FREQ = shards.singles()
        self.unloaded = shards.pairs()
        self.total = shards.total
        self.initialized = True

    def load(self, pair: str) -> None:
        """The entries that begin with ``pair``, unless they are loaded already."""
        assert self.shards is not None
        with self._loading:
            seconds = self.unloaded.get(pair[0], "")
            if pair[1] in seconds:
                self.FREQ.update(self.shards.shard(pair))
                # After the entries: a reader that no longer sees the pair here finds them.
                self.unloaded[pair[0]] = seconds.replace(pair[1], "", 1)
                self.pairs_loaded += 1

    def get_DAG(self, sentence: str) -> dict[int, list[int]]:  # jieba's name
        """jieba's ``get_DAG`` (for each position, where the dictionary's words that start
        there end), loading the pair at each position first if it must be; one lookup
        per fragment where jieba makes two, so it is also faster."""
        freq, unloaded = self.FREQ, self.unloaded
        dag: dict[int, list[int]] = {}
        length = len(sentence)
        for start in range(length):
            first = sentence[start]
            count = freq.get(first)
            if count is None:  # no word begins with this character
                dag[start] = [start]
                continue
            ends = [start] if count else []
            end = start + 1
            if end < length:
                pair = sentence[start : end + 1]
                count = freq.get(pair)
                if count is None:  # begins no entry, or is not loaded yet
                    if sentence[end] in unloaded.get(first, ""):
                        self.load(pair)
                    count = freq.get(pair)  # again: another thread may have loaded it
                while count is not None:  # a word, or the prefix of one (count 0)
                    if count:
                        ends.append(end)
                    end += 1
                    if end == length:
                        break
                    count = freq.get(sentence[start : end + 1])
            dag[start] = ends or [start]
        return dag

    def prepare(self, word: str) -> None:
        """Load what looking ``word`` itself up needs (its first pair's entries)."""
        if len(word) > 1 and word[1] in self.unloaded.get(word[0], ""):
            self.load(word[:2])


class Segmenter:
    """Owns one jieba tokenizer (NOT jieba's global default), its dictionary opened in
    shards and loaded as text needs it.

    Several classifiers may share one segmenter; see ``add_words`` for the order that
    keeps them independent.
    """

    def __init__(self) -> None:
        self._tokenizer = _ShardedTokenizer()
        self._lock = threading.Lock()
        self._ready = False
        self._pending: list[str] = []
        self._added: set[str] = set()

    @property
    def initialized(self) -> bool:
        """Whether the dictionary is open."""
        return self._ready

    @property
    def pairs_loaded(self) -> int:
        """How many pairs of characters' dictionary entries are loaded so far."""
        return self._tokenizer.pairs_loaded

    def initialize(self) -> None:
        """Open jieba's dictionary (milliseconds; the first time on a machine, building
        its shards takes about 2 s); later calls return at once."""
        with self._lock:
            if self._ready:
                return
            started = time.perf_counter()
            self._tokenizer.open(ShardedDictionary.open(dictionary_path(), jieba.Tokenizer.gen_pfdict))
            for word in self._pending:
                self._add_word(word)
            self._pending.clear()
            self._ready = True
        logger.info("jieba dictionary opened in %.3f s", time.perf_counter() - started)

    def _add_word(self, word: str) -> None:
        # jieba's add_word cuts the word to suggest its frequency (get_DAG loads what
        # that needs), reads the word's own frequency and sets the word and its
        # prefixes: entries of its first pair, loaded first as with the whole dictionary.
        self._tokenizer.prepare(word)
        self._tokenizer.add_word(word)

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
                self._add_word(word)
            return len(fresh)

    @property
    def words_added(self) -> int:
        """How many words ``add_words`` has taught so far: text is cut the same way while
        it stays the same (a classifier built before is still right)."""
        return len(self._added)

    def frequency(self, word: str) -> int:
        """How common ``word`` is in jieba's dictionary (0: not a word of it, or the
        dictionary not opened yet)."""
        if not self._ready:
            return 0
        self._tokenizer.prepare(word)
        return int(self._tokenizer.FREQ.get(word) or 0)

    def cut(self, text: str) -> list[str]:
        """Cut ``text`` into words (jieba's precise mode, without HMM).

        Args:
            text: Any text. Before ``initialize`` this opens the dictionary first
                (and logs a warning: the first time on a machine that takes seconds).

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


def dictionary_path() -> Path:
    """jieba's own dictionary, ``dict.txt`` beside its code (what ``jieba.Tokenizer()``
    loads by default)."""
    return Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
