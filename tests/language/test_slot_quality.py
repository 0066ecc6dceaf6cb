"""How well the slot extractors read callers: measured on four sets of cases.

``slots_heldout.yaml`` was written before the extractors were tuned and is never tuned
on; ``slots_tuning.yaml`` is the set tuning looks at. Each holds documented forms,
plausible phone forms of the kinds callers use, a new kind (``part_of_day``), and
ordinary sentences that hold no value. The held-out figures are the acceptance
targets of issue 14: at least 98 % of documented forms, 90 % of phone forms, and at
most 2 % of ordinary sentences given a value.

``slots_heldout_ordinary.yaml`` (part 4), held out too, is ordinary phone speech full of
numeral characters and digits that are no value (一直, 三天两头, 四川, 4G, 二维码):
``ordinary`` sentences that must get none, and ``values`` sentences of the same style
that hold one, so that dropping values does not pass for precision.
``slots_heldout_ordinary2.yaml`` (part 5) is a second set of the same form, written
before part 5's changes without looking at the first set's cases;
``slots_heldout_ordinary3.yaml`` (part 6) a third, from other call centers (returns,
delivery, telecom, car insurance, hospitals, utilities, debt collection), written before
part 6's changes with fresh numeral words; ``slots_heldout_ordinary4.yaml`` (round 3)
and ``slots_heldout_ordinary5.yaml`` (round 4) were written by helpers who had seen no
set nor the extractors, before the round they measure; so was
``slots_heldout_ordinary6.yaml`` (read as totals in round 5) and
``slots_heldout_ordinary7.yaml`` (written after round 5's rules), blind until round 5
was over, ``slots_heldout_ordinary8.yaml`` (written before round 6), blind until round 6
was over, ``slots_heldout_ordinary9.yaml`` (written before round 7), blind until round 7
was over, ``slots_heldout_ordinary10.yaml`` (written before round 8), blind until round 8
was over, ``slots_heldout_ordinary11.yaml`` (written before round 9), blind until round 9
was over, ``slots_heldout_ordinary12.yaml`` (written before round 10), blind until round
10 was over, ``slots_heldout_ordinary13.yaml`` (written before round 11), blind until round
11 was over, ``slots_heldout_ordinary14.yaml`` (written before round 12), blind until round
12 was over, and ``slots_heldout_ordinary15.yaml`` (written before round 13), still blind.

Print the figures of the seventeen sets (and, with ``-v``, the cases that miss, except
those of a set still blind, ``BLIND``, which only ``--unblind`` prints). For ordinary
sentences, "sure values" counts only values not marked unsure: those a collect step
would store from words said for something else without asking back::

    .venv/bin/python -m tests.language.test_slot_quality [-v] [--unblind]
"""

from __future__ import annotations

import datetime
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.language.slots import SlotContext, SlotType, make_slot_type

HERE = Path(__file__).parent
SETS = {"held-out": HERE / "slots_heldout.yaml", "tuning": HERE / "slots_tuning.yaml"}
ORDINARY_SPEECH = HERE / "slots_heldout_ordinary.yaml"
"""The held-out set of ordinary speech with numerals: groups ``ordinary`` and ``values``."""
ORDINARY_SPEECH_2 = HERE / "slots_heldout_ordinary2.yaml"
"""A second held-out set of that form (part 5)."""
ORDINARY_SPEECH_3 = HERE / "slots_heldout_ordinary3.yaml"
"""A third held-out set of that form (part 6), from other call centers."""
ORDINARY_SPEECH_4 = HERE / "slots_heldout_ordinary4.yaml"
"""A fourth (round 3), written by a helper who had seen no set nor the extractors."""
ORDINARY_SPEECH_5 = HERE / "slots_heldout_ordinary5.yaml"
"""A fifth (round 4), written by a helper who had seen no set nor the extractors, in
domains no earlier set covers."""
ORDINARY_SPEECH_6 = HERE / "slots_heldout_ordinary6.yaml"
"""A sixth (for the next round), written the same way, in ten more domains."""
ORDINARY_SPEECH_7 = HERE / "slots_heldout_ordinary7.yaml"
"""A seventh (round 5, second stage), written the same way, in ten more domains."""
ORDINARY_SPEECH_8 = HERE / "slots_heldout_ordinary8.yaml"
"""An eighth (round 6), written the same way before round 6, in ten more domains."""
ORDINARY_SPEECH_9 = HERE / "slots_heldout_ordinary9.yaml"
"""A ninth (round 7), written the same way before round 7, in ten more domains."""
ORDINARY_SPEECH_10 = HERE / "slots_heldout_ordinary10.yaml"
"""A tenth (round 8), written the same way before round 8, in ten more domains."""
ORDINARY_SPEECH_11 = HERE / "slots_heldout_ordinary11.yaml"
"""An eleventh (round 9), written the same way before round 9, in ten more domains."""
ORDINARY_SPEECH_12 = HERE / "slots_heldout_ordinary12.yaml"
"""A twelfth (round 10), written the same way before round 10, in ten more domains."""
ORDINARY_SPEECH_13 = HERE / "slots_heldout_ordinary13.yaml"
"""A thirteenth (round 11), written the same way before round 11, in ten more domains."""
ORDINARY_SPEECH_14 = HERE / "slots_heldout_ordinary14.yaml"
"""A fourteenth (round 12), written the same way before round 12, in ten more domains."""
ORDINARY_SPEECH_15 = HERE / "slots_heldout_ordinary15.yaml"
"""A fifteenth (round 13), written the same way before round 13, in ten more domains."""
BLIND = (ORDINARY_SPEECH_15,)
"""The sets ``-v`` keeps to their totals unless told ``--unblind``: read only as totals
while tuning. The fifth was blind until 2026-12-07, when a ``-v`` run printed its misses
(the flag then hid them only when asked, ``--blind``; no slot changed after); the sixth
and seventh until round 5 was over, when their misses became round 6's material; the
eighth until round 6 was over, when its misses became round 7's; the ninth until round 7
was over, when its misses became round 8's; the tenth until round 8 was over, and the
eleventh until round 9 was over, when its misses became round 10's, and the twelfth
until round 10 was over, when its misses became round 11's, the thirteenth until
round 11 was over, when its misses became round 12's, and the fourteenth until round 12
was over."""
VALUE_KINDS = ("date", "time", "number", "amount")
"""The kinds an ordinary sentence must give no value of."""


@dataclass
class Score:
    """Cases passed out of cases tried, and the ones that missed."""

    passed: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def add(self, ok: bool, case: str) -> None:
        self.total += 1
        self.passed += ok
        if not ok:
            self.misses.append(case)


def _slot_type(kind: str) -> SlotType | None:
    try:
        return make_slot_type(kind, {})
    except ValueError:  # a kind this version does not have: every case of it misses
        return None


def _same(found: object, expected: object) -> bool:
    if isinstance(expected, datetime.date):  # a date left unquoted in the YAML
        expected = expected.isoformat()
    if isinstance(expected, float) or isinstance(found, float):
        return (
            isinstance(found, int | float)
            and isinstance(expected, int | float)
            and abs(found - expected) < 1e-9
        )
    return found == expected and type(found) is type(expected)


def measure(path: Path) -> dict[str, Score]:
    """Score every group of the set at ``path``; ``ordinary`` scores sentences given no value."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    context = SlotContext(datetime.date.fromisoformat(str(data["today"])))
    scores: dict[str, Score] = {}
    for group, cases in data.items():
        if group == "today":
            continue
        score = scores.setdefault(group, Score())
        if group == "ordinary":
            for text in cases:
                found = [
                    f"{kind}={match.value!r}"
                    for kind in VALUE_KINDS
                    if (slot := _slot_type(kind)) and (match := slot.extract(text, context))
                ]
                score.add(not found, f"{text} -> {', '.join(found)}")
            continue
        for kind, said, expected in cases:
            text = str(said)  # YAML reads 2026-12-01 as a date
            slot = _slot_type(kind)
            match = slot.extract(text, context) if slot else None
            value = None if match is None else match.value
            ok = value is None if expected is None else _same(value, expected)
            score.add(ok, f"{kind}: {text} -> {value!r}, expected {expected!r}")
    return scores


def measure_sure_values(path: Path) -> Score:
    """Score the ``ordinary`` sentences of the set at ``path`` given no *sure* value: a
    value not marked unsure, which a collect step would store from words said for
    something else (slot-first) without asking back (see docs/flows.md §6)."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    context = SlotContext(datetime.date.fromisoformat(str(data["today"])))
    score = Score()
    for text in data["ordinary"]:
        found = [
            f"{kind}={match.value!r}"
            for kind in VALUE_KINDS
            if (slot := _slot_type(kind)) and (match := slot.extract(text, context)) and not match.unsure
        ]
        score.add(not found, f"{text} -> {', '.join(found)}")
    return score


def shown(path: Path, score: Score) -> list[str] | str:
    """What a failing test may print of ``score``: its misses, but only the count of a
    blind set's (a failure must not show the cases that are to stay unseen)."""
    return f"{len(score.misses)} misses of a blind set" if path in BLIND else score.misses


@pytest.fixture(scope="module")
def held_out() -> dict[str, Score]:
    return measure(SETS["held-out"])


def test_held_out_documented_forms(held_out: dict[str, Score]) -> None:
    assert held_out["documented"].rate >= 0.98, held_out["documented"].misses


def test_held_out_phone_forms(held_out: dict[str, Score]) -> None:
    assert held_out["phone"].rate >= 0.90, held_out["phone"].misses


def test_held_out_ordinary_sentences_get_no_value(held_out: dict[str, Score]) -> None:
    assert 1 - held_out["ordinary"].rate <= 0.02, held_out["ordinary"].misses


def test_held_out_part_of_day(held_out: dict[str, Score]) -> None:
    assert held_out["new_kind"].rate >= 0.90, held_out["new_kind"].misses


def test_the_sets_are_large_enough() -> None:
    for path in SETS.values():
        scores = measure(path)
        assert set(scores) == {"documented", "phone", "new_kind", "ordinary"}
    held = measure(SETS["held-out"])
    assert sum(s.total for s in held.values()) >= 150
    assert held["ordinary"].total >= 60


SET_IDS = [
    *("first", "second", "third", "fourth", "fifth", "sixth"),
    *("seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth"),
    "fifteenth",
]


@pytest.mark.parametrize(
    "path",
    [
        ORDINARY_SPEECH,
        ORDINARY_SPEECH_2,
        ORDINARY_SPEECH_3,
        ORDINARY_SPEECH_4,
        ORDINARY_SPEECH_5,
        ORDINARY_SPEECH_6,
        ORDINARY_SPEECH_7,
        ORDINARY_SPEECH_8,
        ORDINARY_SPEECH_9,
        ORDINARY_SPEECH_10,
        ORDINARY_SPEECH_11,
        ORDINARY_SPEECH_12,
        ORDINARY_SPEECH_13,
        ORDINARY_SPEECH_14,
        ORDINARY_SPEECH_15,
    ],
    ids=SET_IDS,
)
def test_the_ordinary_speech_sets_are_large_enough(path: Path) -> None:
    scores = measure(path)
    assert set(scores) == {"ordinary", "values"}
    assert scores["ordinary"].total >= 150
    assert scores["values"].total >= 40


# Round 8's figures (issue 14; given a value, a sure one, values right: first set
# 1.3 %, 0.9 %, 97.8 %; second 1.0 %, 1.0 %, 97.5 %; third 4.5 %, 3.5 %, 100 %; fourth
# 2.0 %, 0.5 %, 97.5 %; fifth 2.0 %, 1.0 %, 100 %; sixth 3.0 %, 1.0 %, 95.0 %; seventh
# 1.0 %, 0.5 %, 97.5 %; eighth 1.5 %, 0.5 %, 100 %; ninth, tuned on in round 8: 2.5 %,
# 2.0 %, 100 %; tenth, written blind before round 8 and read as totals only: 3.0 %,
# 1.0 %, 95.0 %, from 3.5 %, 1.5 %, 95.0 % at 8d7efa9; eleventh, written blind before
# round 9: 9.0 %, 2.5 %, 97.5 % at 9e27389). Round 9 (the tenth set tuned on): tenth 0.5 %,
# 0.5 %, 100 %; third 5.0 %, 4.0 % (三间房, a place in Beijing, is three rooms now:
# 订三间房 counts); eleventh, blind, unchanged; twelfth, written blind before round 10:
# 28.5 %, 11.0 %, 92.5 % at 33e52cb. Round 10 (the eleventh tuned on; words the ASR
# writes apart read as written together): eleventh 3.5 %, 1.5 %, 97.5 %; twelfth, blind,
# 10.5 %, 6.5 %, 95.0 %; thirteenth, written blind before round 11: 6.5 %, 4.0 %, 97.5 % at
# 32456be. Round 11 (the twelfth tuned on; sayings that hold a measure, schools and works
# numbered, sizes called 号, trade terms): twelfth 3.0 %, 2.0 %, 97.5 %; first 0.9 %,
# 0.4 %; eleventh 3.0 %; thirteenth, blind, unchanged; fourteenth, written blind before
# round 12: 6.0 %, 3.5 %, 95.0 % at ae1f47c. Round 12 (the thirteenth tuned on): thirteenth
# 4.0 %, 2.5 %, 100 %; fourteenth, blind, unchanged; fifteenth, written blind before round
# 13: 6.0 %, 3.5 %, 95.0 % at a9c2ac2. Floors a little below them, not the target.
FLOORS = {
    ORDINARY_SPEECH: (0.02, 0.95),
    ORDINARY_SPEECH_2: (0.015, 0.95),
    ORDINARY_SPEECH_3: (0.055, 0.97),
    ORDINARY_SPEECH_4: (0.025, 0.95),
    ORDINARY_SPEECH_5: (0.025, 0.97),
    ORDINARY_SPEECH_6: (0.035, 0.925),
    ORDINARY_SPEECH_7: (0.015, 0.95),
    ORDINARY_SPEECH_8: (0.02, 0.97),
    ORDINARY_SPEECH_9: (0.035, 0.97),
    ORDINARY_SPEECH_10: (0.015, 0.97),
    ORDINARY_SPEECH_11: (0.045, 0.95),
    ORDINARY_SPEECH_12: (0.04, 0.95),
    ORDINARY_SPEECH_13: (0.06, 0.975),
    ORDINARY_SPEECH_14: (0.08, 0.925),
    ORDINARY_SPEECH_15: (0.08, 0.925),
}
"""For each ordinary-speech set: the most sentences given a value, the fewest values right."""
SURE_FLOORS = {
    ORDINARY_SPEECH: 0.015,
    ORDINARY_SPEECH_2: 0.015,
    ORDINARY_SPEECH_3: 0.045,
    ORDINARY_SPEECH_4: 0.01,
    ORDINARY_SPEECH_5: 0.015,
    ORDINARY_SPEECH_6: 0.015,
    ORDINARY_SPEECH_7: 0.01,
    ORDINARY_SPEECH_8: 0.01,
    ORDINARY_SPEECH_9: 0.03,
    ORDINARY_SPEECH_10: 0.01,
    ORDINARY_SPEECH_11: 0.02,
    ORDINARY_SPEECH_12: 0.03,
    ORDINARY_SPEECH_13: 0.045,
    ORDINARY_SPEECH_14: 0.055,
    ORDINARY_SPEECH_15: 0.055,
}
"""For each ordinary-speech set: the most sentences given a sure value."""
MEETS_THE_TARGET = (
    ORDINARY_SPEECH,
    ORDINARY_SPEECH_2,
    ORDINARY_SPEECH_4,
    ORDINARY_SPEECH_5,
    ORDINARY_SPEECH_7,
    ORDINARY_SPEECH_8,
    ORDINARY_SPEECH_10,
)
"""The sets on which at most 2 % of ordinary sentences get a value (round 9): the others
are marked as expected to fail the target."""


@pytest.mark.parametrize("path", list(FLOORS), ids=SET_IDS)
def test_ordinary_speech_no_worse_than_measured(path: Path) -> None:
    scores = measure(path)
    most_false, fewest_right = FLOORS[path]
    assert 1 - scores["ordinary"].rate <= most_false, shown(path, scores["ordinary"])
    assert scores["values"].rate >= fewest_right, shown(path, scores["values"])


@pytest.mark.parametrize("path", list(SURE_FLOORS), ids=SET_IDS)
def test_ordinary_speech_sure_values_no_worse_than_measured(path: Path) -> None:
    # A bare number (985, 三千五) is unsure, asked back when said for something else.
    score = measure_sure_values(path)
    assert 1 - score.rate <= SURE_FLOORS[path], shown(path, score)


_SHORT_OF_THE_TARGET = pytest.mark.xfail(
    reason="issue 14's 2 % target is not reached on this set (docs/quality.md)", strict=True
)


@pytest.mark.parametrize(
    "path",
    [pytest.param(path, marks=() if path in MEETS_THE_TARGET else _SHORT_OF_THE_TARGET) for path in FLOORS],
    ids=SET_IDS,
)
def test_ordinary_speech_gets_no_value(path: Path) -> None:
    score = measure(path)["ordinary"]
    assert len(score.misses) <= 0.02 * score.total, shown(path, score)


def main(argv: list[str]) -> None:
    verbose = "-v" in argv
    unblind = "--unblind" in argv
    speech = {
        "speech": ORDINARY_SPEECH,
        "speech2": ORDINARY_SPEECH_2,
        "speech3": ORDINARY_SPEECH_3,
        "speech4": ORDINARY_SPEECH_4,
        "speech5": ORDINARY_SPEECH_5,
        "speech6": ORDINARY_SPEECH_6,
        "speech7": ORDINARY_SPEECH_7,
        "speech8": ORDINARY_SPEECH_8,
        "speech9": ORDINARY_SPEECH_9,
        "speech10": ORDINARY_SPEECH_10,
        "speech11": ORDINARY_SPEECH_11,
        "speech12": ORDINARY_SPEECH_12,
        "speech13": ORDINARY_SPEECH_13,
        "speech14": ORDINARY_SPEECH_14,
        "speech15": ORDINARY_SPEECH_15,
    }
    for name, path in {**SETS, **speech}.items():
        for group, score in measure(path).items():
            label = "false values" if group == "ordinary" else "right"
            rate = 1 - score.rate if group == "ordinary" else score.rate
            print(f"{name:9} {group:11} {label:12} {rate:6.1%}  ({score.passed}/{score.total} ok)")
            if verbose and (unblind or path not in BLIND):
                for miss in score.misses:
                    print(f"    miss: {miss}")
        sure = measure_sure_values(path)
        label = "sure values"
        print(f"{name:9} {'ordinary':11} {label:12} {1 - sure.rate:6.1%}  ({sure.passed}/{sure.total} ok)")


if __name__ == "__main__":
    main(sys.argv[1:])
