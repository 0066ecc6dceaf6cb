"""The knowledge base at 10,000 entries: index build, rebuild, query latency and memory.

Run with ``.venv/bin/python -m bench.knowledge`` (about a minute); ``bench/run.py`` calls
``run()`` too and stores its figures under ``"knowledge"`` in ``bench/results/latest.json``.
Everything runs in this process; nothing is read from or written to the network or the
data directory.

- data: the 67 sample entries of ``knowledge/data/yibao.yaml`` (and their synonyms) plus
  synthetic ones, generated deterministically (``random.Random(SEED)``) from place,
  population, topic, action and modifier words of a government-services hotline (医保
  most of all, then 社保, 公积金, 户籍, 交通, 税务…): a title, 3–5 questions, 2–4
  keywords and a 2–3 sentence answer each, so that common words (医保, 报销, 办理) have
  long posting lists and places and topics give plenty of rare ones;
- jieba: the segmenter's dictionary load, a one-time cost of the process, timed apart;
- build: ``KnowledgeBase.replace`` of all entries on a fresh base whose segmenter is
  already initialized (target ≤ 10 s; wall clock, with its CPU seconds beside it as a
  check on a busy machine); then rebuilds on the same base, where the features of
  unchanged entries are cached: with nothing changed, and with one entry changed;
- latency: after a warm-up, ``KnowledgeService.search(q, 5)`` and
  ``await KnowledgeService.reply(sender, q)`` timed apart with ``time.perf_counter_ns``
  over ``QUERIES`` queries (the labelled phrasings of ``tests/knowledge/phrasings.yaml``
  cycled, interleaved with synthetic questions, chit-chat and answers to a
  clarification), p50/p90/p99/max in ms (target p99 ≤ 5 ms). The garbage collector is
  left on; ``gc.collect(); gc.freeze()`` is done after loading jieba, as ``voicebot
  serve`` does (``bot/cli.py``), and again after the build (serve opens the knowledge
  base after its one freeze, so there the index stays in the collected generations).
  The collections that happen while the queries are timed are counted, and their
  longest pause reported;
- memory: RSS growth of the process across the build (index, cached features, words
  taught to jieba), after a ``gc.collect()``;
- quality, for information only: the share of labelled phrasings whose top hit is the
  expected entry, with the 67 sample entries alone and among the 10,000.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import psutil
import yaml

from bot.text.segmenter import Segmenter
from knowledge import store
from knowledge.base import KnowledgeBase
from knowledge.entries import Entry
from knowledge.service import KnowledgeService

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "knowledge" / "data"
PHRASINGS = ROOT / "tests" / "knowledge" / "phrasings.yaml"
SEED = 20_000
ENTRIES = 10_000
QUERIES = 3_000
WARM_UP = 300
REBUILDS = 3
BUILD_TARGET_S = 10.0
P99_TARGET_MS = 5.0

# --- the vocabulary of the synthetic entries ----------------------------------------

PLACES: dict[str, tuple[str, ...]] = {
    "北京市": ("朝阳区", "海淀区", "丰台区", "通州区", "昌平区"),
    "上海市": ("浦东新区", "徐汇区", "闵行区", "静安区", "宝山区"),
    "天津市": ("和平区", "滨海新区", "南开区"),
    "重庆市": ("渝中区", "江北区", "沙坪坝区", "万州区"),
    "广州市": ("天河区", "越秀区", "白云区", "番禺区"),
    "深圳市": ("南山区", "福田区", "宝安区", "龙岗区"),
    "杭州市": ("西湖区", "余杭区", "滨江区", "萧山区"),
    "南京市": ("鼓楼区", "玄武区", "江宁区"),
    "苏州市": ("姑苏区", "吴中区", "昆山市"),
    "成都市": ("武侯区", "锦江区", "青羊区", "双流区"),
    "武汉市": ("江汉区", "洪山区", "武昌区"),
    "西安市": ("雁塔区", "碑林区", "未央区"),
    "长沙市": ("岳麓区", "芙蓉区", "雨花区"),
    "郑州市": ("金水区", "二七区", "中原区"),
    "济南市": ("历下区", "槐荫区"),
    "青岛市": ("市南区", "黄岛区", "崂山区"),
    "合肥市": ("蜀山区", "包河区"),
    "福州市": ("鼓楼区", "仓山区"),
    "厦门市": ("思明区", "湖里区"),
    "南昌市": ("东湖区", "红谷滩区"),
    "昆明市": ("五华区", "盘龙区"),
    "贵阳市": ("南明区", "观山湖区"),
    "南宁市": ("青秀区", "兴宁区"),
    "海口市": ("龙华区", "美兰区"),
    "沈阳市": ("和平区", "浑南区"),
    "大连市": ("中山区", "甘井子区"),
    "长春市": ("南关区", "朝阳区"),
    "哈尔滨市": ("道里区", "南岗区"),
    "石家庄市": ("长安区", "裕华区"),
    "太原市": ("小店区", "迎泽区"),
    "呼和浩特市": ("新城区", "赛罕区"),
    "兰州市": ("城关区", "七里河区"),
    "西宁市": ("城东区",),
    "银川市": ("兴庆区", "金凤区"),
    "乌鲁木齐市": ("天山区", "沙依巴克区"),
    "拉萨市": ("城关区",),
    "宁波市": ("海曙区", "鄞州区"),
    "无锡市": ("梁溪区", "滨湖区"),
    "佛山市": ("禅城区", "南海区", "顺德区"),
    "东莞市": ("莞城街道", "松山湖"),
}
PEOPLE = (
    "退休人员", "在职职工", "灵活就业人员", "大学生", "中小学生", "新生儿", "农民工", "外籍人员",
    "港澳台居民", "残疾人", "低保对象", "退役军人", "军人家属", "失业人员", "个体工商户", "孕产妇",
    "老年人", "独生子女家庭", "困难群众", "外来务工人员", "高校毕业生", "留学回国人员", "特困人员",
    "脱贫人口", "企业职工", "机关事业单位人员", "新就业形态劳动者", "快递员", "网约车司机", "家政人员",
)  # fmt: skip
MODIFIERS = ("线上", "网上", "手机上", "异地", "跨省", "首次", "临时", "逾期", "加急", "集体", "单位", "个人")
CHANNELS = (
    "政务服务网", "当地政务服务大厅", "手机应用", "微信公众号", "支付宝城市服务", "自助服务终端",
    "街道便民服务中心", "社区服务站", "银行网点", "国家政务服务平台小程序",
)  # fmt: skip
MATERIALS = (
    "身份证", "户口本", "社保卡", "居住证", "劳动合同", "银行卡", "病历资料", "费用发票", "出生医学证明",
    "结婚证", "营业执照", "不动产权证书", "租房合同", "近期免冠照片", "申请表", "收入证明", "学生证",
    "离职证明", "医保电子凭证", "授权委托书",
)  # fmt: skip


class Domain:
    """One line of business: its topics, the actions that go with them, who runs it."""

    def __init__(self, weight: float, agency: str, hotline: str, topics: str, actions: str) -> None:
        self.weight = weight
        self.agency = agency
        self.hotline = hotline
        self.topics = tuple(topics.split())
        self.actions = tuple(actions.split())


DOMAINS = (
    Domain(
        0.34,
        "医疗保障局",
        "12393",
        "医保卡 医保电子凭证 个人账户 门诊统筹 住院报销 异地就医 生育保险 大病保险 长期护理保险 门诊慢特病 "
        "药品目录 定点药店 定点医院 医疗救助 职工医保 居民医保 医保缴费 医保待遇 医保关系 家庭共济 "
        "惠民保 普通门诊 特药 日间手术 医保钱包 两病用药 意外伤害",
        "办理 申请 查询 报销 缴纳 续缴 转移 备案 变更 补办 挂失 激活 认定 结算 退费 开通",
    ),
    Domain(
        0.16,
        "人力资源和社会保障局",
        "12333",
        "养老保险 失业保险 工伤保险 社保卡 养老金 失业金 缴费基数 参保证明 缴费记录 退休手续 工伤认定 "
        "社保关系 待遇资格认证 丧葬补助金 抚恤金 个人养老金 企业年金 职业年金",
        "办理 申请 查询 领取 缴纳 补缴 转移 变更 认定 开具 打印 暂停 恢复 测算",
    ),
    Domain(
        0.10,
        "住房公积金管理中心",
        "12329",
        "住房公积金 公积金贷款 公积金账户 公积金缴存 租房提取 购房提取 离职提取 公积金基数 公积金余额 "
        "商转公 冲还贷 贷款额度",
        "办理 申请 查询 提取 缴存 转移 变更 封存 启封 销户 开具 打印",
    ),
    Domain(
        0.07,
        "公安局",
        "110",
        "户口迁移 身份证 居住证 户口本 出生登记 落户 临时身份证 户籍证明 无犯罪记录证明 护照 港澳通行证 "
        "往来台湾通行证 签注",
        "办理 申请 补办 换领 变更 注销 迁入 迁出 开具 预约 挂失 续签",
    ),
    Domain(
        0.07,
        "公安交通管理局",
        "122",
        "驾驶证 行驶证 机动车年检 交通违法 号牌 电动自行车登记 ETC 临时号牌 驾驶人体检 车辆过户 车辆抵押 "
        "校车许可",
        "办理 申请 补领 换证 查询 处理 预约 注销 延期 登记 审验 转出",
    ),
    Domain(
        0.06,
        "税务局",
        "12366",
        "个人所得税 专项附加扣除 电子发票 完税证明 个税汇算 房产税 车船税 契税 印花税 社保费 发票代开",
        "申报 缴纳 退税 查询 开具 补缴 更正 填报 确认 减免",
    ),
    Domain(
        0.05,
        "教育局",
        "12345",
        "入学报名 学籍 学位 助学金 教师资格证 中考报名 高考报名 课后服务 学生资助 转学 学历认证 校外培训",
        "办理 申请 报名 查询 变更 转出 认定 领取 缴费 退费",
    ),
    Domain(
        0.05,
        "民政局",
        "12345",
        "婚姻登记 最低生活保障 残疾人补贴 高龄津贴 殡葬补贴 养老服务补贴 临时救助 特困供养 收养登记 "
        "社会组织登记 居家养老",
        "办理 申请 预约 查询 领取 认定 变更 注销 复核 发放",
    ),
    Domain(
        0.04,
        "人力资源和社会保障局",
        "12333",
        "就业登记 失业登记 创业补贴 职业技能培训 技能提升补贴 人才引进 创业担保贷款 就业见习 "
        "职称评审 劳动仲裁 欠薪投诉",
        "办理 申请 登记 查询 领取 报名 认定 投诉 备案 审核",
    ),
    Domain(
        0.03,
        "市场监督管理局",
        "12315",
        "营业执照 个体工商户登记 食品经营许可 消费投诉 商标注册 企业年报 企业注销 股权出质",
        "办理 申请 变更 注销 查询 补领 投诉 公示 年报 备案",
    ),
    Domain(
        0.03,
        "住房和城乡建设局",
        "12345",
        "公租房 保障性住房 不动产登记 房产证 物业维修资金 购房资格 人才公寓 租房补贴 老旧小区改造 "
        "房屋租赁备案",
        "办理 申请 查询 登记 变更 核验 退出 领取 预约 备案",
    ),
)
EXTRA_SYNONYMS = {
    "驾驶证": ("驾照", "驾驶执照"),
    "住房公积金": ("公积金账户资金",),
    "身份证": ("身份证件", "二代证"),
    "营业执照": ("执照",),
    "个人所得税": ("个税",),
    "最低生活保障": ("低保金",),
    "不动产登记": ("房产登记",),
    "电动自行车登记": ("电动车上牌", "电瓶车上牌"),
}

# Questions: ``{p}`` a place, ``{w}`` who, ``{t}`` the topic, ``{a}`` the action, ``{m}`` a modifier.
QUESTIONS = (
    "{p}{t}怎么{a}",
    "{w}{a}{t}需要什么材料",
    "{t}{a}要多长时间",
    "在哪里可以{a}{t}",
    "{t}能在网上{a}吗",
    "{a}{t}要花钱吗",
    "{w}可以{a}{t}吗",
    "{p}{t}{a}的条件是什么",
    "{t}{a}的流程是怎样的",
    "{m}{a}{t}有什么要求",
    "{t}{a}的进度怎么查",
    "{w}{t}{a}去哪个部门",
    "{p}{w}{a}{t}要带哪些东西",
    "{t}{a}以后多久生效",
)
# What a caller says: other wordings, some words missing, fillers, ASR homophones.
PARAPHRASES = (
    "我想{a}一下{t}",
    "{t}{a}怎么弄",
    "{w}的{t}咋{a}",
    "{p}那边{t}在哪{a}",
    "{t}是不是可以{m}{a}",
    "帮我看看{t}{a}要准备啥",
    "{a}{t}",
    "{t}",
    "{p}{w}{t}{a}",
    "{t}{a}了还没到账怎么回事",
)
FILLERS = ("", "", "", "那个，", "请问一下，", "你好，", "嗯，", "就是说，", "喂，我想问一下，")
HOMOPHONES = {
    "医": "一", "备": "被", "账": "帐", "理": "里", "积": "基", "缴": "交", "失": "石", "籍": "急",
    "证": "正", "额": "鹅", "贴": "帖", "保": "宝", "领": "岭", "款": "宽", "户": "护", "记": "计",
}  # fmt: skip
CHIT_CHAT = (
    "火车票怎么买", "今天天气怎么样", "帮我订个外卖", "明天会下雨吗", "附近有什么好吃的", "你是机器人吗",
    "我要转人工", "你们几点下班", "话费怎么充值", "快递到哪了",
)  # fmt: skip
CLARIFICATION_ANSWERS = ("第一个", "第二个", "最后一个", "对", "是的", "都不是", "中间那个")


# --- generation ----------------------------------------------------------------------


def sample_data() -> tuple[list[Entry], dict[str, tuple[str, ...]]]:
    """The sample entries and synonyms, read as ``KnowledgeService.load`` reads them."""
    files = store.read_directory(SAMPLE_DIR)
    entries = [entry for data in files.values() for entry in data.entries]
    return entries, store.merged_synonyms(files.values())


class _Topic:
    """The words one synthetic entry (and the questions asked about it) is made of."""

    def __init__(self, rng: random.Random) -> None:
        self.domain = rng.choices(DOMAINS, weights=[d.weight for d in DOMAINS])[0]
        self.topic = rng.choice(self.domain.topics)
        self.action = rng.choice(self.domain.actions)
        city = rng.choice(list(PLACES))
        roll = rng.random()
        self.place = "" if roll < 0.35 else city if roll < 0.75 else city + rng.choice(PLACES[city])
        self.who = rng.choice(PEOPLE) if rng.random() < 0.45 else ""
        self.modifier = rng.choice(MODIFIERS) if rng.random() < 0.3 else ""

    @property
    def title(self) -> str:
        return f"{self.place}{self.who}{self.modifier}{self.topic}{self.action}"

    def fill(self, template: str, rng: random.Random) -> str:
        return template.format(
            p=self.place,
            w=self.who or rng.choice(("", "我", "家里老人", "单位")),
            t=self.topic,
            a=self.action,
            m=self.modifier or rng.choice(("线上", "现场", "")),
        )


def _answer(topic: _Topic, rng: random.Random) -> str:
    d = topic.domain
    first, second = rng.sample(CHANNELS, 2)
    sentences = [f"{topic.place}{topic.who}{topic.action}{topic.topic}，可以通过{first}或者{second}办理。"]
    days = rng.choice(("三", "五", "七", "十", "十五", "二十"))
    materials = "、".join(rng.sample(MATERIALS, rng.randint(2, 4)))
    sentences.append(
        rng.choice(
            (
                f"一般需要提供{materials}，材料齐全的{days}个工作日内办结。",
                f"符合条件的，{d.agency}会在{days}个工作日内完成审核，结果可以在{first}查询。",
                f"{topic.action}不收取费用，需要准备{materials}，如有疑问可以拨打{d.hotline}咨询。",
            )
        )
    )
    if rng.random() < 0.6:
        sentences.append(f"具体以{topic.place or '当地'}{d.agency}当年公布的规定为准。")
    return "".join(sentences)


def _entry(number: int, topic: _Topic, rng: random.Random) -> Entry:
    questions = dict.fromkeys(topic.fill(t, rng) for t in rng.sample(QUESTIONS, rng.randint(3, 5)))
    candidates = [
        topic.topic,
        topic.topic + topic.action,
        topic.who,
        topic.place,
        topic.modifier,
        topic.action,
    ]
    candidates = list(dict.fromkeys(c for c in candidates if c))
    keywords = candidates[:2] + rng.sample(candidates[2:], min(len(candidates) - 2, rng.randint(0, 2)))
    return Entry(
        id=f"kb-{number:05d}",
        title=topic.title,
        kind="faq" if rng.random() < 0.2 else "knowledge",
        questions=tuple(questions),
        keywords=tuple(keywords),
        answer=_answer(topic, rng),
    )


def generate(count: int = ENTRIES, seed: int = SEED) -> tuple[list[Entry], dict[str, tuple[str, ...]]]:
    """``count`` entries with distinct titles: the sample entries, then synthetic ones."""
    rng = random.Random(seed)
    entries, synonyms = sample_data()
    synonyms = {**synonyms, **EXTRA_SYNONYMS}
    titles = {entry.title for entry in entries}
    while len(entries) < count:
        topic = _Topic(rng)
        if topic.title in titles:
            continue
        titles.add(topic.title)
        entries.append(_entry(len(entries), topic, rng))
    return entries, synonyms


def _asr(text: str, rng: random.Random) -> str:
    """One character swapped for a homophone, as ASR does (when the text has one)."""
    spots = [i for i, char in enumerate(text) if char in HOMOPHONES]
    if not spots:
        return text
    i = rng.choice(spots)
    return text[:i] + HOMOPHONES[text[i]] + text[i + 1 :]


def synthetic_queries(count: int, seed: int = SEED + 1) -> list[str]:
    """Questions about synthetic topics (reworded, with fillers, some misheard), chit-chat
    the knowledge base has no answer to, and answers to a clarification."""
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.08:
            queries.append(rng.choice(CHIT_CHAT))
        elif roll < 0.12:
            queries.append(rng.choice(CLARIFICATION_ANSWERS))
        else:
            text = _Topic(rng).fill(rng.choice(PARAPHRASES), rng)
            if rng.random() < 0.3:
                text = _asr(text, rng)
            queries.append(rng.choice(FILLERS) + text)
    return queries


def labelled_phrasings() -> list[tuple[str, str | None]]:
    """(question, expected title or None) from ``tests/knowledge/phrasings.yaml``."""
    items = yaml.safe_load(PHRASINGS.read_text(encoding="utf-8")) or []
    return [(str(item["q"]), item.get("expect")) for item in items]


def workload(count: int, phrasings: Sequence[str], seed: int) -> list[str]:
    """The labelled phrasings cycled, alternating with synthetic questions."""
    synthetic = synthetic_queries(count - count // 2, seed)
    labelled = [phrasings[i % len(phrasings)] for i in range(count // 2)]
    return [q for pair in zip(synthetic, labelled, strict=False) for q in pair] + synthetic[len(labelled) :]


# --- measuring -----------------------------------------------------------------------


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def percentiles(nanoseconds: Sequence[int]) -> dict[str, float]:
    """p50/p90/p99 (nearest rank) and max, in ms."""
    ordered = sorted(nanoseconds)

    def rank(share: float) -> float:
        return ordered[max(0, math.ceil(len(ordered) * share) - 1)] / 1e6

    return {
        "p50_ms": round(rank(0.50), 3),
        "p90_ms": round(rank(0.90), 3),
        "p99_ms": round(rank(0.99), 3),
        "max_ms": round(ordered[-1] / 1e6, 3),
        "mean_ms": round(statistics.fmean(ordered) / 1e6, 3),
    }


class _GcWatch:
    """Counts the collections of each generation, and the longest pause, while installed."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.longest_ns = 0
        self._started = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter_ns()
        else:
            self.counts[info["generation"]] += 1
            self.longest_ns = max(self.longest_ns, time.perf_counter_ns() - self._started)

    def __enter__(self) -> _GcWatch:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self)

    def figures(self) -> dict[str, Any]:
        return {"collections_by_generation": self.counts, "longest_pause_ms": round(self.longest_ns / 1e6, 3)}


def time_search(service: KnowledgeService, queries: Sequence[str]) -> dict[str, Any]:
    timings = []
    with _GcWatch() as watch:
        for query in queries:
            started = time.perf_counter_ns()
            service.search(query, 5)
            timings.append(time.perf_counter_ns() - started)
    return {"queries": len(queries), **percentiles(timings), "gc": watch.figures()}


async def time_reply(service: KnowledgeService, queries: Sequence[str], senders: int = 64) -> dict[str, Any]:
    """``reply`` in ``senders`` interleaved conversations, so clarifications get answered
    and questions follow earlier answers as they do in calls."""
    timings = []
    kinds: dict[str, int] = {}
    with _GcWatch() as watch:
        for i, query in enumerate(queries):
            sender = f"bench-{i % senders}userId{i % senders}"
            started = time.perf_counter_ns()
            reply = await service.reply(sender, query)
            timings.append(time.perf_counter_ns() - started)
            kind = "answered" if reply.entry is not None else "clarified" if reply.choices else "not_found"
            kinds[kind] = kinds.get(kind, 0) + 1
    return {"queries": len(queries), **percentiles(timings), "replies": kinds, "gc": watch.figures()}


def top1_share(base: KnowledgeBase, phrasings: Sequence[tuple[str, str | None]]) -> float:
    labelled = [(q, title) for q, title in phrasings if title]
    hits = 0
    for query, title in labelled:
        found = base.search(query, 1)
        hits += bool(found) and found[0].entry.title == title
    return round(hits / len(labelled), 3)


def _changed(entry: Entry, n: int) -> Entry:
    return entry.model_copy(
        update={
            "answer": entry.answer + f"（第{n}次修订）",
            "questions": (*entry.questions, f"{entry.title}第{n}问"),
        }
    )


def _sources_digest() -> str:
    """Which version of ``knowledge/*.py`` was measured (the files may change between runs)."""
    digest = hashlib.sha1()
    for path in sorted((ROOT / "knowledge").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _time_builds(
    base: KnowledgeBase, entries: list[Entry], synonyms: dict[str, tuple[str, ...]], rss: dict[str, float]
) -> dict[str, Any]:
    """Build from scratch, then rebuild with nothing changed and with one more entry
    changed each time (edits accumulate, so each rebuild analyses exactly one entry)."""
    cpu = time.process_time()
    figures: dict[str, Any] = {"build_s": round(_seconds(lambda: base.replace(entries, synonyms)), 3)}
    figures["build_cpu_s"] = round(time.process_time() - cpu, 3)
    gc.collect()
    rss["built"] = _rss_mb()
    figures["rebuild_unchanged_s"] = round(_seconds(lambda: base.replace(entries)), 3)
    edited, rebuilds = list(entries), []
    for n in range(1, REBUILDS + 1):
        position = n * len(entries) // (REBUILDS + 1)
        edited[position] = _changed(entries[position], n)
        rebuilds.append(_seconds(partial(base.replace, list(edited))))
    base.replace(entries)  # back to the generated entries (not timed)
    figures["rebuild_one_changed_s"] = {
        "median": round(statistics.median(rebuilds), 3),
        "max": round(max(rebuilds), 3),
    }
    return figures


def _time_queries(service: KnowledgeService, questions: Sequence[str]) -> dict[str, Any]:
    warm = workload(WARM_UP, questions, SEED + 2)
    for query in warm:
        service.search(query, 5)
    asyncio.run(_replies(service, warm))
    queries = workload(QUERIES, questions, SEED + 3)
    return {"search": time_search(service, queries), "reply": asyncio.run(time_reply(service, queries))}


def run() -> dict[str, Any]:
    """Measure everything; return the figures (also printed as a table)."""
    results: dict[str, Any] = {"entries": ENTRIES, "seed": SEED, "knowledge_sources": _sources_digest()}
    load_before = os.getloadavg()[0]
    rss = {"start": _rss_mb()}

    segmenter = Segmenter()
    results["jieba_load_s"] = round(_seconds(segmenter.initialize), 3)
    gc.collect()  # as `voicebot serve` does once jieba is loaded
    gc.freeze()
    rss["jieba_loaded"] = _rss_mb()

    phrasings = labelled_phrasings()
    small = KnowledgeBase(segmenter)
    small.replace(*sample_data())
    quality = {"sample_67": top1_share(small, phrasings)}
    del small

    started = time.perf_counter()
    entries, synonyms = generate()
    results["generate_s"] = round(time.perf_counter() - started, 3)
    gc.collect()
    rss["generated"] = _rss_mb()

    with tempfile.TemporaryDirectory(prefix="voicebot-kb-bench-") as directory:
        base = KnowledgeBase(segmenter)
        service = KnowledgeService(Path(directory), base=base)
        service.base = base  # the base measured here, whatever the service makes of an empty one
        results.update(_time_builds(base, entries, synonyms, rss))
        quality["all_10000"] = top1_share(base, phrasings)
        gc.collect()
        gc.freeze()  # what `voicebot serve` does before serving (bot/cli.py)
        results["gc_frozen_objects"] = gc.get_freeze_count()
        rss["before_queries"] = _rss_mb()
        results.update(_time_queries(service, [q for q, _ in phrasings]))

    rss["end"] = _rss_mb()  # the base is still alive here
    results["rss_mb"] = {key: round(value, 1) for key, value in rss.items()}
    results["index_rss_growth_mb"] = round(rss["built"] - rss["generated"], 1)
    results["phrasings_top1"] = quality
    results["targets"] = {
        "build_s_max": BUILD_TARGET_S,
        "build_met": results["build_s"] <= BUILD_TARGET_S,
        "p99_ms_max": P99_TARGET_MS,
        "search_p99_met": results["search"]["p99_ms"] <= P99_TARGET_MS,
        "reply_p99_met": results["reply"]["p99_ms"] <= P99_TARGET_MS,
    }
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print_table(results)
    return results


async def _replies(service: KnowledgeService, queries: Sequence[str]) -> None:
    for i, query in enumerate(queries):
        await service.reply(f"warm-{i % 16}", query)


def print_table(results: dict[str, Any]) -> None:
    rss, targets = results["rss_mb"], results["targets"]
    rebuild = results["rebuild_one_changed_s"]

    def met(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print(f"knowledge base, {results['entries']:,} entries (sources {results['knowledge_sources']})")
    print(f"  jieba dictionary load (once a process)  {results['jieba_load_s']:8.3f} s")
    print(f"  generate entries (not a target)        {results['generate_s']:8.3f} s")
    print(
        f"  index build from scratch               {results['build_s']:8.3f} s"
        f"   target ≤ {targets['build_s_max']:.0f} s: {met(targets['build_met'])}"
        f"   ({results['build_cpu_s']:.3f} s of CPU)"
    )
    print(f"  rebuild, nothing changed               {results['rebuild_unchanged_s']:8.3f} s")
    print(
        f"  rebuild, one entry changed             {rebuild['median']:8.3f} s   (max {rebuild['max']:.3f} s)"
    )
    print(
        f"  RSS: {rss['start']:.0f} MB at start, {rss['jieba_loaded']:.0f} with jieba, "
        f"{rss['generated']:.0f} with entries, {rss['built']:.0f} built "
        f"(index +{results['index_rss_growth_mb']:.0f} MB), {rss['end']:.0f} at the end"
    )
    print("  latency (ms)       p50      p90      p99      max     gc collections (gen 0/1/2), longest")
    for name in ("search", "reply"):
        row, watch = results[name], results[name]["gc"]
        counts = "/".join(str(c) for c in watch["collections_by_generation"])
        print(
            f"  {name:<8}{row['p50_ms']:>12.3f}{row['p90_ms']:>9.3f}"
            f"{row['p99_ms']:>9.3f}{row['max_ms']:>9.3f}"
            f"     {counts}, {watch['longest_pause_ms']:.2f} ms"
            f"   p99 target ≤ {targets['p99_ms_max']:.0f} ms: {met(targets[f'{name}_p99_met'])}"
        )
    print(
        f"  ({results['search']['queries']:,} queries each after a warm-up; gc on, "
        "gc.collect() + gc.freeze() after jieba, as in `voicebot serve`, and after the build)"
    )
    if "replies" in results["reply"]:
        print(f"  replies: {results['reply']['replies']}")
    quality = results["phrasings_top1"]
    print(
        f"  labelled phrasings with the expected top hit: {quality['sample_67']:.1%} among the 67 sample "
        f"entries, {quality['all_10000']:.1%} among all"
    )
    print(f"  load average (1 min) before/after: {results['machine']['load_average_1min']}")


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))
