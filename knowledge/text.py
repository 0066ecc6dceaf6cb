"""What retrieval compares: a question as ASR wrote it, turned into weighted features.

Callers' questions reach us through ASR, so three views of the same words are indexed:

- ``w:`` jieba words, without fillers and question words (那个, 就是说, 请问, 怎么);
- ``c:`` character bigrams, which survive a missing or mis-cut word;
- ``p:`` bigrams of toneless, accent-folded pinyin syllables, which survive homophones
  (备案/被案) and near-homophones (zh/z, n/l, in/ing) alike.

Synonyms are folded into their canonical word first, on both sides; runs of three or
more spoken digits (幺二三九三) become ASCII digits.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping

from pypinyin import Style, lazy_pinyin

from bot.dialog.nlu import Segmenter
from bot.language.slots.spoken import normalize_spoken_digits

FEATURE_WEIGHTS = {"w": 1.0, "c": 0.6, "p": 0.6}
"""How much a match of each view counts (BM25 term weight multiplier)."""

# Words that never name a topic: fillers, politeness, pronouns, question words. They
# are left out of every view.
_FILLERS = """
那个 这个 就是说 然后 那么 嗯 嗯嗯 啊 呃 额 哦 噢 喔 唉 哎 诶 欸 呀 吧 呢 嘛 哈 啦 咯 吗 么 的 了 着 呗
请问 问一下 想问一下 咨询一下 了解一下 你好 您好 喂 麻烦 麻烦你 谢谢 我 我们 你 您 你们 他 她 它
怎么 怎么样 怎样 如何 什么 啥 哪里 哪儿 哪些 为什么 为啥 是不是 有没有 能不能 可不可以 一下
"""
# Short function words, also left out of the word view. They stay in the character and
# sound views: ASR writes homophones as such words (一地 for 异地, 被案 for 备案).
_FUNCTION_WORDS = """
就是 那 这 问 想 想问 咨询 了解 帮 帮我 自己 人家 地 得 过 是 在 有 和 跟 与 及 也 都 还 又 就 要 能
可以 会 该 应该 需要 一个 下 个 些 一些 哪 多少 几 知道 告诉 说 说说 讲 讲讲 给 让 把 被 对
"""
FILLER_WORDS = frozenset(_FILLERS.split())
STOP_WORDS = FILLER_WORDS | frozenset(_FUNCTION_WORDS.split())
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)
_SPOKEN_DIGITS = re.compile(r"[零〇一二两三四五六七八九幺洞拐]{3,}")
# Initials and finals that callers (and ASR) confuse, folded to one form.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("r", "l"), ("f", "h"))
_FUZZY_FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


def fold_pinyin(syllable: str) -> str:
    """``zhuang`` → ``zuan``: one form for the sounds callers and ASR mix up."""
    for initial, folded in _FUZZY_INITIALS:
        if syllable.startswith(initial):
            syllable = folded + syllable[len(initial) :]
            break
    for final, folded in _FUZZY_FINALS:
        if syllable.endswith(final):
            return syllable[: -len(final)] + folded
    return syllable


@functools.lru_cache(maxsize=65536)
def _syllables(word: str) -> tuple[str, ...]:
    """A word's folded pinyin. Per word, cached: pypinyin is most of the cost of indexing,
    and a knowledge base has a few thousand distinct words."""
    return tuple(fold_pinyin(s) for s in lazy_pinyin(word, style=Style.NORMAL, errors="default"))


class Analyzer:
    """Turns text into features, with a knowledge base's synonyms and words.

    Args:
        segmenter: jieba, possibly shared with the flows' NLU.
        synonyms: canonical word → words callers use for it.
    """

    def __init__(self, segmenter: Segmenter, synonyms: Mapping[str, Iterable[str]] | None = None) -> None:
        self._segmenter = segmenter
        variants = {v: word for word, vs in (synonyms or {}).items() for v in vs if v and v != word}
        self._canonical = variants
        self._synonyms = (
            re.compile("|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True)))
            if variants
            else None
        )

    def normalize(self, text: str) -> str:
        """Width, case, punctuation, spoken digits and synonyms folded."""
        text = unicodedata.normalize("NFKC", text).lower()
        text = _PUNCTUATION.sub("", text)
        text = _SPOKEN_DIGITS.sub(lambda m: normalize_spoken_digits(m.group())[0], text)
        if self._synonyms is not None:
            text = self._synonyms.sub(lambda m: self._canonical[m.group()], text)
        return text

    def content(self, text: str) -> list[str]:
        """The topic words of ``text``: normalized, cut, function words dropped."""
        return [word for word in self._segmenter.cut(self.normalize(text)) if word not in STOP_WORDS]

    def features(self, text: str) -> Counter[str]:
        """The weighted views of ``text`` (see the module docstring), with counts."""
        cut = self._segmenter.cut(self.normalize(text))
        features: Counter[str] = Counter(f"w:{word}" for word in cut if word not in STOP_WORDS)
        kept = [word for word in cut if word not in FILLER_WORDS]
        joined = "".join(kept)
        if len(joined) == 1:
            features[f"c:{joined}"] += 1
        features.update(f"c:{joined[i : i + 2]}" for i in range(len(joined) - 1))
        syllables = [syllable for word in kept for syllable in _syllables(word)]
        features.update(f"p:{a} {b}" for a, b in itertools.pairwise(syllables))
        return features

    def words(self) -> set[str]:
        """The canonical synonyms, for the segmenter to keep whole."""
        return set(self._canonical.values())
