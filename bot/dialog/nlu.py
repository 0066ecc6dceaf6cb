"""Intent recognition for short Chinese utterances heard through phone-line ASR.

There is no trained model: a flow's example sentences and keywords *are* the model,
so a flow works as soon as it is loaded. ``parse`` compares the utterance with every
example; the best match of an intent, or one of its keywords, is its confidence.

How a text is prepared (the examples once, at construction; the utterance per call;
the code is in ``bot.text.features``, on the segmenter, fillers and pinyin fold table
that the knowledge base uses too):

1. NFKC (full-width -> half-width), lower case; sentence punctuation splits the
   text into clauses; whitespace, quotes, emoji and other symbols are dropped, as are the
   sentence-final particles (啊, 吧, 呢…, ``bot.text.fillers``) that colour a reply but
   do not change it, and a 不 or 没有 that ends a yes-no question (开门不 is 开门吗).
   After 不过, 但是 or 可是, only what follows is compared: it is the caller's point;
   so is what 现在 opens after a clause that told how things were (刚才在忙，现在好了).
2. Synonym variants are rewritten to their canonical word (社保卡 -> 医保卡), the
   flow's own and regional words (莫得 -> 没有, 揾 -> 找: ``bot.text.regional``).
3. Each clause is cut into words by jieba; fillers, hedges and polite words (那个, 嗯,
   好像, 其实, 请问, 麻烦…, ``bot.text.fillers.NOISE_WORDS``) are left out unless nothing
   else is left in the clause (嗯 alone is an answer; a clause of 那个 is dropped, and an
   utterance of nothing but such words, 嗯……那个……, says nothing), and
   the rest is turned into two feature sets:
   *characters* (single characters, character bigrams, words) and *pinyin* (the
   same on toneless pinyin folded by ``bot.text.pinyin``, so the ASR homophone 专人工
   still meets 转人工). Every feature weighs its kind (a single character half) times an
   IDF over the intents: 我, found in every intent, weighs almost nothing; a
   feature unseen in any example weighs like a rare one.

How the confidence (0..1) is computed:

* Example: with ``m`` the weight an utterance shares with an example, recall
  ``R = m / W(example)``, precision ``P = m / W(utterance)``; the score is the
  larger of ``F2 = 5PR / (4P + R)`` (recall counts more: callers wrap an example
  in fillers more often than they drop part of it) and containment
  ``P * m / (m + 2)`` (人工 alone, wholly inside 我要转人工). Computed on both
  feature sets, the pinyin score discounted by ``PINYIN_DISCOUNT``.
* Vocabulary: ``P**1.5 * m / (m + 2)`` against all the examples of an intent at
  once, for a sentence pieced together from two examples.
* Keyword found in the utterance (characters, or pinyin if two syllables or
  more): ``KEYWORD_BASE`` plus the rest in proportion to how much it covers.
* Negation (an A-not-A question, 放不放假 or 有没有, is none): a cue (不, 不要, 不用,
  不需要, 别, 没, 无需, 甭…) whose scope -- the cue's
  own verb (需要 in 不需要) and the next few characters of its clause -- touches
  what an example or keyword is about multiplies that score by
  ``NEGATION_PENALTY``, unless the example negates that same thing itself (deny:
  不需要). An example with a cue, met by an utterance with none, gets
  ``MISSING_NEGATION_PENALTY`` (需要 is not 不需要). A refusal that ends a clause
  negates what came before it (人工就不用了, 挂失就不办了), and 不 fused with its verb
  by jieba (不问, 不查) is a cue too: ``bot.dialog.nlu_negation``. An intent whose
  keywords the utterance holds only under a negation is refused: its best score is
  multiplied by ``NEGATION_PENALTY`` too (我的卡好好的，不用补办: no example of
  ``card_loss`` takes it on 医保卡 alone).

An intent's confidence is the best of these, with two corrections for utterances of
several clauses:

* A request told as a story is diluted by the story (我妈三月住院花了两万三，报销申请交上去了，
  啥时候能批下来): when no intent reaches the threshold and the utterance negates
  nothing, each clause of ``MIN_CLAUSE_CHARS`` or more with no negation cue is scored
  alone, and the best intent of the whole takes that clause's score if it reaches the
  threshold by ``CLAUSE_MARGIN`` (only that intent: a clause that alone says 就是 or 不好
  does not decide for another).
* A yes followed by a request (那行，再见; 嗯，好，转人工) is the request: when the best
  intent is the flow's yes (the library's ``affirm``) and the last clause alone is
  clearly another intent (over the threshold by ``CLAUSE_MARGIN``), that one comes first.
* A yes followed by what the caller adds (是啊，我刚才就说了; 对的，身份证尾号四五六七) is the
  yes: when no intent reaches the threshold, the utterance negates nothing, and its first
  clause alone is clearly the flow's yes (but for a hesitation, 嗯, 对了, which opens a
  new subject, and a yes asked, 对吗), the yes takes that clause's score.

An intent the flow's ``exclude:`` words refuse (报销比例 for a progress query) is
multiplied by ``NEGATION_PENALTY``, as a refused keyword's (``bot.dialog.nlu_keywords``).

``parse`` is on the hot path of every call turn, so its scoring is written for speed
(the examples, some thousands with the built-in library, as numpy arrays,
``bot.dialog.nlu_arrays``: one operation over all of them; the vocabularies inlined;
examples that the analysis makes identical, 好的 and 好的呀, one target); the plain
definitions in ``bot.dialog.nlu_scoring`` (``similarity``...) are what they must equal,
bit for bit, and the tests hold them to it.

Rivals: the built-in intents a flow does not use are scored too, by a classifier of the
whole library (``rivals``), once the flow's best intent reached the threshold; when one of
them fits the words clearly better (by ``RIVAL_MARGIN``), the words are none of the
flow's intents (你是机器人吗 is not ``transfer_agent`` for a flow without
``are_you_robot``, 你们是哪个单位的 not ``busy``). docs/quality.md, "Round 4".

On the test flow (6 intents x 20 examples) held-out paraphrases score a median 0.84
(67 of 70 reach 0.5) and unrelated sentences a median 0.22 (all 14 below 0.48), hence
the default threshold of 0.5 (``VOICEBOT_NLU_THRESHOLD``, a flow's ``nlu.threshold``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.dialog.nlu_arrays import ExampleArrays, Postings, array_index, similarities
from bot.dialog.nlu_keywords import Exclusions, KeywordSpotter, keyword_parts, make_keyword
from bot.dialog.nlu_negation import add_postposed_negations, cancel_double_negations
from bot.dialog.nlu_opinion import MIN_NONE_EXAMPLES, LinearOpinion, features_of, second_opinion
from bot.dialog.nlu_scoring import (
    CONTAINMENT_HALF,
    NEGATION_PENALTY,
    PINYIN_DISCOUNT,
    VOCABULARY_POWER,
    Channel,
    Target,
    make_channel,
    negation_factor,
)
from bot.language.flow import Intent
from bot.text.features import CUE_CHARS, NEGATION_CUES, NON_NEGATING_WORDS, Analyser, Analysis, normalize
from bot.text.fillers import HESITATIONS
from bot.text.regional import with_regional_words
from bot.text.segmenter import Segmenter

__all__ = ["IntentClassifier", "IntentScore", "ParseResult", "Rivals", "vocabulary"]

logger = logging.getLogger(__name__)

MAX_RANKING = 10
# Callers repeat themselves across calls (对, 是的, 好的, 不需要了, 转人工): the last
# utterances parsed are remembered, per classifier. About 1 KB each.
PARSE_CACHE_SIZE = 2048
# How much better a rival (a built-in intent the flow does not use) must fit the words
# than the flow's best intent to make them a no-match: chosen on the tuning sets
# (docs/quality.md, "Round 4"); at 0.1 and under, rivals took in-scope utterances.
RIVAL_MARGIN = 0.2
YES = "affirm"  # the built-in intent of a yes, which a request may follow (那行，转人工吧)
AFTER_A_YES = 0.001  # how far under the request a yes before it is put
# A clause scored alone (docs/quality.md, "Round 11"): at least this many characters,
# and over the threshold by this much (at 0, survey took 回访啥啊，我买啥了 for deny at
# 0.52: a clause alone says less than the whole).
BY_THE_WAY = frozenset({"对了", "哦对了", "噢对了"})  # 对了，我还想问一下: no yes, a new subject
ASKED = ("吗", "么")  # 对吗，我也说不准: a yes asked is no yes
MIN_CLAUSE_CHARS = 5
CLAUSE_MARGIN = 0.03


def vocabulary(intents: Mapping[str, Intent], synonyms: Mapping[str, Sequence[str]]) -> list[str]:
    """The words a classifier of these intents needs jieba to keep whole.

    Variants never reach jieba (they are rewritten first) but are included anyway,
    so that a segmenter shared with other code keeps them whole too. Not the regional
    words (``bot.text.regional``): their Mandarin words are jieba's own, which forced
    whole would cut every text differently (谢谢你, 好的呀).
    """
    analyser = Analyser(with_regional_words(synonyms), lambda text: [text])
    words = [*NEGATION_CUES, *NON_NEGATING_WORDS, *synonyms]
    words += [variant for variants in synonyms.values() for variant in variants]
    words = [normalize(word) for word in words]
    words += [
        part
        for intent in intents.values()
        for word in intent.keywords
        for part in keyword_parts(analyser, word)
    ]
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
    ranking: tuple[IntentScore, ...]
    # The intent is the second opinion's (bot.dialog.nlu_opinion): its similarity score
    # alone was under the threshold, and its confidence is the threshold.
    second_opinion: bool = False
    # A built-in intent the flow does not use, which fitted the words clearly better than
    # the flow's best intent: that one was not taken (``intent`` is None).
    rival: IntentScore | None = None

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


def fit_opinion(
    examples: list[tuple[int, Analysis]],
    none_examples: Sequence[str],
    analyse: Callable[[str], Analysis],
    intents: int,
) -> LinearOpinion | None:
    """The second opinion, taught the examples (deduplicated as the targets are) and the
    sentences of no intent (analysed by ``analyse``); None without enough of those to
    learn what the intents are not."""
    if len(none_examples) < MIN_NONE_EXAMPLES:
        return None  # it would take anything for an intent

    def rows() -> Iterator[tuple[int, list[str]]]:  # one at a time: the fit keeps numbers
        for index, analysis in examples:
            yield index, features_of(analysis)
        for text in none_examples:
            analysis = analyse(text)
            if analysis.length:
                yield intents, features_of(analysis)

    return LinearOpinion.train(rows(), intents + 1)


@dataclass(frozen=True)
class Rivals:
    """Intents that are none of a flow's: the built-in ones, scored by a classifier of the
    whole library (shared by every flow), less ``left_out`` (those the flow uses, and
    those that mean what one of its own intents means)."""

    classifier: IntentClassifier
    left_out: frozenset[str] = frozenset()

    def best(self, analysis: Analysis) -> IntentScore | None:
        """The rival that fits ``analysis`` best (an analysis by the library's classifier,
        or one that the flow's synonyms left as the library would make it)."""
        scores = self.classifier.similarities(analysis)
        kept = [(score, name) for name, score in scores.items() if name not in self.left_out]
        if not kept:
            return None
        score, name = max(kept)
        return IntentScore(name, round(score, 4))

    def outdoing(self, text: str, analysis: Analysis, best: IntentScore) -> IntentScore | None:
        """The rival that fits ``text`` clearly better than ``best``, if one does.

        ``analysis`` is the flow's of ``text``: the library compares it as it is, unless
        the flow's synonyms changed the words (真人 is yibao's 人工, so 你是机器人还是真人
        would no longer be the library's question whether it is a robot): then it
        analyses ``text`` itself.
        """
        if best.confidence + RIVAL_MARGIN > 1.0:
            return None  # none can: a confidence is at most 1
        if analysis.rewritten:
            analysis = self.classifier.analyse(text)
        rival = self.best(analysis)
        return rival if rival is not None and rival.confidence >= best.confidence + RIVAL_MARGIN else None


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
        none_examples: Sequence[str] | None = None,
        opinion_later: bool = False,
        rivals: Callable[[], Rivals | None] | None = None,
    ) -> None:
        """Prepare every example and keyword, so that ``parse`` only looks things up.

        Args:
            intents: The flow's intents by name.
            synonyms: Canonical word -> its variants, which are rewritten to it.
            threshold: The lowest confidence that counts as a match, in [0, 1].
            segmenter: A shared segmenter, best initialized already (otherwise its
                dictionary is loaded here, blocking).
            none_examples: Sentences of none of the intents, for the second opinion
                (``bot.dialog.nlu_opinion``); None: no second opinion.
            opinion_later: Train the second opinion only when :meth:`train_opinion`
                is called (``voicebot serve`` does once it serves: a second or so of
                CPU per flow not spent before it is ready); else now.
            rivals: Makes the rivals (intents that are none of these: the built-in
                ones the flow does not use), when the second opinion is trained;
                None: no rivals.

        Raises:
            ValueError: If ``threshold`` is outside [0, 1].
        """
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, not {threshold}")
        self.threshold = threshold
        self._segmenter = segmenter
        self._names = list(intents)
        # The intents that say yes (those taught the library's affirm).
        self.yes_intents = frozenset(
            index for index, intent in enumerate(intents.values()) if YES in intent.builtins
        )
        self._analyser = Analyser(with_regional_words(synonyms), segmenter.cut)
        segmenter.add_words(vocabulary(intents, synonyms))
        examples = self._build(intents)
        # Keyed by the segmenter's words too: a flow loaded later may teach it words
        # that cut the same text otherwise. A dict, not lru_cache on a method, whose
        # cycle would keep a replaced flow's classifier (frozen by gc.freeze) for good.
        # And by whether the second opinion and the rivals were there to ask.
        self._parsed: dict[tuple[str, int, bool, bool], ParseResult] = {}
        self._make_rivals = rivals
        self._rivals: Rivals | None = None
        self._opinion: LinearOpinion | None = None
        self._training = threading.Lock()
        self._untrained = None if none_examples is None else (examples, list(none_examples))
        if not opinion_later:
            self.train_opinion()

    # -- construction -------------------------------------------------------

    def _build(self, intents: Mapping[str, Intent]) -> list[tuple[int, Analysis]]:
        """Index the examples and keywords; the examples kept, by intent number."""
        examples: list[tuple[int, Analysis]] = []
        seen: set[tuple[object, ...]] = set()
        for index, (name, intent) in enumerate(intents.items()):
            for text in intent.examples:
                analysis = self.analyse(text)
                if not analysis.length:
                    logger.warning("intent %r: example %r has no words; ignored", name, text)
                    continue
                # Examples that differ only in what the analysis leaves out (好的, 好的呀)
                # would score alike: one target of them is enough.
                topics = frozenset(c for n in analysis.negations for c in n.topic)
                same = (
                    index,
                    frozenset(analysis.chars),
                    frozenset(analysis.pinyin),
                    topics,
                    bool(analysis.negations),
                )
                if same not in seen:
                    seen.add(same)
                    examples.append((index, analysis))
        self._keywords = [
            keyword
            for index, (name, intent) in enumerate(intents.items())
            for text in intent.keywords
            if (keyword := make_keyword(self._analyser, index, name, text)) is not None
        ]
        self._spotter = KeywordSpotter(self._keywords)
        excluded = ((index, word) for index, intent in enumerate(intents.values()) for word in intent.exclude)
        self._exclusions = Exclusions(self._analyser, excluded)
        # Keywords count as text of their intent for the IDF, not as examples.
        documents = examples + [(k.intent, self.analyse(k.text)) for k in self._keywords]
        self._char = make_channel([(i, a.chars) for i, a in documents])
        self._pinyin = make_channel([(i, a.pinyin) for i, a in documents])
        channels = self._char, self._pinyin
        self._targets = [_make_target(*channels, n, i, [a]) for n, (i, a) in enumerate(examples)]
        # Each intent's whole vocabulary is a target too, numbered after the examples.
        for index in range(len(self._names)):
            own = [analysis for intent, analysis in examples if intent == index]
            self._targets.append(_make_target(*channels, len(self._targets), index, own))
        self._vocabulary_start = len(examples)
        self._char.freeze()
        self._pinyin.freeze()
        # What _score_targets reads: the vocabularies as plain tuples (a few), the
        # examples as arrays (hundreds to thousands, with the built-in library).
        rows = [
            (t.intent, t.char_total, t.pinyin_total, negation_factor(None, t), t.exposed)
            for t in self._targets
        ]
        self._vocabulary_rows = rows[self._vocabulary_start :]
        # Pinyin targets are numbered after the characters': one bincount adds both.
        self._char_index = array_index(self._char, 0)
        self._pinyin_index = array_index(self._pinyin, len(self._targets))
        self._examples = ExampleArrays.of(self._targets[: self._vocabulary_start])
        return examples

    def train_opinion(self) -> None:
        """Train the second opinion and make the rivals if they are not yet (CPU-bound:
        about a second for a flow with the library; run it off the event loop). Until
        then ``parse`` goes without them; results parsed before are not reused after."""
        with self._training:  # a classifier may be shared by two registries' threads
            untrained, self._untrained = self._untrained, None
            if untrained is not None:
                self._opinion = fit_opinion(*untrained, self.analyse, len(self._names))
            make_rivals, self._make_rivals = self._make_rivals, None
            if make_rivals is not None:
                self._rivals = make_rivals()

    # -- parsing ------------------------------------------------------------

    def parse(self, text: str) -> ParseResult:
        """Recognize the intent of one utterance.

        Args:
            text: What the ASR heard; any string (empty, punctuation, latin...).

        Returns:
            Every intent scored, best first (at most ``MAX_RANKING``); ``intent``
            is the best one if it reaches the threshold, else ``None``. The same
            text gets the same (shared, immutable) result while the segmenter's
            words stay the same.
        """
        key = (text, self._segmenter.words_added, self._opinion is not None, self._rivals is not None)
        parsed = self._parsed.get(key)
        if parsed is None:
            parsed = self._parse(text)
            if len(self._parsed) >= PARSE_CACHE_SIZE:  # the oldest goes
                with contextlib.suppress(StopIteration, KeyError, RuntimeError):
                    del self._parsed[next(iter(self._parsed))]
            self._parsed[key] = parsed
        return parsed

    def _parse(self, text: str) -> ParseResult:
        analysis = self.analyse(text)
        scores = [0.0] * len(self._names)
        lifted = None
        if analysis.length:
            self._score(analysis, scores)
            opinion = self._opinion  # set by another thread when trained later (serve)
            if opinion is not None and not analysis.negations:
                lifted = second_opinion(opinion, analysis, scores, self.threshold)
        clause = None
        if len(analysis.clauses) > 1 and scores:
            if self.yes_intents:  # 那行，再见: a yes, then the request
                _answer_then_request(self, analysis, scores)
                if not analysis.negations and max(scores) < self.threshold:
                    _answer_then_statement(self, analysis, scores)  # 是啊，我刚才就说了
            # A request told as a story (我妈三月住院花了两万三，报销申请交上去了，啥时候能批下来):
            # its clause that asks may decide alone what the whole only leans to.
            if not analysis.negations and max(scores) < self.threshold:
                clause = _lift_by_clause(self, analysis, scores)
        # Stable even reversed: equal scores keep the flow's order of intents.
        order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:MAX_RANKING]
        ranking = tuple(IntentScore(self._names[i], round(scores[i], 4)) for i in order)
        best = ranking[0] if ranking and ranking[0].confidence >= self.threshold else None
        rivals = self._rivals  # set by another thread when trained later (serve)
        judged = (text, analysis) if clause is None else clause  # the words that decided
        rival = rivals.outdoing(*judged, best) if rivals is not None and best is not None else None
        if logger.isEnabledFor(logging.DEBUG):
            top = [(s.name, s.confidence) for s in ranking[:3]]
            logger.debug("parse %r -> %s, rival %s", text, top, rival)
        if rival is not None:
            best = None
        # A lifted intent is the only one at the threshold: the best, if it counts at all.
        decided = best is not None and lifted is not None
        return ParseResult(text=text, intent=best, ranking=ranking, second_opinion=decided, rival=rival)

    def similarities(self, analysis: Analysis) -> dict[str, float]:
        """Each intent's similarity score for an analysis of this classifier's (no second
        opinion, no rivals, no threshold)."""
        scores = [0.0] * len(self._names)
        if analysis.length:
            self._score(analysis, scores)
        return dict(zip(self._names, scores, strict=True))

    def _score(self, analysis: Analysis, scores: list[float]) -> None:
        # An intent's confidence is a max: the order of these does not matter.
        refused = self._spotter.score(analysis, scores) | self._exclusions.refused(analysis)
        self._score_targets(analysis, scores)
        # 不用补办: no example of card_loss takes 我的卡好好的 either; nor 密码忘了 with 密码 excluded.
        for intent in refused:
            scores[intent] *= NEGATION_PENALTY

    def analyse(self, text: str) -> Analysis:
        """The features and negations of ``text``, those after what they negate included,
        as :meth:`parse` sees them (for :meth:`similarities`; read it, do not change it)."""
        analysis = self._analyser.analyse(cancel_double_negations(text))
        add_postposed_negations(analysis)
        return analysis

    def _score_targets(self, analysis: Analysis, scores: list[float]) -> None:
        size = len(self._targets)
        postings = Postings()
        char_total = postings.add(self._char_index, self._char.unseen, analysis.chars)
        pinyin_total = postings.add(self._pinyin_index, self._pinyin.unseen, analysis.pinyin)
        matched = postings.sums(2 * size)
        char_matched, pinyin_matched = matched[:size], matched[size:]
        # All the utterance negates, together (see negation_factor); None if nothing.
        negated = frozenset().union(*(n.topic for n in analysis.negations)) if analysis.negations else None
        start = self._vocabulary_start
        vocabularies = (
            (char_matched[start:].tolist(), char_total),
            (pinyin_matched[start:].tolist(), pinyin_total),
        )
        self._score_vocabularies(vocabularies, negated, scores)
        self._score_examples(
            (char_matched[:start], char_total), (pinyin_matched[:start], pinyin_total), negated, scores
        )

    # The loop and the array arithmetic below are nlu_scoring's similarity /
    # vocabulary_similarity, max and negation_factor written out, with the very same
    # float operations in the same order (IEEE arithmetic, element by element, gives
    # the same bits in numpy as in Python): test_fast_scoring_is_the_definition holds
    # them equal. Their guards are left out: every weight is positive
    # (log((n+1)/k) with k <= n intents), so are a target's totals, and so is the
    # utterance's once it shares a feature.

    def _score_vocabularies(
        self,
        vocabularies: tuple[tuple[list[float], float], tuple[list[float], float]],
        negated: frozenset[str] | None,
        scores: list[float],
    ) -> None:
        (char_matched, char_total), (pinyin_matched, pinyin_total) = vocabularies
        for number, (intent, _, _, no_negation, exposed) in enumerate(self._vocabulary_rows):
            matched = pinyin_matched[number]
            if not matched:  # pinyin always matches where characters do
                continue
            precision = matched / pinyin_total
            precision = 1.0 if precision > 1.0 else precision
            score = PINYIN_DISCOUNT * (precision**VOCABULARY_POWER * matched / (matched + CONTAINMENT_HALF))
            # With no shared character, precision is 0.0 and so is the similarity.
            matched = char_matched[number]
            precision = matched / char_total
            precision = 1.0 if precision > 1.0 else precision
            similarity = precision**VOCABULARY_POWER * matched / (matched + CONTAINMENT_HALF)
            score = similarity if similarity >= score else score
            if negated is None:
                score *= no_negation
            elif not negated.isdisjoint(exposed):
                score *= NEGATION_PENALTY
            scores[intent] = max(scores[intent], score)

    def _score_examples(
        self,
        char: tuple[np.ndarray, float],
        pinyin: tuple[np.ndarray, float],
        negated: frozenset[str] | None,
        scores: list[float],
    ) -> None:
        examples = self._examples
        (char_matched, char_total), (pinyin_matched, pinyin_total) = char, pinyin
        met = np.flatnonzero(pinyin_matched)  # pinyin always matches where characters do
        if not met.size:
            return
        score = PINYIN_DISCOUNT * similarities(pinyin_matched[met], examples.pinyin_total[met], pinyin_total)
        with_chars = np.flatnonzero(char_matched[met])
        if with_chars.size:
            numbers = met[with_chars]
            similarity = similarities(char_matched[numbers], examples.char_total[numbers], char_total)
            score[with_chars] = np.maximum(similarity, score[with_chars])
        if negated is None:
            score *= examples.no_negation[met]
        else:
            touched = examples.touched_by(negated)[met]
            score = np.where(touched, score * NEGATION_PENALTY, score)
        every = np.zeros(len(examples.no_negation))
        every[met] = score
        best = np.maximum.reduceat(every, examples.segment_starts).tolist()
        for intent, intent_best in zip(examples.segment_intents, best, strict=True):
            scores[intent] = max(scores[intent], intent_best)


def _make_target(
    char: Channel, pinyin: Channel, number: int, intent: int, analyses: list[Analysis]
) -> Target:
    """Index ``analyses`` (one example, or all of an intent's) under ``number`` in the
    channels ``char`` and ``pinyin``."""
    chars = set().union(*(a.chars for a in analyses))
    syllables = set().union(*(a.pinyin for a in analyses))
    for channel, features in ((char, chars), (pinyin, syllables)):
        for feature in features:
            channel.postings.setdefault(feature, []).append(number)
    negations = [n for a in analyses for n in a.negations]
    content = frozenset().union(*(a.content for a in analyses))
    return Target(
        intent=intent,
        char_total=sum(map(char.weight, chars)),
        pinyin_total=sum(map(pinyin.weight, syllables)),
        negated=len(analyses) == 1 and bool(negations),
        exposed=content.difference(*(n.topic for n in negations)),
    )


def _answer_then_request(classifier: IntentClassifier, analysis: Analysis, scores: list[float]) -> None:
    """那行，再见: a yes, then what the caller wants. Where the best intent of ``scores``
    is a yes that reaches the threshold, and the last clause scored alone is clearly
    another intent (over the threshold by ``CLAUSE_MARGIN``), that intent comes first."""
    top = _best(scores)
    if top not in classifier.yes_intents or scores[top] < classifier.threshold:
        return
    _, alone = _scored_alone(classifier, analysis.clauses[-1])
    other = _best(alone)
    if other in classifier.yes_intents or alone[other] < classifier.threshold + CLAUSE_MARGIN:
        return
    scores[other] = max(scores[other], alone[other])
    scores[top] = min(scores[top], scores[other] - AFTER_A_YES)


def _answer_then_statement(classifier: IntentClassifier, analysis: Analysis, scores: list[float]) -> None:
    """是啊，我刚才就说了: a yes, then words of no intent. Where no intent of ``scores``
    reaches the threshold and the first clause alone is clearly a yes (over the threshold by
    ``CLAUSE_MARGIN``; not a hesitation, 嗯, nor ``BY_THE_WAY``, nor asked, 对吗), the yes
    takes that clause's score."""
    first = analysis.clauses[0]
    if first in HESITATIONS or first in BY_THE_WAY or first.endswith(ASKED):
        return  # 嗯; 对了; 对吗 asks
    _, alone = _scored_alone(classifier, first)
    yes = _best(alone)
    if yes in classifier.yes_intents and alone[yes] >= classifier.threshold + CLAUSE_MARGIN:
        scores[yes] = alone[yes]


def _lift_by_clause(
    classifier: IntentClassifier, analysis: Analysis, scores: list[float]
) -> tuple[str, Analysis] | None:
    """Raise the best intent's score in ``scores`` to that of one clause of ``analysis``
    scored alone, where that reaches the threshold by ``CLAUSE_MARGIN`` (module
    docstring); the clause and its analysis, if one did."""
    top = _best(scores)
    lifted = None
    for clause in analysis.clauses:
        if len(clause) < MIN_CLAUSE_CHARS or not CUE_CHARS.isdisjoint(clause):
            continue
        part, alone = _scored_alone(classifier, clause)
        if alone[top] > scores[top] and alone[top] >= classifier.threshold + CLAUSE_MARGIN:
            scores[top] = alone[top]
            lifted = clause, part
    return lifted


def _best(scores: list[float]) -> int:
    """The number of the intent with the best of ``scores`` (the first, on a tie)."""
    return max(range(len(scores)), key=scores.__getitem__)


def _scored_alone(classifier: IntentClassifier, clause: str) -> tuple[Analysis, list[float]]:
    """``clause`` of an utterance analysed and scored on its own: its analysis, and each
    intent's similarity score in the flow's order."""
    analysis = classifier.analyse(clause)
    return analysis, list(classifier.similarities(analysis).values())
