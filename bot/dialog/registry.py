"""The flows the service runs, each with its NLU ready."""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, partial
from typing import TYPE_CHECKING

from bot.dialog.nlu import IntentClassifier, Rivals, vocabulary
from bot.errors import UnknownFlowError
from bot.language.builtins import builtin_intents
from bot.language.flow import Flow, Intent, taught
from bot.language.loader import FlowSource
from bot.language.tables import Table
from bot.text.segmenter import Segmenter

if TYPE_CHECKING:
    from bot.dialog.flow_versions import SharedFlows


@dataclass(frozen=True)
class LoadedFlow:
    """A validated flow with its intent classifier."""

    source: FlowSource
    nlu: IntentClassifier

    @property
    def flow(self) -> Flow:
        return self.source.flow

    @property
    def tables(self) -> Mapping[str, Table]:
        return self.source.tables

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def version(self) -> str:
        return self.source.version


MAX_VERSIONS_KEPT = 16  # older versions of all flows kept for the calls that started on them


def _words(flow: Flow) -> list[str]:
    """The words the segmenter must keep whole for ``flow``'s classifier."""
    words = vocabulary(taught(flow.intents), flow.synonyms)
    if flow.nlu.builtin_rivals:
        words += _library_words()
    return words


def classifier_of(
    flow: Flow, segmenter: Segmenter, default_threshold: float, *, opinion_later: bool = False
) -> IntentClassifier:
    """The classifier of ``flow``'s intents, built-in phrasings included (CPU-bound).

    A classifier does not change once built (but for its second opinion, trained once),
    so one built for the same intents, synonyms, NLU options and threshold on the same
    segmenter, cutting words the same way (no word added since), is reused: a flow
    reloaded unchanged, or an older version kept, costs nothing, and neither do the
    tests' many apps of the same flows.

    ``opinion_later``: its second opinion is left to ``IntentClassifier.train_opinion``
    (else it is trained before this returns, also for one reused that has none yet).
    """
    threshold = flow.nlu.threshold or default_threshold
    key = (id(segmenter), segmenter.words_added, threshold, _digest(flow))
    with _BUILT_LOCK:
        built = _BUILT.get(key)
        if built is not None:
            _BUILT.move_to_end(key)
    if built is not None:
        if not opinion_later:
            built.train_opinion()  # one a serving registry left untrained is trained now
        return built
    built = IntentClassifier(
        taught(flow.intents),
        synonyms=flow.synonyms,
        segmenter=segmenter,
        threshold=threshold,
        none_examples=none_examples(flow) if flow.nlu.second_opinion else None,
        opinion_later=opinion_later,
        rivals=partial(_rivals_of, flow, segmenter) if flow.nlu.builtin_rivals else None,
    )
    with _BUILT_LOCK:
        _BUILT[key] = built
        while len(_BUILT) > MAX_CLASSIFIERS_KEPT:
            _BUILT.popitem(last=False)
    return built


# A built-in intent that fits (scores RIVAL_TAKES or more on) RIVAL_OVERLAP of the phrases
# one of a flow's intents is taught (its examples and keywords, its built-in ones'
# included) overlaps that intent: it is no rival of the flow's. The library's own neighbours
# overlap so (goodbye's 好的谢谢 is affirm's too; deny's 没有了 closes a call as well):
# 5 % leaves them out and keeps the rest (docs/quality.md, "Round 4").
RIVAL_TAKES = 0.7
RIVAL_OVERLAP = 0.05


def _used_builtins(flow: Flow) -> set[str]:
    """The built-in intents ``flow``'s intents stand for."""
    return {builtin for intent in flow.intents.values() for builtin in intent.builtins}


@cache
def _library_intents() -> Mapping[str, Intent]:
    """Every built-in intent, as a classifier is taught one (the library is read once)."""
    return {
        name: Intent.model_construct(builtin=None, examples=list(i.examples), keywords=list(i.keywords))
        for name, i in builtin_intents().items()
    }


@cache
def _library_words() -> tuple[str, ...]:
    """The words the library's classifier, which has no flow's synonyms, needs kept whole:
    the same for every flow."""
    return tuple(vocabulary(_library_intents(), {}))


class _Library(IntentClassifier):
    """Every built-in intent, classified: the rivals of every flow on one segmenter, and
    each phrase's scores remembered for the flows' overlap checks (the library's own
    phrasings are most of what the flows are taught, flow after flow)."""

    def __init__(self, segmenter: Segmenter) -> None:
        # No flow's synonyms: the flows share it (a flow's synonym variant in a library
        # phrasing, 真人 for yibao's 人工, is left as it is).
        super().__init__(_library_intents(), synonyms={}, segmenter=segmenter, threshold=0.5)
        self._scores: dict[str, dict[str, float]] = {}

    def scores_of(self, phrase: str) -> dict[str, float]:
        """Each built-in intent's similarity score for ``phrase``."""
        scores = self._scores.get(phrase)
        if scores is None:
            scores = self._scores[phrase] = self.similarities(self.analyse(phrase))
        return scores


def _library(segmenter: Segmenter) -> _Library:
    """The library's classifier on ``segmenter``, built once (about 0.7 s of CPU).

    Not rebuilt when the segmenter learns a word, unlike the flows' classifiers: only the
    word features of phrasings with such a word go stale (their characters and bigrams
    do not depend on the cut), and a rival needs a clear margin."""
    with _BUILT_LOCK:
        library = _LIBRARIES.get(id(segmenter))
    if library is None:
        library = _Library(segmenter)
        with _BUILT_LOCK:
            _LIBRARIES[id(segmenter)] = library
    return library


def _rivals_of(flow: Flow, segmenter: Segmenter) -> Rivals | None:
    """The rivals of ``flow``'s intents (bot.dialog.nlu, "Rivals"); None if it uses every
    built-in intent. A built-in intent that overlaps one of the flow's (a flow's own
    ``goodbye``, written without ``builtin: goodbye``, or the library's deny for a flow
    whose goodbye is the library's) is left out, as are those the flow uses."""
    used = _used_builtins(flow)
    if used >= set(builtin_intents()):
        return None
    library = _library(segmenter)
    overlapping: set[str] = set()
    for intent in taught(flow.intents).values():
        phrases = [*intent.examples, *intent.keywords]
        taken: Counter[str] = Counter()
        for phrase in phrases:
            scores = library.scores_of(phrase).items()
            taken.update(name for name, score in scores if score >= RIVAL_TAKES and name not in used)
        overlapping |= {name for name, n in taken.items() if n >= RIVAL_OVERLAP * len(phrases)}
    return Rivals(library, frozenset(used | overlapping))


def none_examples(flow: Flow) -> list[str]:
    """What the classifier's second opinion learns is none of ``flow``'s intents: the
    phrasings of the built-in intents the flow does not use, and its ``nlu.none_examples``."""
    used = _used_builtins(flow)
    library = [text for name, i in builtin_intents().items() if name not in used for text in i.examples]
    return [*library, *flow.nlu.none_examples]


def _digest(flow: Flow) -> str:
    """What a flow's classifier is made of: its intents, synonyms and NLU options."""
    made_of = {
        "intents": {n: i.model_dump() for n, i in flow.intents.items()},
        "synonyms": flow.synonyms,
        "nlu": flow.nlu.model_dump(exclude={"threshold"}),
    }
    return hashlib.sha256(json.dumps(made_of, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


MAX_CLASSIFIERS_KEPT = 32  # built classifiers reused by classifier_of, least recently used dropped
_BUILT: OrderedDict[tuple[int, int, float, str], IntentClassifier] = OrderedDict()
# Kept while a flow's classifier holds it (as its rivals): a cache of its own would keep
# its segmenter (jieba's dictionary) alive after every classifier of theirs is gone.
_LIBRARIES: weakref.WeakValueDictionary[int, _Library] = weakref.WeakValueDictionary()
_BUILT_LOCK = threading.Lock()


class FlowRegistry:
    """Flows by name: the current version of each, which new calls run, and recent older
    versions, which the calls that started on them finish on (hot reload).

    With several instances, an older version this instance never loaded is fetched
    from the shared archive by ``shared`` (``bot.dialog.flow_versions.SharedFlows``)
    and kept with :meth:`keep_version`.
    """

    def __init__(
        self, *, segmenter: Segmenter, default_threshold: float, opinions_later: bool = False
    ) -> None:
        """``opinions_later``: the classifiers' second opinions are left untrained until
        :meth:`train_opinions` (``IntentClassifier``'s ``opinion_later``)."""
        self._segmenter = segmenter
        self._default_threshold = default_threshold
        self._opinions_later = opinions_later
        self._current: dict[str, LoadedFlow] = {}
        self._versions: dict[tuple[str, str], LoadedFlow] = {}  # the current ones too, newest last
        self._changing = threading.Lock()  # install and keep_version run in threads
        self.shared: SharedFlows | None = None  # set when versions are shared between instances

    def install(self, sources: Iterable[FlowSource]) -> None:
        """Build each flow's classifier and make it the current version.

        CPU-bound: run it off the event loop. Every flow's words are taught to the
        segmenter before any classifier is built: a new word shifts how all text is
        cut (see ``Segmenter.add_words``), so when one arrives, the flows already
        installed are rebuilt too.
        """
        sources = list(sources)
        with self._changing:
            fresh = 0
            for source in sources:
                fresh += self._segmenter.add_words(_words(source.flow))
            names = {source.name for source in sources}
            if fresh:
                sources += [f.source for f in self._current.values() if f.name not in names]
            for source in sources:
                self._keep(self._build(source), current=True)

    def keep_version(self, source: FlowSource) -> LoadedFlow:
        """Build the classifier of an older version and keep it for the calls pinned to
        it, without making it current (new calls still start on the current version).

        CPU-bound: run it off the event loop. Its words are taught to the segmenter;
        when one is new, the current flows are rebuilt too (as :meth:`install` does).
        Keeping it may drop the least recently kept older version beyond
        :data:`MAX_VERSIONS_KEPT`, never a current one.

        Raises:
            UnknownFlowError: no flow of that name is installed.
        """
        with self._changing:
            if source.name not in self._current:
                raise UnknownFlowError(source.name, list(self._current))
            kept = self._versions.get((source.name, source.version))
            if kept is not None:
                return kept
            if self._segmenter.add_words(_words(source.flow)):
                for current in list(self._current.values()):
                    self._keep(self._build(current.source), current=True)
            loaded = self._build(source)
            self._keep(loaded, current=False)
            return loaded

    def train_opinions(self) -> None:
        """Train the second opinion of every classifier kept that has none yet, and of
        every one built from now on as it is built (CPU-bound: run it off the loop;
        ``voicebot serve`` does once it serves)."""
        with self._changing:
            self._opinions_later = False
            loaded = list(self._versions.values())
        for flow in loaded:
            flow.nlu.train_opinion()

    def has(self, name: str, version: str) -> bool:
        """Whether version ``version`` of flow ``name`` is kept (current or older)."""
        return (name, version) in self._versions

    def _build(self, source: FlowSource) -> LoadedFlow:
        classifier = classifier_of(
            source.flow, self._segmenter, self._default_threshold, opinion_later=self._opinions_later
        )
        return LoadedFlow(source, classifier)

    def _keep(self, loaded: LoadedFlow, *, current: bool) -> None:
        if current:
            self._current[loaded.name] = loaded
        key = (loaded.name, loaded.version)
        self._versions.pop(key, None)
        self._versions[key] = loaded  # newest last
        while len(self._versions) - len(self._current) > MAX_VERSIONS_KEPT:
            oldest = next((k for k in self._versions if self._current[k[0]].version != k[1]), None)
            if oldest is None:
                break  # every kept version is current: nothing left to drop
            del self._versions[oldest]

    def get(self, name: str, version: str | None = None) -> LoadedFlow:
        """The flow ``name`` at ``version`` if still kept, else its current version.

        Raises:
            UnknownFlowError: no flow of that name is installed.
        """
        if version is not None:
            kept = self._versions.get((name, version))
            if kept is not None:
                return kept
        try:
            return self._current[name]
        except KeyError:
            raise UnknownFlowError(name, list(self._current)) from None

    def __iter__(self) -> Iterator[LoadedFlow]:
        return iter(self._current.values())

    def names(self) -> list[str]:
        return sorted(self._current)
