"""Retrieval quality on a labelled set of phrasings: what the figures in docs/knowledge.md are.

A labelled set is a YAML list of ``{q, expect, style}``: what a caller says, the title of
the entry it should find (null: the knowledge base has no answer), and its kind of
speech. Each phrasing is asked twice: searched (top-1, top-3), and replied to in a fresh
conversation (the reply a caller hears: the right answer, a clarification offering it,
another entry's answer, or "not found").

Run ``python -m knowledge.evaluate tests/knowledge/heldout.yaml [--misses]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.replies import KnowledgeReply
from knowledge.service import KnowledgeService

SAMPLE_DIR = Path(__file__).resolve().parent / "data"
_conversations = itertools.count()  # every phrasing a conversation of its own, across sets


@dataclass(frozen=True)
class Phrasing:
    q: str
    expect: str | None
    style: str


@dataclass
class Figures:
    """What a labelled set measures; "not found" is the positive class of its precision."""

    answerable: int = 0
    top1: int = 0
    top3: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # right, offered, wrong, missed
    top1_by_style: Counter[str] = field(default_factory=Counter)
    by_style: Counter[str] = field(default_factory=Counter)
    out_of_scope: int = 0
    out_of_scope_not_found: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def not_found_recall(self) -> float:
        return self.out_of_scope_not_found / self.out_of_scope if self.out_of_scope else 1.0

    @property
    def not_found_precision(self) -> float:
        said = self.out_of_scope_not_found + self.outcomes["missed_not_found"]
        return self.out_of_scope_not_found / said if said else 1.0

    def summary(self) -> dict[str, Any]:
        n = self.answerable or 1
        return {
            "answerable": self.answerable,
            "top1": f"{self.top1}/{self.answerable} ({self.top1 / n:.1%})",
            "top3": f"{self.top3}/{self.answerable} ({self.top3 / n:.1%})",
            "right_answer": self.outcomes["right"],
            "clarified_with_it": self.outcomes["offered"],
            "wrong_answer": self.outcomes["wrong"],
            "not_found_or_clarified_without_it": self.outcomes["missed_not_found"] + self.outcomes["missed"],
            "top1_by_style": {
                s: f"{self.top1_by_style[s]}/{self.by_style[s]}" for s in sorted(self.by_style)
            },
            "out_of_scope_not_found": f"{self.out_of_scope_not_found}/{self.out_of_scope}",
            "not_found_precision": f"{self.not_found_precision:.1%}",
            "not_found_recall": f"{self.not_found_recall:.1%}",
        }


def load_phrasings(path: Path) -> list[Phrasing]:
    return [
        Phrasing(p["q"], p["expect"], p["style"]) for p in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]


def _outcome(service: KnowledgeService, reply: KnowledgeReply, expect: str) -> str:
    if reply.entry is not None:
        return "right" if reply.entry.title == expect else "wrong"
    if not reply.found:
        return "missed_not_found"
    offered = {e.title for e in reply.choices}
    offered |= {service.base.get(p).title for e in reply.choices for p in service.base.parents_of(e.id)}
    return "offered" if expect in offered else "missed"


async def measure(service: KnowledgeService, phrasings: list[Phrasing]) -> Figures:
    """Search and reply to every phrasing (fresh senders), counting the outcomes."""
    figures = Figures()
    for p in phrasings:
        reply = await service.reply(f"evaluate-{next(_conversations)}userIdevaluate", p.q)
        if p.expect is None:
            figures.out_of_scope += 1
            figures.out_of_scope_not_found += not reply.found
            if reply.found:
                figures.failures.append(f"found   {p.q} -> {reply.text[:30]} ({reply.score})")
            continue
        top = [hit.entry.title for hit in service.search(p.q, 3)]
        figures.answerable += 1
        figures.by_style[p.style] += 1
        figures.top1 += top[:1] == [p.expect]
        figures.top1_by_style[p.style] += top[:1] == [p.expect]
        figures.top3 += p.expect in top
        outcome = _outcome(service, reply, p.expect)
        figures.outcomes[outcome] += 1
        if top[:1] != [p.expect] or outcome not in ("right", "offered"):
            figures.failures.append(f"{outcome:8} {p.q} -> {top} ({reply.score}) want {p.expect}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--misses", action="store_true", help="list what went wrong")
    args = parser.parse_args()
    service = KnowledgeService(SAMPLE_DIR, poll_seconds=0)
    service.load()
    for path in args.sets:
        figures = asyncio.run(measure(service, load_phrasings(path)))
        print(path.name, yaml.safe_dump(figures.summary(), allow_unicode=True, sort_keys=False), sep="\n")
        if args.misses:
            print("\n".join(figures.failures), end="\n\n")


if __name__ == "__main__":
    main()
