"""Keywords: a flow's words that are strong evidence of their intent wherever they occur.

A keyword found in the utterance, in characters or (two syllables or more) in pinyin,
scores ``KEYWORD_BASE`` plus the rest in proportion to how much of the utterance it
covers, unless a negation's scope covers it (别转人工); see ``bot.dialog.nlu``. A match
by pinyin never takes a negation cue for one of the keyword's characters (补办 is not
heard in 不办). An intent whose keywords the utterance holds only under a negation is
*refused* (我的卡好好的，不用补办): its examples cannot take the words either.

A keyword with a gap, written ``卡…丢`` (or ``卡...丢``), is its parts in that order in
one clause with at most ``MAX_GAP_CHARS`` characters between each: callers tell what
happened with words between (把卡弄丢了, 卡让人偷了, 卡昨天在菜市场丢了), which no
keyword of one piece holds. It is matched in characters only, and is negated when a
negation's scope covers any of its parts (卡没丢).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.dialog.nlu_scoring import KEYWORD_BASE, NEGATION_PENALTY, PINYIN_DISCOUNT
from bot.text.features import CUE_CHARS, NEGATION_CUES, NON_NEGATING_WORDS, Analyser, Analysis
from bot.text.pinyin import char_syllable

logger = logging.getLogger(__name__)


MAX_GAP_CHARS = 8
"""The most characters between two parts of a keyword with a gap (卡…丢 in
卡昨天在菜市场弄丢了), which may cross into the next clause (医保卡要换，那张都裂开了: a
pause the ASR wrote, or a comma, between what the caller names and what befell it)."""
_GAP = re.compile(r"…+|\.{3,}|。{3,}")


@dataclass(frozen=True)
class Keyword:
    intent: int
    text: str  # a keyword with a gap: its parts, joined
    padded_pinyin: str | None  # " zhuan ren gong "; None for one syllable, or a gap
    negated: bool  # contains a cue itself (a deny keyword such as 不需要)
    parts: tuple[str, ...] = ()
    """A keyword with a gap: its parts, in order (卡, 丢); none for one piece."""


def keyword_parts(analyser: Analyser, text: str) -> list[str]:
    """The prepared pieces of keyword ``text``: one, or those between its gaps (卡…丢);
    a piece with no words is left out."""
    pieces = (analyser.prepare(piece).replace("|", "") for piece in _GAP.split(text))
    return [piece for piece in pieces if piece]


def make_keyword(analyser: Analyser, intent: int, name: str, text: str) -> Keyword | None:
    """Prepare keyword ``text`` of intent number ``intent`` (named ``name``, for the log)."""
    parts = keyword_parts(analyser, text)
    if not parts:
        logger.warning("intent %r: keyword %r has no words; ignored", name, text)
        return None
    word = "".join(parts)
    negated = any(cue in _without_non_negating(word) for cue in NEGATION_CUES)
    if len(parts) > 1:
        return Keyword(intent, word, None, negated, tuple(parts))
    syllables = [char_syllable(char) for char in word]
    padded = f" {' '.join(syllables)} " if len(syllables) > 1 else None
    return Keyword(intent, word, padded, negated)


def _without_non_negating(word: str) -> str:
    """``word`` without the words that hold a cue yet negate nothing (没问题, 没错): a
    keyword of those is no refusal, and a negation of it refuses its intent (没问题才怪)."""
    for plain in NON_NEGATING_WORDS:
        word = word.replace(plain, "")
    return word


class KeywordSpotter:
    """Finds a flow's keywords in utterances and scores them."""

    def __init__(self, keywords: list[Keyword]) -> None:
        self.keywords = [k for k in keywords if not k.parts]
        self._any_text = any_of(k.text for k in self.keywords)
        self._any_sound = any_of(k.padded_pinyin for k in self.keywords if k.padded_pinyin)
        # A quick test that a keyword's parts are there, in order, in one clause or two in a
        # row (find_gapped finds where); and one for any of them, as _any_text is for the others.
        gap = f"[^|]{{0,{MAX_GAP_CHARS}}}(?:\\|[^|]{{0,{MAX_GAP_CHARS}}})?"
        self._gapped = [(k, re.compile(gap.join(map(re.escape, k.parts)))) for k in keywords if k.parts]
        self._any_gapped = re.compile("|".join(pattern.pattern for _, pattern in self._gapped) or r"(?!)")

    def score(self, analysis: Analysis, scores: list[float]) -> set[int]:
        """Raise each intent's entry of ``scores`` to its best keyword's score; return the
        intents *refused*: whose keywords the utterance holds only under a negation (我的卡
        好好的，不用补办; 医保卡没丢)."""
        # Most utterances contain no keyword, and a keyword occurs in few: test all
        # clauses at once, first for any keyword, then for each ("|" is in no clause
        # and no keyword, so none can match across two clauses).
        text = "|".join(analysis.clauses)
        said: set[int] = set()  # intents with a keyword said plainly
        refused: set[int] = set()  # and said under a negation
        if self._any_gapped.search(text):
            self._score_gapped(analysis, text, scores, (said, refused))
        sounds = " " + " | ".join(map(" ".join, analysis.syllables)) + " "  # "|".join(padded)
        if not self._any_text.search(text) and not self._any_sound.search(sounds):
            return refused - said
        padded: list[str] = []  # " a b ", " c d ": made when first needed
        for keyword in self.keywords:
            by_text = keyword.text in text
            by_sound = keyword.padded_pinyin is not None and keyword.padded_pinyin in sounds
            if not (by_text or by_sound):
                continue
            base = keyword_base(keyword, analysis)
            if keyword.negated or not analysis.negations:
                # No occurrence can be negated: the best is one in characters, if any; one
                # by sound only counts unless a negation cue made it (补办 in 不办).
                if not by_text:
                    padded = padded or padded_syllables(analysis)
                    if next(find_keyword(analysis, padded, keyword), None) is None:
                        continue
                score = base * (1.0 if by_text else PINYIN_DISCOUNT)
                scores[keyword.intent] = max(scores[keyword.intent], score)
                said.add(keyword.intent)
                continue
            # Every occurrence counts: in 别转人工，不对，我要转人工 the second one wins
            # (find_keyword leaves out those by sound across a negation cue).
            padded = padded or padded_syllables(analysis)
            for by_pinyin, clause, start in find_keyword(analysis, padded, keyword):
                score = base * (PINYIN_DISCOUNT if by_pinyin else 1.0)
                if is_negated(analysis, clause, start, start + len(keyword.text)):
                    score *= NEGATION_PENALTY
                    refused.add(keyword.intent)
                else:
                    said.add(keyword.intent)
                scores[keyword.intent] = max(scores[keyword.intent], score)
        return refused - said

    def _score_gapped(
        self, analysis: Analysis, text: str, scores: list[float], found: tuple[set[int], set[int]]
    ) -> None:
        """Raise ``scores`` by the keywords with a gap found in one clause (卡…丢) of
        ``text`` (the clauses joined by ``|``): the best occurrence, which is negated when
        any of its parts is; each intent goes into ``found``'s first set (said plainly)
        or its second (said under a negation)."""
        said, refused = found
        for keyword, pattern in self._gapped:
            if pattern.search(text) is None:
                continue
            base = keyword_base(keyword, analysis)
            for places in find_gapped(analysis, keyword):
                negated = not keyword.negated and any(
                    is_negated(analysis, clause, at, at + len(part))
                    for (clause, at), part in zip(places, keyword.parts, strict=True)
                )
                score = base * (NEGATION_PENALTY if negated else 1.0)
                (refused if negated else said).add(keyword.intent)
                scores[keyword.intent] = max(scores[keyword.intent], score)


def keyword_base(keyword: Keyword, analysis: Analysis) -> float:
    """A keyword's score where it is not negated: ``KEYWORD_BASE`` plus the rest in
    proportion to how much of the utterance it covers."""
    return KEYWORD_BASE + (1 - KEYWORD_BASE) * min(1.0, len(keyword.text) / analysis.length)


_Places = list[tuple[int, int]]
"""Where each part of a keyword with a gap is: (clause, start)."""


def find_gapped(analysis: Analysis, keyword: Keyword) -> Iterator[_Places]:
    """Every place a keyword with a gap occurs, as where each part is (clause, start): its
    parts in order, at most ``MAX_GAP_CHARS`` characters between each, in one clause or
    from the end of one into the next (unless a negation cue ends the first)."""
    clauses = analysis.clauses

    def rest(number: int, at: int, parts: tuple[str, ...], places: _Places) -> Iterator[_Places]:
        if not parts:
            yield places
            return
        clause = clauses[number]
        for begin in range(at, min(len(clause), at + MAX_GAP_CHARS) + 1):
            if clause.startswith(parts[0], begin):
                yield from rest(number, begin + len(parts[0]), parts[1:], [*places, (number, begin)])
        left = MAX_GAP_CHARS - (len(clause) - at)  # of the gap, for the next clause
        # Not across a negation (卡没坏，是机器坏了: the card is fine).
        if left >= 0 and number + 1 < len(clauses) and CUE_CHARS.isdisjoint(clause[at:]):
            following = number + 1
            for begin in range(min(len(clauses[following]), left) + 1):
                if clauses[following].startswith(parts[0], begin):
                    found = [*places, (following, begin)]
                    yield from rest(following, begin + len(parts[0]), parts[1:], found)

    first, others = keyword.parts[0], keyword.parts[1:]
    for number, clause in enumerate(clauses):
        start = clause.find(first)
        while start >= 0:
            yield from rest(number, start + len(first), others, [(number, start)])
            start = clause.find(first, start + 1)


def any_of(texts: Iterable[str]) -> re.Pattern[str]:
    """A regex that finds any of ``texts`` (none: one that never matches)."""
    return re.compile("|".join(map(re.escape, texts)) or r"(?!)")


def padded_syllables(analysis: Analysis) -> list[str]:
    """Each clause's syllables joined by spaces, with a space either end: what
    :func:`find_keyword` searches for a keyword's ``padded_pinyin``."""
    return [f" {' '.join(syllables)} " for syllables in analysis.syllables]


def is_negated(analysis: Analysis, clause: int, start: int, end: int) -> bool:
    """Whether a negation's scope covers any of ``clause``'s characters from ``start`` to
    ``end``: a keyword is negated by a scope that reaches into it from before
    (不用转人工) or from after (上班时间我知道，不用说了: the scope reaches back six
    characters, to 班)."""
    return any(n.clause == clause and n.start < end and start < n.end for n in analysis.negations)


def find_keyword(analysis: Analysis, padded: list[str], keyword: Keyword) -> Iterator[tuple[bool, int, int]]:
    """Every place a keyword occurs, as (found by pinyin, clause, start).

    Args:
        analysis: The utterance.
        padded: Each clause's syllables joined by spaces, with a space either end.
        keyword: The keyword.
    """
    for number, clause in enumerate(analysis.clauses):
        start = clause.find(keyword.text)
        while start >= 0:
            yield False, number, start
            start = clause.find(keyword.text, start + 1)
    if keyword.padded_pinyin is None:
        return
    for number, syllables in enumerate(padded):
        position = syllables.find(keyword.padded_pinyin)
        while position >= 0:
            start = syllables.count(" ", 0, position)
            heard = analysis.clauses[number][start : start + len(keyword.text)]
            if not _crosses_cue(heard, keyword.text):
                yield True, number, start
            position = syllables.find(keyword.padded_pinyin, position + 1)


# A keyword that sounds like words holding a negation cue is not said there: 补办 (bu
# ban) in 挂失就不办了 and 办不办, 不急 for a keyword 补给.
_ONE_CHARACTER_CUES = frozenset(cue for cue in NEGATION_CUES if len(cue) == 1)


def _crosses_cue(heard: str, keyword: str) -> bool:
    """Whether ``heard`` (the characters a keyword was heard in, by sound) holds a
    one-character negation cue that the keyword itself does not."""
    return any(char in _ONE_CHARACTER_CUES and char not in keyword for char in heard)


class Exclusions:
    """A flow's words that refuse an intent (``exclude:``, 排除词): an utterance that holds
    one, as analysed, is refused that intent, as a keyword heard only under a negation
    refuses it (see ``bot.dialog.nlu``)."""

    def __init__(self, analyser: Analyser, excluded: Iterable[tuple[int, str]]) -> None:
        """Prepare each ``(intent number, word)`` as the utterances are."""
        self._words = [
            (intent, word) for intent, text in excluded if (word := analyser.prepare(text).replace("|", ""))
        ]

    def refused(self, analysis: Analysis) -> set[int]:
        """The intents that a word of ``analysis`` excludes."""
        return {intent for intent, word in self._words if any(word in clause for clause in analysis.clauses)}
