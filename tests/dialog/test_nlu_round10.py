"""What issue 14's tenth round taught the intent classifier (docs/quality.md, "Round 10"):
a 不 or 没有 that ends a question asks, what follows 但是 is the point, an interjection
asked is no yes, a word whose meaning is asked and what the caller only thought had
happened are not requested, the rivals read the caller's own words, and more regional
words."""

from __future__ import annotations

import pytest

from bot.dialog.nlu import IntentClassifier, IntentScore
from bot.dialog.nlu_negation import add_postposed_negations
from bot.text.features import Analyser
from bot.text.regional import REGIONAL_WORDS
from bot.text.segmenter import Segmenter


def _name(intent: IntentScore | None) -> str | None:
    return None if intent is None else intent.name


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("周日开门不", ["周日开门"]),  # asks: 开门吗
        ("下午有人没有", ["下午有人"]),
        ("审核完没", ["审核完"]),
        ("礼拜六上班伐", ["礼拜六上班"]),  # Shanghai
        ("手续办好未", ["手续办好"]),  # Guangdong
        ("钱到账了没有", ["钱到账了没有"]),  # V了没有 is read as a question already
        ("没有", ["没有"]),  # an answer: nothing before it
        ("有没有", ["有没有"]),
        ("我还没有", ["我还没有"]),  # a negation: 还, 都, 也 before it
        ("家里都没有", ["家里都没有"]),
        ("暂时不", ["暂时不"]),
        ("步伐", ["步伐"]),  # a word, not Shanghai's 吗
    ],
)
def test_a_question_tail_is_left_out(segmenter: Segmenter, text: str, clauses: list[str]) -> None:
    assert Analyser({}, segmenter.cut).analyse(text).clauses == clauses


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("好的谢谢，不过我还有个事", ["我还有个事"]),
        ("挺好，但是人工太慢", ["人工太慢"]),
        ("我去不过来", ["我去不过来"]),  # 不过来 is no contrast
        ("不过来了", ["不过来了"]),
    ],
)
def test_what_follows_a_contrast_is_the_point(segmenter: Segmenter, text: str, clauses: list[str]) -> None:
    assert Analyser({}, segmenter.cut).analyse(text).clauses == clauses


@pytest.mark.parametrize(("text", "clauses"), [("啊？", ["什么"]), ("嗯?", ["什么"]), ("好啊？", ["好"])])
def test_an_interjection_asked_is_what(segmenter: Segmenter, text: str, clauses: list[str]) -> None:
    assert Analyser({}, segmenter.cut).analyse(text).clauses == clauses


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("挂失是什么意思", True),  # the word is named, not asked for
        ("人工服务啥意思", True),
        ("什么意思", False),  # names nothing
        ("我这个报销的审核状态一直显示受理中是什么意思", False),  # a status, asked about
        ("我以为卡丢了，结果在抽屉里", True),  # only thought so
        ("我以为你们六点才下班", False),  # nothing says otherwise
        ("别说营业时间了", True),  # jieba's 别说 is a cue too
    ],
)
def test_what_is_named_but_not_asked_for_is_negated(segmenter: Segmenter, text: str, negated: bool) -> None:
    analysis = Analyser({"什么": ["啥"]}, segmenter.cut).analyse(text)
    add_postposed_negations(analysis)
    assert bool(analysis.negations) is negated


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("周日开门不", "service_hours"),
        ("早上八点过去有人没有", "service_hours"),
        ("侬拉几点开门伐", "service_hours"),
        ("你哋几点放工", "service_hours"),
        ("我交的报销批没批", "query_progress"),
        ("那笔报销的钱到没到", "query_progress"),
        ("卡让我家猫咬烂了", "card_loss"),
        ("钱包被偷了，社保卡也在里头", "card_loss"),
        ("听不懂我说的，你换个人来", "transfer_agent"),
    ],
)
def test_yibao_in_the_words_of_this_round(yibao: IntentClassifier, text: str, intent: str) -> None:
    assert _name(yibao.parse(text).intent) == intent


@pytest.mark.parametrize(
    "text",
    [
        "人工服务是什么意思",
        "我以为卡丢了，后来在车里找到了",
        "谢谢你，不过我还想再问一个",
        "别说上班时间了，我不去",
        "你是机器人还是真人",  # the library's are_you_robot, though yibao's synonyms make 真人 人工
    ],
)
def test_yibao_takes_none_of_these(yibao: IntentClassifier, text: str) -> None:
    assert _name(yibao.parse(text).intent) is None


def test_a_rival_reads_the_callers_words_not_the_flows_synonyms(yibao: IntentClassifier) -> None:
    result = yibao.parse("你到底是机器人还是真人")
    assert result.intent is None
    assert result.rival is not None
    assert result.rival.name == "are_you_robot"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("弗要", "deny"),  # Shanghai
        ("侬莫挂，我还没说完", None),  # the library's hold_on, a rival: no goodbye
    ],
)
def test_survey_in_the_words_of_this_round(survey: IntentClassifier, text: str, intent: str | None) -> None:
    assert _name(survey.parse(text).intent) == intent


@pytest.mark.parametrize(
    ("regional", "mandarin"),
    [
        ("几时", "什么时候"),
        ("啥辰光", "什么时候"),
        ("咗", "了"),
        ("你哋", "你们"),
        ("侬拉", "你们"),
        ("返工", "上班"),
        ("落嚟", "下来"),
        ("弗是", "不是"),
        ("覅", "不要"),
        ("莫挂", "别挂"),
        ("搞掂", "搞定"),
        ("整完", "办完"),
        ("啲", "的"),
    ],
)
def test_regional_words_of_this_round(regional: str, mandarin: str) -> None:
    assert regional in REGIONAL_WORDS[mandarin]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("谁说我要找人工了", None),  # rhetorical: I never said so
        ("卡没有丢，就是忘了带", None),  # after a denial, 就是 is "it is just that", no yes
        ("对，就是这样", "affirm"),  # "exactly"
        ("是的，就是那个报销的事", "affirm"),
    ],
)
def test_a_rhetorical_who_said_and_a_just_after_a_denial(
    yibao: IntentClassifier, text: str, intent: str | None
) -> None:
    assert _name(yibao.parse(text).intent) == intent


def test_only_a_flows_own_synonyms_send_the_rivals_to_the_words(yibao: IntentClassifier) -> None:
    # yibao's 真人 is its 人工: the library must read the words itself. 您 and 啥 are
    # regional words every classifier rewrites alike: the flow's analysis serves.
    assert yibao.analyse("你是机器人还是真人").rewritten
    assert not yibao.analyse("您好，啥时候上班").rewritten
