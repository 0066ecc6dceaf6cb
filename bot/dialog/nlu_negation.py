"""Negations the cue-and-scope rule of ``bot.text.features`` does not see.

``bot.text.features`` finds a negation cue among jieba's words and gives it the few
characters after it (不用转人工 negates 转人工). These common forms escape it:

* The refusal comes last: callers name the thing first and refuse it at the end of the
  clause (人工就算了, 挂失就不办了, 报销就不用查了, 人工我不要), or say they do not
  care (营业时间不用告诉我了, 周末开不开门我不关心), know it already (上班时间我知道), or
  find it useless or worse (晚点打也没用, 可以个屁). Nothing content follows the cue;
  what it negates is what came before it.
  A refusal that names nothing in its own clause refuses the clause before it
  (几点开门我知道，不用说了), when that clause names more than a word (拉倒吧，不用说了
  refuses nothing: 拉倒 is the refusal).
* The caller only thought it had happened (之前以为卡丢了，原来在抽屉里): 以为 negates
  what follows it when a later clause tells what did happen (原来, 结果, 后来, 其实, 找到了).
* The caller asks what a word means (转人工是什么意思, 挂失啥意思): the word is named,
  not asked for. The question ends the clause as a refusal does, and negates the word
  before it as a refusal would.
* The caller says it is done already (上班时间我查过了, 报销进度我在APP上查到了, 卡又找到了,
  钱早到账了): a clause that ends in a finished check or remedy (查过, 问过, 查到, 找到,
  找回来, 办好, 补好, 办完, 到账, each then 了) negates what it names, so the caller who
  has it does not get it again. A question is not told (办好了吗, 到账了没有: 吗 and the
  tail stay in the clause), nor one not found (没查到, 找不到了).
* The caller tells about someone rather than asking for them (上次人工客服态度好差,
  刚才客服说的不对, 上次你们人工客服跟我说要等一个月, 客服挺好的) or asks what they are
  (人工服务是收费的吗, 你们领导姓什么, 人工客服几点下班): a clause that opens with a person
  (after 上次, 刚才…, or 你们) and judges them (态度, 挺, 很, 太…), after a when quotes
  them (跟我说, 说的…), or asks their fee, floor, hours or name negates that person: 人工
  there asks for nobody.
* jieba fuses 不 with its verb (不问, 不查, 不办), so there is no cue word at all:
  不问几点开门 negated nothing.
* The caller gives the reason for a refusal in words that name the refused thing again
  (我不要人工，人工等太久了): a word of two content characters that a negation's scope
  holds is refused again where a later clause names it, unless that clause changes the
  caller's mind (还是, 我要…: 不用转人工，还是转人工吧).

:func:`add_postposed_negations` adds them all to an analysis, of examples and
utterances alike (the classifier calls it after every ``Analyser.analyse``), so that
人工就不用了 counts against ``transfer`` as 不用转人工 does.

A double negative affirms (不是不方便 is 方便, 不是没空 is 有空, 没有不满意 is 满意), and so
do a litotes (没说不方便 is 说方便, 不能说没有建议 is 能说有建议) and a rhetorical 不就 (我刚才
不就说了嘛 is 我刚才就说了); a concession names what does not decide (我再忙也不会做调查
is no "busy"), and "not that it is not A, but B" means B (不是不想找人工，是真的不用 is
真的不用):
:func:`cancel_double_negations` rewrites it so, before the analysis (else 不是不方便 met
``busy``'s 不方便 word for word).

Left out: a bare 不, 没 or 没有 at the end of a clause asks a question (开门不, 审完没,
有结果没有), an A-not-A question (要不要, 办不办) negates nothing, and a refusal with
fewer than ``MIN_TOPIC`` content characters before it (好的不用了) refuses nothing named.
"""

from __future__ import annotations

import re

from bot.text.features import CUE_CHARS, NEGATION_SCOPE, Analysis, Negation, asks_either_way

__all__ = ["add_postposed_negations", "cancel_double_negations"]

BACKWARD_SCOPE = 6  # characters before a clause-final cue that it may negate
MIN_TOPIC = 2  # content characters it must find there (好的不用了 is a refusal of nothing)

MAX_WORD = 5  # content characters of a word whose meaning is asked (转人工是什么意思)

_MEANING = re.compile("是?什么意思$")
_THOUGHT = "以为"
_WHAT_WAS = re.compile("^(?:原来|结果|后来|其实)|找到了|找着了")
# A finished check or remedy ending the clause (查过了, 找到了, 补好了, 到账了); not after a
# cue (没查到了, 找不到了).
_DONE = re.compile(
    r"(?<![没不未])(?:(?:(?:[查问看办弄补转说]|挂失|打听|咨询)过|[查找收拿领][到着]|找回来|[办弄补搞]好"
    r"|[办弄搞]完|到账|到手)了|(?:[查问办补]|挂失|咨询)过)$"
)
# Someone told or asked about, not asked for (上次人工客服态度好差, 刚才客服说的不对, 客服挺好的,
# 人工是收费的吗, 你们领导姓什么): a clause that opens with a person, perhaps after when
# (上次) and whose (你们), and then judges them, tells what they said or asks what they are.
_PAST = "(?:上次|上回|刚才|刚刚|之前|以前|那天|昨天|前天)"
_JUDGED = "(?:态度|挺|很|真|太|蛮|特别|不错|好差|差劲)"
_TOLD = "(?:跟我说|跟我讲|告诉我|说的|讲的|说得|讲得|说要|讲要)"
_PERSON = ".{1,5}?[员服工师生士姐娘理管导长席志]"  # 客服, 人工, 工作人员, 老师, 护士, 科长…
_ASKED = (
    "(?:是收费的|收费|收不收费|要收费|要钱|在几楼|几点下班|几点上班|姓什么|叫什么|是谁|电话多少|电话是多少)"
)
_TOLD_ABOUT = re.compile(
    rf"^(?:{_PAST}(?:你们|我)?|你们)?({_PERSON}){_JUDGED}|^{_PAST}(?:你们)?({_PERSON}){_TOLD}"
    rf"|^(?:你们)?({_PERSON}){_ASKED}"
)
_CHANGE_OF_MIND = ("还是", "不对", "我是说", "我要", "要", "给我", "帮我", "请")
"""What opens a clause in which the caller asks for what they refused before (还是转人工吧)."""
_VERBS = "说问查办补找转管弄提讲"  # what a caller declines to have done, or to be told
_FUSED_CUE = re.compile(f"不[{_VERBS}]")
# A refusal that ends the clause: a cue, perhaps the verb it refuses (报销就不用查了,
# 不用告诉我), or not caring (不关心, 无所谓), then what may trail it (了, 谢谢). A bare
# 不 needs its verb: 开门不 asks.
_FINAL_CUE = re.compile(
    rf"(?:(?:不需要|不用|不要|不必|甭|别)(?:[{_VERBS}]|告诉我?|跟我[{_VERBS}])?|不[{_VERBS}了]|算了|免了"
    r"|不关心|不在乎|无所谓|不感兴趣|没兴趣|不想知道|不想听|也?没用的?|个屁|个鬼|我(?:都|也|已经|早就|早)?(?:知道|清楚)"
    r"|(?:跟|和|与)我(?:没|没有|无)关系?|不关我的?事|才怪)"
    r"了?(?:谢谢你?)?$"
)


# 不是不X -> X, 不是没(有)X -> 有X, 没有不X -> X; not in an A-not-A question (是不是不方便,
# 有没有不舒服) nor in 不是不是 (no, no).
_DOUBLE_NEGATIVES = (
    # Not that it is not A, but B: 不是不想找人工，是真的不用 means only what follows, no
    # double negative (是不是 asks); 不是卡坏了，是机器坏了 keeps its plain 不是.
    (re.compile(r"不是[不没][^,.!?;，。！？；\s]{1,11}[,，\s]+(?:而)?是(?!不是)"), ""),
    (re.compile(r"(?<!是)不是不(?!是)"), ""),
    (re.compile(r"(?<!是)不是没有?"), "有"),
    (re.compile(r"(?<!有)没有不(?=[\u4e00-\u9fff])"), ""),
    # Litotes: 没说不方便 (I never said I was busy), 不能说没有建议 (there is something to say).
    (re.compile(r"没说不(?=[\u4e00-\u9fff])"), "说"),
    (re.compile(r"不能说没有?"), "能说有"),
    # A rhetorical 不就 asserts: 我刚才不就说了嘛 (I said so), 不就是个卡嘛 (it is just a
    # card); not 不就诊, 不就业 (就 of a word).
    (re.compile(r"不就(?![诊医业餐职近地])"), "就"),
    # A concession names what does not decide: 我再忙也不会做调查 refuses (it is no "busy"),
    # 再忙也会接 accepts.
    (re.compile("再(?:忙|累|晚|早|远|难|贵|麻烦|辛苦)也"), "也"),
)


def cancel_double_negations(text: str) -> str:
    """``text`` with its double negatives said as the affirmations they are, and its
    concessions (再忙也) as what they grant."""
    if "不" not in text and "再" not in text:
        return text
    for pattern, affirmation in _DOUBLE_NEGATIVES:
        text = pattern.sub(affirmation, text)
    return text


def add_postposed_negations(analysis: Analysis) -> None:
    """Add the negations that no cue makes (the module docstring's list): of what precedes
    a refusal that ends a clause, of what follows a 不 that jieba fused with its verb (不问,
    不查), of what the caller only thought had happened, has done already, or tells or asks
    about (a person), and again of a refused word that a later clause names."""
    _add_mistaken(analysis)
    for number, clause in enumerate(analysis.clauses):
        _add_fused(analysis, number, clause)
        _add_done(analysis, number, clause)
        _add_told_about(analysis, number, clause)
        if _add_meaning_asked(analysis, number, clause):
            continue
        found = _FINAL_CUE.search(clause)
        if found is None:
            continue
        cue_start = found.start()
        # 要不要 / 需不需要: the character before 不 repeats the one after it.
        before, after = clause[cue_start - 1 : cue_start], clause[cue_start + 1 : cue_start + 2]
        if clause[cue_start] == "不" and before == after:
            continue
        start = max(0, cue_start - BACKWARD_SCOPE)
        topic = _topic(analysis, clause[start:cue_start])
        if len(topic) >= MIN_TOPIC:
            analysis.negations.append(Negation(number, start, cue_start, topic))
        elif number:
            # A refusal naming nothing refuses the clause before it: 几点开门我知道，不用说了.
            before = analysis.clauses[number - 1]
            start = max(0, len(before) - BACKWARD_SCOPE)
            topic = _topic(analysis, before[start:])
            if len(topic) > MIN_TOPIC:  # a topic, not a word of its own (拉倒吧，不用说了)
                analysis.negations.append(Negation(number - 1, start, len(before), topic))
    _add_refused_again(analysis)


def _add_refused_again(analysis: Analysis) -> None:
    """我不要人工，人工等太久了: a word the caller refused (two content characters of a
    negation's scope, 人工) is refused again where a later clause names it, as the reason
    for the refusal; unless that clause changes the caller's mind (还是, 我要…)."""
    clauses = analysis.clauses
    for negation in list(analysis.negations):
        span = clauses[negation.clause][negation.start : negation.end]
        words = {
            span[at : at + 2] for at in range(len(span) - 1) if negation.topic.issuperset(span[at : at + 2])
        }
        for number in range(negation.clause + 1, len(clauses) if words else 0):
            later = clauses[number]
            if later.startswith(_CHANGE_OF_MIND):
                break
            for word in sorted(words):  # the same order every run
                at = later.find(word)
                if at >= 0:
                    analysis.negations.append(Negation(number, at, at + len(word), frozenset(word)))


def _add_mistaken(analysis: Analysis) -> None:
    """以为卡丢了，原来在抽屉里: what follows 以为 did not happen, when a later clause
    says what did (原来, 结果, 后来, 其实, or 找到了)."""
    clauses = analysis.clauses
    for number, clause in enumerate(clauses[:-1]):
        at = clause.find(_THOUGHT)
        if at < 0 or not any(_WHAT_WAS.search(later) for later in clauses[number + 1 :]):
            continue
        start = at + len(_THOUGHT)
        topic = _topic(analysis, clause[start:])
        if topic:
            analysis.negations.append(Negation(number, start, len(clause), topic))


def _add_done(analysis: Analysis, number: int, clause: str) -> None:
    """上班时间我查过了: a negation of what the clause names, done already."""
    found = _DONE.search(clause)
    if found is None:
        return
    topic = _topic(analysis, clause[: found.end()])
    if topic:
        analysis.negations.append(Negation(number, 0, found.end(), topic))


def _add_told_about(analysis: Analysis, number: int, clause: str) -> None:
    """上次人工客服态度好差: a negation of the person the clause judges, quotes or asks
    about (module docstring)."""
    found = _TOLD_ABOUT.match(clause)
    if found is None:
        return
    group = found.lastindex or 0  # the person: each alternative has one group
    topic = _topic(analysis, found.group(group))
    if topic:
        analysis.negations.append(Negation(number, found.start(group), found.end(group), topic))


def _add_meaning_asked(analysis: Analysis, number: int, clause: str) -> bool:
    """转人工是什么意思: a negation of the word whose meaning is asked, when the clause
    names no more than a word (a status told at length and asked about, 审核状态显示受理中
    是什么意思, is a question about that status). Whether the clause asks a meaning."""
    found = _MEANING.search(clause)
    if found is None:
        return False
    topic = _topic(analysis, clause[: found.start()])
    if MIN_TOPIC <= len(topic) <= MAX_WORD:
        analysis.negations.append(Negation(number, 0, found.start(), topic))
    return True


def _topic(analysis: Analysis, text: str) -> frozenset[str]:
    """What ``text`` (part of a clause) is about: the analysis's content characters, which
    carry a topic, less the cues'."""
    return frozenset(c for c in text if c in analysis.content and c not in CUE_CHARS)


def _add_fused(analysis: Analysis, number: int, clause: str) -> None:
    """不问几点开门: the negation of 问几点开 that a cue would have given."""
    for found in _FUSED_CUE.finditer(clause):
        cue = found.start()
        if asks_either_way(clause, cue, cue + 1):  # 办不办, 补办不补办 ask
            continue
        if any(n.clause == number and n.start <= cue + 1 <= n.end for n in analysis.negations):
            continue  # a cue of its own already negates it
        end = min(len(clause), cue + 1 + NEGATION_SCOPE)
        topic = _topic(analysis, clause[cue + 1 : end])
        if topic:
            analysis.negations.append(Negation(number, cue + 1, end, topic))
