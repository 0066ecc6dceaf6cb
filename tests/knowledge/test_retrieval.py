"""What callers' words find: ASR errors, fillers, spoken digits, synonyms, and decisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import KnowledgeDataError
from bot.text.segmenter import Segmenter
from knowledge.base import KnowledgeBase
from knowledge.clarify import clarification, resolve
from knowledge.entries import Entry
from knowledge.replies import Policy, ReplyType
from knowledge.service import KnowledgeService
from knowledge.text import Analyzer


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("异地安置怎么备案", "异地安置"),
        ("一地安置怎么被案", "异地安置"),  # homophones of 异地 and 备案
        ("那个，就是说，我那个医保卡丢了咋办", "医保卡挂失补办"),  # fillers
        ("我的社保卡丢了", "医保卡挂失补办"),  # a synonym
        ("医保卡挂石了怎么办", "医保卡挂失补办"),  # 挂失 misheard
        ("生孩子的生育津贴怎么领", "生育津贴申领"),
        ("声誉金贴怎么申请", "生育津贴申领"),  # 生育津贴 misheard
        ("个人账户鱼额怎么查", "个人账户余额查询"),
    ],
)
def test_asr_tolerant_search(sample: KnowledgeService, question: str, title: str) -> None:
    hits = sample.search(question, 3)
    assert hits[0].entry.title == title, [(h.entry.title, h.score) for h in hits]


def test_scores_are_calibrated_and_ranked(sample: KnowledgeService) -> None:
    hits = sample.search("异地就医怎么备案", 5)
    assert hits[0].entry.title == "异地就医备案"
    assert hits[0].score == 1.0  # its own question, word for word
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0 < h.score <= 1 for h in hits)
    # A far question is "not found": too low a score, or too few of its words in the best
    # entry (火车票 is no word of the knowledge base; 在哪里买 is an alternate's of 惠民保).
    off_topic = sample.search("火车票在哪里买", 1)
    assert not off_topic or off_topic[0].score < 0.5
    assert not sample.preview("火车票在哪里买").found


def test_spoken_digits_and_punctuation_fold(segmenter: Segmenter) -> None:
    analyzer = Analyzer(segmenter, {"医保卡": ["社保卡"]})
    assert analyzer.normalize("打幺二三九三问社保卡，好吗？") == "打12393问医保卡好吗"
    assert analyzer.normalize("ＡＢＣ　１２") == "abc12"
    assert analyzer.content("请问那个医保卡怎么办理呢") == ["医保卡", "办理"]


def test_empty_knowledge_base_finds_nothing(segmenter: Segmenter) -> None:
    base = KnowledgeBase(segmenter)
    assert base.search("医保卡丢了", 5) == []
    assert len(base) == 0


def _entry(entry_id: str, title: str) -> Entry:
    return Entry(id=entry_id, title=title, answer="答")


CHOICES = [_entry("a", "转诊转院"), _entry("b", "异地安置"), _entry("c", "异地急诊")]


def test_clarification_format() -> None:
    assert clarification(CHOICES) == "请问您是想咨询[转诊转院],[异地安置]还是[异地急诊]?"
    assert clarification(CHOICES[:2]) == "请问您是想咨询[转诊转院]还是[异地安置]?"
    assert clarification(CHOICES[:1]) == "请问您是想咨询[转诊转院]吗?"


@pytest.mark.parametrize(
    ("answer", "picked"),
    [
        ("异地安置", "b"),
        ("是异地安置", "b"),
        ("安置那个", "b"),  # part of a name
        ("按置", "b"),  # its sound
        ("急诊", "c"),
        ("转院的", "a"),
        ("第二个", "b"),
        ("第2个", "b"),
        ("头一个", "a"),
        ("最后一个", "c"),
        ("最后那个吧", "c"),
        ("中间那个", "b"),
        ("第三个", "c"),
    ],
)
def test_a_clarification_is_answered_by_name_sound_or_position(
    segmenter: Segmenter, answer: str, picked: str
) -> None:
    chosen = resolve(answer, CHOICES, Analyzer(segmenter))
    assert isinstance(chosen, Entry)
    assert chosen.id == picked


@pytest.mark.parametrize("answer", ["都不是", "不是", "都不对"])
def test_declining_every_choice(segmenter: Segmenter, answer: str) -> None:
    assert resolve(answer, CHOICES, Analyzer(segmenter)) is False


@pytest.mark.parametrize("answer", ["医保卡丢了怎么办", "第五个", "嗯"])
def test_other_words_are_a_new_question(segmenter: Segmenter, answer: str) -> None:
    assert resolve(answer, CHOICES, Analyzer(segmenter)) is None


def test_yes_picks_a_single_choice(segmenter: Segmenter) -> None:
    assert resolve("对的", CHOICES[:1], Analyzer(segmenter)) == CHOICES[0]
    assert resolve("对的", CHOICES, Analyzer(segmenter)) is None  # yes to three choices says nothing


async def test_a_parent_topic_is_clarified_into_its_children(sample: KnowledgeService) -> None:
    reply = await sample.reply("parent-1userId1", "请问异地就医如何备案")
    assert reply.type is ReplyType.CLARIFY
    assert [e.title for e in reply.choices] == ["转诊转院", "异地安置", "异地急诊"]
    assert reply.text == "请问您是想咨询[转诊转院],[异地安置]还是[异地急诊]?"


@pytest.mark.parametrize("again", ["请问异地就医如何备案", "请问异地就医如何被案", "异地就医备案"])
async def test_the_question_again_is_not_an_answer_to_its_clarification(
    sample: KnowledgeService, again: str
) -> None:
    # 案 sounds like 安置's 安: the question said again, or misheard again, must not pick it.
    sender = f"again-{again}userId1"
    first = await sample.reply(sender, "请问异地就医如何备案")
    second = await sample.reply(sender, again)
    assert second.entry is None
    assert second.choices == first.choices


@pytest.mark.parametrize(("answer", "title"), [("按置", "异地安置"), ("急诊那个", "异地急诊")])
async def test_a_choice_still_answers_by_sound_after_the_question(
    sample: KnowledgeService, answer: str, title: str
) -> None:
    sender = f"sound-{answer}userId1"
    await sample.reply(sender, "请问异地就医如何备案")
    reply = await sample.reply(sender, answer)  # 按 is the question's 案 too: 置 decides
    assert reply.entry is not None
    assert reply.entry.title == title


def test_the_questions_sounds_never_pick_a_choice(segmenter: Segmenter) -> None:
    analyzer = Analyzer(segmenter)
    assert resolve("备案", CHOICES, analyzer) == CHOICES[1]  # 案 ~ 安置 when nothing was asked
    assert resolve("备案", CHOICES, analyzer, asked="异地就医如何备案") is None
    assert resolve("按置", CHOICES, analyzer, asked="异地就医如何备案") == CHOICES[1]


async def test_a_child_named_in_the_question_is_answered_directly(sample: KnowledgeService) -> None:
    reply = await sample.reply("child-1userId1", "退休了要去外地长期居住，异地安置怎么备案")
    assert (reply.type, reply.entry and reply.entry.title) == (ReplyType.ANSWER, "异地安置")


async def test_faq_entries_answer_as_type_32(sample: KnowledgeService) -> None:
    faq = next(e for e in sample.base.entries if e.kind == "faq" and not e.is_parent)
    reply = await sample.reply("faq-1userId1", faq.questions[0])
    assert (reply.type, reply.entry) == (ReplyType.FAQ, faq)


async def test_nothing_found_asks_to_rephrase(sample: KnowledgeService) -> None:
    reply = await sample.reply("none-1userId1", "明天会下雨吗")
    assert (reply.type, reply.found, reply.choices) == (ReplyType.CLARIFY, False, ())
    assert "换个说法" in reply.text
    assert "转人工" in reply.text
    assert reply.document()["found"] is False


async def test_declined_clarification_then_a_new_question(sample: KnowledgeService) -> None:
    sender = "decline-1userId1"
    await sample.reply(sender, "异地就医怎么备案")
    declined = await sample.reply(sender, "都不是")
    assert (declined.type, declined.found) == (ReplyType.CLARIFY, False)
    answered = await sample.reply(sender, "医保卡丢了怎么补办")
    assert answered.entry is not None
    assert answered.entry.title == "医保卡挂失补办"


async def test_a_short_follow_up_leans_on_the_topic_just_answered(sample: KnowledgeService) -> None:
    alone = await sample.reply("follow-1userId1", "怎么交费")
    sender = "follow-2userId1"
    first = await sample.reply(sender, "大学生怎么参保")
    assert first.entry is not None
    assert first.entry.title == "大学生参保"
    follow = await sample.reply(sender, "怎么交费")
    assert all("参保" not in e.title for e in alone.choices)
    assert any("参保" in e.title for e in follow.choices)  # the topic's neighbours count more


async def test_an_outside_topic_is_not_found_with_its_words(sample: KnowledgeService) -> None:
    question = "养老金每个月发多少钱"
    assert sample.search(question, 1)[0].entry.is_outside
    reply = await sample.reply("outside-1userId1", question)
    assert (reply.type, reply.found, reply.entry, reply.choices) == (ReplyType.CLARIFY, False, None, ())
    assert reply.outside is not None
    assert reply.text == reply.outside.answer
    assert "12333" in reply.text
    assert reply.document()["found"] is False
    assert question not in dict(sample.misses.top(1000))  # known not to be ours: no content missing


def _service(
    segmenter: Segmenter, tmp_path: Path, entries: list[Entry], policy: Policy | None = None
) -> KnowledgeService:
    service = KnowledgeService(tmp_path, base=KnowledgeBase(segmenter), policy=policy, poll_seconds=0)
    service.base.replace(entries, {})
    return service


def test_an_outside_topic_is_never_offered(segmenter: Segmenter, tmp_path: Path) -> None:
    service = _service(
        segmenter,
        tmp_path,
        [
            Entry(
                id="card", title="医保卡密码", questions=("医保卡密码忘了怎么办",), answer="带身份证重置。"
            ),
            Entry(
                id="bank", title="银行卡", kind="outside", questions=("银行卡密码忘了",), answer="请问银行。"
            ),
        ],
    )
    hits = service.search("医保卡密码忘了", 2)
    assert [h.entry.id for h in hits] == ["card", "bank"]  # both close, the outside one second
    reply = service.preview("医保卡密码忘了")
    assert reply.entry is not None
    assert reply.entry.id == "card"


def test_a_question_naming_an_outside_keyword_the_best_entry_never_uses(
    segmenter: Segmenter, tmp_path: Path
) -> None:
    outside = Entry(
        id="phone",
        title="手机卡",
        kind="outside",
        keywords=("手机卡",),
        questions=("手机欠费了",),
        answer="问运营商。",
    )
    card = Entry(id="card", title="医保卡密码", questions=("医保卡密码忘了怎么办",), answer="带身份证重置。")
    service = _service(segmenter, tmp_path, [card, outside])
    hits = service.search("手机卡密码忘了怎么办", 2)
    assert hits[0].entry.id == "card"  # its words score best
    assert hits[0].outside == outside  # but 手机卡 is the outside topic's, and not the entry's
    reply = service.preview("手机卡密码忘了怎么办")
    assert (reply.found, reply.text) == (False, "问运营商。")
    assert service.search("医保卡密码忘了怎么办", 1)[0].outside is None


@pytest.mark.parametrize(
    ("parent", "child"), [("p", "out"), ("out", "c")], ids=["outside child", "outside parent"]
)
def test_an_outside_topic_is_neither_parent_nor_child(segmenter: Segmenter, parent: str, child: str) -> None:
    entries = {
        "p": Entry(id="p", title="父", answer="答", children=(child,)),
        "c": Entry(id="c", title="子", answer="答"),
        "out": Entry(
            id="out", title="外", kind="outside", answer="答", children=(child,) if parent == "out" else ()
        ),
    }
    with pytest.raises(KnowledgeDataError, match="outside"):
        KnowledgeBase(segmenter).replace([entries[parent], *(e for k, e in entries.items() if k != parent)])


def test_a_parent_best_with_its_child_close_offers_its_children(segmenter: Segmenter, tmp_path: Path) -> None:
    service = _service(
        segmenter,
        tmp_path,
        [
            Entry(
                id="all",
                title="医保报销",
                questions=("医保怎么报销",),
                answer="分几种。",
                children=("ward", "clinic"),
            ),
            Entry(id="ward", title="住院报销", questions=("住院医保怎么报销",), answer="住院。"),
            Entry(id="clinic", title="门诊报销", questions=("门诊怎么报销",), answer="门诊。"),
        ],
        Policy(margin=0.2),  # wide, whatever words the session's segmenter learnt
    )
    hits = service.search("医保怎么报销呢", 3)
    assert [h.entry.id for h in hits[:2]] == ["all", "ward"]
    assert hits[0].score - hits[1].score < service.policy.margin  # the child close behind
    reply = service.preview("医保怎么报销呢")
    assert reply.entry is None
    assert [e.id for e in reply.choices] == ["ward", "clinic"]
