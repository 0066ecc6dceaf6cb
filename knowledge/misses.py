"""The questions the knowledge base had no answer for: what it is missing.

The console's dashboard lists the most frequent ones, so that whoever maintains the
entries sees what callers ask in vain. Kept in memory, per process, since it started:
a bounded count (the rarest question makes room for a new one), no caller attached.
"""

from __future__ import annotations

from collections import Counter

MAX_QUESTIONS = 2000
MAX_QUESTION_CHARS = 200


class Misses:
    """Counts questions answered "not found", by their text (stripped, shortened)."""

    def __init__(self, max_questions: int = MAX_QUESTIONS) -> None:
        self._counts: Counter[str] = Counter()
        self._max = max_questions

    def add(self, question: str) -> None:
        text = " ".join(question.split())[:MAX_QUESTION_CHARS]
        if not text:
            return
        if text not in self._counts and len(self._counts) >= self._max:
            rarest, _ = min(self._counts.items(), key=lambda item: item[1])
            del self._counts[rarest]
        self._counts[text] += 1

    def top(self, count: int) -> list[tuple[str, int]]:
        """The ``count`` most frequent questions, with how often each was asked."""
        return self._counts.most_common(count)
