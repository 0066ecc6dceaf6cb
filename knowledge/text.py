"""What retrieval compares: a question as ASR wrote it, turned into weighted features.

Callers' questions reach us through ASR, so three views of the same words are indexed:

- ``w:`` jieba words, without fillers and question words (那个, 就是说, 请问, 怎么);
- ``c:`` character bigrams, which survive a missing or mis-cut word;
- ``p:`` bigrams of toneless, accent-folded pinyin syllables, which survive homophones
  (备案/被案) and near-homophones (zh/z, n/l, in/ing) alike.

Synonyms are folded into their canonical word first, on both sides; runs of three or
more spoken digits (幺二三九三) become ASCII digits. The segmenter, the fillers, the
pinyin fold table and the digit reading are the intents' too (``bot.text``).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping

from bot.text.digits import spoken_digits_to_ascii
from bot.text.fillers import FILLERS
from bot.text.pinyin import word_syllables
from bot.text.segmenter import Segmenter

FEATURE_WEIGHTS = {"w": 1.0, "c": 0.6, "p": 0.6}
"""How much a match of each view counts (BM25 term weight multiplier)."""

# Words that never name a topic: the fillers, and particles, politeness, pronouns and
# question words. They are left out of every view.
_NOT_TOPIC = """
吗 么 的 了 着
请问 问一下 想问一下 咨询一下 了解一下 你好 您好 喂 麻烦 麻烦你 谢谢 我 我们 你 您 你们 他 她 它
怎么 怎么样 怎样 如何 什么 啥 哪里 哪儿 哪些 为什么 为啥 是不是 有没有 能不能 可不可以 一下
"""
# Short function words, also left out of the word view. They stay in the character and
# sound views: ASR writes homophones as such words (一地 for 异地, 被案 for 备案).
_FUNCTION_WORDS = """
就是 那 这 问 想 想问 咨询 了解 帮 帮我 自己 人家 地 得 过 是 在 有 和 跟 与 及 也 都 还 又 就 要 能
可以 会 该 应该 需要 一个 下 个 些 一些 哪 多少 几 知道 告诉 说 说说 讲 讲讲 给 让 把 被 对
"""
FILLER_WORDS = FILLERS | frozenset(_NOT_TOPIC.split())
STOP_WORDS = FILLER_WORDS | frozenset(_FUNCTION_WORDS.split())
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


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
        text = spoken_digits_to_ascii(text)
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
        syllables = [syllable for word in kept for syllable in word_syllables(word)]
        features.update(f"p:{a} {b}" for a, b in itertools.pairwise(syllables))
        return features

    def words(self) -> set[str]:
        """The canonical synonyms, for the segmenter to keep whole."""
        return set(self._canonical.values())
