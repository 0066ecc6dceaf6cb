"""Words that hold a numeral but are not values: 三国, 四川, 一心一意, 十万火急, 二维码.

Chinese writes many ordinary words with numeral characters, and the caller's ASR
writes them so: a number slot must not read 4 out of 四季, nor a time slot 15:00
out of 三点水. Rather than a hand list, the words are taken from jieba's dictionary
(the segmenter's, already installed), which tags each word's part of speech: every
word of two to four characters that holds a numeral character and is not tagged a
numeral or quantity (``m``, ``mq``), a time (``t``) or a classifier (``q``), and
that the dictionary counts at least three times (rarer entries are mostly fragments
its builder cut badly, such as 共五). Idioms
(``i``, ``l``), nouns and place names (``n``, ``ns``, ``nz``), names (``nr``),
adverbs (``d``)… are kept: 25,000 idioms alone, 2,500 of them with numerals.

Idioms and set phrases (``i``, ``l``) are kept whatever their frequency.

Left out, as they are quantities whatever their tag: a numeral plus one classifier
(二楼, 零点, 三毛, 二人), unless the word is a function word or an idiom (一样, 一来).
Added: the few words the dictionary tags as numerals that are not quantities
(十分 "very", 万一 "in case", 一起 "together", 四季 "the seasons"...).

Idioms and set phrases of five to seven characters are kept too (八九不离十,
三下五除二). So are words the dictionary tags as numerals or times that are not a
number and its unit: four characters with two numerals apart (三天两头, 一分一秒,
十有八九: an idiom, but not 三分之一 or 十五点八), a numeral before a noun in 子 (一辈子,
一肚子, 两下子: "a whole ..."), and times that are names (七夕, 初三, 周二: the date
slot reads days by its own patterns).

The dictionary tags many numeral idioms as numerals (七上八下, 三番五次: ``m``) and
lacks most compound nouns that count their parts (两室一厅, 四菜一汤), so a second
test goes by their shape instead (``in_numeral_idiom``): two lone numerals in step
with two other characters, 三番五次 (N X N Y) or 接二连三 (X N Y N).

A lone 一 right before a verb is "as soon as" or "once" (一看就知道, 一说就挂), not
the number 1 (``yi_before_verb``); the verbs are the dictionary's one-character
words tagged ``v`` that are not classifiers (一回, 一刻 count).

The same reading of the dictionary (``lexicon``) gives ``numeral_context`` what it
needs about a numeral's neighbours: one-character nouns, function words, classifiers
and measure nouns, and nouns of two characters that begin with no noun, classifier,
place word, verb or adjective (诊室, 车间: 三车间 names a workshop).
"""

from __future__ import annotations

import importlib.util
import logging
import re
import time
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

from bot.language.slots import base, numeral_gazetteer
from bot.language.slots.base import is_han
from bot.language.slots.numeral_gazetteer import NAMES
from bot.text import tables
from bot.text.fillers import FINAL_PARTICLES

logger = logging.getLogger(__name__)

NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万亿幺"
_QUANTITY_TAGS = frozenset({"m", "mq", "t", "q"})
_FUNCTION_OR_IDIOM_TAGS = frozenset({"r", "d", "c", "a", "ad", "i", "l", "z"})
# Classifiers and units: a numeral plus one of these is a quantity (二楼, 三毛, 零点).
_APPROXIMATORS = "多来余"
"""After 十, 百, 千 or 万 these make an approximate number (十来个, 二十多); after a lone
numeral they make words (一来一回, 一多半)."""
_AS_SOON_AS = frozenset("就便")
"""After 一 and a word, "then": 一刷…就收到 is "as soon as it is swiped"."""
_AS_SOON_AS_REACH = 8
_RIGHT_AFTER = 2  # 就 this close after 一's word (一按就, 一着急就) follows it, whatever the word
_COUNTERS = frozenset(
    "个位名人口次回遍趟下号岁年月日天周点分秒块元圆角毛钱张本件条只头台辆部份套间家所层楼"
    "米里斤克两吨升瓶杯碗盒包袋箱双对副把根支片粒颗座栋户期笔单项种类样批顿场届级倍成折度"
    "页行章节集篇首句段封刻半整"
    # Bets of a lottery (买五注)
    "注"
    # Vessels that measure what they hold (两桌酒席, 一罐奶粉, 三桶水)
    "桌罐桶盆筐锅碟"
)
_CLASSIFIERS = _COUNTERS | frozenset(_APPROXIMATORS)
_MONEY = "钱"
COUNTERS = _COUNTERS
"""One-character classifiers and units: a numeral before one counts (三个, 五块, 两点)."""
# Tagged ``m`` by the dictionary, yet not quantities.
_NOT_QUANTITIES = (
    *("十分", "万分", "万一", "万万", "千万", "四季", "八成", "一起", "一下", "一下子", "一点儿"),
    *("一会儿", "一路", "一些", "一切", "一旦", "一向", "一再", "一味", "一齐", "一连", "一道"),
    *("一点点", "一丁点", "一半天", "第一", "唯一", "统一", "之一"),
)
_NUMERAL_RUN = re.compile(f"[{NUMERAL_CHARS}]+")
_LENGTHS = (2, 3, 4, 5, 6, 7)
_LONGEST_WORD = 4
_LONGEST_IDIOM = 7
# Between the two numerals of a dictionary "numeral", these make one number, a
# fraction or a date (十五点八, 三分之一, 四月八), not an idiom.
_ONE_NUMBER_BETWEEN = ("点", "零", "分之", "月")
_NOUN_SUFFIX = "子"
_ENTRY_FIELDS = 3  # a line of jieba's dictionary: word, frequency, tag
# Entries seen fewer times are mostly fragments the dictionary's builder cut badly (共五);
# idioms and set phrases are not fragments, however rare (一唱三叹, 七死八活).
_MIN_FREQUENCY = 3
_IDIOM_TAGS = frozenset({"i", "l"})
_LEXICON_VERSION = 2  # of what lexicon() keeps in the cache


_COUNTED_THINGS = frozenset("辆杯瓶碗张本封件句节层间颗秒斤岁条只")
"""Classifiers of things a caller counts, which the dictionary lists with a thing after
them (两辆车, 三杯水, 两张床): the entry is a count, not a name. 一 is left out (一条龙 and
一口气 are sayings), and so are the classifiers of names and terms (七里香, 三角形,
五台山, 二号线, 三分球, 三年级)."""
_COUNT_AND_THING = 2  # characters after the numeral: the classifier and one thing


def _is_quantity(word: str, tag: str) -> bool:
    """A numeral and one classifier (二楼, 三毛), a numeral, a classifier and the thing it
    counts (两辆车, 三杯水), or a sum of money (两块钱, 五毛钱)."""
    if tag in _QUANTITY_TAGS:
        return True
    lead = _NUMERAL_RUN.match(word)
    if lead is None or tag in _FUNCTION_OR_IDIOM_TAGS:
        return False
    unit = word[lead.end() :]
    if len(unit) == _COUNT_AND_THING and unit[0] in _COUNTED_THINGS and word[: lead.end()] != "一":
        return True  # 两辆车, 三杯水, 十瓶酒, 两间房: a count and the thing it counts
    return unit in _CLASSIFIERS or (
        len(unit) == len(_MONEY) + 1 and unit[0] in _CLASSIFIERS and unit.endswith(_MONEY)
    )


def _is_name_of_time(word: str) -> bool:
    """A word tagged a time whose numeral has no unit after it (七夕, 初三, 周二; not
    三点, 晚八点, 五月)."""
    run = _NUMERAL_RUN.search(word)
    return run is not None and (run.end() == len(word) or word[run.end()] not in _COUNTERS)


def _is_split_numeral_idiom(word: str) -> bool:
    """Four characters tagged a numeral with two numerals apart: 三天两头, 十有八九."""
    runs = list(_NUMERAL_RUN.finditer(word))
    if len(word) != _IDIOM_LENGTH or len(runs) != 2 or runs[0].start() != 0:
        return False
    between = word[runs[0].end() : runs[1].start()]
    return bool(between) and not any(mark in between for mark in _ONE_NUMBER_BETWEEN)


def _is_whole_of(word: str) -> bool:
    """A numeral before a noun in 子 is "a whole ...", not a count: 一辈子, 一肚子, 两下子."""
    lead = _NUMERAL_RUN.match(word)
    return lead is not None and len(word) == lead.end() + 2 and word[-1] == _NOUN_SUFFIX


def _is_numeral_word(word: str, frequency: int, tag: str) -> bool:
    """Whether a dictionary entry holding a numeral is a word, not a value (see the module doc)."""
    if tag in _IDIOM_TAGS:
        return 2 <= len(word) <= _LONGEST_IDIOM
    if not 2 <= len(word) <= _LONGEST_WORD:
        return False
    numeral = tag in ("m", "mq")
    if numeral and _is_split_numeral_idiom(word):
        return True  # rare ones too: 一分一秒 is seen twice
    if frequency < _MIN_FREQUENCY:
        return False
    if tag == "t":
        return _is_name_of_time(word)
    return (numeral and _is_whole_of(word)) or not _is_quantity(word, tag)


def _dictionary_path() -> Path | None:
    # find_spec locates jieba without importing it (its import warns, see bot.text.segmenter).
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).with_name("dict.txt")


# Entries of one character, with their tags: verbs (``v``: 看, 说), nouns (孩, 舅, 医,
# 线: a numeral right before one, with no classifier between, is part of a name or a
# compound; see ``numeral_context``), classifiers (``q``: 番, 类) and function words.
_NOUN_TAGS = frozenset({"n", "ng", "nr", "ns", "nz", "nt", "nrt", "nrfg"})
# Function words: conjunctions, prepositions, particles, pronouns, interjections (和, 在,
# 的, 了, 吧, 我, 嗯). Not adverbs: the dictionary tags many characters that begin nouns
# and adjectives so (特殊, 正常, 真正); see SCOPE_ADVERBS.
_FUNCTION_TAGS = frozenset({"c", "p", "u", "uj", "ul", "ud", "ug", "uz", "y", "r", "e", "o"})
# Interjections and modal particles (嗯, 呃, 吧, 呢): what a caller says around a bare answer.
_FILLER_TAGS = frozenset({"e", "y", "o"})
_VERB_TAG = "v"
_LOCALIZER_TAG = "f"
_ADJECTIVE_TAG = "a"
_MEASURE_TAG = "q"
_LONGEST_MEASURE = 4  # classifiers and units of two to four characters (公里, 分钟, 平方米)
_TWO_CHARACTER_NOUN_TAGS = frozenset({"n", "nr", "ns", "nt", "nz"})
# Rarer two-character "nouns" are mostly fragments and rare names.
_MIN_NOUN_FREQUENCY = 20
SCOPE_ADVERBS = "就都也还又再才只不没"
"""The adverbs of scope and negation, a closed class: after a count they leave it one
(一个就够, 一次都没有, 两个也行)."""
MEASURE_NOUNS = ("小时", "星期", "礼拜", "季度", "学期", "周岁", "世纪", "个月", "辈子")
"""Nouns that take a numeral with no classifier (三小时, 两星期), which the dictionary
tags as nouns or times rather than as classifiers."""


@dataclass(frozen=True)
class Lexicon:
    """What the slots read from jieba's dictionary, once, as flows load."""

    words: frozenset[str]
    """Words that hold a numeral and are not values (``numeral_gazetteer``'s names too)."""
    verbs: frozenset[str]
    """One-character verbs that are no classifier (看, 说, 查; not 回, 刻)."""
    nouns: frozenset[str] = frozenset()
    """One-character nouns that are no classifier (孩, 舅, 医, 线; not 人, 楼, 条)."""
    two_character_nouns: frozenset[str] = frozenset()
    """Nouns of two characters whose first is no noun, classifier, numeral, place word,
    verb or adjective (诊室, 车间, 园区): after a numeral with no classifier, a name or a
    compound (三车间)."""
    measures: frozenset[str] = frozenset(MEASURE_NOUNS)
    """Classifiers and measure nouns the dictionary knows (番, 类, 公里, 分钟, 小时)."""
    function_chars: frozenset[str] = frozenset(SCOPE_ADVERBS)
    """One-character function words (和, 在, 的, 了, 吧, 我) and ``SCOPE_ADVERBS``."""
    fillers: frozenset[str] = frozenset()
    """One-character interjections and modal particles (嗯, 呃, 吧, 呢)."""
    adjectives: frozenset[str] = frozenset()
    """One-character adjectives (近, 贵, 高): before 一点, "a little more" (近一点)."""


@cache
def lexicon() -> Lexicon:
    """Everything the slots read from jieba's dictionary; read once a process, from the
    cache of ``bot.text.tables`` (built the first time on a machine: about 0.3 s of CPU).

    The cache is keyed by the dictionary and by the code that reads it (this module,
    ``base`` and ``numeral_gazetteer``): an edit of any, or another jieba, reads the
    dictionary again."""
    path = _dictionary_path()
    if path is None or not path.is_file():
        logger.warning("jieba's dictionary not found: numerals inside words are read as values")
        return Lexicon(frozenset(_NOT_QUANTITIES) | NAMES, frozenset())
    sources = [path, Path(__file__), Path(base.__file__), Path(numeral_gazetteer.__file__)]
    read = tables.load_or_build(
        "numeral-lexicon", sources, lambda: _as_tuple(_read(path)), version=_LEXICON_VERSION
    )
    return Lexicon(*read)


def _as_tuple(read: Lexicon) -> tuple[frozenset[str], ...]:
    return tuple(getattr(read, field.name) for field in fields(Lexicon))


def _read(path: Path) -> Lexicon:
    """One pass over the dictionary's lines (``word frequency tag``), keeping only what
    is used: read whole and matched with patterns, the dictionary's hundreds of
    thousands of entries left about 20 MB of the process's memory behind them."""
    started = time.perf_counter()
    words = set(_NOT_QUANTITIES) | NAMES
    by_tag: dict[str, set[str]] = {}  # the entries of one character that are no numeral
    measures: set[str] = set()
    noun_candidates: list[str] = []  # frequent two-character nouns, told apart below
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            fields = line.split()
            if len(fields) != _ENTRY_FIELDS or not fields[1].isdigit():
                continue
            word, count, tag = fields
            if _NUMERALS.isdisjoint(word):
                if len(word) == 1:
                    by_tag.setdefault(tag, set()).add(word)
                elif tag == _MEASURE_TAG and len(word) <= _LONGEST_MEASURE:
                    measures.add(word)
                elif len(word) == 2 and tag in _TWO_CHARACTER_NOUN_TAGS and int(count) >= _MIN_NOUN_FREQUENCY:
                    noun_candidates.append(word)
            elif _is_numeral_word(word, int(count), tag):
                words.add(word)
    nouns = set().union(*(by_tag.get(tag, ()) for tag in _NOUN_TAGS))
    functions = set().union(*(by_tag.get(tag, ()) for tag in _FUNCTION_TAGS))
    measures |= by_tag.get(_MEASURE_TAG, set())
    # A numeral before these is told by them: a noun, a count, a longer number, a place
    # word (上, 外: 三上门 is no name), a verb (交: 12号交钱 is a day) or an adjective
    # (大, 小: 两大箱 counts).
    told = nouns | _CLASSIFIERS | measures | _NUMERALS | by_tag.get(_LOCALIZER_TAG, set())
    told |= by_tag.get(_VERB_TAG, set()) | by_tag.get(_ADJECTIVE_TAG, set())
    two_character_nouns = {word for word in noun_candidates if word[0] not in told}
    logger.debug("%d numeral words read in %.2f s", len(words), time.perf_counter() - started)
    return Lexicon(
        words=frozenset(words),
        verbs=frozenset(by_tag.get(_VERB_TAG, set()) - _CLASSIFIERS),
        nouns=frozenset(nouns - _CLASSIFIERS),
        two_character_nouns=frozenset(two_character_nouns),
        measures=frozenset(measures.union(MEASURE_NOUNS)),
        function_chars=frozenset(functions.union(SCOPE_ADVERBS)),
        fillers=frozenset().union(*(by_tag.get(tag, ()) for tag in _FILLER_TAGS)),
        adjectives=frozenset(by_tag.get(_ADJECTIVE_TAG, set())),
    )


def measure_end(text: str, at: int) -> int | None:
    """Where the classifier or measure noun starting at ``at`` ends (个, 公里, 小时), or
    None when none starts there."""
    measures = lexicon().measures
    for length in (4, 3, 2):
        if at + length <= len(text) and text[at : at + length] in measures:
            return at + length
    if at < len(text) and (text[at] in COUNTERS or text[at] in measures):
        return at + 1
    return None


def numeral_words() -> frozenset[str]:
    """The words that hold a numeral and are not values: the dictionary's and the names
    it lacks (``numeral_gazetteer``); read once (see ``lexicon``)."""
    return lexicon().words


def yi_before_verb(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a lone 一 before a verb: 一看就知道, 一说就挂; or
    before any word but a classifier, a measure or a function word, with 就 or 便 later
    in the clause (一刷我这边就收到短信: "as soon as"; 一次就好 counts).

    A connective followed by a numeral still makes a range (一到五), but not before
    anything else (一到家就打).
    """
    if text[start:end] != "一" or end >= len(text):
        return False
    after = text[end]
    if after in _CONNECTIVES:
        return end + 1 >= len(text) or text[end + 1] not in _NUMERALS
    return after in lexicon().verbs or _as_soon_as(text, end)


def _as_soon_as(text: str, end: int) -> bool:
    """Whether the word after 一 (at ``end``) is no classifier, measure or numeral and 就
    or 便 follows: right after a word of one or two characters, whatever it is (一按就,
    一着急就), or later in the clause after a word that is no function word either
    (一刷我这边就收到短信)."""
    after, words = text[end], lexicon()
    if not is_han(after) or after in _CLASSIFIERS or after in words.measures or after in _NUMERALS:
        return False
    for offset, char in enumerate(text[end + 1 : end + 1 + _AS_SOON_AS_REACH]):
        if char in _AS_SOON_AS:
            # Right after a word of one or two characters, whatever it is: 一按就没反应,
            # 一着急就忘了 (按 and 着 are also function words).
            return offset < _RIGHT_AFTER or after not in words.function_chars
        if not is_han(char):
            return False  # the clause ends
    return False


def inside_word(text: str, start: int, end: int, words: frozenset[str]) -> bool:
    """Whether ``text[start:end]`` (a value's span) is cut by a word of ``words``: a word
    that overlaps the span and reaches outside it (三国 around 三, 三点水 around 三点).

    A word wholly inside the span (十分 in 十点十分) does not count: the value explains it;
    nor does one that starts at a numeral inside it (十块钱 in 三百二十块钱), or ends
    inside it before a unit (单一 in 账单一千二: 千二 is no number): it cuts the number in
    two, and the longer reading is the caller's.
    """
    if " " in text:  # the ASR's words, spaced: a name is said across them (九号 电动车)
        text, start, end = _unspaced(text, start, end)
    longest = _LENGTHS[-1]
    for begin in range(max(0, start - longest + 1), end):
        if start < begin and text[begin] in _NUMERALS:
            continue
        # The word overlaps the span and reaches outside it: past its start, or its end.
        shortest = max(_LENGTHS[0], (start if begin < start else end) - begin + 1)
        for stop in range(begin + shortest, min(begin + longest, len(text)) + 1):
            if text[begin:stop] in words and not (stop < end and text[stop] in _UNITS):
                return True
    return False


def _unspaced(text: str, start: int, end: int) -> tuple[str, int, int]:
    """``text`` without its spaces, and where ``start`` and ``end`` are in it."""
    return text.replace(" ", ""), start - text.count(" ", 0, start), end - text.count(" ", 0, end)


# Between two numerals these make a range or a sum (三到五个, 三至五天, 三加五), not an idiom.
_CONNECTIVES = frozenset("到至或和跟与及加减乘除比")
_NUMERALS = frozenset(NUMERAL_CHARS)
_UNITS = frozenset("十百千万亿")
# A numeral after these is part of a name, a day or a rank (周三, 星期三, 礼拜三, 第三, 初三).
_NAME_BEFORE_NUMERAL = frozenset("周期拜第初")
_IDIOM_LENGTH = 4
# Adverbs of togetherness and totals (a closed class): a count follows them (一共五个人,
# 一起三个人), however X N Y N the four characters look (们一共五).
_TOGETHER = frozenset({"一共", "一起", "一同", "一齐", "一并"})


def _is_particle(char: str) -> bool:
    """A modal particle (吗, 吧, 啊): no numeral idiom ends in one."""
    return char in FINAL_PARTICLES or char in lexicon().fillers


def _other(char: str) -> bool:
    """A Chinese character that is not a numeral."""
    return is_han(char) and char not in _NUMERALS


# Before a second number and classifier, these go on with one quantity: a bigger unit
# before a smaller (三块五毛, 两点三刻, 三号五点) or a rate's "per" (一周两次, 一天三顿, 一人一份).
_UNITS_THAT_GO_ON = frozenset("块元圆角毛点刻分秒号天日周月年人次")


def _one_quantity(first: str, second: str) -> bool:
    """Whether two classifiers of N X N Y make one quantity (三块五毛, 一周两次, 两个三个)
    rather than a set phrase (一家三口, 一口一个)."""
    return first == second or first in _UNITS_THAT_GO_ON


_YI = "一"
_NAME_SIZES = (2, 3, 4)
"""The lengths of the names a second numeral may start (三星, 三明治, 五香花生)."""


def _starts_a_name(text: str, begin: int, words: frozenset[str]) -> bool:
    """Whether the second numeral of N X N Y at ``begin`` starts a word of ``words``
    (两个三明治, 两个三星手机), neither numeral being 一 ("a": 一罐七喜; 五套一直)."""
    if _YI in (text[begin], text[begin + 2]):
        return False
    return any(text[begin + 2 : begin + 2 + size] in words for size in _NAME_SIZES)


def _idiom_at(text: str, begin: int, words: frozenset[str]) -> bool:
    """Whether ``text[begin:begin + 4]`` has the shape of a numeral idiom.

    * N X N Y (三番五次, 七上八下, 五险一金, 一日三餐): an idiom unless X joins the
      numerals (三到五个), Y is a particle (一块五吗: no idiom ends in one), the second N
      starts a word of ``words`` (两个三明治, 两份五香花生: its name; not after 一, "a",
      whose 一罐七喜 counts nothing, nor when it is 一: 五套一直), or X and Y are
      both classifiers of one quantity, which count
      (三块五毛, 两点三刻, 一周两次, 两个三个; but 一家三口, 一口一个 are set phrases);
      yet the same numeral and classifier twice is one by one (一步一步, 一个一个), not a
      count.
    * X N Y N (接二连三, 颠三倒四, 说一不二): an idiom unless Y, right after the first
      numeral, is its classifier or joins the numerals (差一刻五点, 周三周四, 三到四).

    The numerals stand alone: no numeral right before N X N Y or after X N Y N
    (三千块五千块 is two amounts), the first N is not the number of a name (周三周四,
    星期三, 第三, 初三) and the first N X is no word of ``words`` (一共五个: 一共 is
    "in all"); nor is the first N Y of X N Y N an adverb of togetherness that
    introduces a count (们一共五: 一共五个人 counts five).
    """
    a, x, c, y = text[begin], text[begin + 1], text[begin + 2], text[begin + 3]
    if a in _NUMERALS and c in _NUMERALS and _other(x) and _other(y) and not _is_particle(y):
        before = text[begin - 1] if begin > 0 else ""
        named = before in _NAME_BEFORE_NUMERAL or a + x in words or _starts_a_name(text, begin, words)
        if before in _NUMERALS or named:  # 两个三明治: the second numeral's name
            return False
        if a == c and x == y:
            return True
        # The numerals stand alone: 来, 多 after them are no approximators (一来一回).
        return x not in _CONNECTIVES and not (x in _COUNTERS and y in _COUNTERS and _one_quantity(x, y))
    if x in _NUMERALS and y in _NUMERALS and _other(a) and _other(c):
        after = begin + _IDIOM_LENGTH
        if (after < len(text) and text[after] in _NUMERALS) or x + c in _TOGETHER:
            return False
        return c not in _COUNTERS and c not in _CONNECTIVES
    return False


def in_numeral_idiom(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` (a value's span) is cut by four characters shaped like
    a numeral idiom (see ``_idiom_at``) that overlap it and reach outside it, unless its
    first three are the value's own before a unit of two characters or more (二点五毫升;
    not 一点一滴). A span with no numeral or digit (今天 in 今天一早八点) is the idiom's
    neighbour, never cut by it."""
    if not any(char in _NUMERALS or char.isdigit() for char in text[start:end]):
        return False
    words = numeral_words()
    first = max(0, start - _IDIOM_LENGTH + 1)
    last = min(end, len(text) - _IDIOM_LENGTH + 1)
    # A decimal before a unit of two characters or more (二点五毫升) explains the N X N of
    # an idiom shape inside it; one character (一点一滴) does not.
    unit_end = measure_end(text, end) if end - start >= _IDIOM_LENGTH - 1 else None
    before_unit = unit_end is not None and unit_end - end > 1
    for begin in range(first, last):
        if before_unit and start <= begin and begin + _IDIOM_LENGTH - 1 <= end:
            continue  # its N X N is the decimal's own
        if (begin < start or begin + _IDIOM_LENGTH > end) and _idiom_at(text, begin, words):
            return True
    return False
