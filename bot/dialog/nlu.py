"""Intent recognition for short Chinese utterances heard through phone-line ASR.

There is no trained model: a flow's example sentences and keywords *are* the model,
so a flow works as soon as it is loaded. ``parse`` compares the utterance with every
example; the best match of an intent, or one of its keywords, is its confidence.

How a text is prepared (the examples once, at construction; the utterance per call;
the code is in ``bot.dialog.nlu_features``):

1. NFKC (full-width -> half-width), lower case; sentence punctuation splits the
   text into clauses; whitespace, quotes, emoji and other symbols are dropped, as are the
   sentence-final particles (啊, 吧, 呢…) that colour a reply but do not change it.
2. Synonym variants are rewritten to their canonical word (社保卡 -> 医保卡).
3. Each clause is cut into words by jieba and turned into two feature sets:
   *characters* (single characters, character bigrams, words) and *pinyin* (the
   same on toneless, slightly fuzzy pinyin, so the ASR homophone 专人工 still
   meets 转人工). Every feature weighs its kind (a single character half) times an
   IDF over the intents: 我, found in every intent, weighs almost nothing; a
   feature unseen in any example weighs like a rare one.

How the confidence (0..1) is computed:

* Example: with ``m`` the weight an utterance shares with an example, recall
  ``R = m / W(example)``, precision ``P = m / W(utterance)``; the score is the
  larger of ``F2 = 5PR / (4P + R)`` (recall counts more: callers wrap an example
  in fillers more often than they drop part of it) and containment
  ``P * m / (m + 2)`` (人工 alone, wholly inside 我要转人工). Computed on both
  feature sets, the pinyin score discounted by ``PINYIN_DISCOUNT``.
* Vocabulary: ``P**2 * m / (m + 2)`` against all the examples of an intent at
  once, for a sentence pieced together from two examples.
* Keyword found in the utterance (characters, or pinyin if two syllables or
  more): ``KEYWORD_BASE`` plus the rest in proportion to how much it covers.
* Negation: a cue (不, 不要, 不用, 不需要, 别, 没, 无需, 甭…) whose scope -- the cue's
  own verb (需要 in 不需要) and the next few characters of its clause -- touches
  what an example or keyword is about multiplies that score by
  ``NEGATION_PENALTY``, unless the example negates that same thing itself (deny:
  不需要). An example with a cue, met by an utterance with none, gets
  ``MISSING_NEGATION_PENALTY`` (需要 is not 不需要).

An intent's confidence is the best of these. ``parse`` is on the hot path of every
call turn, so its scoring loops are written for speed (inlined arithmetic, skipping
examples that cannot win); the plain definitions below (``_similarity``...) are what
they must equal, bit for bit, and the tests hold them to it.

On the test flow (6 intents x 20 examples) held-out paraphrases score a median 0.84
(67 of 70 reach 0.5) and unrelated sentences a median 0.22 (all 14 below 0.48),
hence ``DEFAULT_THRESHOLD = 0.5``.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress

from bot.dialog.nlu_features import (
    NEGATION_CUES,
    NON_NEGATING_WORDS,
    Analyser,
    Analysis,
    kind,
    normalize,
    pinyin_of,
)
from bot.language.flow import Intent

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

DEFAULT_THRESHOLD = 0.5
"""Threshold for a flow that does not set ``nlu.threshold``."""

MAX_RANKING = 10

# Tuning; the module docstring says what each does.
UNIGRAM_WEIGHT = 0.5
BIGRAM_WEIGHT = 1.0
WORD_WEIGHT = 1.0
UNSEEN_FACTOR = 0.8  # an unknown feature's IDF, relative to the rarest known one
PINYIN_DISCOUNT = 0.9
RECALL_BIAS = 4.0  # beta squared of the F-beta score
CONTAINMENT_HALF = 2.0  # shared weight at which containment reaches half the precision
KEYWORD_BASE = 0.7
NEGATION_PENALTY = 0.2
MISSING_NEGATION_PENALTY = 0.5
_SAFETY = 1 - 1e-9  # margin for rounding when skipping an example by an upper bound

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


def vocabulary(intents: Mapping[str, Intent], synonyms: Mapping[str, Sequence[str]]) -> list[str]:
    """The words a classifier of these intents needs jieba to keep whole.

    Variants never reach jieba (they are rewritten first) but are included anyway,
    so that a segmenter shared with other code keeps them whole too.
    """
    analyser = Analyser(synonyms, lambda text: [text])
    words = [*NEGATION_CUES, *NON_NEGATING_WORDS, *synonyms]
    words += [variant for variants in synonyms.values() for variant in variants]
    words = [normalize(word) for word in words]
    words += [analyser.prepare(word) for intent in intents.values() for word in intent.keywords]
    return [word for word in words if len(word) > 1 and "|" not in word]


@dataclass(frozen=True)
class IntentScore:
    """How well an utterance fits one intent."""

    name: str
    confidence: float


@dataclass(frozen=True)
class ParseResult:
    """The outcome of parsing one utterance."""

    text: str
    intent: IntentScore | None
    ranking: list[IntentScore]

    def as_rasa(self) -> dict[str, object]:
        """Return the result shaped like Rasa's ``/model/parse`` response.

        Returns:
            ``{"text", "intent": {"name", "confidence"}, "intent_ranking", "entities"}``.
            With no intent over the threshold, ``intent.name`` is ``None`` and its
            confidence the best score (0.0 when there are no intents).
        """
        if self.intent is not None:
            name: str | None = self.intent.name
            confidence = self.intent.confidence
        else:
            name, confidence = None, self.ranking[0].confidence if self.ranking else 0.0
        return {
            "text": self.text,
            "intent": {"name": name, "confidence": confidence},
            "intent_ranking": [{"name": s.name, "confidence": s.confidence} for s in self.ranking],
            "entities": [],
        }


_Overlap = tuple[list[float], float]  # weight shared with each target, utterance's weight


@dataclass(frozen=True)
class _Target:
    """An example, or the whole vocabulary of an intent, as parse() needs it."""

    intent: int
    char_total: float
    pinyin_total: float
    negated: bool  # contains a negation cue (never set for a vocabulary)
    # Its content less what its own negations are about: what an utterance's
    # negation must touch to count against it.
    exposed: frozenset[str]


@dataclass(frozen=True)
class _Keyword:
    intent: int
    text: str
    padded_pinyin: str | None  # " zhuan ren gong "; None for one syllable
    negated: bool  # contains a cue itself (a deny keyword such as 不需要)


@dataclass(frozen=True)
class _Channel:
    """One feature space (characters or pinyin): weights and an inverted index."""

    weights: dict[str, float]
    postings: dict[str, list[int]]
    unseen: tuple[float, float, float]  # weight of an unknown unigram, bigram, word
    # Filled once all targets are indexed: feature -> (weight, targets having it),
    # the one dictionary look-up per feature that parse() makes.
    index: dict[str, tuple[float, tuple[int, ...]]] = field(default_factory=dict)

    def weight(self, feature: str) -> float:
        found = self.weights.get(feature)
        return self.unseen[kind(feature)] if found is None else found

    def freeze(self) -> None:
        self.index.update((f, (w, tuple(self.postings.get(f, ())))) for f, w in self.weights.items())


class IntentClassifier:
    """Scores utterances against the intents of one flow (see the module docstring).

    ``parse`` touches no shared mutable state except the pinyin cache, so one
    classifier may serve concurrent calls from several threads.
    """

    def __init__(
        self,
        intents: Mapping[str, Intent],
        *,
        synonyms: Mapping[str, Sequence[str]],
        threshold: float,
        segmenter: Segmenter,
    ) -> None:
        """Prepare every example and keyword, so that ``parse`` only looks things up.

        Args:
            intents: The flow's intents by name.
            synonyms: Canonical word -> its variants, which are rewritten to it.
            threshold: The lowest confidence that counts as a match, in [0, 1].
            segmenter: A shared segmenter, best initialized already (otherwise its
                dictionary is loaded here, blocking).

        Raises:
            ValueError: If ``threshold`` is outside [0, 1].
        """
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, not {threshold}")
        self.threshold = threshold
        self._segmenter = segmenter
        self._names = list(intents)
        self._analyser = Analyser(synonyms, segmenter.cut)
        segmenter.add_words(vocabulary(intents, synonyms))
        self._build(intents)

    # -- construction -------------------------------------------------------

    def _build(self, intents: Mapping[str, Intent]) -> None:
        examples: list[tuple[int, Analysis]] = []
        for index, (name, intent) in enumerate(intents.items()):
            for text in intent.examples:
                analysis = self._analyser.analyse(text)
                if analysis.length:
                    examples.append((index, analysis))
                else:
                    logger.warning("intent %r: example %r has no words; ignored", name, text)
        self._keywords = [
            keyword
            for index, intent in enumerate(intents.values())
            for keyword in (self._make_keyword(index, text) for text in intent.keywords)
            if keyword is not None
        ]
        self._any_keyword = _any_of(k.text for k in self._keywords)
        self._any_keyword_sound = _any_of(k.padded_pinyin for k in self._keywords if k.padded_pinyin)
        # Keywords count as text of their intent for the IDF, not as examples.
        documents = examples + [(k.intent, self._analyser.analyse(k.text)) for k in self._keywords]
        self._char = _make_channel([(i, a.chars) for i, a in documents])
        self._pinyin = _make_channel([(i, a.pinyin) for i, a in documents])
        self._targets = [self._make_target(n, i, [a]) for n, (i, a) in enumerate(examples)]
        # Each intent's whole vocabulary is a target too, numbered after the examples.
        for index in range(len(self._names)):
            own = [analysis for intent, analysis in examples if intent == index]
            self._targets.append(self._make_target(len(self._targets), index, own))
        self._vocabulary_start = len(examples)
        self._char.freeze()
        self._pinyin.freeze()
        # What _score_targets reads, as plain tuples.
        rows = [
            (t.intent, t.char_total, t.pinyin_total, _negation_factor(None, t), t.exposed)
            for t in self._targets
        ]
        self._example_rows = rows[: self._vocabulary_start]
        self._vocabulary_rows = rows[self._vocabulary_start :]

    def _make_target(self, number: int, intent: int, analyses: list[Analysis]) -> _Target:
        """Index ``analyses`` (one example, or all of an intent's) under ``number``."""
        chars = set().union(*(a.chars for a in analyses))
        pinyin = set().union(*(a.pinyin for a in analyses))
        for channel, features in ((self._char, chars), (self._pinyin, pinyin)):
            for feature in features:
                channel.postings.setdefault(feature, []).append(number)
        negations = [n for a in analyses for n in a.negations]
        content = frozenset().union(*(a.content for a in analyses))
        return _Target(
            intent=intent,
            char_total=sum(map(self._char.weight, chars)),
            pinyin_total=sum(map(self._pinyin.weight, pinyin)),
            negated=len(analyses) == 1 and bool(negations),
            exposed=content.difference(*(n.topic for n in negations)),
        )

    def _make_keyword(self, intent: int, text: str) -> _Keyword | None:
        word = self._analyser.prepare(text).replace("|", "")
        if not word:
            logger.warning("intent %r: keyword %r has no words; ignored", self._names[intent], text)
            return None
        syllables = [pinyin_of(char) for char in word]
        padded = f" {' '.join(syllables)} " if len(syllables) > 1 else None
        return _Keyword(intent, word, padded, any(cue in word for cue in NEGATION_CUES))

    # -- parsing ------------------------------------------------------------

    def parse(self, text: str) -> ParseResult:
        """Recognize the intent of one utterance.

        Args:
            text: What the ASR heard; any string (empty, punctuation, latin...).

        Returns:
            Every intent scored, best first (at most ``MAX_RANKING``); ``intent``
            is the best one if it reaches the threshold, else ``None``.
        """
        analysis = self._analyser.analyse(text)
        scores = [0.0] * len(self._names)
        if analysis.length:
            # An intent's confidence is a max: the order of these does not matter.
            self._score_keywords(analysis, scores)
            self._score_targets(analysis, scores)
        # Stable even reversed: equal scores keep the flow's order of intents.
        order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:MAX_RANKING]
        ranking = [IntentScore(self._names[i], round(scores[i], 4)) for i in order]
        best = ranking[0] if ranking and ranking[0].confidence >= self.threshold else None
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("parse %r -> %s", text, [(s.name, s.confidence) for s in ranking[:3]])
        return ParseResult(text=text, intent=best, ranking=ranking)

    def _score_targets(self, analysis: Analysis, scores: list[float]) -> None:
        size = len(self._targets)
        char = _overlap(self._char, analysis.chars, size)
        pinyin = _overlap(self._pinyin, analysis.pinyin, size)
        # All the utterance negates, together (see _negation_factor); None if nothing.
        negated = frozenset().union(*(n.topic for n in analysis.negations)) if analysis.negations else None
        # Vocabularies first: their scores help skip examples.
        self._score_vocabularies(char, pinyin, negated, scores)
        self._score_examples(char, pinyin, negated, scores)

    # The two loops below are _similarity / _vocabulary_similarity, max and
    # _negation_factor inlined, with the very same float operations in the same
    # order: a function call per step cost more than the arithmetic. Keep them in
    # step (a test compares them). Their guards are left out: every weight is
    # positive (log((n+1)/k) with k <= n intents), so are a target's totals, and so
    # is the utterance's once it shares a feature.

    def _score_vocabularies(
        self, char: _Overlap, pinyin: _Overlap, negated: frozenset[str] | None, scores: list[float]
    ) -> None:
        (char_matched, char_total), (pinyin_matched, pinyin_total) = char, pinyin
        rows = enumerate(self._vocabulary_rows, self._vocabulary_start)
        for number, (intent, _, _, no_negation, exposed) in rows:
            matched = pinyin_matched[number]
            if not matched:  # pinyin always matches where characters do
                continue
            precision = matched / pinyin_total
            precision = 1.0 if precision > 1.0 else precision
            score = PINYIN_DISCOUNT * (precision * precision * matched / (matched + CONTAINMENT_HALF))
            # With no shared character, precision is 0.0 and so is the similarity.
            matched = char_matched[number]
            precision = matched / char_total
            precision = 1.0 if precision > 1.0 else precision
            similarity = precision * precision * matched / (matched + CONTAINMENT_HALF)
            score = similarity if similarity >= score else score
            if negated is None:
                score *= no_negation
            elif not negated.isdisjoint(exposed):
                score *= NEGATION_PENALTY
            scores[intent] = max(scores[intent], score)

    def _score_examples(
        self, char: _Overlap, pinyin: _Overlap, negated: frozenset[str] | None, scores: list[float]
    ) -> None:
        (char_matched, char_total), (pinyin_matched, pinyin_total) = char, pinyin
        f_factor = 1 + RECALL_BIAS
        rows = self._example_rows
        # _similarity, written out twice (pinyin, then characters) on purpose: this loop
        # is the hottest of a callback, where a function call per example and channel
        # shows. test_fast_scoring_is_the_definition holds it equal to _similarity.
        # ~100 examples a flow, about half met at all, and half of those skipped.
        for number in compress(range(self._vocabulary_start), pinyin_matched):
            intent, char_own, pinyin_own, no_negation, exposed = rows[number]
            matched = pinyin_matched[number]
            # Skip an example that cannot beat its intent's best so far: F-score and
            # containment never exceed max(precision, recall) <= matched / min(own,
            # total). _SAFETY covers the rounding on both sides of the comparison.
            best = scores[intent]
            limit = best * _SAFETY
            pinyin_least = pinyin_own if pinyin_own < pinyin_total else pinyin_total
            if PINYIN_DISCOUNT * matched < limit * pinyin_least:
                char_least = char_own if char_own < char_total else char_total
                if char_matched[number] < limit * char_least:
                    continue
            recall = matched / pinyin_own
            precision = matched / pinyin_total
            recall = 1.0 if recall > 1.0 else recall
            precision = 1.0 if precision > 1.0 else precision
            similarity = f_factor * precision * recall / (RECALL_BIAS * precision + recall)
            containment = precision * matched / (matched + CONTAINMENT_HALF)
            score = PINYIN_DISCOUNT * (containment if containment > similarity else similarity)
            matched = char_matched[number]
            if matched:
                recall = matched / char_own
                precision = matched / char_total
                recall = 1.0 if recall > 1.0 else recall
                precision = 1.0 if precision > 1.0 else precision
                similarity = f_factor * precision * recall / (RECALL_BIAS * precision + recall)
                containment = precision * matched / (matched + CONTAINMENT_HALF)
                similarity = containment if containment > similarity else similarity
                score = similarity if similarity >= score else score
            if negated is None:
                score *= no_negation
            elif not negated.isdisjoint(exposed):
                score *= NEGATION_PENALTY
            if score > best:
                scores[intent] = score

    def _score_keywords(self, analysis: Analysis, scores: list[float]) -> None:
        # Most utterances contain no keyword, and a keyword occurs in few: test all
        # clauses at once, first for any keyword, then for each ("|" is in no clause
        # and no keyword, so none can match across two clauses).
        text = "|".join(analysis.clauses)
        sounds = " " + " | ".join(map(" ".join, analysis.syllables)) + " "  # "|".join(padded)
        if not self._any_keyword.search(text) and not self._any_keyword_sound.search(sounds):
            return
        padded: list[str] = []  # " a b ", " c d ": made when first needed
        for keyword in self._keywords:
            by_text = keyword.text in text
            by_sound = keyword.padded_pinyin is not None and keyword.padded_pinyin in sounds
            if not (by_text or by_sound):
                continue
            base = KEYWORD_BASE + (1 - KEYWORD_BASE) * min(1.0, len(keyword.text) / analysis.length)
            if keyword.negated or not analysis.negations:
                # No occurrence can be negated: the best is one in characters, if any.
                score = base * (1.0 if by_text else PINYIN_DISCOUNT)
                scores[keyword.intent] = max(scores[keyword.intent], score)
                continue
            # Every occurrence counts: in 别转人工，不对，我要转人工 the second one wins.
            padded = padded or [f" {' '.join(syllables)} " for syllables in analysis.syllables]
            for by_pinyin, clause, start in _find_keyword(analysis, padded, keyword):
                score = base * (PINYIN_DISCOUNT if by_pinyin else 1.0)
                if _is_negated(analysis, clause, start):
                    score *= NEGATION_PENALTY
                scores[keyword.intent] = max(scores[keyword.intent], score)


# -- helpers ----------------------------------------------------------------


def _any_of(texts: Iterable[str]) -> re.Pattern[str]:
    """A regex that finds any of ``texts`` (none: one that never matches)."""
    return re.compile("|".join(map(re.escape, texts)) or r"(?!)")


def _make_channel(documents: list[tuple[int, set[str]]]) -> _Channel:
    """Weigh features by IDF over intents: one every intent uses tells nothing apart."""
    intents_of: dict[str, set[int]] = {}
    for intent, features in documents:
        for feature in features:
            intents_of.setdefault(feature, set()).add(intent)
    count = len({intent for intent, _ in documents})
    kinds = (UNIGRAM_WEIGHT, BIGRAM_WEIGHT, WORD_WEIGHT)
    weights = {f: kinds[kind(f)] * math.log((count + 1) / len(i)) for f, i in intents_of.items()}
    rare = math.log(count + 1) * UNSEEN_FACTOR
    return _Channel(weights, {}, (kinds[0] * rare, kinds[1] * rare, kinds[2] * rare))


def _overlap(channel: _Channel, features: set[str], size: int) -> _Overlap:
    """The weight each target shares with ``features``, and the weight of ``features``."""
    matched = [0.0] * size
    total = 0.0
    index, unseen = channel.index, channel.unseen
    for feature in features:
        entry = index.get(feature)
        if entry is None:
            # kind(feature), inlined: it is most features of an out-of-domain text.
            total += unseen[2 if feature[0] == "#" else 1 if " " in feature else 0]
            continue
        weight, numbers = entry
        total += weight
        for number in numbers:
            matched[number] += weight
    return matched, total


def _similarity(matched: float, own: float, total: float) -> float:
    """How well an utterance fits an example (the definition _score_examples inlines).

    Args:
        matched: Weight of the features both have.
        own: Weight of the example's features (recall = matched / own).
        total: Weight of the utterance's features (precision = matched / total).

    Returns:
        The larger of the recall-leaning F-score and containment.
    """
    if matched <= 0.0 or own <= 0.0 or total <= 0.0:
        return 0.0
    recall, precision = min(1.0, matched / own), min(1.0, matched / total)
    f_score = (1 + RECALL_BIAS) * precision * recall / (RECALL_BIAS * precision + recall)
    # A caller often says just the heart of an example (人工 for 我要转人工): recall
    # is low, but an utterance lying wholly inside the example is evidence too,
    # in proportion to how distinctive the shared part is.
    containment = precision * matched / (matched + CONTAINMENT_HALF)
    return max(f_score, containment)


def _vocabulary_similarity(matched: float, own: float, total: float) -> float:
    """How well an intent's whole vocabulary explains an utterance (``own`` unused; inlined too).

    Squared precision: a sentence pieced together from two examples (报销款 +
    到账了没有) is explained almost wholly, while one about something else shares
    a few common words with every intent.
    """
    if matched <= 0.0 or total <= 0.0:
        return 0.0
    precision = min(1.0, matched / total)
    return precision * precision * matched / (matched + CONTAINMENT_HALF)


def _negation_factor(negated: frozenset[str] | None, target: _Target) -> float:
    """Penalty for an utterance negating what a target asks for, or the reverse.

    Args:
        negated: The topics of all the utterance's negations; None if it has none
            (an empty set if it has cues that negate nothing in particular).
        target: The example or vocabulary.
    """
    if negated is None:
        return MISSING_NEGATION_PENALTY if target.negated else 1.0
    # A negation must touch the target's content, unless the target negates that same
    # thing itself (没啥问题了 ~ 没有其他问题了): its exposed content excludes that.
    return 1.0 if negated.isdisjoint(target.exposed) else NEGATION_PENALTY


def _is_negated(analysis: Analysis, clause: int, start: int) -> bool:
    return any(n.clause == clause and n.start <= start < n.end for n in analysis.negations)


def _find_keyword(
    analysis: Analysis, padded: list[str], keyword: _Keyword
) -> Iterator[tuple[bool, int, int]]:
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
            yield True, number, syllables.count(" ", 0, position)
            position = syllables.find(keyword.padded_pinyin, position + 1)
