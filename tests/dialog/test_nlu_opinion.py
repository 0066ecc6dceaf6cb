"""The intent classifier's second opinion (bot/dialog/nlu_opinion.py): its fit, and when
``IntentClassifier.parse`` takes its word."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.dialog.nlu import IntentClassifier
from bot.dialog.nlu_opinion import (
    MIN_NONE_EXAMPLES,
    OPINION_MIN_PROBABILITY,
    OPINION_MIN_SCORE,
    LinearOpinion,
    _Data,
    second_opinion,
)
from bot.dialog.registry import FlowRegistry, classifier_of, none_examples
from bot.language.flow import taught
from bot.language.loader import load_flows
from bot.text.features import Analysis
from bot.text.segmenter import Segmenter
from tests.authoring.test_chat_echo import chat
from tests.conftest import FLOWS_DIR

ROOT = Path(__file__).parents[2]


def test_the_gradient_is_the_losss() -> None:
    rows = [(0, ["a", "b"]), (1, ["b", "c"]), (2, ["c", "d", "a"]), (0, ["a"])]
    data = _Data(np.asarray([0, 1, 1, 2, 2, 3, 0, 0]), np.asarray([0, 2, 4, 7]), [r[0] for r in rows], 3)
    rng = np.random.default_rng(7)
    x = rng.normal(size=4 * 3 + 3)
    _, gradient = data.loss(x, 4)
    for i in range(len(x)):
        step = np.zeros_like(x)
        step[i] = 1e-6
        numeric = (data.loss(x + step, 4)[0] - data.loss(x - step, 4)[0]) / 2e-6
        assert numeric == pytest.approx(gradient[i], abs=1e-5)


def test_the_fit_tells_classes_apart_by_their_features() -> None:
    rows = [(0, ["转", "人工"]), (0, ["找", "人工"]), (1, ["报销", "进度"]), (1, ["报销", "到账"])]
    rows += [(2, ["天气"]), (2, ["买", "票"])]
    opinion = LinearOpinion.train(rows, 3)
    assert opinion.probabilities(["人工"]).argmax() == 0
    assert opinion.probabilities(["报销"]).argmax() == 1
    assert opinion.probabilities(["票"]).argmax() == 2
    assert opinion.probabilities(["没见过"]).sum() == pytest.approx(1.0)


def test_a_row_without_features_is_left_out() -> None:
    rows = [(0, ["a"]), (1, []), (1, ["b"]), (0, []), (2, ["c"]), (2, [])]
    opinion = LinearOpinion.train(iter(rows), 3)
    assert [opinion.probabilities([f]).argmax() for f in "abc"] == [0, 1, 2]


def test_it_lifts_only_an_unsure_intent_it_is_sure_of() -> None:
    opinion = LinearOpinion.train([(0, ["a"]), (1, ["b"]), (2, ["c"])] * 30, 3)
    assert opinion.probabilities(["a"])[0] >= OPINION_MIN_PROBABILITY

    def lifted(features: list[str], scores: list[float]) -> list[float]:
        analysis = Analysis(clauses=[], syllables=[], length=1, chars=set(features))
        scores = list(scores)
        second_opinion(opinion, analysis, scores, 0.5)
        return scores

    unsure = OPINION_MIN_SCORE + 0.01
    assert lifted(["a"], [unsure, 0.1]) == [0.5, 0.1]
    assert lifted(["a"], [OPINION_MIN_SCORE - 0.01, 0.1]) == [OPINION_MIN_SCORE - 0.01, 0.1]  # hardly seen
    assert lifted(["a"], [unsure, 0.6]) == [unsure, 0.6]  # an intent is sure already
    assert lifted(["c"], [unsure, 0.1]) == [unsure, 0.1]  # the model says none
    assert lifted(["a", "b"], [unsure, unsure]) == [unsure, unsure]  # the model is unsure


def test_a_request_told_in_new_words_is_understood(yibao: IntentClassifier, segmenter: Segmenter) -> None:
    flow = load_flows(ROOT / "flows")["yibao"].flow
    alone = IntentClassifier(taught(flow.intents), synonyms=flow.synonyms, threshold=0.5, segmenter=segmenter)
    text = "五一那几天柜台有人吗"  # no 上班, 开门 or 几点: 0.50 only with it
    assert alone.parse(text).intent is None
    result = yibao.parse(text)
    assert result.intent is not None
    assert result.intent.name == "service_hours"


def test_a_negation_is_left_to_the_similarity_scores(yibao: IntentClassifier) -> None:
    assert yibao.parse("我不是问前阵子交的那个单子").intent is None


def test_the_flow_turns_it_off(segmenter: Segmenter) -> None:
    flow = load_flows(ROOT / "flows")["yibao"].flow
    flow = flow.model_copy(update={"nlu": flow.nlu.model_copy(update={"second_opinion": False})})
    assert classifier_of(flow, segmenter, 0.5).parse("五一那几天柜台有人吗").intent is None


def test_it_learns_what_is_none_from_the_library_and_the_flow() -> None:
    flow = load_flows(ROOT / "flows")["yibao"].flow
    texts = none_examples(flow)
    assert "住院能报多少" in texts  # yibao's nlu.none_examples
    assert len(texts) >= MIN_NONE_EXAMPLES
    assert "我在开车呢" in texts or any("开车" in t for t in texts)  # busy: yibao does not use it
    assert not set(texts) & {t for i in taught(flow.intents).values() for t in i.examples}


def test_without_anything_of_no_intent_it_is_not_asked(segmenter: Segmenter) -> None:
    flow = load_flows(ROOT / "flows")["yibao"].flow
    classifier = IntentClassifier(
        taught(flow.intents), synonyms=flow.synonyms, threshold=0.5, segmenter=segmenter, none_examples=[]
    )
    assert classifier.parse("五一那几天柜台有人吗").intent is None


def test_trained_later_it_is_asked_once_ready(segmenter: Segmenter) -> None:
    flow = load_flows(ROOT / "flows")["yibao"].flow
    classifier = IntentClassifier(
        taught(flow.intents),
        synonyms=flow.synonyms,
        threshold=0.5,
        segmenter=segmenter,
        none_examples=none_examples(flow),
        opinion_later=True,
    )
    text = "五一那几天柜台有人吗"
    assert classifier.parse(text).intent is None  # not asked yet, and cached so
    classifier.train_opinion()
    result = classifier.parse(text)
    assert result.intent is not None
    assert result.intent.name == "service_hours"


def test_a_serving_registry_trains_them_when_told(segmenter: Segmenter) -> None:
    sources = load_flows(ROOT / "flows")
    # A threshold no other test uses: classifiers are shared (classifier_of), these are new.
    registry = FlowRegistry(segmenter=segmenter, default_threshold=0.4999, opinions_later=True)
    registry.install(sources.values())
    yibao = registry.get("yibao").nlu
    assert yibao.parse("五一那几天柜台有人吗").intent is None
    registry.train_opinions()
    assert yibao.parse("五一那几天柜台有人吗").intent is not None
    registry.install([sources["yibao"]])  # built from now on: trained as it is built
    assert registry.get("yibao").nlu.parse("五一那几天柜台有人吗").intent is not None


def test_authors_see_which_intents_it_chose(yibao: IntentClassifier) -> None:
    assert yibao.parse("五一那几天柜台有人吗").second_opinion
    assert not yibao.parse("我要转人工").second_opinion  # the similarity scores were sure
    result = chat(FLOWS_DIR, "yibao", ["五一那几天柜台有人吗", "我要转人工"])
    assert result.exit_code == 0, result.output
    assert "intent=service_hours (0.50, second opinion)" in result.output
    assert "intent=transfer_agent (1.00)" in result.output
