"""What stands around a numeral says whether it is a quantity: 一个疑问, 三姨夫, 研三, 二号床.

``numeral_words`` and ``numeral_shapes`` look at the numeral and the word it is in;
this module looks at its neighbours, for the ``number`` and ``amount`` slots, with the
grammar of Chinese counting: a number counts a noun through a classifier (三个人,
两张卡) or a measure noun (三天, 两小时), and stands alone when it is an answer or a sum
(三千五, 就一个). Five readings of a numeral are no quantity:

* **一 as an article** (``is_article``): 一 and a classifier before more words are
  "a ..." (一个疑问, 一把年纪, 一根筋, 一块去), unless "only" comes just before it (就一个人,
  只有一张卡), it is all the caller said with a short noun, but for fillers (一个人,
  嗯一张卡吧: the answer to "how many?"), or what follows keeps the count: nothing, a
  function word or an adverb of scope (一个吧, 一次都没有), a number (一个月五十八), an
  approximator (一个多月, 一年半) or 钱 (一块钱).
* **Not a single one** (``is_not_a_single``): 一 and a classifier, perhaps its noun,
  then 都 or 也 and a negation (一天都没歇, 一块都不给退, 一个电话也没接): the caller says
  none. **A determiner** (``after_determiner``): 上一, 下一, 这一, 那一, 每一, 换一 before
  a classifier (下一个, 上一回, 这一片, 每一次, 换一个: another), unless 上 or 下 ends a
  verb (剩下一个 counts); and 这 before any numeral and a classifier (这两个, 这三天:
  "these", things pointed at).
* **零 before words** (``is_zero_word``): a lone 零 before more words is a word (零钱,
  零件, 零基础); nobody counts zero things (一次都没有 is how a caller says it).
* **A numeral before a noun with no classifier** (``before_noun``): a name or a compound
  (三孩, 三姨夫, 二舅, 一手车, 五星, 301医院, 三车间), as Chinese does not count a noun without
  one; measure nouns (三天, 两小时, 两星期) are no nouns here. Numbers with 百, 千, 万,
  亿 or a decimal part are sums (两千三工资), not names, and are not judged so.
* **A rank** (``is_rank``): one digit after 老, 大, 小, 高, 研, 博 with nothing counted
  after it (老四, 高二, 研三: a sibling, a year of school).
* **An ordinal classifier** (``is_ordinal``): 楼 after a numeral is a floor (三楼: three
  buildings are 三栋楼), and so is 层 but before 楼 (在3层; 三层楼 counts storeys); 号,
  级, 等, 档 (挡), 类, 型 before a noun are a number in a name, a grade or a type
  (二号床, 七号柜台, 二级医院, 三等奖, 一挡起步, 二类卡, 一型糖尿病), and so is 号 and 的
  before a noun (九十五号的油); 号 after a street is a house number (建设路25号), while
  二十三号 alone still counts, and so does 分成三类.
* **An address** (``in_address``): a building's, a unit's and a flat's numbers one
  after another (3栋2单元1502, 5号楼301): the numeral before 栋, 幢 or 单元 with another
  number after, and the number right after 栋, 幢, 号楼 or 单元 with no classifier after
  it (5栋两箱水 counts).
* **Half** (``not_counted``): 一 right before 半 is "half" (洒了一半), no count of one;
  一年半, 一个半 keep their classifier between.
* **二 before a classifier** (``is_er_before_classifier``): Mandarin counts two things
  with 两 (两个, 两次, 两套, 两本); 二 right before a classifier is an ordinal or a term
  (二套房, 二次供水, 二本, 二期, 二年级, 二人世界). Money, weights and lengths (二两,
  二斤, 二米), multiples and shares (二倍, 二成, 二折) and clock times keep 二 as a count.
* **One after another** (``is_one_after_another``): 一 and a classifier said twice,
  joined by 又, 比, 接, 连, 挨, 没 or 不如 (一茬又一茬, 一个比一个高, 一个接一个,
  有一顿没一顿), or by any other word of one character (一个推一个, 红一块白一块, 东一句西一句):
  a figure of speech, no count.
* **A cousin's rank** (``is_kin_rank``): a digit before 表 or 堂 and a kin noun (三表哥,
  二堂姐).
* **A term** (``before_verb_or_adjective``): one digit right before a verb or an
  adjective with no classifier (三高, 四驱, 二测, 六胜肽): nothing is counted without a
  classifier, and a verb or an adjective is no thing. Verbs that join numbers (三到五,
  三加二) and an adjective before a classifier (两大箱) keep the count.
* **A grade** (``is_ordinal``): 级 and 档 (挡) after a numeral wherever it stands
  (失能一级, 评了个三级, 挂二档), not only before a noun.
* **A division of a place** (``names_a_division``): an estate's phase, a building, a
  village's group, a works or a school (期, 栋, 幢, 组, 区, 排, 村, 队, 厂, 中) after 住
  (住在十二栋), before a word of place (五组那边, 三期的东门, 十一中旁边, 三厂宿舍), or after
  在 at the end or before 的 (我在三期); 分三期 and 在两期内 count.
* **Not even one, again**: 都 or 也 before a verb that cannot reach its end (一个都打不通),
  and 不 or 没 and a verb right before 一 and a classifier (没打一个电话); verbs of a span
  or a want keep the count (不到一个月, 不用一个小时, 不要一个).
* **Hyperbole** (``exaggerates``): a round hundred or more before 个, a short noun and
  都 or 也 and a negation (一千个理由都没用); ``numeral_names`` reads the other kinds.
* **A model** (``names_a_model``): a numeral right after a maker of phones (苹果十五,
  小米14, 华为六十), with nothing counted after it (苹果三斤, 小米两袋 count); and Arabic
  digits written onto a name, with nothing counted after them (小米手环8, 佳明965,
  郑单958的种子, 快乐8: ASR writes a model's, a variety's or a game's number so), unless
  the character before takes a quantity: a verb or a word of giving, paying or having
  (要8, 收了300, 一共50), or a noun of what is measured (押金500, 年龄35, 尾号8888).
  Models with letters (iPhone 14, Mate60, 十四Pro) are ``numeral_shapes``' business.
* **A hesitation** (``is_hesitation``): 一 after 那个, 这个 or 就是 and before a pause
  (嗯那个一，我想问): the caller gathers words.

``numeral_names`` adds the readings of names and figures of speech: festivals (双十一),
vague counts (几十, 十几), hyperbole (说了一百遍, 一万个不放心), names with 元 (三元桥).

The nouns, classifiers, measure nouns and function words are jieba's dictionary's
(``numeral_words.lexicon``); the few characters named here are closed grammatical
classes, not words.
"""

from __future__ import annotations

from bot.language.slots.base import is_han
from bot.language.slots.numeral_names import is_figure_or_name, is_round
from bot.language.slots.numeral_words import COUNTERS, NUMERAL_CHARS, lexicon, measure_end

_NUMERALS_OR_DIGITS = frozenset(NUMERAL_CHARS) | frozenset("0123456789")
_BIG_UNITS = frozenset("百千万亿")
_DECIMAL_MARKS = frozenset("点.")
_ONLY = frozenset("只就仅才单")
"""Right before a count, or before 有 or 剩 before it, "only": the count is the point
(就一个人, 只有一张, 只剩下一个; but 就是一个 is "is just a")."""
_AFTER_ONLY = ("剩下", "有", "剩")
"""Between "only" and the count: 只有一张, 就剩一个, 只剩下一个."""
_EVEN_MARKS = frozenset("都也")
_NOT_A_REACH = frozenset("是有在")
"""After 都 or 也 and before 不, verbs that do not say "cannot" (都是不对的)."""
_SPAN_VERBS = frozenset("到用过超满够足要")
"""After a negation, verbs that measure a span or a want (不到一个月, 不用一个小时, 不要一个)."""
_NEGATIONS = frozenset("不没")
_NOUN_REACH = 4
"""The longest noun between a classifier and 都 or 也 (一个电话都, 一条短信也)."""
_NOT_HAVE = ("没", "没有")
"""Right before 一 and a classifier, "not a single": 还没一撇, 没有一个."""
_DETERMINERS = frozenset("上下这那哪每换")
"""Before 一 and a classifier: next, previous, this, that, which, every, another (下一个,
这一片, 每一次, 换一个): no count."""
_ANOTHER = ("另外", "另")
"""Before 一 and a classifier, "another" too (另外一家, 另一个)."""
_THIS = "这"
"""Before any numeral and a classifier, "these" (这两个, 这三天): things pointed at, not counted."""
_UP_DOWN = frozenset("上下")
_SHORT_NOUN = 2
"""The longest noun after 一 and its classifier that may still be the whole answer (一个人,
一张卡, 一个孩子)."""
_ZEROS = frozenset("零〇")
_OF_THINGS_SAID = frozenset("个条句件样")
"""Classifiers of things said or wanted, which a hyperbole counts (一万条消息, 一千个理由)."""
_FILLER_WORDS = ("那个", "这个", "就是")
"""Words a caller fills a pause with before a lone 一 (嗯那个一，我想问)."""
_ONE = "一"
_RANK_PREFIXES = frozenset("老大小高研博")
"""Before one digit, a rank (老四, 高二, 研三, 博二); 第, 初 and 周 are ``spoken``'s
and ``numeral_words``' business."""
_FLOOR = "楼"
_STOREY = "层"
"""After a numeral, a floor (在3层), unless 楼 follows (三层楼: a building's storeys)."""
_STREETS = frozenset("路街巷弄")
"""Before a number and 号, a street: the number is a house number (解放街16号)."""
_HOUSE_NUMBER = "号"
_ORDINAL_CLASSIFIERS = frozenset("号级等档挡类型版")
_GRADES = frozenset("级档挡型版")
"""After a numeral, a grade, a gear, a type or a version wherever it stands (失能一级,
评了个三级, 挂二档, 亚洲一型的, 二型糖尿病, 3.0版本): nobody counts levels (三级台阶 is
rare on a phone line), unless a number follows (三级2, 一档5块), but for the next grade
of a list (分一级二级三级)."""
_HALF = "半"
_KEEPS_COUNT = frozenset("多来余半钱啊哦哈")
"""After a count, these keep it a count: approximators (一个多月), 半 (一年半), 钱
(一块钱), and modal particles the dictionary does not tag as such."""
_ONE_DIGITS = frozenset("一二三四五六七八九十")
_MONEY_NOUN_ENDS = frozenset("费金款资租息付")
"""The second character of nouns of money (话费, 押金, 房款, 工资, 房租, 利息, 首付): the
number before one is the sum, not a name."""
_ADDRESS_PARTS = ("栋", "幢", "号楼", "单元")
"""Between the numbers of an address: a building's, a unit's (3栋2单元1502)."""
_ADDRESS_STARTS = frozenset(part[0] for part in _ADDRESS_PARTS)
_ADDRESS_ENDS = frozenset(part[-1] for part in _ADDRESS_PARTS)
_ER = "二"
_ER_COUNTS_BEFORE = frozenset("块元圆角毛钱分两斤米里克吨升亩尺寸倍成折点刻")
"""Classifiers that 二 counts before as 两 does: money, weights and lengths, multiples
and shares, clock times (二两, 二斤, 二米, 二倍, 二成, 二折)."""
_ONE_AFTER_ANOTHER = ("又", "比", "接", "连", "挨", "没", "不如")
"""Between two 一 and their classifier: one after another (一茬又一茬, 一个比一个)."""
_LINK_STARTS = frozenset(link[0] for link in _ONE_AFTER_ANOTHER)
_TERM_DIGITS = frozenset("二两三四五六七八九")
"""Digits that name a term before a verb or an adjective (三高, 四驱); 一 before a verb
is "as soon as" (``numeral_words.yi_before_verb``), 十 mostly begins 十分, 十足."""
_JOINS_NUMBERS = frozenset("到至或和跟与及加减乘除比是有在为多来余半上下左以")
"""Verbs and words after a number that join it to another or keep it one (三到五,
三加二, 两是两, 三多, 三以上)."""
_DIVISIONS = frozenset("期栋幢组区排村队厂段中")
"""Divisions of a place: an estate's phase, a building, a village's group, a works, a
road's section; and a school numbered as towns number them (十一中旁边, 在三中)."""
_PHASE = "期"
"""A phase, but also an instalment: after a noun it counts (分期十二期, 房贷三期)."""
_ESTATE_ENDS = frozenset("园苑城府湾庭邸墅居")
"""The last characters of the names of housing estates (阳光花园, 碧桂园, 万科城, 御景湾):
a numeral and 期 after one is the estate's phase (阳光花园六期), not an instalment."""
_LIVE = ("住", "住在")
_NEXT_TO = ("隔壁", "对面", "旁边", "后面", "前面")
"""Before a division, where it is from the caller's (隔壁三期, 对面五栋)."""
_AT_OR_IS = frozenset("在是")
"""Before a division at the end of what is said or before 的: 我在三期, 我们是九栋的."""
_OF = "的"
_PLACE_WORDS = (
    *("那边", "这边", "那里", "这里", "那块", "那片", "附近", "旁边", "对面", "门口", "里面"),
    *("东门", "西门", "南门", "北门", "大门", "后门", "宿舍", "家属院", "大院"),
)
"""Words of place after a division (三期那边, 五组附近, 三期的东门)."""
_PHONE_MAKERS = ("苹果", "小米", "红米", "华为", "荣耀", "魅族", "三星", "一加")
_MODEL_MARKS = ("这款", "那款", "哪款", "型号", "型号是", "款号")
"""Before a number with nothing counted after it, a model's (那款3025的墨镜, 型号是740)."""
"""Makers whose phones are named by a number (苹果十五, 小米14, 红米K70 has letters too)."""
_TAKES_A_QUANTITY = frozenset(
    "是有要买收来给共约到差剩花付交退补充转欠借还等为于计选按输填写报打拨降涨加减乘除了过在坐住搭乘"
    "号码数价钱费额金款资租息薪税量龄重高长宽深厚分压糖温度岁第格值率比位牌概少多"
    "年月周天日时次人个件斤只张份套箱袋瓶盒包"
)
"""Before Arabic digits, the characters after which they are a quantity or a number
asked for (verbs of having, giving, paying, choosing, dialling, riding; 了 and 过; nouns
of what is measured or numbered; 大概, 至少, 差不多; a price per thing or per time: 每人50,
一个月1500), not a name's number (see ``names_a_model``)."""
_COUSINS = frozenset("表堂")
_KIN = frozenset("哥姐弟妹兄叔伯姑舅姨爷奶婶嫂侄甥孙")
"""Kin nouns, a closed class; after 表 or 堂 and a digit, a cousin's rank (三表哥)."""


def counted_at(text: str, at: int) -> bool:
    """Whether a classifier or measure noun starts at ``at``: the numeral before counts."""
    if at >= len(text):
        return False
    return text[at] in COUNTERS or measure_end(text, at) is not None


def _count_goes_on(text: str, at: int) -> bool:
    """Whether what starts at ``at`` leaves the count before it a count: nothing, no
    Chinese, a number, an approximator, a particle or an adverb (see the module doc)."""
    if at >= len(text) or not is_han(text[at]):
        return True
    char = text[at]
    return char in _NUMERALS_OR_DIGITS or char in _KEEPS_COUNT or char in lexicon().function_chars


def _only_fillers(text: str) -> bool:
    """Whether ``text`` holds no Chinese but interjections and modal particles (嗯, 吧)."""
    fillers = lexicon().fillers
    return all(not is_han(char) or char in fillers for char in text)


def _whole_answer(text: str, start: int, after: int) -> bool:
    """Whether 一, its classifier and a short noun (``text[after:]``) are all the caller
    said, but for fillers: 一个人, 嗯一张卡吧 answer "how many?"."""
    if not _only_fillers(text[:start]):
        return False
    rest = after
    while rest < len(text) and is_han(text[rest]) and text[rest] not in lexicon().fillers:
        rest += 1
    return rest - after <= _SHORT_NOUN and _only_fillers(text[rest:])


def is_article(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is 一 as an article: 一个疑问, 一把年纪, 一块去."""
    if text[start:end] != "一":
        return False
    after = measure_end(text, end)
    if after is None or _count_goes_on(text, after) or _whole_answer(text, start, after):
        return False
    return not _after_only(text, start)


def _after_only(text: str, start: int) -> bool:
    """Whether "only" stands right before ``start``, or before 有, 剩 or 剩下 before it
    (就一个, 只有一张, 只剩下一个; but 就是一个 is "is just a", 就想问一个 "just ask a")."""
    for between in _AFTER_ONLY:
        if text.startswith(between, start - len(between)) and start > len(between):
            return text[start - len(between) - 1] in _ONLY
    return start > 0 and text[start - 1] in _ONLY


def _negated_verb_before(text: str, start: int) -> bool:
    """Whether 不 or 没 and a one-character verb stand right before ``start``: 不来一趟,
    没打一个电话 ("not even once"); 不到, 不用, 没过 a span measure it (不到一个月)."""
    if start < 2 or text[start - 2] not in _NEGATIONS:
        return False
    verb = text[start - 1]
    return verb in lexicon().verbs and verb not in _SPAN_VERBS


def is_not_a_single(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is the 一 of "not a single one": 一天都没歇, 一个电话也没接."""
    if text[start:end] != "一":
        return False
    if text[max(0, start - 2) : start].endswith(_NOT_HAVE):
        return end < len(text) and is_han(text[end])  # 八字还没一撇, 没有一个
    after = measure_end(text, end)
    if after is not None and _negated_verb_before(text, start):
        return True
    return after is not None and even_negated(text, after, after + _NOUN_REACH + 1)


def even_negated(text: str, start: int, stop: int) -> bool:
    """Whether 都 or 也 and a negation come at or after ``start``, before ``stop``, with
    only Chinese characters before them (电话也没接, 消息都没有, 一个都扣不上): "not even
    one"."""
    for at in range(start, min(stop, len(text) - 1)):
        if text[at] in _EVEN_MARKS:
            verb = text[at + 1]  # 都扣不上, 也打不通: a verb that cannot reach its end
            can_not = verb in lexicon().verbs and verb not in _NOT_A_REACH and text[at + 2 : at + 3] == "不"
            return verb in _NEGATIONS or can_not
        if not is_han(text[at]):
            return False
    return False


def after_determiner(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is the 一 of 下一个, 上一回, 这一片, 每一次, 换一个, 另外一家:
    next, previous, this, every, another; or any numeral after 这 (这两个, 这三天: these)."""
    if start == 0 or (text[start - 1] != _THIS and text[start:end] != _ONE):
        return False
    if text[start - 1] not in _DETERMINERS and not text.endswith(_ANOTHER, 0, start):
        return False
    if text[start - 1] in _UP_DOWN and start > 1 and text[start - 2] in lexicon().verbs:
        return False  # 剩下一个, 写下一个: a verb and its complement
    return end < len(text) and (text[end] in COUNTERS or measure_end(text, end) is not None)


def is_hesitation(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a lone 一 after a filler word (那个, 这个, 就是) and
    before a pause: 嗯那个一，我想问 (the caller gathers words; 一， alone answers)."""
    if text[start:end] != _ONE or not text.endswith(_FILLER_WORDS, 0, start):
        return False
    return end < len(text) and not is_han(text[end]) and not text[end].isdigit()


def is_zero_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a lone 零 before more words: 零件, 零基础."""
    if end - start != 1 or text[start] not in _ZEROS or end >= len(text) or not is_han(text[end]):
        return False
    return text[end] not in _NUMERALS_OR_DIGITS and text[end] not in lexicon().function_chars


def _small_numeral(numeral: str) -> bool:
    """A whole number without 百, 千, 万, 亿: a name's number (三, 十三, 301), not a sum."""
    return not (_BIG_UNITS.intersection(numeral) or _DECIMAL_MARKS.intersection(numeral))


def before_noun(text: str, start: int, end: int) -> bool:
    """Whether the numeral ``text[start:end]`` stands right before a noun, with no
    classifier: 三孩, 三姨夫, 二舅, 301医院, 三车间 (a name or a compound, not a count)."""
    if end >= len(text) or not _small_numeral(text[start:end]):
        return False
    if text[end + 1 : end + 2] in _MONEY_NOUN_ENDS:
        return False  # 充了100话费, 3000工资: a sum of money before what it pays
    return _noun_at(text, end) and measure_end(text, end) is None


def before_verb_or_adjective(text: str, start: int, end: int) -> bool:
    """Whether the one Chinese digit ``text[start:end]`` stands right before a verb or an
    adjective, with no classifier: 三高, 四驱, 二测, 六胜肽 (a term or a name, not a
    count: Chinese counts nothing without a classifier, and a verb or an adjective is no
    thing). An adjective before a classifier keeps the count (两大箱, 三小碗); verbs that
    join numbers (三到五, 三加二, 三比二) and the copula keep them too."""
    if end - start != 1 or text[start] not in _TERM_DIGITS or end >= len(text):
        return False
    after = text[end]
    words = lexicon()
    if after in _JOINS_NUMBERS or after in words.function_chars or measure_end(text, end) is not None:
        return False  # 两小时: a measure noun that begins with an adjective
    if after in words.adjectives:
        return measure_end(text, end + 1) is None and text[end + 1 : end + 2] not in _NUMERALS_OR_DIGITS
    return after in words.verbs


def is_er_before_classifier(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a lone 二 before a classifier that Mandarin counts
    with 两: 二套房, 二次供水, 二本, 二期 (an ordinal or a term, see the module doc)."""
    if text[start:end] != _ER or end >= len(text) or text[end] in _ER_COUNTS_BEFORE:
        return False
    return text[end] in COUNTERS or measure_end(text, end) == end + 1


def is_one_after_another(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is one of two 一 with one classifier, joined by 又,
    比, 接… (一茬又一茬, 一个比一个高, 有一顿没一顿)."""
    if text[start:end] != _ONE:
        return False
    near = _NOUN_REACH + 2  # on the callback path: most 一 have no other 一 near them
    if text.find(_ONE, end, end + near) < 0 and text.rfind(_ONE, max(0, start - near), start) < 0:
        return False
    after = measure_end(text, end)
    if after is None:
        return False
    classifier = text[end:after]
    second = _ONE + classifier
    first = any(  # 一茬 before 又一茬, 一个 before 推一个
        text.startswith(link + second, after) for link in _links_at(text, after)
    )
    return first or _after_another(text, start, classifier)


def _links_at(text: str, at: int) -> tuple[str, ...]:
    """The links that may start at ``at``: those of ``_ONE_AFTER_ANOTHER``, or any one
    character but a numeral, a classifier or a function word (一个推一个, 红一块白一块)."""
    char = text[at : at + 1]
    counted = char in _NUMERALS_OR_DIGITS or char in COUNTERS
    if not is_han(char) or counted or char in lexicon().function_chars:
        return _ONE_AFTER_ANOTHER if char in _LINK_STARTS else ()
    return (*_ONE_AFTER_ANOTHER, char) if char in _LINK_STARTS else (char,)


def _after_another(text: str, start: int, classifier: str) -> bool:
    """Whether 一 at ``start`` and ``classifier`` follow 一, the same classifier and a
    link: the second 一茬 of 一茬又一茬, of 一个推一个."""
    for length in (2, 1):
        before = start - length
        link = text[before:start]
        if before > 1 and link in _links_at(text, before):
            first = before - len(classifier) - 1
            if first >= 0 and text[first] == _ONE and text[first + 1 : before] == classifier:
                return True
    return False


def is_kin_rank(text: str, start: int, end: int) -> bool:
    """Whether the one digit ``text[start:end]`` is a cousin's rank: 三表哥, 二堂姐."""
    if end - start != 1 or text[start] not in _ONE_DIGITS:
        return False
    return text[end : end + 1] in _COUSINS and text[end + 1 : end + 2] in _KIN


def in_address(text: str, start: int, end: int) -> bool:
    """Whether the numeral ``text[start:end]`` is a number of an address: 3栋2单元1502."""
    if text[end : end + 1] not in _ADDRESS_STARTS and text[start - 1 : start] not in _ADDRESS_ENDS:
        return False  # on the callback path: most numerals are next to no address part
    for part in _ADDRESS_PARTS:
        if text.startswith(part, end):  # 3栋2, 1单元602
            after = end + len(part)
            if text[after : after + 1] in _NUMERALS_OR_DIGITS:
                return True
    if text.endswith(_ADDRESS_PARTS, 0, start):
        return not counted_at(text, end)  # 单元1502, 5栋101; but 5栋两箱水 counts
    return False


def names_a_division(text: str, start: int, end: int) -> bool:
    """Whether the numeral ``text[start:end]`` numbers a division of a place: an
    estate's phase, a building, a village's group, a road's section (住在十二栋, 五组那边,
    三期的东门, 我在三期, 我们是九栋的, 隔壁三期, 解放路三段, 自来水三厂): a division after 住,
    after a word of where (隔壁, 对面), after a name (a street; a noun, but for 期, also an
    instalment, unless it ends an estate's name: 阳光花园六期), before a word of place, or
    after 在 or 是 at the end of what is said or before 的. 分三期, 两组数据, 在三期内还清,
    房贷三期 count."""
    if text[end : end + 1] not in _DIVISIONS:
        return False
    if text.endswith(_LIVE, 0, start) or text.endswith(_NEXT_TO, 0, start):
        return True
    before = text[start - 1 : start]
    if before in _STREETS or (before in lexicon().nouns and text[end] != _PHASE) or before in _ESTATE_ENDS:
        return True  # 解放路三段, 自来水三厂, 幸福二村, 阳光花园六期; but 信用卡分期十二期 counts
    after = end + 1
    if text[after : after + 1] == _OF:
        after += 1
    if text.startswith(_PLACE_WORDS, after):
        return True
    said_where = text[start - 1 : start] in _AT_OR_IS
    return said_where and (after >= len(text) or after > end + 1 or not is_han(text[after]))


def names_a_model(text: str, start: int, end: int) -> bool:
    """Whether the numeral ``text[start:end]`` follows a maker of phones or a word that
    points at a model (那款, 型号), or is Arabic digits written onto a name, with nothing
    counted after it: a model (苹果十五, 小米14, 那款3025的, 手环8, 济麦22; 苹果三斤 and 要8
    count)."""
    if measure_end(text, end) is not None:  # a classifier or a measure: counted
        return False
    if text.endswith(_PHONE_MAKERS, 0, start) or text.endswith(_MODEL_MARKS, 0, start):
        return True
    if start == 0 or not text[start].isascii() or not text[start:end].isdigit():
        return False
    before = text[start - 1]
    return is_han(before) and before not in _TAKES_A_QUANTITY and before not in lexicon().function_chars


def exaggerates(text: str, start: int, end: int) -> bool:
    """Whether the numeral ``text[start:end]`` is a round hundred or more before 个 (or 条,
    句, 件, 样), a short noun and 都 or 也 and a negation: 一千个理由都没用, 发了一万条消息都没人理
    (hyperbole; 一百个人都来了 counts, and so does 一千块钱都没有)."""
    if text[end : end + 1] not in _OF_THINGS_SAID or not is_round(text[start:end]):
        return False
    return even_negated(text, end + 1, end + 1 + _NOUN_REACH + 1)


def is_rank(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is one digit of a rank: 老四, 高二了, 研三的."""
    if end - start != 1 or text[start] not in _ONE_DIGITS or start == 0:
        return False
    if text[start - 1] not in _RANK_PREFIXES:
        return False
    return end >= len(text) or (measure_end(text, end) is None and text[end] not in _NUMERALS_OR_DIGITS)


def _noun_at(text: str, at: int) -> bool:
    """Whether a noun (one character, or two of ``two_character_nouns``) starts at ``at``."""
    words = lexicon()
    return text[at : at + 1] in words.nouns or text[at : at + 2] in words.two_character_nouns


def is_ordinal(text: str, start: int, end: int) -> bool:
    """Whether the numeral ``text[start:end]`` is a floor (三楼) or a number in a name or
    a grade (二号床, 二级医院, 三等奖); 二十三号 alone still counts."""
    if end >= len(text):
        return False
    if text[end] == _FLOOR:
        return True
    if text[end] == _STOREY:
        return text[end + 1 : end + 2] != _FLOOR
    if (
        text[end] == _HOUSE_NUMBER
        and (
            (start > 0 and text[start - 1] in _STREETS)  # 建设路25号
            or (text[end + 1 : end + 2] == _OF and _noun_at(text, end + 2))  # 九十五号的油, as 95号油
        )
    ):
        return True
    if text[end] in _GRADES:
        return text[end + 1 : end + 2] not in _NUMERALS_OR_DIGITS or _next_grade(text, end)
    return text[end] in _ORDINAL_CLASSIFIERS and not _count_goes_on(text, end + 1)


def _next_grade(text: str, at: int) -> bool:
    """Whether the grade at ``at`` is followed by a numeral and the same grade: a list
    (一级二级三级, 一型二型)."""
    after = at + 1
    while after < len(text) and text[after] in _NUMERALS_OR_DIGITS:
        after += 1
    return text[after : after + 1] == text[at]


_NAMING_AFTER = frozenset({_FLOOR, _STOREY, *_ORDINAL_CLASSIFIERS})


def _one_character_not_counted(text: str, start: int, end: int) -> bool:
    """The tests of a numeral of one character: 一 (an article, not a single one, after
    a determiner, one after another, half), 零, 二 and a cousin's rank."""
    char = text[start]
    if char == _ONE:
        return (
            text[end : end + 1] == _HALF
            or is_hesitation(text, start, end)
            or is_article(text, start, end)
            or is_not_a_single(text, start, end)
            or after_determiner(text, start, end)
            or is_one_after_another(text, start, end)
        )
    if char in _ZEROS:
        return is_zero_word(text, start, end)
    if char == _ER and is_er_before_classifier(text, start, end):
        return True
    return text[end : end + 1] in _COUSINS and is_kin_rank(text, start, end)


def not_counted(text: str, start: int, end: int) -> bool:
    """Whether the numeral ``text[start:end]`` is no quantity by what stands around it:
    an article, 零 in a word, a numeral before a noun, a rank or an ordinal (see the
    module doc). On the callback path: the character after the numeral decides which
    tests can apply, and a classifier after it ends most of them at once."""
    if end - start == 1 and _one_character_not_counted(text, start, end):
        return True
    these = text[start - 1 : start] == _THIS and after_determiner(text, start, end)  # 这两个
    if these or is_figure_or_name(text, start, end) or in_address(text, start, end):
        return True
    if names_a_division(text, start, end) or exaggerates(text, start, end) or names_a_model(text, start, end):
        return True
    if end < len(text):
        after = text[end]
        if after in _NAMING_AFTER:
            return is_ordinal(text, start, end)
        if after in COUNTERS or after in _NUMERALS_OR_DIGITS:
            return False  # a count, or a longer number: no rank, no noun after it
    return (
        is_rank(text, start, end)
        or before_noun(text, start, end)
        or before_verb_or_adjective(text, start, end)
    )
