"""What retrieval compares: a question as ASR wrote it, turned into weighted features.

Callers' questions reach us through ASR, so three views of the same words are indexed:

- ``w:`` jieba words, without fillers and question words (那个, 就是说, 请问, 怎么);
- ``c:`` character bigrams, which survive a missing or mis-cut word;
- ``p:`` bigrams of toneless, accent-folded pinyin syllables, which survive homophones
  (备案/被案) and near-homophones (zh/z, n/l, in/ing) alike.

Before that, on both sides: the knowledge base's synonyms are folded into their
canonical word in the text; runs of three or more spoken digits (幺二三九三) become ASCII
digits; a share said as a number (百分之七十, 七成, 一半) becomes 比例. After the cut, the
shared thesaurus (``bot.text.thesaurus``) folds each word into its group's canonical word
(娃儿 → 孩子, 弄丢 → 丢失, 咋个办 → 怎么) for the word view, and question words so folded
leave every view. A caller's question, and only it, first has its misheard words of the
knowledge base put back (``knowledge.homophones``: 报效 → 报销).

The segmenter, the fillers, the pinyin fold table, the digit reading and the thesaurus
are the intents' too (``bot.text``).
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
from bot.text.thesaurus import Thesaurus
from knowledge.homophones import Homophones

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
哪个 哪家 这个 那边 这边 那里 这里 那块 这块 里面 里头 上面 这样 那样 这么 那么 现在 还是 或者
去 来 到 用 做 放 在家 的话 时候 已经 一直 刚才 然后 所以 但是 因为 如果 是否
"""
FILLER_WORDS = FILLERS | frozenset(_NOT_TOPIC.split())
STOP_WORDS = FILLER_WORDS | frozenset(_FUNCTION_WORDS.split())
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)
RATIO_WORD = "比例"
_RATIO = re.compile(
    r"百分之[\d零一二两三四五六七八九十百几]+|[\d一二三四五六七八九几]成(?!人|年|员|立|功|本)|一半"
)
"""A share said as a number (百分之七十, 七成, 一半) is a ratio, as the entries call it."""


class Analyzer:
    """Turns text into features, with a knowledge base's synonyms and words.

    Args:
        segmenter: jieba, possibly shared with the flows' NLU.
        synonyms: canonical word → words callers use for it (the knowledge base's own,
            folded in the text before it is cut).
        thesaurus: the shared thesaurus, folded word by word after the cut (default:
            the shipped table).
    """

    def __init__(
        self,
        segmenter: Segmenter,
        synonyms: Mapping[str, Iterable[str]] | None = None,
        thesaurus: Thesaurus | None = None,
    ) -> None:
        self._segmenter = segmenter
        self._thesaurus = thesaurus if thesaurus is not None else Thesaurus.load()
        self._homophones = Homophones(())
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
        text = _RATIO.sub(RATIO_WORD, text)
        if self._synonyms is not None:
            text = self._synonyms.sub(lambda m: self._canonical[m.group()], text)
        return text

    def content(self, text: str) -> list[str]:
        """The topic words of ``text``: normalized, cut, function words dropped."""
        return [word for word in self._words(text) if word not in STOP_WORDS]

    def _words(self, text: str) -> list[str]:
        """``text`` normalized, cut, and folded through the thesaurus and the synonyms."""
        return self._fold(self._segmenter.cut(self.normalize(text)))

    def _fold(self, cut: list[str]) -> list[str]:
        canonical = self._canonical
        return (
            [canonical.get(word, word) for word in self._thesaurus.fold(cut)]
            if canonical
            else self._thesaurus.fold(cut)
        )

    def learn_vocabulary(self, words: Iterable[str]) -> None:
        """The knowledge base's topic words, for putting back homophones in questions
        (``knowledge.homophones``); done once, before the analyzer is searched with."""
        self._homophones = Homophones(
            words, protected=STOP_WORDS | self._thesaurus.words(), frequency=self._segmenter.frequency
        )

    def query_features(self, text: str) -> Counter[str]:
        """``features`` of a caller's question: its misheard words put back first."""
        normalized = self.normalize(text)
        cut = self._segmenter.cut(normalized)
        corrected = self._homophones.correct(normalized, cut)
        return self._features(corrected, cut if corrected == normalized else None)

    def features(self, text: str) -> Counter[str]:
        """The weighted views of ``text`` (see the module docstring), with counts."""
        return self._features(self.normalize(text))

    def _features(self, normalized: str, cut: list[str] | None = None) -> Counter[str]:
        if cut is None:
            cut = self._segmenter.cut(normalized)
        words = self._fold(cut)
        features: Counter[str] = Counter(f"w:{word}" for word in words if word not in STOP_WORDS)
        canonical = self._thesaurus.canonical
        # 怎么办, 咋个 and 啥子 are 怎么 and 什么: question words, left out of every view.
        kept = [word for word in cut if word not in FILLER_WORDS and canonical(word) not in FILLER_WORDS]
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
