"""The built-in intent library on phrasings it was not shown, and on sentences of no intent.

- Cross-validation: each fifth of every intent's phrasings (every fifth one) recognised by
  a classifier of all the intents taught the other four fifths.
- Out of scope: how many of ``tests/dialog/intents_out_of_scope.yaml``'s sentences a flow
  using every built-in intent takes for an intent (``-v``: which).

docs/quality.md quotes both. Slow-ish (six classifiers of some thousand phrasings)::

    .venv/bin/python -m bench.intent_library
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.authoring.intent_quality import utterances
from bot.dialog.nlu import IntentClassifier
from bot.language.builtins import builtin_intents
from bot.language.flow import Intent, taught
from bot.text.segmenter import Segmenter

ROOT = Path(__file__).resolve().parents[1]
OUT_OF_SCOPE = ROOT / "tests" / "dialog" / "intents_out_of_scope.yaml"
FOLDS = 5
THRESHOLD = 0.5


def cross_validation(segmenter: Segmenter) -> tuple[int, int]:
    """(right, total) over every phrasing of the library, each recognised once."""
    library = builtin_intents()
    right = total = 0
    for fold in range(FOLDS):
        taught_part = {
            name: Intent.model_construct(
                builtin=None,
                examples=[e for n, e in enumerate(intent.examples) if n % FOLDS != fold],
                keywords=list(intent.keywords),
            )
            for name, intent in library.items()
        }
        classifier = IntentClassifier(taught_part, synonyms={}, threshold=THRESHOLD, segmenter=segmenter)
        for name, intent in library.items():
            for text in intent.examples[fold::FOLDS]:
                result = classifier.parse(text)
                total += 1
                right += result.intent is not None and result.intent.name == name
    return right, total


def out_of_scope_taken(segmenter: Segmenter) -> list[tuple[str, str]]:
    """The out-of-scope sentences a flow with every built-in intent takes, and for what."""
    everything = taught({name: Intent(builtin=name) for name in builtin_intents()})
    classifier = IntentClassifier(everything, synonyms={}, threshold=THRESHOLD, segmenter=segmenter)
    return [
        (text, r.intent.name) for text in utterances(OUT_OF_SCOPE) if (r := classifier.parse(text)).intent
    ]


def main() -> None:
    segmenter = Segmenter()
    segmenter.initialize()
    right, total = cross_validation(segmenter)
    taken = out_of_scope_taken(segmenter)
    print(f"library cross-validation: {right}/{total} ({right / total:.1%})")
    sentences = len(utterances(OUT_OF_SCOPE))
    print(f"out of scope taken by a flow with every built-in intent: {len(taken)}/{sentences}")
    if "-v" in sys.argv[1:]:
        for text, name in taken:
            print(f"  {text!r} -> {name}")


if __name__ == "__main__":
    main()
