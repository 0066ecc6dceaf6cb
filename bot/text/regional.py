"""Regional words of everyday phone speech, and the Mandarin word each stands for.

Callers from Sichuan say 莫得 and 要得, from Guangdong 冇, 揾 and 而家, from the north-east
and Henan 咋 and 俺: the same request in words no example of a flow has. The intent
classifier (``bot.dialog.nlu``) rewrites them into their Mandarin word, in the examples and
in what the caller says alike, as it does a flow's own ``synonyms`` (which win where both
name a word).

Only words that mean nothing else in Mandarin text are listed: a variant is replaced
wherever it occurs, so 中 (Henan's "OK") or 整 (the north-east's "do") cannot be, being
also 中午 and 整个; nor can Cantonese 唔 ("not"), being also a filler (唔, 嗯): its
negatives are listed word by word (唔想, 唔系).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["REGIONAL_WORDS", "with_regional_words"]

REGIONAL_WORDS: Mapping[str, tuple[str, ...]] = {
    "没有": ("莫得", "没得", "冒得", "冇", "木有"),  # Sichuan, Hunan, Guangdong, spoken
    "不见了": ("唔见咗", "唔见"),  # Guangdong
    "不是": ("唔系", "唔是"),  # Guangdong
    "不想": ("唔想",),  # Guangdong
    "不要": ("唔要",),  # Guangdong
    "好的": ("要得", "得嘞"),  # Sichuan, Beijing
    "知道": ("晓得",),  # south-west, lower Yangtze
    "什么": ("啥子", "啥", "神马"),
    "怎么": ("咋个", "咋", "点样"),  # south-west, north, Guangdong
    "怎么办": ("咋整", "咋办"),  # north-east
    "我": ("俺",),  # north, Henan, Shandong
    "您": ("恁",),  # Henan, Shandong
    "谢谢": ("唔该晒", "唔该", "多谢"),  # Guangdong
    "找": ("揾",),  # Guangdong
    "来": ("嚟",),  # Guangdong
    "现在": ("而家",),  # Guangdong
    "晚点": ("迟啲", "晚些"),  # Guangdong, spoken
    "他": ("佢",),  # Guangdong
    "的": ("嘅",),  # Guangdong
}


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
