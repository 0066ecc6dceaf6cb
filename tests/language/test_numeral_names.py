"""Part 6 of issue 14: numbers that name or exaggerate, and the grammar around 一.

Each shape is checked both ways: the ordinary sentence gets no value, and a value said
in the same shape's neighbourhood is still read (see docs/flows.md §6).
"""

from __future__ import annotations

import datetime

import pytest

from bot.language.slots import SlotContext, SlotValue, make_slot_type
from bot.language.slots.numeral_names import is_service_number

SATURDAY = datetime.date(2026, 11, 21)


def value_of(kind: str, text: str) -> SlotValue | None:
    match = make_slot_type(kind, {}).extract(text, SlotContext(SATURDAY))
    return None if match is None else match.value


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # festivals: 双 before a numeral
        ("number", "双十一的时候买的", None),
        ("amount", "双12的券", None),
        ("amount", "双11那天花了两千三", 2300),
        # vague counts with 几
        ("number", "问了几十遍", None),
        ("number", "十几个人", None),
        ("amount", "二十几块", None),
        ("number", "我五十好几了", None),
        ("number", "十几个人里有三个", 3),
        # hyperbole: a round hundred or more times or years, or before 个 and a negation
        ("number", "说了一百遍", None),
        ("number", "听了八百回了", None),
        ("number", "等了一万年", None),
        ("number", "我一百二十个不同意", None),
        ("number", "打了三次", 3),
        ("number", "交了十五年", 15),
        ("number", "我买了一百个口罩", 100),
        ("number", "打了一百二十次", 120),  # not round: counted
        # 元 before a noun names a place or a shop
        ("amount", "在三元桥下车", None),
        ("amount", "两元店买的花了十五块", 15),
        ("amount", "交了五元", 5),
        ("amount", "三元钱", 3),
        # a leading zero: a code
        ("number", "我的车是领克03", None),
        ("number", "0.5", 0.5),
        # decades and generations (round 3)
        ("number", "我们家老人是五十年代的", None),
        ("number", "90年代的房子", None),
        ("amount", "八零后压力大", None),
        ("number", "九五后的小孩", None),
        ("number", "00后", None),
        ("number", "八十后面还有几个", 80),  # 八十 is said with 十: a number
        # an adverb of togetherness before a count (round 3)
        ("number", "我们一共五个人要订两间房", 5),
        ("number", "咱们一起三个人过去", 3),
        ("number", "我们是一梯两户的户型", None),
        # half, a grade or class, a gear (round 3)
        ("number", "汤洒了一半", None),
        ("number", "一半的人都没来齐我们就三个", 3),
        ("number", "我的卡是二类卡", None),
        ("number", "分成三类", 3),
        ("amount", "一挡起步就熄火", None),
        # service lines by the numbering plan
        ("number", "我打了95533没人管", None),
        ("amount", "10086说的", None),
        ("amount", "还了10000", 10000),
        ("amount", "交了12300块", 12300),
        ("amount", "打12345说要交两百", 200),
    ],
)
def test_names_and_figures(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected


@pytest.mark.parametrize(
    ("numeral", "expected"),
    [
        *(("95588", True), ("96777", True), ("10086", True), ("12345", True), ("11185", True)),
        *(("10000", False), ("12300", False), ("1234", False), ("123456", False), ("88888", False)),
    ],
)
def test_service_numbers(numeral: str, expected: bool) -> None:
    assert is_service_number(numeral) is expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # not a single one: 一 + classifier (+ noun) + 都/也 + a negation, or after 没
        ("number", "一天都没歇过", None),
        ("amount", "一块都不给退", None),
        ("amount", "一毛都没退给我", None),
        ("number", "连一条短信也没收到", None),
        ("number", "八字还没一撇", None),
        ("number", "一分钟都不想等我排了五十个号", 50),
        # determiners: 上一, 下一, 这一, 每一 before a classifier
        ("number", "下一个就到我了", None),
        ("number", "上一回也是这样", None),
        ("number", "这一片都停电了", None),
        ("number", "每一次都这样", None),
        ("number", "只剩下一个名额了", 1),  # 剩下: a verb's complement; 只: only
        ("number", "下一个月我要交三期", 3),
        # only, right before or before 有, 剩, 剩下: a count
        ("number", "就剩一个", 1),
        ("number", "就是一个疑问", None),
        ("number", "我就想问一个问题", None),  # "just": 就 is not right before the count
        # codes: digits before a letter that is no unit
        ("number", "1080P的视频", None),
        ("number", "24H的客服", None),
        ("number", "那个瓶子是500ml的", 500),
        ("number", "用了30G", 30),
        # a number before a noun of two characters is a name
        ("number", "三车间", None),
        # floors with 层, house numbers after a street
        ("number", "他们在3层", None),
        ("number", "送到建设路25号", None),
        ("date", "我家是解放街16号", None),
        # a day before the name of a place is the place's number
        ("date", "我在2号门等你", None),
        ("date", "我挂的是四号诊室", None),
        ("date", "28号星期六上门", "2026-11-28"),
        ("date", "12号交钱", "2026-12-12"),
        ("date", "3号体检", "2026-12-03"),  # an event after a day: a day
        ("date", "6号婚礼", "2026-12-06"),
        ("date", "20号到店", "2026-12-20"),
        ("date", "12号车厢", None),
        ("date", "在5号门等我下个月3号到", "2026-12-03"),
        # set phrases with two classifiers; one quantity in two classifiers still counts
        ("number", "我们一家三口", None),
        ("number", "一口一个老赖", None),
        ("number", "一人一份", 1),
        ("number", "一周两次", 1),
        ("number", "两个三个都行", 2),
        ("date", "三号五点", "2026-12-03"),
    ],
)
def test_grammar_around_one(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a classifier after 块 and a digit: a price per thing, not 角 or 分
        ("五块一斤", 5),
        ("三块一个", 3),
        ("一块八一斤", 1.8),
        ("两块八毛五一斤", 2.85),
        ("两块八", 2.8),
        ("五毛六", 0.56),
        # a number before a noun of money is the sum, not a name
        ("充了100话费", 100),
        ("我3000工资", 3000),
        ("打400热线", None),
    ],
)
def test_prices_and_money_nouns(text: str, expected: SlotValue | None) -> None:
    assert value_of("amount", text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # 二 before a classifier is an ordinal or a term; 两 counts (round 4)
        ("number", "他家是二套住房", None),
        ("number", "这是二次装修", None),
        ("number", "我女儿上二年级", None),
        ("number", "我要两套", 2),
        ("number", "二斤白菜", 2),
        ("amount", "二块五", 2.5),
        ("number", "十二个人", 12),
        ("number", "二十次", 20),
        # 一 and a classifier twice, one after another
        ("number", "人来了一拨又一拨", None),
        ("number", "价格一年比一年高", None),
        ("number", "电话一个接一个", None),
        ("number", "一个又一个", None),
        ("number", "就一个又怎么了", 1),
        # a cousin's rank
        ("number", "我四堂哥帮我办的", None),
        ("number", "我有三个表哥", 3),
        # digits read one by one stay numbers, unsure (nothing counted); a year is none
        ("number", "我住三零二", 302),
        ("number", "二零一九年买的", None),
        ("number", "一九九八年的车", None),
        ("number", "三四个", None),  # neighbours: an approximate count, unread as 几个 is
        ("number", "一百二", 120),
        # codes with Latin letters: after a dash, Chinese digits after a letter
        ("number", "型号是XQB-80的那款", None),
        ("number", "坐的是K幺二三次", None),
        ("number", "用了30G", 30),
        # short numbers dialled, public hotlines, years, sites
        ("number", "赶紧拨打119", None),
        ("number", "打了110也没用", None),
        ("number", "交了120", 120),
        ("number", "我打过12315", None),
        ("amount", "12000", 12000),
        ("number", "那是2019年的事", None),
        ("number", "等了15年", 15),
        ("number", "我在12306上订的", None),
        ("number", "价格在2000上下", 2000),
        # a day inside a word is no day; a lane is a place
        ("date", "报了个一日游", None),
        ("date", "五号车道", None),
        ("date", "一号去", "2026-12-01"),
        # 一点 "a little": after an adjective or 了, before a thing and 都/也 + a negation
        ("time", "离地铁站近一点的", None),
        ("time", "我吃了一点", None),
        ("time", "一点动静都没有", None),
        ("time", "一点以前都没空", "13:00"),
        ("time", "一点来", "13:00"),
        ("time", "下午一点都行", "13:00"),
    ],
)
def test_round_four_shapes(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # digits next to 洞 and 拐; 拐 before a word is a turn
        ("number", "车次是D洞拐五", None),
        ("number", "走三百米拐弯", 300),
        # an address: building, unit, flat
        ("number", "我住5栋1单元602", None),
        ("amount", "8号楼1101的", None),
        ("number", "小区有三栋楼", 3),
        ("number", "两个单元", 2),
        ("number", "送到3号楼两箱水", 2),
        # a type
        ("number", "一型糖尿病", None),
        ("number", "三种型号", 3),
        # vague spans
        ("number", "三年半载也修不好", None),
        ("number", "等了十天半个月", None),
        ("number", "等了三天半", 3.5),  # and a half (round 6)
    ],
)
def test_round_four_addresses_and_spans(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected


def test_digits_read_one_by_one_are_unsure() -> None:
    # A `number` slot asked "which room?" takes 三零二; heard in words said for
    # something else, it is asked back (bot.dialog.walk.in_doubt).
    match = make_slot_type("number", {}).extract("我住三零二", SlotContext(SATURDAY))
    assert match is not None
    assert match.value == 302
    assert match.unsure


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # a digit right before a verb or an adjective, with no classifier: a term
        ("number", "这款是两驱的", None),
        ("number", "他家老人是三高", None),
        ("number", "三到五天", 3),  # a range
        ("number", "三加二", 3),
        ("number", "两小时", 2),  # a measure noun that begins with an adjective
        # a grade or a gear wherever it stands
        ("number", "伤残鉴定是七级", None),
        ("number", "五个等级", 5),
        # a division of a place: after 住, before a word of place, after 在 at the end
        ("number", "我住在二十八栋", None),
        ("number", "快递放在五期那边", None),
        ("number", "在六区的门口", None),
        ("number", "分三期付", 3),
        ("number", "在两期内还清", 2),
        # "not even one": a verb that cannot reach its end, a negated verb before 一
        ("number", "一个都打不通", None),
        ("number", "没打一个电话", None),
        ("number", "两个都是好的", 2),
        ("number", "不到一个月", 1),
        # hotlines and short numbers read one by one
        ("number", "我打了幺二零", None),
        ("number", "我打过九五五八八", None),
        ("number", "房间是幺零二", 102),
        # hyperbole: a round number, 个 and a verb, or a noun and 都/也 + a negation
        ("number", "我一万个愿意", None),
        ("number", "说一百个理由也没用", None),
        ("number", "我要一百个口罩", 100),
        ("number", "三百个大的", 300),
        ("number", "一千个就够了", 1000),
        # a measure of two characters keeps the count (十分 is also "very")
        ("number", "我等了十分钟", 10),
        ("number", "十分感谢", None),
        ("number", "忙了一辈子", None),
        # vessels measure what they hold
        ("number", "订了二十桌", 20),
        ("number", "买了两罐奶粉", 2),
        # 一 after a filler word and before a pause is a hesitation
        ("number", "那个一，我想问下", None),
        ("number", "一，就一个", 1),
        # 一点 "a little" after a verb or an adjective; a clock time after a word of time
        ("time", "能不能便宜一点", None),
        ("time", "找个安静一点的", None),
        ("time", "他会一点日语", None),
        ("time", "约一点", "13:00"),
        ("time", "我们一点开会", "13:00"),
        ("time", "一点吧", "13:00"),
        # a time after a day: no word begins before it (天一, 五三), nor before a period
        ("time", "明天一点", "13:00"),
        ("time", "明天一点半", "13:30"),
        ("time", "周五三点", "15:00"),
        ("time", "周五15点", "15:00"),
        ("time", "星期一一点半", "13:30"),
        ("time", "一大早六点半就到了", "06:30"),
        ("date", "今天一早八点", "2026-11-21"),
        ("date", "一日三餐", None),
    ],
)
def test_round_five_shapes(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # codes with Latin letters, in Chinese digits too, and a model after a word and a space
        ("number", "俺家老人的老年机只支持二G的", None),
        ("number", "要换张四G的卡", None),
        ("number", "四S店说该保养了", None),
        ("number", "盒子是十四Pro的", None),
        ("number", "三十G的流量", 30),  # a unit: a quantity
        ("number", "我的Model 3充不进去", None),
        ("number", "iPhone 14 屏幕碎了", None),
        ("number", "OK 3个", 3),  # counted after the space
        # neighbouring digits: an approximate count, no value; no time either
        ("number", "工期拖了两三个月", None),
        ("number", "三四个人", None),
        ("time", "下午两三点过来", None),
        ("time", "下午三点过来", "15:00"),
        # vague tens, and a number and 号 before a place
        ("date", "取票机前面排了几十号人", None),
        ("date", "场馆只能从三号口进", None),
        ("date", "三号充电桩坏了", None),
        ("date", "3号出口见", None),
        ("date", "三号交房", "2026-12-03"),
        # divisions of a place
        ("number", "我们是九栋的", None),
        ("number", "我们村是三组的", None),
        ("number", "比隔壁三期贵", None),
        ("number", "就在解放路三段那个路口", None),
        ("number", "分三期付", 3),
        # a phone's model; the June sale
        ("number", "我的小米十四坏了", None),
        ("number", "苹果十五的屏幕", None),
        ("number", "买了三斤苹果", 3),
        ("number", "苹果三斤", 3),
        ("number", "618那阵子囤的", None),
        ("number", "六幺八的定金", None),
        ("amount", "618块", 618),
        # as soon as; one after another with any link; hyperbole of things said
        ("number", "他那边一刷我这边就收到短信", None),
        ("number", "一次就好", 1),
        ("number", "现在一个推一个", None),
        ("number", "脸上红一块白一块的", None),
        ("number", "一个和一个", 1),
        ("number", "发了一万条消息都没人理", None),
        ("amount", "一千块钱都没有", 1000),
        # and a half; a decimal before its unit; a sum a word cuts
        ("number", "每次吃一片半", 1.5),
        ("number", "两个半小时", 2.5),
        ("number", "两个半天", 2),
        ("amount", "三块半", 3.5),
        ("number", "说明书写的是二点五毫升", 2.5),
        ("time", "二点五毫升", None),
        ("number", "一点一滴", None),
        ("amount", "这个月信用卡账单一千二", 1200),
    ],
)
def test_round_six_shapes(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # names the dictionary lacks (numeral_gazetteer), in Chinese digits and Arabic
        ("number", "我买的三只松鼠的坚果里面有虫子", None),
        ("number", "我要三只", 3),  # the name holds no value of a count said alone
        ("number", "我在7天酒店订的房", None),
        ("number", "吃了999感冒灵", None),
        ("number", "我开的是宝马3系", None),
        ("number", "按三包政策应该换新的", None),
        ("number", "查乙肝两对半要空腹吗", None),
        ("number", "驾校那个科目二我考挂了", None),
        ("number", "差了十万八千里", None),
        ("number", "要三包烟", 3),  # a count of packs: no name there
        # these, another
        ("number", "这两个是同一个账户吗", None),
        ("number", "婚礼主持人能不能换一个", None),
        ("number", "换两个", 2),
        ("number", "剩下一个", 1),
        # a division after its name; 号 and 的 before a noun
        ("number", "物业让我们找自来水三厂", None),
        ("number", "我一直加的是九十五号的油", None),
        ("number", "有三期", 3),
        ("number", "信用卡分期十二期", 12),  # instalments after a noun count
        ("number", "房贷三期没还", 3),
    ],
)
def test_round_six_names(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # Arabic digits written onto a name: a model, a variety, a game
        ("number", "我那块华为手表3的充电器坏了", None),
        ("number", "你们有没有玉米郑单958", None),
        ("number", "福彩快乐8怎么买", None),
        ("number", "我要8", 8),  # a verb before: a count asked for
        ("number", "押金500", 500),  # what is measured before: a quantity
        ("amount", "每人50", 50),
        ("number", "苹果三斤", 3),
        # a chain of digits joined by dashes; a range of two counts
        ("number", "这个配比是20-10-10的", None),
        ("number", "5-10个都行", 5),
        # a type, a version, a list of grades
        ("number", "我是二型糖尿病", None),
        ("number", "系统升级到2.0版以后", None),
        ("number", "分一级二级三级", None),
        ("number", "三级2", 3),
        # a phase of a housing estate; a village's name with 里
        ("number", "我住碧桂园三期", None),
        ("number", "信用卡分期十二期", 12),
        ("number", "我们是八里庄的", None),
        ("number", "还有五里地", 5),
        # a counter or gate named with a verb after a number and 号
        ("date", "三号售票口排队", None),
        ("date", "3号到门口等我", "2026-12-03"),
        ("date", "3号交房", "2026-12-03"),
        # 俩 and 仨 count, but not after who or which they are
        ("number", "再来俩", 2),
        ("number", "收仨就够了", 3),
        ("number", "咱俩一起去", None),
        ("number", "这俩一样吗", None),
        ("number", "他们娘仨都在", None),
        # bets of a lottery count
        ("number", "机选三注", 3),
        # the seventh day after a death is a rite
        ("number", "过头七要准备什么", None),
    ],
)
def test_round_seven_shapes(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("衣服是11月15号寄的", "2026-11-15"),  # told as past: this year's, not next year's
        ("十五号交的钱", "2026-11-15"),  # this month's, not next month's
        ("十五号办过一次", "2026-11-15"),
        ("12月5号去的话", "2026-12-05"),
        ("十五号来的时候", "2026-12-15"),  # ahead: next month's
        ("十五号过来", "2026-12-15"),
        ("11月15号", "2027-11-15"),  # nothing told: the next one
    ],
)
def test_a_day_told_as_past_is_not_moved_ahead(text: str, expected: str) -> None:
    assert value_of("date", text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # 一点 before a pause ends what it belongs to: "a little", not one o'clock
        ("time", "你再说清楚一点 我没听懂", None),
        ("time", "搬的时候小心一点 是老物件", None),
        ("time", "能不能晚一点 我还在路上", None),
        ("time", "明天一点 我过去", "13:00"),  # after a word of time: the clock
        ("time", "一点 开会", "13:00"),
        # a number and 号 before a shop, a machine, a court or the staff numbered so
        ("date", "你们五号店几点关门", None),
        ("date", "找八号技师", None),
        ("date", "三号机又卡纸了", None),
        ("date", "二号分店在哪", None),
        ("date", "3号登机", "2026-12-03"),  # a verb ends a name: a day
        ("date", "5号开场", "2026-12-05"),
        # a particle after a sum is no idiom's fourth character
        ("amount", "是两块五吗", 2.5),
        ("amount", "一块五吧", 1.5),
        ("number", "三番五次", None),
    ],
)
def test_round_eight_shapes(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # 一, a word and 就 right after it: "as soon as", whatever the word
        ("number", "屏幕一按就黑了", None),
        ("number", "我一着急就说错了", None),
        ("number", "一箱就够了", 1),  # a classifier: a count
        ("number", "一百就够", 100),
        # the 下 of 一下 is no "next"
        ("date", "我想问一下下周二开不开门", "2026-11-24"),
        ("date", "问一下下下周二", "2026-12-01"),
        ("date", "下下周二", "2026-12-01"),
        # minutes said as tens are a time, not a decimal before a unit
        ("time", "他下午三点二十把东西拿走了", "15:20"),
        ("time", "二点五毫升", None),
        # a count and the thing it counts, which the dictionary lists as one word
        ("number", "帮我订两间房", 2),
        ("number", "来十瓶酒", 10),
        ("number", "我买了两辆车", 2),
        # a second numeral that starts a name: the first one counts
        ("number", "要两个三明治", 2),
        ("number", "拿三个五花肉的", 3),
        ("number", "来一罐七喜", None),  # 一 and a classifier is "a"
        ("number", "一年四季都卖", None),
        # names and terms with a numeral
        ("number", "我的车是国五的", None),
        ("number", "全国五十个城市", 50),
        ("number", "做一批三折页", None),
        ("date", "我的九号电动车充不进电", None),
        ("number", "我家老人是打120送过来的", None),
        ("number", "十一长假前寄的", None),
        ("number", "那种三轮车能修吗", None),
    ],
)
def test_round_nine_shapes(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # The ASR's words written apart (some engines space every word) are read as
        # written together: a name is said across them.
        ("number", "请问 你们 是 301 医院 吗", None),
        ("number", "请问你们是301医院吗", None),
        ("number", "我 打 厂家 的 400 电话 没 人 接", None),
        ("date", "我 的 九号 电动车 充 不 进 电", None),
        ("date", "我 在 5号 门 等 你", None),
        ("number", "我 在 12306 上 买 的 票", None),
        ("time", "我 一时 拿 不 定 主意", None),  # 一时, "for a moment"
        ("time", "下午 一时 开会", "13:00"),
        # Values stay, spaced or not.
        ("date", "五号 上午 过来", "2026-12-05"),
        ("number", "我 要 订 三十个 蛋挞", 30),
        ("amount", "保育费 一个月 两千八 对 吧", 2800),
        # A space where the caller paused ends the number: 学生 is not what 75 counts.
        ("amount", "门票一张七十五 学生有没有优惠", 75),
        ("amount", "托管班一个月一千八 包不包午饭", 1800),
        # The post's hotline.
        ("number", "我打11185老是占线", None),
    ],
)
def test_round_ten_shapes(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # a saying whose numeral and measure it holds (三分钟热度): no ten minutes
        ("number", "他学啥都是三分钟热度", None),
        ("number", "再等三分钟就好", 3),
        # a measure at the end of what is said is read to there, not past it
        ("number", "等十分钟", 10),
        # a school or a works numbered as towns number them, before a word of place
        ("number", "就在十一中旁边", None),
        ("number", "我家在纺织三厂宿舍", None),
        ("date", "十一号中午过来", "2026-12-11"),
        # a village named with 里 and a numeral of two characters
        ("number", "从十八里铺往东走", None),
        ("number", "走了十八里路", 18),
        # a size called 号 (五号电池, 7号球) and a room (一号样板间): no day
        ("date", "要两节五号电池", None),
        ("date", "一号样板间的沙发", None),
        ("date", "五号来拿电池", "2026-12-05"),
        # a day is no part of a number: 一百零八 holds no 8th
        ("date", "手环上写着一百零八号", None),
        # terms of a trade and sayings of this round
        ("number", "是小班还是一对一", None),
        ("number", "网上说十个有九个是假的", None),
        ("number", "办三年多次的签证", None),
        ("number", "他家的烤鸭是一绝", None),
        ("number", "金骏眉一类的红茶", None),
        ("number", "普五我要两箱", 2),
    ],
)
def test_names_and_sayings_of_round_11(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # 另 before 一 and a classifier is "another"
        ("number", "还是另外一家啊", None),
        ("number", "另外要一个", 1),
        # a model after 那款 or 型号
        ("number", "有没有那款3025的墨镜", None),
        ("amount", "那款3025块", 3025),
        # a street numbered: no day
        ("date", "就在一号商业街拐角", None),
        # open round the clock, and a brand
        ("number", "你们那个 24 小时 健身房 通宵开吗", None),
        ("number", "等了24小时", 24),
        # words written apart, a classifier alone after its number: one word (五 毛 is 0.5)
        ("amount", "打印 一 张 是 五 毛 还是 三块五", 0.5),
        ("amount", "保育费 两千八 对 吧", 2800),  # 对 after a gap is "right?"
    ],
)
def test_names_and_spacing_of_round_12(kind: str, text: str, expected: SlotValue | None) -> None:
    assert value_of(kind, text) == expected
