"""Intent recognition for short Chinese utterances heard through phone-line ASR.

There is no trained model: a flow's example sentences and keywords *are* the model,
so a flow works as soon as it is loaded. ``parse`` compares the utterance with every
example; the best match of an intent, or one of its keywords, is its confidence.

How a text is prepared (the examples once, at construction; the utterance per call):

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

An intent's confidence is the best of these. On the test flow (6 intents x 20
examples) held-out paraphrases score a median 0.84 (67 of 70 reach 0.5) and
unrelated sentences a median 0.22 (all 14 below 0.48), hence
``DEFAULT_THRESHOLD = 0.5``.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from pypinyin import lazy_pinyin

from bot.dialog.flow import Intent

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
MAX_CHARS = 200
"""Longer utterances are cut: a phone turn is a sentence or two, not a speech."""

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
NEGATION_SCOPE = 4  # characters after a cue that it may negate

NEGATION_CUES = frozenset(
    {
        *("不", "不要", "不用", "不需要", "不想", "不必", "不是"),
        *("别", "没", "没有", "无需", "无须", "甭", "用不着"),
    }
)
# Words that start like a negation but negate nothing after them; given to jieba
# so that it keeps them whole and they never show up as a bare 不 or 没 token.
NON_NEGATING_WORDS = ("不好意思", "没问题", "没关系", "不客气", "不错", "没错", "不知道")
# Characters that carry no topic: ignored when deciding what a negation is about.
_FUNCTION_CHARS = frozenset("我你您他她它们的了吗呢吧啊呀哦嘛哈给帮跟和把让再就都也还先那这个一下要想请")
_NOT_A_TOPIC = _FUNCTION_CHARS | frozenset("不没别")
_PARTICLES = "啊呀吧呢嘛哦啦嘞哈呐哇噢喔"

# After NFKC: sentence punctuation splits clauses; quotes, brackets and other
# symbols are merely dropped (“医保卡”丢了 is one clause).
_BOUNDARY = re.compile(r"[,.!?;:\u3001\u3002\uff61\uff64]+")
_NOT_CONTENT = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff|]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Character -> fuzzy syllable. Bounded by the number of Han characters; shared by
# all classifiers (a dict write is atomic, so concurrent parses are safe).
_pinyin_cache: dict[str, str] = {}


class Segmenter:
    """Owns one jieba.Tokenizer (NOT jieba's global default), dictionary loaded once.

    Several classifiers may share one segmenter; the words each adds only make
    jieba keep those words whole, which does the others no harm.
    """

    def __init__(self) -> None:
        # A Tokenizer only sets attributes here; its dictionary loads in initialize().
        self._tokenizer = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._ready = False
        self._pending: list[str] = []

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

    def add_words(self, words: Iterable[str]) -> None:
        """Teach jieba words it must not split (keywords, synonyms).

        Args:
            words: The words; blank ones are ignored. Before ``initialize`` they are
                kept for later, because jieba would load its dictionary right here.
        """
        cleaned = [word.strip() for word in words if word.strip()]
        with self._lock:
            if not self._ready:
                self._pending.extend(cleaned)
                return
            for word in cleaned:
                self._tokenizer.add_word(word)

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
        # No HMM: it is slower and invents "words" out of ASR noise; the dictionary
        # plus the flow's own keywords is what there is to match.
        return list(self._tokenizer.lcut(text, HMM=False))


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


@dataclass(frozen=True)
class _Negation:
    clause: int
    start: int  # first character after the cue
    end: int  # one past the last character of the scope
    topic: frozenset[str]  # content characters the cue negates


@dataclass
class _Analysis:
    """A prepared text: its clauses and everything parse() compares."""

    clauses: list[str]
    syllables: list[list[str]]
    chars: set[str] = field(default_factory=set)
    pinyin: set[str] = field(default_factory=set)
    content: set[str] = field(default_factory=set)  # characters that carry a topic
    negations: list[_Negation] = field(default_factory=list)

    @property
    def length(self) -> int:
        return sum(len(clause) for clause in self.clauses)


@dataclass(frozen=True)
class _Target:
    """An example, or the whole vocabulary of an intent, as parse() needs it."""

    intent: int
    char_total: float
    pinyin_total: float
    content: frozenset[str]
    negated: bool  # contains a negation cue (never set for a vocabulary)
    negated_topics: frozenset[str]  # what its own negations are about


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

    def weight(self, feature: str) -> float:
        found = self.weights.get(feature)
        return self.unseen[_kind(feature)] if found is None else found


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
        self._synonym_re, self._canonical = _compile_synonyms(synonyms)
        # Variants never reach jieba (they are rewritten first) but are added anyway,
        # so that a segmenter shared with other code keeps them whole too.
        words = [*NEGATION_CUES, *NON_NEGATING_WORDS, *synonyms]
        words += [variant for variants in synonyms.values() for variant in variants]
        words = [_normalize(word) for word in words]
        words += [self._prepare(keyword) for intent in intents.values() for keyword in intent.keywords]
        segmenter.add_words(word for word in words if len(word) > 1 and "|" not in word)
        self._build(intents)

    # -- construction -------------------------------------------------------

    def _build(self, intents: Mapping[str, Intent]) -> None:
        examples: list[tuple[int, _Analysis]] = []
        for index, (name, intent) in enumerate(intents.items()):
            for text in intent.examples:
                analysis = self._analyse(text)
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
        # Keywords count as text of their intent for the IDF, not as examples.
        documents = examples + [(k.intent, self._analyse(k.text)) for k in self._keywords]
        self._char = _make_channel([(i, a.chars) for i, a in documents])
        self._pinyin = _make_channel([(i, a.pinyin) for i, a in documents])
        self._targets = [self._make_target(n, i, [a]) for n, (i, a) in enumerate(examples)]
        # Each intent's whole vocabulary is a target too, numbered after the examples.
        for index in range(len(self._names)):
            own = [analysis for intent, analysis in examples if intent == index]
            self._targets.append(self._make_target(len(self._targets), index, own))
        self._vocabulary_start = len(examples)

    def _make_target(self, number: int, intent: int, analyses: list[_Analysis]) -> _Target:
        """Index ``analyses`` (one example, or all of an intent's) under ``number``."""
        chars = set().union(*(a.chars for a in analyses))
        pinyin = set().union(*(a.pinyin for a in analyses))
        for channel, features in ((self._char, chars), (self._pinyin, pinyin)):
            for feature in features:
                channel.postings.setdefault(feature, []).append(number)
        negations = [n for a in analyses for n in a.negations]
        return _Target(
            intent=intent,
            char_total=sum(map(self._char.weight, chars)),
            pinyin_total=sum(map(self._pinyin.weight, pinyin)),
            content=frozenset().union(*(a.content for a in analyses)),
            negated=len(analyses) == 1 and bool(negations),
            negated_topics=frozenset().union(*(n.topic for n in negations)),
        )

    def _make_keyword(self, intent: int, text: str) -> _Keyword | None:
        word = self._prepare(text).replace("|", "")
        if not word:
            logger.warning("intent %r: keyword %r has no words; ignored", self._names[intent], text)
            return None
        syllables = [_syllable(char) for char in word]
        padded = f" {' '.join(syllables)} " if len(syllables) > 1 else None
        return _Keyword(intent, word, padded, any(cue in word for cue in NEGATION_CUES))

    # -- analysis -----------------------------------------------------------

    def _prepare(self, text: str) -> str:
        """Normalize and rewrite synonyms; clause boundaries become ``|``."""
        # Cut raw input first: NFKC and the regexes are linear, but why pay for 1 MB.
        prepared = _normalize(text[: MAX_CHARS * 4])
        if self._synonym_re is not None:
            prepared = self._synonym_re.sub(lambda m: self._canonical[m.group(0)], prepared)
        return prepared

    def _analyse(self, text: str) -> _Analysis:
        clauses = [c.rstrip(_PARTICLES) or c for c in self._prepare(text).split("|") if c]
        clauses = _truncate(clauses, MAX_CHARS)
        analysis = _Analysis(clauses, [[_syllable(c) for c in clause] for clause in clauses])
        for number in range(len(clauses)):
            _add_ngrams(analysis, number)
            self._add_words(analysis, number)
        return analysis

    def _add_words(self, analysis: _Analysis, number: int) -> None:
        """Add word features and find negation cues, both from jieba's words."""
        clause, syllables = analysis.clauses[number], analysis.syllables[number]
        offset = 0
        cues: list[tuple[int, int]] = []
        for token in self._segmenter.cut(clause):
            end = offset + len(token)
            if len(token) > 1:
                analysis.chars.add("#" + token)
                analysis.pinyin.add("#" + " ".join(syllables[offset:end]))
            # 到账了没有 asks whether it has arrived; it negates nothing.
            question_tag = end == len(clause) and clause[offset - 1 : offset] == "了"
            if token in NEGATION_CUES and not question_tag:
                cues.append((offset, end))
            offset = end
        # A scope ends where the next cue starts: in 不是不是 the second 不是
        # repeats the first rather than being what it negates.
        limits = [start for start, _ in cues[1:]] + [len(clause)]
        for (cue_start, cue_end), limit in zip(cues, limits[: len(cues)], strict=True):
            scope_end = min(limit, cue_end + NEGATION_SCOPE)
            # The topic starts inside the cue: jieba fuses 不需要 into one token,
            # and 需要 is exactly what it negates.
            topic = frozenset(c for c in clause[cue_start + 1 : scope_end] if c not in _NOT_A_TOPIC)
            analysis.negations.append(_Negation(number, cue_end, scope_end, topic))

    # -- parsing ------------------------------------------------------------

    def parse(self, text: str) -> ParseResult:
        """Recognize the intent of one utterance.

        Args:
            text: What the ASR heard; any string (empty, punctuation, latin...).

        Returns:
            Every intent scored, best first (at most ``MAX_RANKING``); ``intent``
            is the best one if it reaches the threshold, else ``None``.
        """
        analysis = self._analyse(text)
        scores = [0.0] * len(self._names)
        if analysis.length:
            self._score_targets(analysis, scores)
            self._score_keywords(analysis, scores)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])[:MAX_RANKING]
        ranking = [IntentScore(self._names[i], round(scores[i], 4)) for i in order]
        best = ranking[0] if ranking and ranking[0].confidence >= self.threshold else None
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("parse %r -> %s", text, [(s.name, s.confidence) for s in ranking[:3]])
        return ParseResult(text=text, intent=best, ranking=ranking)

    def _score_targets(self, analysis: _Analysis, scores: list[float]) -> None:
        size = len(self._targets)
        char_matched, char_total = _overlap(self._char, analysis.chars, size)
        pinyin_matched, pinyin_total = _overlap(self._pinyin, analysis.pinyin, size)
        for number, target in enumerate(self._targets):
            if not pinyin_matched[number]:  # pinyin always matches where characters do
                continue
            similarity = _similarity if number < self._vocabulary_start else _vocabulary_similarity
            score = max(
                similarity(char_matched[number], target.char_total, char_total),
                PINYIN_DISCOUNT * similarity(pinyin_matched[number], target.pinyin_total, pinyin_total),
            )
            score *= _negation_factor(analysis, target)
            scores[target.intent] = max(scores[target.intent], score)

    def _score_keywords(self, analysis: _Analysis, scores: list[float]) -> None:
        padded = [f" {' '.join(syllables)} " for syllables in analysis.syllables]
        for keyword in self._keywords:
            base = KEYWORD_BASE + (1 - KEYWORD_BASE) * min(1.0, len(keyword.text) / analysis.length)
            # Every occurrence counts: in 别转人工，不对，我要转人工 the second one wins.
            for by_pinyin, clause, start in _find_keyword(analysis, padded, keyword):
                score = base * (PINYIN_DISCOUNT if by_pinyin else 1.0)
                if not keyword.negated and _is_negated(analysis, clause, start):
                    score *= NEGATION_PENALTY
                scores[keyword.intent] = max(scores[keyword.intent], score)


# -- helpers ----------------------------------------------------------------


def _normalize(text: str) -> str:
    """Full-width to half-width, lower case; punctuation -> ``|``; drop the rest."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _NOT_CONTENT.sub("", _BOUNDARY.sub("|", text))


def _compile_synonyms(
    synonyms: Mapping[str, Sequence[str]],
) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One regex matching every variant, and variant -> canonical word."""
    canonical: dict[str, str] = {}
    for word, variants in synonyms.items():
        target = _normalize(word).replace("|", "")
        for variant in variants:
            key = _normalize(variant).replace("|", "")
            if not key or key == target:
                continue
            if canonical.get(key, target) != target:
                logger.warning("synonym %r is listed under two words; using %r", variant, word)
            canonical[key] = target
    if not canonical:
        return None, canonical
    # Canonical words match themselves, and longest wins: with 医保卡: [医保],
    # 医保卡 must stay 医保卡, not become 医保卡卡.
    for word in synonyms:
        target = _normalize(word).replace("|", "")
        if target:
            canonical.setdefault(target, target)
    alternatives = sorted(canonical, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, alternatives))), canonical


def _truncate(clauses: list[str], limit: int) -> list[str]:
    kept: list[str] = []
    for clause in clauses:
        if limit <= 0:
            break
        kept.append(clause[:limit])
        limit -= len(clause)
    return kept


def _syllable(char: str) -> str:
    """Toneless, fuzzy pinyin of one character, cached: pypinyin is slow per call."""
    cached = _pinyin_cache.get(char)
    if cached is None:
        cached = _fuzzy(lazy_pinyin(char)[0]) if _HAN.match(char) else char
        _pinyin_cache[char] = cached
    return cached


def _fuzzy(syllable: str) -> str:
    """Merge the sounds phone ASR and regional accents confuse most (zh/z, in/ing, n/l)."""
    if syllable[:2] in ("zh", "ch", "sh"):
        syllable = syllable[0] + syllable[2:]
    if syllable.endswith(("ing", "eng")):
        syllable = syllable[:-1]
    if syllable.startswith("l"):
        syllable = "n" + syllable[1:]
    return syllable


def _add_ngrams(analysis: _Analysis, number: int) -> None:
    """Add character and pinyin unigrams and bigrams of one clause."""
    clause, syllables = analysis.clauses[number], analysis.syllables[number]
    for i, char in enumerate(clause):
        analysis.chars.add(char)
        analysis.pinyin.add(syllables[i])
        if i:
            analysis.chars.add(f"{clause[i - 1]} {char}")
            analysis.pinyin.add(f"{syllables[i - 1]} {syllables[i]}")
        if char not in _FUNCTION_CHARS:
            analysis.content.add(char)


def _kind(feature: str) -> int:
    """0 unigram, 1 bigram, 2 word, by the shape _add_ngrams/_add_words give them."""
    if feature[0] == "#":
        return 2
    return 1 if " " in feature else 0


def _make_channel(documents: list[tuple[int, set[str]]]) -> _Channel:
    """Weigh features by IDF over intents: one every intent uses tells nothing apart."""
    intents_of: dict[str, set[int]] = {}
    for intent, features in documents:
        for feature in features:
            intents_of.setdefault(feature, set()).add(intent)
    count = len({intent for intent, _ in documents})
    kinds = (UNIGRAM_WEIGHT, BIGRAM_WEIGHT, WORD_WEIGHT)
    weights = {f: kinds[_kind(f)] * math.log((count + 1) / len(i)) for f, i in intents_of.items()}
    rare = math.log(count + 1) * UNSEEN_FACTOR
    return _Channel(weights, {}, (kinds[0] * rare, kinds[1] * rare, kinds[2] * rare))


def _overlap(channel: _Channel, features: set[str], size: int) -> tuple[list[float], float]:
    """The weight each target shares with ``features``, and the weight of ``features``."""
    matched = [0.0] * size
    total = 0.0
    postings, weights, unseen = channel.postings, channel.weights, channel.unseen
    for feature in features:
        weight = weights.get(feature)
        if weight is None:
            total += unseen[_kind(feature)]
            continue
        total += weight
        for number in postings.get(feature, ()):
            matched[number] += weight
    return matched, total


def _similarity(matched: float, own: float, total: float) -> float:
    """How well an utterance fits an example.

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
    """How well an intent's whole vocabulary explains an utterance (``own`` unused).

    Squared precision: a sentence pieced together from two examples (报销款 +
    到账了没有) is explained almost wholly, while one about something else shares
    a few common words with every intent.
    """
    if matched <= 0.0 or total <= 0.0:
        return 0.0
    precision = min(1.0, matched / total)
    return precision * precision * matched / (matched + CONTAINMENT_HALF)


def _negation_factor(analysis: _Analysis, target: _Target) -> float:
    """Penalty for an utterance negating what a target asks for, or the reverse."""
    if not analysis.negations:
        return MISSING_NEGATION_PENALTY if target.negated else 1.0
    for negation in analysis.negations:
        hit = negation.topic & target.content
        # Unless the target negates the same thing itself: 没啥问题了 ~ 没有其他问题了.
        if hit and not hit <= target.negated_topics:
            return NEGATION_PENALTY
    return 1.0


def _is_negated(analysis: _Analysis, clause: int, start: int) -> bool:
    return any(n.clause == clause and n.start <= start < n.end for n in analysis.negations)


def _find_keyword(
    analysis: _Analysis, padded: list[str], keyword: _Keyword
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
