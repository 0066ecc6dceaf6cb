"""BM25 over the features of every way an entry can be asked, scored per entry.

Each entry is several short documents: its title with its keywords, and each of its
questions. A query is scored against every document (an inverted index of numpy
arrays), and an entry scores what its best document scores: a caller's question
resembles one phrasing, not the sum of them.

Scores are calibrated to 0…1: a document's BM25 score is divided by the score the
query would get against itself. A query whose words the knowledge base has never seen
(OOV) counts them at a high IDF, so "火车票怎么买" scores low everywhere instead of
matching only on 怎么.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowledge.text import FEATURE_WEIGHTS

K1 = 1.2
B = 0.3  # short documents of similar length: length matters less than in prose
OOV_IDF_SHARE = 0.7
"""A query word the knowledge base has never seen counts this share of the highest IDF
against the query's score: enough that "火车票怎么买" is "not found", not so much that
a paraphrase's one unusual word sinks it (calibrated with the policy's thresholds)."""


@dataclass(frozen=True)
class _Postings:
    documents: npt.NDArray[np.int32]
    weights: npt.NDArray[np.float32]
    idf: float


class SearchIndex:
    """An immutable index; a changed knowledge base builds a new one.

    Args:
        documents: For each entry (by position), its documents: feature counts and
            how much a match of that document counts (1 for a question, less for an
            answer's prose). An entry with no documents never scores.
    """

    def __init__(self, documents: Sequence[Sequence[tuple[Counter[str], float]]]) -> None:
        flat = [(entry, features) for entry, docs in enumerate(documents) for features, _ in docs]
        self._document_weights = np.array([w for docs in documents for _, w in docs], dtype=np.float32)
        self.entry_count = len(documents)
        self.document_count = len(flat)
        lengths = np.array([sum(f.values()) for _, f in flat], dtype=np.float32)
        self._average_length = float(lengths.mean()) if flat else 1.0
        # Documents are grouped by entry, so an entry's best is a reduceat over its run.
        self._entry_of = np.array([entry for entry, _ in flat], dtype=np.int32)
        self._starts = np.flatnonzero(np.r_[True, np.diff(self._entry_of) != 0]) if flat else np.array([])
        self._entries_present = self._entry_of[self._starts] if flat else np.array([], dtype=np.int32)
        self._max_idf = self._idf(0)
        self._postings = self._invert(flat, lengths)

    def _idf(self, df: int) -> float:
        return math.log(1 + (self.document_count - df + 0.5) / (df + 0.5))

    def _invert(
        self, flat: list[tuple[int, Counter[str]]], lengths: npt.NDArray[np.float32]
    ) -> dict[str, _Postings]:
        """Postings per feature, built with array operations: features get integer ids
        in one pass over the (document, feature) pairs, then one stable sort groups the
        pairs by feature."""
        documents = [features for _, features in flat]
        ids: dict[str, int] = {}
        pairs = sum(len(features) for features in documents)
        feature_of = np.fromiter(
            (ids.setdefault(name, len(ids)) for features in documents for name in features),
            dtype=np.int32,
            count=pairs,
        )
        tf = np.fromiter(
            (tf for features in documents for tf in features.values()), dtype=np.float32, count=pairs
        )
        document_of = np.repeat(
            np.arange(len(documents), dtype=np.int32), [len(features) for features in documents]
        )
        norm = K1 * (1 - B + B * lengths / self._average_length)
        saturation = tf * (K1 + 1) / (tf + norm[document_of])
        order = np.argsort(feature_of, kind="stable")  # documents stay in order within a feature
        df = np.bincount(feature_of, minlength=len(ids))
        bounds = np.concatenate(([0], np.cumsum(df)))
        sorted_documents, sorted_saturation = document_of[order], saturation[order]
        postings = {}
        for i, name in enumerate(ids):  # insertion order is id order
            idf = self._idf(int(df[i])) * FEATURE_WEIGHTS[name[0]]
            start, end = bounds[i], bounds[i + 1]
            weights = (sorted_saturation[start:end] * idf).astype(np.float32, copy=False)
            postings[name] = _Postings(sorted_documents[start:end], weights, idf)
        return postings

    def idf(self, feature: str) -> float:
        """How much ``feature`` tells (weighted by its view); the highest for one never seen."""
        postings = self._postings.get(feature)
        return postings.idf if postings is not None else self._max_idf * FEATURE_WEIGHTS[feature[0]]

    def words(self) -> list[str]:
        """Every word (``w:`` feature) of any document, without its prefix."""
        return [name[2:] for name in self._postings if name[0] == "w"]

    def scores(self, query: Counter[str]) -> npt.NDArray[np.float32]:
        """Every entry's score for ``query`` (0 when nothing matches), by entry position."""
        best = np.zeros(self.entry_count, dtype=np.float32)
        if not query or not self.document_count:
            return best
        length = sum(query.values())
        saturation = (K1 + 1) / (1 + K1 * (1 - B + B * length / self._average_length))
        ideal = 0.0
        per_document = np.zeros(self.document_count, dtype=np.float32)
        for feature in query:
            postings = self._postings.get(feature)
            if postings is None:
                ideal += self._max_idf * OOV_IDF_SHARE * FEATURE_WEIGHTS[feature[0]] * saturation
                continue
            ideal += postings.idf * saturation
            per_document[postings.documents] += postings.weights
        per_document *= self._document_weights
        best[self._entries_present] = np.maximum.reduceat(per_document, self._starts) / ideal
        return np.minimum(best, 1.0)
