"""Regional words of everyday phone speech, and the Mandarin word each stands for.

Callers from Sichuan say 莫得 and 要得, from Guangdong 冇, 揾 and 而家, from the north-east
and Henan 咋 and 俺: the same request in words no example of a flow has. The intent
classifier (``bot.dialog.nlu``) rewrites them into their Mandarin word, in the examples and
in what the caller says alike, as it does a flow's own ``synonyms`` (which win where both
name a word).

Only words that mean nothing else in Mandarin text are listed: a variant is replaced
wherever it occurs, so 中 (Henan's "OK") or 整 (the north-east's "do") cannot be, being
also 中午 and 整个 (a phrase that holds one can: 整个人来 is 找个人来); nor can Cantonese
唔 ("not"), being also a filler (唔, 嗯): its negatives are listed word by word (唔想,
唔系). A few such words are read only as a whole clause (``REGIONAL_CLAUSES``: 中 in
中，恁问吧).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.text.fillers import FINAL_PARTICLES

__all__ = ["REGIONAL_CLAUSES", "REGIONAL_WORDS", "with_regional_clauses", "with_regional_words"]

REGIONAL_WORDS: Mapping[str, tuple[str, ...]] = {
    "没有": ("莫得", "没得", "冒得", "冇得", "冇", "木有", "么有"),  # Sichuan, Hunan, Guangdong, spoken
    "不见了": ("唔见咗", "唔见"),  # Guangdong
    "不是": ("唔系", "唔是", "弗是", "毋系", "毋是"),  # Guangdong; Shanghai (弗 is its 不); Hakka
    "不想": ("唔想", "弗想"),  # Guangdong; Shanghai
    "不要": ("唔要", "勿要", "弗要", "覅", "毋要"),  # Guangdong; Shanghai; Hakka
    "不知道": ("弗晓得", "勿晓得", "唔知"),  # Shanghai; Guangdong
    "好的": ("要得", "得嘞"),  # Sichuan, Beijing
    "知道": ("晓得",),  # south-west, lower Yangtze
    "什么": ("啥子", "啥", "神马"),
    "怎么": ("咋个", "咋", "点样"),  # south-west, north, Guangdong
    "怎么办": ("咋整", "咋办"),  # north-east
    "我": ("俺", "阿拉"),  # north, Henan, Shandong; Shanghai
    "你": ("侬", "恁", "您"),  # Shanghai; Henan, Shandong; the polite 您 (您说 is 你说)
    "谢谢": ("唔该晒", "唔该", "多谢"),  # Guangdong
    "找": ("揾", "寻"),  # Guangdong; the north-west and lower Yangtze (寻你们的人)
    "来": ("嚟",),  # Guangdong
    "现在": ("而家",),  # Guangdong
    "晚点": ("迟啲", "晚些", "晏歇", "晏些", "晏点"),  # Guangdong, spoken, Shanghai
    "再见": ("再会",),  # Shanghai, Hokkien
    "小偷": ("贼娃子", "三只手"),  # south-west, spoken
    "找不到": ("找不着", "寻不着", "寻不到", "寻勿着"),  # north; Shanghai
    "休息": ("歇",),  # north: 中午歇不歇 (歇晌, a noon break, is 午休 below)
    "不用": (
        "无需",
        "无须",
        "不必",
        "甭",
        "用不着",
        "弗用",
        "犯不上",
        "犯不着",
    ),  # one refusal, in its plainer words
    "他": ("佢",),  # Guangdong
    "的": ("嘅", "啲"),  # Guangdong (啲 is also "some": 递咗啲单据, some receipts)
    "搞定": ("搞掂",),  # Guangdong
    "办完": ("整完",),  # north-east: 整 is "do" (报销整完没有)
    "什么时候": ("甚时候", "甚会儿", "几时", "啥辰光"),  # Shanxi, Shaanxi; Guangdong; Shanghai
    "了": ("哒", "咗"),  # Hunan: 好哒, 挂哒, 冒得哒; Guangdong: 递咗
    "你们": ("你哋", "侬拉"),  # Guangdong; Shanghai
    "我要": ("额要",),  # Shaanxi, Gansu: 额 is 我 (not alone: 额 is also a hesitation)
    "我想": ("额想",),
    "这样": ("介样",),  # Tianjin: 介 is 这 (就介样吧)
    "这个": ("介个",),
    "这么": ("介么",),
    "我们": ("我哋",),  # Guangdong (阿拉 is also "I", above)
    "他们": ("佢哋", "伊拉"),  # Guangdong; Shanghai
    "下来": ("落嚟",),  # Guangdong: 有钱落嚟
    "上班": ("返工",),  # Guangdong
    "下班": ("放工",),  # Guangdong
    "给": ("俾",),  # Guangdong
    "为什么": ("点解",),  # Guangdong
    "看": ("睇",),  # Guangdong
    "钱": ("钞票",),  # Shanghai, spoken
    "午休不午休": ("歇不歇晌",),  # north: 歇晌 is 午休
    "别打": ("莫打",),  # south-west: 莫 before a verb is 别
    "别烦": ("莫烦",),
    "别问": ("莫问",),
    "别挂": ("莫挂",),
    "别急": ("莫急",),
    "别走": ("莫走",),
    "别念": ("莫念",),
    "别说": ("莫说", "莫讲"),
    "弄丢了": ("弄没了", "搞没了", "整没了", "搞落了", "弄落了", "整落了"),  # south-west: 落 is 丢
    "消息": ("信儿",),  # north: 一点信儿都没有
    "午休": ("歇晌",),  # north: a noon break
    "找个人来": ("整个人来",),  # north-east: 整 for 找 or 弄 (整个人 alone is "the whole person")
}


REGIONAL_CLAUSES: Mapping[str, str] = {
    **dict.fromkeys(("中", "中啊", "中嘞", "中中", "中中中"), "好的"),  # Henan: OK
    **dict.fromkeys(("得行", "得行得行"), "好的"),  # Sichuan, Guizhou: OK
    "挂": "挂了",  # 好，挂咯: hanging up, said short
    "就这": "就这样",  # 中，就这吧: that is all
}
"""Regional words that are a whole clause, and the Mandarin word each stands for: 中 is
Henan's "OK" when it is all the caller said before a pause (中，恁问吧), but it is also
中午 and 中心, so it is read so only as a clause of its own."""
_CLAUSE_STARTS = frozenset(clause[0] for clause in REGIONAL_CLAUSES)


def with_regional_clauses(prepared: str) -> str:
    """``prepared`` (clauses joined by ``|``) with each clause of ``REGIONAL_CLAUSES``
    (but for the particles that end it: 挂咯) rewritten to its Mandarin word."""
    if not any(clause in prepared for clause in _CLAUSE_STARTS):
        return prepared
    clauses = prepared.split("|")
    return "|".join(REGIONAL_CLAUSES.get(clause.rstrip(FINAL_PARTICLES), clause) for clause in clauses)


def with_regional_words(synonyms: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """``synonyms`` (canonical word -> its variants) with the regional words added; a
    variant the flow lists itself stays with the flow's word."""
    own = {variant for variants in synonyms.values() for variant in variants} | set(synonyms)
    merged = {word: list(variants) for word, variants in synonyms.items()}
    for word, variants in REGIONAL_WORDS.items():
        kept = [v for v in variants if v not in own]
        if kept:
            merged[word] = [*merged.get(word, []), *kept]
    return merged
