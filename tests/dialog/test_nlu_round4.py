"""What issue 14's fourth round taught the intent classifier (docs/quality.md, "Round 4"):
the built-in intents a flow does not use as rivals, double negatives, an intent standing
for several built-in ones, and regional words."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.authoring.intent_quality import measure, report
from bot.cli import main
from bot.dialog.nlu import RIVAL_MARGIN
from bot.dialog.nlu_negation import cancel_double_negations
from bot.dialog.registry import FlowRegistry, classifier_of
from bot.language.flow import Flow, taught
from bot.language.loader import load_flow, load_flows
from bot.text.regional import with_regional_words
from bot.text.segmenter import Segmenter
from tests.authoring.test_chat_echo import chat
from tests.conftest import FLOWS_DIR

ROOT = Path(__file__).parents[2]

OWN_GOODBYE = """\
title: 自己的再见
intents:
  bye:
    examples: [再见, 拜拜, 好的再见, 没事了拜拜]
  agent:
    builtin: transfer
{nlu}
defaults:
  silence: {{prompts: [您还在吗？], then: end}}
  no_match: {{prompts: [抱歉，没有听清楚。], then: end}}
steps:
  start:
    say: 请问有什么可以帮您？
    ask: {{bye: end, agent: end}}
  end:
    say: 再见。
    hangup: true
"""


def _flow(tmp_path: Path, text: str) -> Flow:
    path = tmp_path / "own.yaml"
    path.write_text(text, encoding="utf-8")
    return load_flow(path, check_audio=False).flow


def _yibao() -> Flow:
    return load_flows(ROOT / "flows")["yibao"].flow


# -- rivals ------------------------------------------------------------------


def test_a_built_in_intent_the_flow_does_not_use_takes_what_it_fits_better(segmenter: Segmenter) -> None:
    result = classifier_of(_yibao(), segmenter, 0.5).parse("你是机器人吗")
    assert result.intent is None
    assert result.ranking[0].name == "transfer_agent"  # its nearest intent, which it is not
    assert result.rival is not None
    assert result.rival.name == "are_you_robot"
    assert result.rival.confidence >= result.ranking[0].confidence + RIVAL_MARGIN


def test_without_rivals_the_nearest_intent_takes_it(segmenter: Segmenter) -> None:
    flow = _yibao()
    flow = flow.model_copy(update={"nlu": flow.nlu.model_copy(update={"builtin_rivals": False})})
    result = classifier_of(flow, segmenter, 0.5).parse("你是机器人吗")
    assert result.intent is not None
    assert result.intent.name == "transfer_agent"
    assert result.rival is None


def test_a_rival_must_fit_clearly_better(segmenter: Segmenter) -> None:
    classifier = classifier_of(_yibao(), segmenter, 0.5)
    for text in ("我要转人工", "我的医保卡丢了", "报销到哪一步了", "好的谢谢再见"):
        result = classifier.parse(text)
        assert result.intent is not None, text
        assert result.rival is None, text


def test_a_built_in_intent_meaning_one_of_the_flows_own_is_no_rival(
    tmp_path: Path, segmenter: Segmenter
) -> None:
    flow = _flow(tmp_path, OWN_GOODBYE.format(nlu=""))
    classifier = classifier_of(flow, segmenter, 0.5)
    # The library's goodbye would take these at 1.0 against the flow's own ``bye``.
    for text in ("那就先这样吧拜拜", "好嘞挂了啊"):
        result = classifier.parse(text)
        assert result.rival is None or result.rival.name != "goodbye", text
    assert classifier.parse("拜拜").intent.name == "bye"  # type: ignore[union-attr]


def test_rivals_are_trained_with_the_second_opinion(segmenter: Segmenter) -> None:
    sources = load_flows(ROOT / "flows")
    # A threshold no other test uses: classifiers are shared (classifier_of), these are new.
    registry = FlowRegistry(segmenter=segmenter, default_threshold=0.4998, opinions_later=True)
    registry.install(sources.values())
    yibao = registry.get("yibao").nlu
    assert yibao.parse("你是机器人吗").intent is not None  # no rivals yet
    registry.train_opinions()
    assert yibao.parse("你是机器人吗").intent is None


def test_one_classifier_of_the_library_serves_every_flow_and_teaches_no_new_word(
    segmenter: Segmenter,
) -> None:
    flows = load_flows(ROOT / "flows")
    yibao = classifier_of(flows["yibao"].flow, segmenter, 0.4997)  # its words, the library's too
    words = segmenter.words_added
    survey = classifier_of(flows["survey"].flow, segmenter, 0.4996)
    assert yibao._rivals is not None
    assert survey._rivals is not None
    assert yibao._rivals.classifier is survey._rivals.classifier
    assert {"transfer", "goodbye", "affirm", "deny"} <= yibao._rivals.left_out  # its own
    assert "transfer" not in survey._rivals.left_out  # not survey's
    changed = flows["yibao"].flow.model_copy(update={"title": "另一个标题"})
    classifier_of(changed, segmenter, 0.4995)
    assert segmenter.words_added == words


def test_the_quality_report_names_the_rival(segmenter: Segmenter) -> None:
    flow = _yibao()
    quality = measure(classifier_of(flow, segmenter, 0.5), "yibao", {"transfer_agent": ["你是机器人吗"]})
    assert "got none" in report([quality])
    assert "built-in are_you_robot fits better" in report([quality])


def test_chat_says_which_built_in_intent_fitted_better() -> None:
    result = chat(FLOWS_DIR, "yibao", ["你是机器人吗"])
    assert result.exit_code == 0, result.output
    assert "intent=(none)" in result.output
    assert "built-in are_you_robot fits better" in result.output


def test_a_flow_may_turn_rivals_off(tmp_path: Path) -> None:
    flow = _flow(tmp_path, OWN_GOODBYE.format(nlu="nlu:\n  builtin_rivals: false"))
    assert flow.nlu.builtin_rivals is False


# -- double negatives ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("不是不方便，你问吧", "方便，你问吧"),
        ("也不是不行", "也行"),
        ("不是没空", "有空"),
        ("我没有不满意", "我满意"),
        # Questions and plain denials are left alone.
        ("是不是不方便", "是不是不方便"),
        ("有没有不舒服", "有没有不舒服"),
        ("不是不是", "不是不是"),
        ("不是，我说的是别的", "不是，我说的是别的"),
    ],
)
def test_a_double_negative_is_the_affirmation(text: str, said: str) -> None:
    assert cancel_double_negations(text) == said


def test_a_double_negative_is_not_the_negative_intent(segmenter: Segmenter) -> None:
    survey = load_flows(ROOT / "flows")["survey"].flow
    result = classifier_of(survey, segmenter, 0.5).parse("不是不方便，你问吧")
    assert result.intent is None or result.intent.name != "busy"
    assert classifier_of(survey, segmenter, 0.5).parse("现在不方便").intent.name == "busy"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "not_intent"),
    [("几点开门我知道，不用说了", "service_hours"), ("医保卡挂失，算了不办了", "card_loss")],
)
def test_a_refusal_naming_nothing_refuses_the_clause_before(
    segmenter: Segmenter, text: str, not_intent: str
) -> None:
    result = classifier_of(_yibao(), segmenter, 0.5).parse(text)
    assert result.intent is None or result.intent.name != not_intent


def test_a_refusal_after_a_word_of_refusal_is_still_one(segmenter: Segmenter) -> None:
    result = classifier_of(_yibao(), segmenter, 0.5).parse("拉倒吧，不用说了")
    assert result.intent is not None
    assert result.intent.name == "deny"


# -- an intent standing for several built-in ones --------------------------------


def test_an_intent_may_stand_for_several_built_in_ones(tmp_path: Path) -> None:
    flow = _flow(
        tmp_path, OWN_GOODBYE.replace("builtin: transfer", "builtin: [transfer, complaint]").format(nlu="")
    )
    assert flow.intents["agent"].builtins == ("transfer", "complaint")
    taught_agent = taught(flow.intents)["agent"]
    assert "转人工" in taught_agent.examples or "转人工" in taught_agent.keywords
    assert "我要投诉" in taught_agent.examples or "投诉" in taught_agent.keywords


@pytest.mark.parametrize(
    ("builtin", "message"),
    [
        ("[transfer, tranfser]", "tranfser"),
        ("[]", "`builtin:` lists no intent"),
    ],
)
def test_a_wrong_list_of_built_in_intents_is_named(tmp_path: Path, builtin: str, message: str) -> None:
    path = tmp_path / "own.yaml"
    path.write_text(
        OWN_GOODBYE.replace("builtin: transfer", f"builtin: {builtin}").format(nlu=""), encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["flows", "check", str(path)])
    assert result.exit_code != 0
    assert message in result.output


def test_survey_takes_a_refusal_in_not_interesteds_words_as_deny(segmenter: Segmenter) -> None:
    survey = load_flows(ROOT / "flows")["survey"].flow
    assert survey.intents["deny"].builtins == ("deny", "not_interested")
    result = classifier_of(survey, segmenter, 0.5).parse("这个我真的不感兴趣")
    assert result.intent is not None
    assert result.intent.name == "deny"


# -- regional words ----------------------------------------------------------------


def test_regional_words_are_their_mandarin_word(segmenter: Segmenter) -> None:
    classifier = classifier_of(_yibao(), segmenter, 0.5)
    for regional, mandarin in (("莫得别的事了", "没有别的事了"), ("俺的医保卡丢了", "我的医保卡丢了")):
        assert classifier.parse(regional).ranking[0] == classifier.parse(mandarin).ranking[0]


def test_a_flows_own_synonym_wins_over_a_regional_word() -> None:
    merged = with_regional_words({"没问题": ["要得"]})
    assert merged["没问题"] == ["要得"]
    assert "要得" not in merged["好的"]
    assert "莫得" in merged["没有"]
