"""Parse latency: intent and slots of one utterance, as ``/model/parse`` and every call
turn compute them, in this process.

Flows: the two samples, and one that uses every intent of the built-in library at once
(the largest classifier a flow can have without examples of its own). Utterances: the
sample flows' held-out and tuning sets and the benchmark's own turns, each parsed
``REPEATS`` times. Prints p50/p90/p99/max in ms per flow (target p99 < 1 ms,
docs/performance.md). The garbage collector runs as in service.

    .venv/bin/python -m bench.parse
"""

from __future__ import annotations

import datetime
import statistics
import time
from pathlib import Path

from bot.authoring.intent_quality import utterances as quality_utterances
from bot.dialog.registry import classifier_of
from bot.language.builtins import builtin_intents
from bot.language.flow import Flow, Intent
from bot.language.loader import load_flows
from bot.language.slots import SlotContext
from bot.text.segmenter import Segmenter
from bot.web.nlu import entities

ROOT = Path(__file__).resolve().parents[1]
SETS = [
    ROOT / "tests" / "dialog" / name
    for name in ("intents_heldout.yaml", "intents_heldout2.yaml", "intents_tuning.yaml")
]
REPEATS = 20
THRESHOLD = 0.5


def utterances() -> list[str]:
    """Every utterance of the quality sets, and a long rambling one."""
    texts = [text for path in SETS for text in quality_utterances(path)]
    texts.append(
        "嗯那个我想问一下我上个月交的住院报销材料现在审核到哪一步了什么时候能到账，我的手机号是幺三八幺二三四五六七八"
    )
    return texts


def measure(flow: Flow, segmenter: Segmenter, texts: list[str]) -> dict[str, float]:
    classifier = classifier_of(flow, segmenter, THRESHOLD)
    context = SlotContext(datetime.date.today())
    for text in texts:  # warm: caches, first calls
        classifier.parse(text)
        entities(flow, text, context)
    latencies: list[float] = []
    for _ in range(REPEATS):
        for text in texts:
            began = time.perf_counter()
            classifier.parse(text)
            entities(flow, text, context)
            latencies.append((time.perf_counter() - began) * 1000)
    latencies.sort()
    count = len(latencies)
    return {
        "parses": count,
        "p50_ms": round(statistics.median(latencies), 3),
        "p90_ms": round(latencies[int(count * 0.90) - 1], 3),
        "p99_ms": round(latencies[int(count * 0.99) - 1], 3),
        "max_ms": round(latencies[-1], 3),
    }


def run() -> dict[str, dict[str, float]]:
    segmenter = Segmenter()
    segmenter.initialize()
    flows = {name: source.flow for name, source in load_flows(ROOT / "flows").items()}
    survey = flows["survey"]
    everything = {name: Intent(builtin=name) for name in builtin_intents()}
    cases = {
        "yibao": flows["yibao"],
        "survey": survey,
        "every built-in intent": survey.model_copy(update={"intents": everything}),
    }
    texts = utterances()
    results = {}
    for name, flow in cases.items():
        results[name] = measure(flow, segmenter, texts)
        print(f"parse (intent + slots), {name}:", results[name], flush=True)
    return results


if __name__ == "__main__":
    run()
