"""The knowledge base in memory: its entries, synonyms and search index.

Searching never waits for a change: a change builds a new snapshot (in a worker
thread when it comes through the service) and swaps it in whole. The features of an
unchanged entry are kept, so rebuilding after one edit re-analyses one entry.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.errors import KnowledgeDataError, UnknownEntryError
from bot.text.pinyin import char_syllables
from bot.text.segmenter import Segmenter
from knowledge.entries import Entry
from knowledge.index import SearchIndex
from knowledge.text import Analyzer


@dataclass(frozen=True)
class Hit:
    """An entry and how well it matches a query (0…1).

    Attributes:
        coverage: The share of the query's topic words the entry uses (``Snapshot.
            coverage``): low for a question about something else that shares its verbs
            and sounds. Measured for the best hit only (what decisions read); None on
            the others.
        outside: An outside topic (``kind: outside``) whose own keyword the query says
            and the entry never uses (``Snapshot.neighbour``): 手机卡密码忘了 is the
            手机卡's question, however well 医保卡密码重置 scores. Best hit only.
    """

    entry: Entry
    score: float
    coverage: float | None = None
    outside: Entry | None = None


@dataclass(frozen=True)
class Snapshot:
    """One built state of the knowledge base; searched as a whole, never changed."""

    entries: tuple[Entry, ...]
    positions: Mapping[str, int]
    parents: Mapping[str, tuple[str, ...]]  # child id → ids of its parents
    synonyms: Mapping[str, tuple[str, ...]]
    analyzer: Analyzer
    index: SearchIndex
    documents: Sequence[Sequence[tuple[Counter[str], float]]] = ()  # by position, as indexed
    outside_words: Mapping[str, int] = field(default_factory=dict)  # w: feature → outside topic's position
    outside_count: int = 0  # entries of kind outside
    # position → (normalized text, its syllables), filled as coverage asks (not at build:
    # it would add seconds to a 10,000-entry build for the few entries ever compared).
    _texts: dict[int, tuple[str, str]] = field(default_factory=dict, compare=False, repr=False)

    def coverage(self, query: Counter[str], position: int) -> float:
        """The share of the query's topic words (``w:``, weighted by IDF; a word never
        seen at the highest) that the entry at ``position`` uses: as a word, inside its
        text, or as a sound of it. 1 when the query has no topic word.

        The BM25 score counts characters and sounds too, so "手机卡密码忘了" scores well
        against 医保卡密码重置 on 密码, 忘 and 卡; a question whose main words an entry
        never uses is not about it, however its other words match.
        """
        words = [name for name in query if name[0] == "w"]
        if not words:
            return 1.0
        total = matched = 0.0
        for name in words:
            idf = self.index.idf(name)
            total += idf
            if self._uses(position, name):
                matched += idf
        return matched / total

    def neighbour(self, query: Counter[str], position: int) -> Entry | None:
        """The outside topic one of whose keywords the query says as a word while the
        entry at ``position`` never uses it (as in ``coverage``); None when there is none."""
        if not self.outside_words or self.entries[position].is_outside:
            return None
        for name in query:
            outside = self.outside_words.get(name)
            if outside is not None and not self._uses(position, name):
                return self.entries[outside]
        return None

    def _uses(self, position: int, name: str) -> bool:
        if any(name in features for features, _ in self.documents[position]):
            return True
        text, sounds = self._text(position)
        word = name[2:]
        return word in text or f" {' '.join(char_syllables(word))} " in sounds

    def _text(self, position: int) -> tuple[str, str]:
        cached = self._texts.get(position)
        if cached is None:
            entry = self.entries[position]
            text = self.analyzer.normalize(
                " ".join((entry.title, *entry.keywords, *entry.questions, entry.answer))
            )
            cached = self._texts[position] = (text, f" {' '.join(char_syllables(text))} ")
        return cached


class KnowledgeBase:
    """Entries by id, searchable.

    Args:
        segmenter: jieba, possibly shared with the flows' NLU (initialized by its owner).
    """

    def __init__(self, segmenter: Segmenter | None = None) -> None:
        self._segmenter = segmenter or Segmenter()
        self._build_lock = threading.Lock()
        self._features: dict[Entry, list[tuple[Counter[str], float]]] = {}  # analysed with _features_synonyms
        self._features_synonyms: dict[str, tuple[str, ...]] = {}
        self._snapshot = self.prepare((), {})

    # --- reading -----------------------------------------------------------------

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self._snapshot.entries

    @property
    def synonyms(self) -> Mapping[str, tuple[str, ...]]:
        return self._snapshot.synonyms

    def __len__(self) -> int:
        return len(self._snapshot.entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._snapshot.positions

    def get(self, entry_id: str) -> Entry:
        """Raises: UnknownEntryError."""
        snapshot = self._snapshot
        position = snapshot.positions.get(entry_id)
        if position is None:
            raise UnknownEntryError(entry_id)
        return snapshot.entries[position]

    def parents_of(self, entry_id: str) -> tuple[str, ...]:
        return self._snapshot.parents.get(entry_id, ())

    def search(self, text: str, limit: int = 5, *, boost: Mapping[str, float] | None = None) -> list[Hit]:
        """The best ``limit`` entries for ``text``, best first; entries scoring 0 are left out.

        Args:
            boost: entry id → score added before ranking (a caller's own history).
        """
        snapshot = self._snapshot
        query = snapshot.analyzer.query_features(text)
        scores = snapshot.index.scores(query)
        for entry_id, extra in (boost or {}).items():
            position = snapshot.positions.get(entry_id)
            if position is not None and scores[position] > 0:
                scores[position] += extra  # ranks above an equal score; reported as at most 1
        limit = min(limit, len(scores))
        if limit <= 0:
            return []
        best = np.argpartition(-scores, limit - 1)[:limit] if limit < len(scores) else np.arange(len(scores))
        ranked = sorted(best, key=lambda i: (-scores[i], i))
        hits = [Hit(snapshot.entries[i], round(min(1.0, float(scores[i])), 4)) for i in ranked if scores[i]]
        if hits:
            coverage = snapshot.coverage(query, int(ranked[0]))
            outside = snapshot.neighbour(query, int(ranked[0]))
            hits[0] = Hit(hits[0].entry, hits[0].score, round(coverage, 4), outside)
        return hits

    def answerable(self, text: str, limit: int = 5) -> list[Hit]:
        """``search`` without the outside topics: what this knowledge base itself answers."""
        hits = self.search(text, limit + self._snapshot.outside_count)
        return [hit for hit in hits if not hit.entry.is_outside][:limit]

    def analyzer(self) -> Analyzer:
        return self._snapshot.analyzer

    # --- changing ----------------------------------------------------------------

    def replace(self, entries: Iterable[Entry], synonyms: Mapping[str, Sequence[str]] | None = None) -> None:
        """Make ``entries`` (and ``synonyms``, when given) the whole knowledge base.

        Blocking (jieba and pinyin for every new or changed entry): run it in a worker
        thread from async code.

        Raises:
            KnowledgeDataError: two entries share an id, or a parent names an unknown child.
        """
        self.install(self.prepare(entries, synonyms))

    def prepare(
        self, entries: Iterable[Entry], synonyms: Mapping[str, Sequence[str]] | None = None
    ) -> Snapshot:
        """Build (and so validate) a knowledge base without installing it; blocking.

        Raises:
            KnowledgeDataError: two entries share an id, or a parent names an unknown child.
        """
        with self._build_lock:
            return self._build(tuple(entries), synonyms if synonyms is not None else self.synonyms)

    def install(self, snapshot: Snapshot) -> None:
        """Make a prepared snapshot the one searched, at once."""
        self._snapshot = snapshot

    def _build(self, entries: tuple[Entry, ...], synonyms: Mapping[str, Sequence[str]]) -> Snapshot:
        positions = _positions(entries)
        parents: dict[str, list[str]] = {}
        for entry in entries:
            if entry.is_outside and entry.children:
                raise KnowledgeDataError(f"entry {entry.id!r}: an outside topic has no children")
            for child in entry.children:
                if child not in positions:
                    raise KnowledgeDataError(f"entry {entry.id!r}: child {child!r} is not an entry's id")
                if child == entry.id:
                    raise KnowledgeDataError(f"entry {entry.id!r}: lists itself as a child")
                if entries[positions[child]].is_outside:
                    raise KnowledgeDataError(f"entry {entry.id!r}: child {child!r} is an outside topic")
                parents.setdefault(child, []).append(entry.id)
        if entries:
            self._segmenter.initialize()  # once per process; at once when its owner already did
        normalized = {word: tuple(variants) for word, variants in synonyms.items()}
        if normalized != self._features_synonyms:
            self._features.clear()  # every entry reads differently now
            self._features_synonyms = normalized
        analyzer = Analyzer(self._segmenter, normalized)
        self._segmenter.add_words(_words(entries, analyzer))
        features = {entry: self._features.get(entry) or _documents(entry, analyzer) for entry in entries}
        self._features = features
        documents = [features[entry] for entry in entries]
        index = SearchIndex(documents)
        analyzer.learn_vocabulary(index.words())
        outside_words = {
            f"w:{word}": positions[entry.id]
            for entry in entries
            if entry.is_outside
            for keyword in entry.keywords
            for word in analyzer.content(keyword)
        }
        return Snapshot(
            entries=entries,
            positions=positions,
            parents={child: tuple(ids) for child, ids in parents.items()},
            synonyms=normalized,
            analyzer=analyzer,
            index=index,
            documents=documents,
            outside_words=outside_words,
            outside_count=sum(entry.is_outside for entry in entries),
        )


def _positions(entries: Sequence[Entry]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if entry.id in positions:
            raise KnowledgeDataError(f"two entries have the id {entry.id!r}")
        positions[entry.id] = i
    return positions


def _words(entries: Iterable[Entry], analyzer: Analyzer) -> set[str]:
    """Short keywords and synonyms, kept whole by jieba (synonyms folded as queries will be)."""
    words = analyzer.words()
    for entry in entries:
        words.update(analyzer.normalize(w) for w in entry.keywords if 2 <= len(w) <= 4)
    return words


def _documents(entry: Entry, analyzer: Analyzer) -> list[tuple[Counter[str], float]]:
    """An entry's documents, each counting fully: its title with its keywords; each
    question; all of those together (a caller mixes the words of two phrasings); and
    the answer (callers ask about what it says: 进口药 for the drug list)."""
    named = analyzer.features(" ".join((entry.title, *entry.keywords)))
    questions = [analyzer.features(question) for question in entry.questions]
    together = sum(questions, Counter(named))
    documents = [named, *questions, together, analyzer.features(entry.answer)]
    return [(features, 1.0) for features in documents if features]
