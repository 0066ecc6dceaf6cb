"""The flows the service runs, each with its NLU ready."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot.dialog.engine import Dialog
from bot.dialog.loader import FlowSource
from bot.dialog.nlu import IntentClassifier, Segmenter, vocabulary
from bot.errors import UnknownFlowError


@dataclass(frozen=True)
class LoadedFlow:
    """A validated flow with its engine and intent classifier."""

    source: FlowSource
    dialog: Dialog
    nlu: IntentClassifier

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def version(self) -> str:
        return self.source.version


class FlowRegistry:
    """Flows by name."""

    def __init__(self, flows: Mapping[str, LoadedFlow]) -> None:
        self._flows = dict(flows)

    @classmethod
    def build(
        cls, sources: Mapping[str, FlowSource], *, segmenter: Segmenter, default_threshold: float
    ) -> FlowRegistry:
        """Make each flow's classifier; CPU-bound, so run it off the event loop."""
        # Every flow's words first: a word added later would change how the examples
        # of flows built earlier were cut (see Segmenter.add_words).
        for source in sources.values():
            segmenter.add_words(vocabulary(source.flow.intents, source.flow.synonyms))
        loaded = {}
        for name, source in sources.items():
            flow = source.flow
            classifier = IntentClassifier(
                flow.intents,
                synonyms=flow.synonyms,
                segmenter=segmenter,
                threshold=flow.nlu.threshold or default_threshold,
            )
            loaded[name] = LoadedFlow(source, Dialog(flow), classifier)
        return cls(loaded)

    def get(self, name: str) -> LoadedFlow:
        try:
            return self._flows[name]
        except KeyError:
            raise UnknownFlowError(name, list(self._flows)) from None

    def __iter__(self) -> Iterator[LoadedFlow]:
        return iter(self._flows.values())

    def names(self) -> list[str]:
        return sorted(self._flows)
