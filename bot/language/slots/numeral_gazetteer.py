"""Names and set phrases with numerals that are no value, which jieba's dictionary lacks
or tags as numerals: brands (三只松鼠, 七天酒店), terms of a trade (两对半, 科目二, 沪深300)
and sayings (十万八千里, 二百五).

``numeral_words`` and ``numeral_context`` read numerals by grammar and by the
dictionary; a name is neither, so these are listed. Each entry is read as a word of
``numeral_words``: a value that it overlaps and reaches outside of is dropped (三 of
三只松鼠, 7 of 7天酒店), and one it holds whole is its own business (三只松鼠 holds no
value of 买了三只松鼠的坚果, but 我要三只 is 3). Entries are what callers say, as the ASR
writes them (Chinese digits and Arabic both where both are written), two to seven
characters.

Chosen by kind from the trades of the call centers the sets were written for (shops,
food and drink, hotels, cars and fuel, hospitals and pharmacies, schools and exams,
banks and markets, telecom, apps) and from everyday sayings: the names a caller says
that a careful listener would not take for a number. Not a list of every brand: a name
that is missing is read as its numeral is (a value, mostly unsure: nothing counted
after it).
"""

from __future__ import annotations

SHOPS_AND_BRANDS = (
    *("三只松鼠", "六个核桃", "七天酒店", "7天酒店", "七天连锁", "7天连锁", "七天优品", "三得利"),
    *("五粮液", "二锅头", "十三香", "七喜", "九阳", "九牧", "七匹狼", "五芳斋", "三棵树", "四季沐歌"),
    *("十月妈咪", "十月结晶", "三顿半", "八佰伴", "7-11", "711便利店", "一号店", "58同城", "五八同城"),
    *("360杀毒", "360安全", "360浏览器", "360手机", "361度", "一嗨租车", "一嗨", "九州通"),
    *("三九胃泰", "999感冒灵", "999胃泰", "九九九感冒灵", "六神花露水", "六味地黄丸", "三金片"),
    *("二甲双胍", "三七粉", "一汽大众", "一汽丰田", "一汽奥迪", "五菱宏光", "五菱", "三一重工"),
    *("九号电动车", "九号平衡车", "九号滑板车", "九号公司", "小米九号"),
    # liquor lines named by a number (a vintage, a grade): 五粮液's 普五, 汾酒's 青花二十
    *("普五", "青花二十", "青花三十", "青花20", "青花30", "红花郎十", "红花郎十五", "红花郎15"),
    *("国窖1573", "八四消毒液", "84消毒液", "一兆韦德"),
)
"""Shops, brands and products with a numeral in their name."""

TRADE_TERMS = (
    # cars and fuel: a car's series, its services, the grades of petrol
    *("3系", "5系", "7系", "三系", "五系", "七系", "四轮定位", "首保", "二保", "三保"),
    *("92号汽油", "95号汽油", "98号汽油", "92号油", "95号油", "98号油", "0号柴油", "零号柴油"),
    *("360全景", "三百六十度全景"),
    # emission standards, said of a car (国五的, 国六的车): not 全国五十个城市
    *("国三的", "国四的", "国五的", "国六的", "国3的", "国4的", "国5的", "国6的"),
    *("国五车", "国六车", "国五标准", "国六标准", "国六b", "国6b"),
    # medicine: tests, vaccines, teeth, hospitals' grades
    *("两对半", "乙肝两对半", "九价", "四价", "二价", "六龄齿", "十二导联", "三甲医院", "二甲医院"),
    *("四联疫苗", "五联疫苗", "三伏贴", "一类疫苗", "二类疫苗"),
    # funerals: the rite of the seventh day after a death
    *("头七", "过头七"),
    # schools and exams: driving-test subjects, university tiers, mock exams
    *("科目一", "科目二", "科目三", "科目四", "一本线", "二本线", "三本线", "二本院校", "三本院校"),
    *("985高校", "985院校", "985大学", "985毕业", "211高校", "211院校", "211大学", "211毕业"),
    *("九八五高校", "九八五院校", "九八五大学", "二幺幺大学", "双一流", "一模", "二模", "三模"),
    # money and markets: indices, the five insurances, loan sharks, severance
    *("沪深300", "沪深三百", "上证50", "上证五十", "科创50", "科创五十", "中证500", "中证五百"),
    *("五险一金", "三险一金", "714高炮", "九出十三归", "N加一", "N+1"),
    # shops' promises and telecom plans
    *("三包政策", "三包范围", "三包期", "三包服务", "三包规定", "三包里", "三包内", "过了三包", "七天无理由"),
    *("三包的", "是三包"),
    # open round the clock: 24小时健身房 is a kind of gym, no duration
    *("24小时营业", "24小时健身房", "24小时便利店", "24小时药店", "24小时自助", "二十四小时营业"),
    # lessons and visas: how many at a time, how many entries
    *("一对一", "一对二", "一对多", "单次签", "一年多次", "两年多次", "三年多次", "五年多次", "十年多次"),
    *("一号双终端", "一号多卡", "一证通查"),
    # vehicles by their wheels
    *("三轮车", "电三轮", "三蹦子", "两轮车", "四轮车"),
    # hotlines everyone knows by their number: an ambulance, the police, the fire brigade
    *("打120", "叫120", "被120", "120急救", "120救护车", "打110", "报110", "打119", "打122"),
    # holidays named by their date, said of a time around them (十一长假, 过五一)
    *("十一长假", "十一假期", "十一黄金周", "十一期间", "十一放假", "十一那几天", "过十一"),
    *("五一长假", "五一假期", "五一期间", "五一放假", "五一那几天", "过五一", "国庆十一"),
    # printing: leaflets by their folds
    *("三折页", "二折页", "四折页", "对折页"),
    # kitchens and plumbing: fittings named by their size or shape
    *("三角阀", "四分管", "六分管", "三分糖", "五分糖", "七分糖"),
)
"""Terms of a trade named with a numeral."""

SAYINGS = (
    *("十万八千里", "十万个为什么", "一推六二五", "三分钟热度", "一个头两个大"),
    *("十五个吊桶打水", "七上八下", "一百个心眼", "八百个心眼", "两不相欠", "三岁小孩"),
    *("三岁看大", "七岁看老", "一天一个样", "三七二十一", "不管三七二十一", "十二分的"),
    *("一问三不知", "八竿子打不着", "七大姑八大姨", "一家人", "一家子", "是一家的", "一条心"),
    *("一根筋", "一锅粥", "一口气", "一刀切", "一窝蜂", "半斤八两"),
    *("十个有九个", "十个里有九个", "十个有八个", "十有八九", "是一绝", "一绝", "一类的"),
)
"""Sayings and set phrases with numerals that count nothing."""

NAMES = frozenset(name.lower() for name in SHOPS_AND_BRANDS + TRADE_TERMS + SAYINGS)
"""Every entry, in lower case as the slots fold text; ``numeral_words`` reads them as
words that hold a numeral."""
