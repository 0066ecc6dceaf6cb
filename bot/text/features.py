"""What the intent classifier (``bot.dialog.nlu``) compares: a text turned into features.

Steps 1-3 of the ``nlu`` module docstring: read English words as Mandarin
(``bot.text.code_mixing``), normalize, rewrite synonyms, split into
clauses, then cut each clause into words and collect its character and pinyin
features and its negations. Every example goes through here once, when a
classifier is built, and every utterance once per ``parse``, where this is about
a third of the time (most of it jieba). The fillers, the fold table and the
segmenter are the ones the knowledge base uses too (``bot.text``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.text import code_mixing
from bot.text.fillers import FINAL_PARTICLES, HESITATIONS, NOISE_WORDS, STARTERS, TURN_HOLDERS
from bot.text.pinyin import char_syllables
from bot.text.regional import REGIONAL_WORDS, with_regional_clauses
from bot.text.spacing import pauses_as_commas

logger = logging.getLogger(__name__)

MAX_CHARS = 200
"""Longer utterances are cut: a phone turn is a sentence or two, not a speech."""

NEGATION_SCOPE = 4  # characters after a cue that it may negate
NEGATION_CUES = frozenset(
    {
        *("不", "不要", "不用", "不需要", "不想", "不必", "不是"),
        *("别", "没", "没有", "无需", "无须", "甭", "用不着"),
        # jieba's words of 别 and a verb: 别说几点下班了 (do not tell me), 别提, 别管;
        # and a rhetorical 谁说 (谁说我要转人工了: I never said so).
        *("别说", "别提", "别管", "谁说"),
    }
)
# Words that start like a negation but negate nothing after them; given to jieba
# so that it keeps them whole and they never show up as a bare 不 or 没 token.
NON_NEGATING_WORDS = (
    *("不好意思", "没问题", "没关系", "不客气", "不错", "没错", "不知道"),
    # Adverbs and connectives that hold 不 or 没 and negate no event: how or when it
    # happened (不小心把卡弄丢了, 没想到), how often, how much, or else (要不你帮我转人工).
    *("不小心", "不经意", "不知不觉", "没想到", "不得不", "忍不住", "不由得", "不停", "不断"),
    *("不久", "不一会儿", "不少", "不止", "差不多", "要不", "要不然", "不然", "不管"),
)
# The cues of an A-not-A question (去不去, 有没有): between the same character twice.
_A_NOT_A = frozenset({"不", "没"})
_ENDS_IN_ZAI = frozenset({"现在", "正在", "实在", "好在", "所在", "存在"})
"""Words whose 在 is no verb: before 不在 or 没在 they make no A-not-A question."""
_PERFECTIVE = "了"
# Characters that carry no topic: ignored when deciding what a negation is about.
_FUNCTION_CHARS = frozenset("我你您他她它们的了吗呢吧啊呀哦嘛哈给帮跟和把让再就都也还先那这个一下要想请")
CUE_CHARS = frozenset("不没别")
"""The characters of the negation cues (不要, 没有, 别): what a clause that denies holds."""
_NOT_A_TOPIC = _FUNCTION_CHARS | CUE_CHARS

_JUST_SO = 2  # words of a clause 就是 may start and still be "exactly" (对，就是这样)
_QUESTION_TAIL = re.compile(
    r"(?<=..)(?<![了还都也倒可才并就又再我你他她在时里说])(?:不|没有|没)$|(?<=.)(?<![步砍讨征采北攻])伐$"
    r"|(?<=..)(?<![尚从并还仲都也])未$"
)
"""A clause-final 不, 没(有) (Mandarin), 伐 (Shanghai) or 未 (Guangdong: 搞掂未) that asks a
yes-no question."""
_HUH = re.compile(r"(?:^|(?<=[\s,.!?;:，。！？；：、…]))[啊嗯哦噢诶][?？]")
"""An interjection asked, alone (啊？, 嗯？): the caller did not catch it, "what?"; no yes."""
_CONTRAST = re.compile(r"(?:不过|但是|可是)(?![来去])")
"""The words that open a contrast; what follows them is the caller's point."""
_NOW = ("现在", "这会儿", "这会")
_BEFORE_NOW = re.compile("(?:我|他|她)?(?:刚才|刚刚|本来|原来)")
"""What opens a clause that told how things were before (刚才在忙, 本来想转人工): a
clause that 现在 opens after it is how they are."""
_CORRECTIONS = frozenset({"不对", "不是", "不对不对", "不是不是", "说错了", "我说错了", "错了"})
"""A clause of these between two others that say something corrects the caller's own
words (星期六，呃，不对，星期天上午能去办吗): what follows it is meant, and it is no "no"
(不对，是五号 answers no: nothing came before it)."""
_I_MEAN = re.compile("^(?:我是说|我是讲|我的意思是)")
_SOMETHING = 2  # characters, fillers aside, before a correction
_NOISE_LONGEST_FIRST = tuple(sorted(NOISE_WORDS, key=len, reverse=True))
_REPEATED = re.compile(r"(.{2,4}?)\1+")
"""Two to four characters said again at once (是呀是呀, 好的好的, 客服客服客服)."""

# After NFKC: sentence punctuation splits clauses; quotes, brackets and other
# symbols are merely dropped (“医保卡”丢了 is one clause).
_BOUNDARY = re.compile(r"[,.!?;:\u3001\u3002\uff61\uff64]+")
_NOT_CONTENT = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff|]+")


@dataclass(frozen=True)
class Negation:
    clause: int
    start: int  # first character after the cue
    end: int  # one past the last character of the scope
    topic: frozenset[str]  # content characters the cue negates


@dataclass
class Analysis:
    """A prepared text: its clauses and everything parse() compares."""

    clauses: list[str]
    syllables: list[list[str]]
    length: int  # characters in all clauses
    # Sets of strings: parse() sums feature weights in the order it meets them here,
    # so the same strings must go in in the same order for the sums to stay bit-equal.
    chars: set[str] = field(default_factory=set)
    pinyin: set[str] = field(default_factory=set)
    content: set[str] = field(default_factory=set)  # characters that carry a topic
    negations: list[Negation] = field(default_factory=list)
    rewritten: bool = False  # synonyms other than the regional words changed the words


class Analyser:
    """Prepares examples and utterances alike, for one flow's synonyms."""

    def __init__(self, synonyms: Mapping[str, Sequence[str]], cut: Callable[[str], list[str]]) -> None:
        """Compile the synonyms.

        Args:
            synonyms: Canonical word -> its variants, which are rewritten to it.
            cut: Cuts one clause into words (``Segmenter.cut``).
        """
        self._cut = cut
        self._synonym_re, canonical = _compile_synonyms(synonyms)
        self._replace_synonym: Callable[[re.Match[str]], str] = lambda match: canonical[match.group(0)]
        self._own_synonym_re = _own_variants(canonical)

    def prepare(self, text: str) -> str:
        """Normalize and rewrite synonyms; clause boundaries become ``|``."""
        return self._prepare(text)[0]

    def _prepare(self, text: str) -> tuple[str, bool]:
        """``prepare``, and whether synonyms of the analyser's own changed it (not regional
        words, which every analyser rewrites alike)."""
        # Cut raw input first: NFKC and the regexes are linear, but why pay for 1 MB.
        # A pause the ASR wrote as a space ends a clause (人工就算了吧 排队太久).
        said = pauses_as_commas(text[: MAX_CHARS * 4])
        normalized = normalize(_HUH.sub("什么|", code_mixing.rewrite(said)))
        prepared = normalized
        if self._synonym_re is not None:
            prepared = self._synonym_re.sub(self._replace_synonym, normalized)
        own = self._own_synonym_re
        rewritten = prepared != normalized and own is not None and own.search(normalized) is not None
        return with_regional_clauses(prepared), rewritten

    def analyse(self, text: str) -> Analysis:
        """Clauses, features and negations of ``text`` (no clauses: no words in it)."""
        prepared, rewritten = self._prepare(text)
        clauses = [
            _asked_plainly(c.rstrip(FINAL_PARTICLES) or c)
            for c in _from_the_turn(list(map(_said_once, prepared.split("|"))))
            if c
        ]
        length = sum(map(len, clauses))
        if length > MAX_CHARS:
            clauses = _truncate(clauses, MAX_CHARS)
        words = _without_fillers([self._cut(clause) for clause in clauses])
        clauses = ["".join(w) for w in words]
        syllables = [char_syllables(clause) for clause in clauses]
        analysis = Analysis(clauses, syllables, sum(map(len, clauses)), rewritten=rewritten)
        for number in range(len(clauses)):
            _add_ngrams(analysis, number)
            self._add_words(analysis, number, words[number])
        return analysis

    def _add_words(self, analysis: Analysis, number: int, words: list[str]) -> None:
        """Add word features and find negation cues, both from jieba's words."""
        clause, syllables = analysis.clauses[number], analysis.syllables[number]
        offset = 0
        cues: list[tuple[int, int]] = []
        previous = ""  # the word before the current one
        closes: list[int] = []  # where a 了 of its own ends a verb phrase (不说了|拜拜)
        for token in words:
            end = offset + len(token)
            if token == _PERFECTIVE:
                closes.append(offset)
            if end - offset > 1:
                analysis.chars.add("#" + token)
                analysis.pinyin.add("#" + " ".join(syllables[offset:end]))
            # 到账了没有 asks whether it has arrived, 放不放假 and 休息不休息 (A-not-A)
            # whether there is a holiday or a break, 可不可以 whether it may: they
            # negate nothing.
            # The 在 of 现在, 正在, 实在 is no verb repeated: in 现在没在开车 the caller is
            # not driving, in 现在不在家 not at home.
            asks = (end == len(clause) and clause[offset - 1 : offset] == "了") or (
                token in _A_NOT_A and asks_either_way(clause, offset, end) and previous not in _ENDS_IN_ZAI
            )
            if token in NEGATION_CUES and not asks:
                cues.append((offset, end))
            offset, previous = end, token
        if not cues:
            return
        # A scope ends where the next cue starts: in 不是不是 the second 不是
        # repeats the first rather than being what it negates.
        # And where a 了 of its own closes the negated verb: in 不说了拜拜 the caller
        # stops talking and says goodbye; 拜拜 is not negated (了解 is a word, no 了).
        limits = [start for start, _ in cues[1:]] + [len(clause)]
        for (cue_start, cue_end), limit in zip(cues, limits[: len(cues)], strict=True):
            scope_end = min(limit, cue_end + NEGATION_SCOPE)
            scope_end = next((at for at in closes if cue_end <= at < scope_end), scope_end)
            # The topic starts inside the cue: jieba fuses 不需要 into one token,
            # and 需要 is exactly what it negates.
            topic = frozenset(c for c in clause[cue_start + 1 : scope_end] if c not in _NOT_A_TOPIC)
            analysis.negations.append(Negation(number, cue_end, scope_end, topic))


def _without_fillers(clauses: list[list[str]]) -> list[list[str]]:
    """Each clause's words (jieba's) without fillers and hedges (``NOISE_WORDS``), unless
    they are all the clause holds: then it is dropped if it holds a word said to keep the
    turn (那个…谁啊 is 谁), else kept, an answer (嗯嗯，是要查这个). An utterance of
    nothing else is nothing (嗯……那个……, 嗯……呃……: the caller is still thinking). A
    clause of 就是 alone before others is dropped too (``STARTERS``), and so is the 就是
    that starts a clause of more words after one that denies (卡没丢，就是忘带了: "it is
    just that"; 是是，就是那个报销的事 is a yes)."""
    kept: list[list[str]] = []
    holding = False
    for at, words in enumerate(clauses):
        content = [word for word in words if word not in NOISE_WORDS]
        if (
            at
            and len(content) > _JUST_SO
            and content[0] in STARTERS
            and not CUE_CHARS.isdisjoint("".join(clauses[at - 1]))  # it follows a denial
        ):
            content = content[1:]  # 卡没丢，就是忘带了: "it is just that", no yes
        if content:
            kept.append(content)
        elif any(word in TURN_HOLDERS for word in words):
            holding = True
        else:
            kept.append(words)
    if holding and all(word in HESITATIONS for words in kept for word in words):
        return []  # 嗯……那个……; but 呃，喂 still calls out
    # 就是 alone before more words starts them (就是……周末能办吗), as 那个 does.
    last = len(kept) - 1
    return [words for at, words in enumerate(kept) if at == last or not STARTERS.issuperset(words)]


def _said_once(clause: str) -> str:
    """``clause`` with words said again at once said once: 是呀是呀 means 是呀 (and its
    particle then ends it: 是). One character said over and over is left alone (拜拜,
    谢谢, 很很很很: a gap's length counts)."""
    return _REPEATED.sub(lambda m: m[1] if len(set(m[1])) > 1 else m[0], clause)


def _asked_plainly(clause: str) -> str:
    """``clause`` without the 不, 没(有), 伐 or 未 that ends a yes-no question (开门不,
    中午有人没有, 审完没, 礼拜天开伐, 搞掂未: each is a 吗): a negation of nothing, whose words
    would only meet the refusals'. Left: a clause of that word and one more character
    (有没有, 好不, 我没有), and one where it follows a word that makes it a real
    negation (还没有, 都没有, 也不, 那倒没有, 现在不, 暂时没有, 家里没有)."""
    found = _QUESTION_TAIL.search(clause)
    if found is None:
        return clause
    # After 了 it is 吗, as in Mandarin (弄好了伐 is 弄好了吗: asked, not told as done).
    return clause[: found.start()] + ("吗" if clause[found.start() - 1] == "了" else "")


def _from_the_turn(clauses: list[str]) -> list[str]:
    """``clauses`` from the last that a contrast opens (谢谢，不过还有个问题: the caller
    thanks, but the point is the question), without its 不过, 但是 or 可是; or from the
    first that 现在 opens after one that told how things were (刚才在忙，现在好了，你说:
    the caller is free now); or from after the caller corrected their own words
    (星期六，呃，不对，星期天上午能去办吗: ``_CORRECTIONS``), without its 我是说."""
    for at in range(len(clauses) - 1, 0, -1):
        found = _CONTRAST.match(clauses[at])
        if found is not None and found.end() < len(clauses[at]):
            return [clauses[at][found.end() :], *clauses[at + 1 :]]
    for at in range(1, len(clauses)):
        if clauses[at].startswith(_NOW) and any(_BEFORE_NOW.match(c) for c in clauses[:at]):
            return clauses[at:]
    for at in range(len(clauses) - 2, 0, -1):
        if clauses[at].rstrip(FINAL_PARTICLES) in _CORRECTIONS and _said_something(clauses[:at]):
            return [_I_MEAN.sub("", clauses[at + 1]), *clauses[at + 2 :]]
    return clauses


def _said_something(clauses: list[str]) -> bool:
    """Whether ``clauses`` hold more than hesitations and fillers (星期六, 呃: yes; 嗯: no)."""
    said = "".join(clauses)
    for word in _NOISE_LONGEST_FIRST:
        said = said.replace(word, "")
    return len(said.rstrip(FINAL_PARTICLES)) >= _SOMETHING


def asks_either_way(clause: str, start: int, end: int) -> bool:
    """Whether ``clause[start:end]`` (不 or 没) stands between the same character (去不去,
    休不休息) or the same two (休息不休息): the cue of an A-not-A question, which negates
    nothing (here and in ``bot.dialog.nlu_negation``'s fused cues)."""
    return any(start >= size and clause[start - size : start] == clause[end : end + size] for size in (1, 2))


def normalize(text: str) -> str:
    """Full-width to half-width, lower case; punctuation -> ``|``; drop the rest."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _NOT_CONTENT.sub("", _BOUNDARY.sub("|", text))


def kind(feature: str) -> int:
    """0 unigram, 1 bigram, 2 word, by the shape _add_ngrams/_add_words give them."""
    if feature[0] == "#":
        return 2
    return 1 if " " in feature else 0


def _compile_synonyms(
    synonyms: Mapping[str, Sequence[str]],
) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One regex matching every variant, and variant -> canonical word."""
    canonical: dict[str, str] = {}
    for word, variants in synonyms.items():
        target = normalize(word).replace("|", "")
        for variant in variants:
            key = normalize(variant).replace("|", "")
            if not key or key == target:
                continue
            if canonical.get(key, target) != target:
                logger.warning("synonym %r is listed under two words; using %r", variant, word)
            canonical[key] = target
    if not canonical:
        return None, canonical
    # Canonical words match themselves, and longest wins: with 医保卡: [医保],
    # 医保卡 must stay 医保卡, not become 医保卡卡.
    for word in synonyms:
        target = normalize(word).replace("|", "")
        if target:
            canonical.setdefault(target, target)
    alternatives = sorted(canonical, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, alternatives))), canonical


def _own_variants(canonical: Mapping[str, str]) -> re.Pattern[str] | None:
    """A regex of the variants in ``canonical`` (variant -> its word, as
    ``_compile_synonyms`` makes it) that are not regional words rewritten to the same
    word (``bot.text.regional``); None if there are none."""
    regional = {normalize(v): normalize(word) for word, vs in REGIONAL_WORDS.items() for v in vs}
    own = [v for v, word in canonical.items() if v != word and regional.get(v) != word]
    return re.compile("|".join(map(re.escape, own))) if own else None


def _truncate(clauses: list[str], limit: int) -> list[str]:
    kept: list[str] = []
    for clause in clauses:
        if limit <= 0:
            break
        kept.append(clause[:limit])
        limit -= len(clause)
    return kept


def _add_ngrams(analysis: Analysis, number: int) -> None:
    """Add character and pinyin unigrams and bigrams of one clause."""
    clause, syllables = analysis.clauses[number], analysis.syllables[number]
    for i, char in enumerate(clause):
        analysis.chars.add(char)
        analysis.pinyin.add(syllables[i])
        if i:
            analysis.chars.add(f"{clause[i - 1]} {char}")
            analysis.pinyin.add(f"{syllables[i - 1]} {syllables[i]}")
        if char not in _FUNCTION_CHARS:
            analysis.content.add(char)
