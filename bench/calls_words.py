"""What the callers of the generated calls say (``bench/calls_script.py``), as the CTI's
ASR writes it, chosen to keep the sample flows' calls going (flows/yibao.yaml,
flows/survey.yaml; tried with ``voicebot chat``).

Every value the bot reads back (ID card and phone numbers, dates, times, scores) comes
from a small set, so that the templated prompts that say them are synthesized once, in
the warm-up, and the runs measure turns with the audio cached (issue 17's condition).
The knowledge questions are ones the sample knowledge base (knowledge/data/yibao.yaml)
answers at once, without a clarification that would take the caller's next words.
"""

from __future__ import annotations

SPOKEN_DIGITS = dict(zip("0123456789X", "零幺二三四五六七八九叉", strict=True))

# flows/data/claims.csv's three ID card numbers (paid, in review, approved) and one it
# does not have (claim_not_found).
ID_CARDS = ("11010519491231002X", "320102199001011232", "440305198512120011", "110101199003071234")
PHONES = ("13812345678", "13912345678", "15000001234", "18600112233")


def spoken(number: str) -> str:
    """A number as a caller reads it digit by digit and the ASR writes it: 幺三八…"""
    return "".join(SPOKEN_DIGITS[d] for d in number.upper())


# --- yibao (医保服务热线, inbound) ---

HELLOS = ("喂", "喂你好", "你好")
QUERY_PROGRESS = ("我想查一下报销进度", "查询报销进度", "我的报销到哪一步了", "帮我看看报销办得怎么样了")
# The ID card in the same breath: a slot filled from the request itself.
QUERY_WITH_ID = ("查一下身份证{}的报销进度", "帮我查报销进度，身份证号{}")
CARD_LOSS = ("我的医保卡丢了", "医保卡挂失", "我要挂失医保卡", "帮我把医保卡挂失一下")
CARD_LOSS_WITH_PHONE = ("医保卡挂失，电话{}", "我的医保卡丢了，手机号{}")
CONFIRMATIONS = ("对的", "是的", "没错", "对")
HOURS = ("你们几点下班", "几点上班啊", "服务时间是什么时候", "周末上班吗")
TRANSFERS = ("我要转人工", "转人工", "人工客服", "帮我转一下人工")
GOODBYES = ("没有了谢谢", "再见", "没事了", "就这样吧")
KNOWLEDGE = (
    "转诊转院去外地怎么备案",
    "长期在外地居住怎么备案",
    "在外地突然生病急诊抢救能报吗",
    "医保关系转移要怎么办理",
    "门诊慢特病怎么申请",
    "生育津贴怎么领",
    "个人账户余额在哪里查",
    "居民医保每年什么时候交",
    "灵活就业人员怎么参加医保",
    "刚出生的宝宝怎么上医保",
    "异地就医直接结算怎么弄",
    "住院报销比例是多少",
    "怎么查定点医院",
    "医保电子凭证怎么激活",
    "退休以后医保还要交吗",
    "意外受伤住院怎么报销",
    "门诊起付线是多少",
    "医保断交了会怎么样",
    "住院起付线是多少",
    "新医保卡怎么激活",
    "个人账户家庭共济怎么绑定",
    "职工医保缴费比例是多少",
    "药店买药能刷医保吗",
    "医保封顶线是多少",
)

# --- survey (满意度回访, outbound) ---

SURVEY_AFFIRM = ("可以", "方便", "你说吧", "没问题")
SURVEY_BUSY = ("现在不方便", "我在开车", "正在开会", "现在没时间")
RATINGS = ("五分", "四分", "非常满意", "一般", "两分")
NO_COMMENT = ("没有", "没有意见", "没什么")
COMMENTS = ("服务态度挺好的", "办事效率有点低", "电话总是占线")
DATES = ("明天", "后天", "下周三")
TIMES = ("下午三点", "上午十点", "下午四点半")
SURVEY_CONFIRM = ("对", "可以")

# While the bot talks: never an interruption (bot/dialog/backchannel.py).
BACKCHANNELS = ("嗯", "对", "啊", "嗯嗯", "好的")
