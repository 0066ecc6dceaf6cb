"""Slot types read from words: yes/no answers, choices from a list, author patterns."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from pypinyin import lazy_pinyin

from bot.language.slots.base import (
    Candidate,
    OptionReader,
    SlotContext,
    SlotMatch,
    SlotTypeBase,
    fold,
    resolve,
)


def _alternation(words: Sequence[str]) -> str:
    # Longest first, so 不需要 is tried before 不 and 没问题 before 没.
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# Words that contain a yes or no word but answer nothing: masked before judging.
_NEUTRAL = (
    *("不好意思", "不客气", "不过", "不然", "不管", "不仅", "不但", "不久", "不少", "不知道", "不一定"),
    *("对不起", "没关系", "没事", "你好", "您好", "好像", "还是", "但是", "可是", "要是", "只是", "就是说"),
    *("是什么", "是谁", "是哪", "是否", "主要", "重要", "只要", "银行", "行李", "进行", "对于", "对方"),
    *("别的", "别人", "特别", "区别", "分别"),
)
# Affirmative idioms that contain a negation character.
_YES_IDIOMS = ("没问题", "没错", "不错", "没毛病")
_NO = (
    *("不是", "不对", "不要", "不用", "不需要", "不行", "没有", "算了", "不可以", "不好", "不想"),
    *("不必", "无需", "不同意", "不愿意", "拒绝", "别", "不", "没", "否"),
)
_YES = (
    *("是", "对", "好", "可以", "行", "需要", "要", "嗯", "恩", "有的", "确认", "同意", "当然"),
    *("ok", "okay", "yes", "可以的", "好的", "是的", "对的", "行的"),
)
_NEUTRAL_RE = re.compile(
    # A-not-A questions (是不是, 要不要, 可不可以, 需不需要, 有没有) ask, they do not
    # answer; the optional character takes the rest of a two-character verb.
    rf"(?P<a>[\u4e00-\u9fff])[不没](?P=a)[\u4e00-\u9fff]?|{_alternation(_NEUTRAL)}"
)
_YES_IDIOM_RE = re.compile(_alternation(_YES_IDIOMS))
_NO_RE = re.compile(_alternation(_NO))
# 是吗? 可以吗? echo the question back: not an answer. 有 says yes only on its own
# (有, 有的): inside a sentence it is "there is" (我有个问题).
_YES_RE = re.compile(rf"(?:{_alternation(_YES)}|(?<!\w)有(?!\w))(?![吗么嘛])")


def _mask(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: "\0" * len(m.group()), text)


class YesNoSlot(SlotTypeBase):
    """A yes/no answer judged on the whole utterance; True, False or no match.

    A negative word wins over any positive one (好的，不用了 and 不需要 are False),
    except in affirmative idioms (没问题, 不错). Phrases that merely contain a yes
    or no character (不好意思, 你好, 是不是) count for neither. The match spans the
    deciding word; ``extract_all`` holds at most one match, as there is one judgment.
    """

    name = "yes_no"

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        masked = _mask(fold(text), _NEUTRAL_RE)
        idiom = _YES_IDIOM_RE.search(masked)
        masked = _mask(masked, _YES_IDIOM_RE)
        no = _NO_RE.search(masked)
        yes = idiom or _YES_RE.search(masked)
        if no:
            return [SlotMatch(False, no.start(), no.end(), text[no.start() : no.end()])]
        if yes:
            return [SlotMatch(True, yes.start(), yes.end(), text[yes.start() : yes.end()])]
        return []


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


def _syllables(han: str) -> list[str]:
    """Toneless pinyin of a run of Chinese characters, one syllable per character.

    The run is converted whole so that polyphones are read in context (重庆 is
    chong qing); should pypinyin ever not give one item per character, each
    character is converted alone instead.
    """
    syllables = lazy_pinyin(han)
    if len(syllables) != len(han):
        syllables = [lazy_pinyin(char)[0] for char in han]
    return syllables


class EnumSlot(SlotTypeBase):
    """One of a fixed set of values, each said in one of several ways.

    Args:
        values: Canonical value -> synonyms; the canonical value is a synonym too.

    A synonym is found as written (case and width folded), the longest first, or,
    for ASR homophones (背景 for 北京), when its toneless pinyin equals that of a
    same-length run of Chinese characters. Homophones are only tried for synonyms
    of two characters or more: one syllable matches far too many words.
    """

    name = "enum"

    def __init__(self, values: Mapping[str, Sequence[str]]) -> None:
        self._synonyms: dict[str, str] = {}
        for canonical, words in values.items():
            for word in (canonical, *words):
                self._synonyms.setdefault(fold(word), canonical)
        self._exact = re.compile(_alternation(list(self._synonyms)))
        self._sounds: dict[tuple[str, ...], str] = {}
        for word, canonical in self._synonyms.items():
            if len(word) >= 2 and _HAN.fullmatch(word):
                self._sounds.setdefault(tuple(_syllables(word)), canonical)
        self._sound_lengths = sorted({len(s) for s in self._sounds}, reverse=True)

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> EnumSlot:
        """Build from a flow's options; ValueError names a bad one (see ``make_slot_type``)."""
        reader = OptionReader(cls.name, options, ("values",))
        return cls(_read_values(reader))

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        folded = fold(text)
        candidates = [
            Candidate(m.start(), m.end(), self._synonyms[m.group()], rank=1)
            for m in self._exact.finditer(folded)
        ]
        candidates.extend(self._homophones(folded))
        return resolve(text, candidates)

    def _homophones(self, text: str) -> Iterator[Candidate]:
        for run in _HAN.finditer(text):
            sounds = _syllables(run.group())
            for length in self._sound_lengths:
                for i in range(len(sounds) - length + 1):
                    canonical = self._sounds.get(tuple(sounds[i : i + length]))
                    if canonical is not None:
                        yield Candidate(run.start() + i, run.start() + i + length, canonical)


def _read_values(reader: OptionReader) -> dict[str, list[str]]:
    """Read ``values``: a mapping canonical -> list of synonyms, or a plain list of values."""
    raw = reader.options.get("values")
    hint = "write e.g. `values: {北京: [北京市, 帝都], 上海: [上海市]}` or `values: [北京, 上海]`"
    if isinstance(raw, list | tuple):
        raw = dict.fromkeys(raw)
    if not isinstance(raw, Mapping) or not raw:
        raise reader.error(f"option 'values' is required and must list the values, got {raw!r}", hint)
    values: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for canonical, words in raw.items():
        synonyms = [] if words is None else words
        if not isinstance(canonical, str) or not canonical.strip():
            raise reader.error(f"value {canonical!r} must be non-empty text", hint)
        texts = isinstance(synonyms, list | tuple) and all(isinstance(w, str) and w.strip() for w in synonyms)
        if not texts:
            raise reader.error(f"the synonyms of {canonical!r} must be a list of non-empty texts", hint)
        for word in (canonical, *synonyms):
            other = owner.setdefault(fold(word), canonical)
            if other != canonical:
                raise reader.error(
                    f"{word!r} is a synonym of both {other!r} and {canonical!r}",
                    "keep it under one value only",
                )
        values[canonical] = list(synonyms)
    return values


class RegexSlot(SlotTypeBase):
    """Text matching an author's Python regular expression.

    Args:
        pattern: The compiled expression. The value is group 1 when the pattern
            has a group (its span is group 1's), else the whole match; empty
            matches are skipped.
    """

    name = "regex"

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> RegexSlot:
        """Build from a flow's options; ValueError names a bad one (see ``make_slot_type``)."""
        reader = OptionReader(cls.name, options, ("pattern",))
        return cls(reader.pattern("pattern"))

    def extract_all(self, text: str, context: SlotContext) -> list[SlotMatch]:
        group = 1 if self.pattern.groups else 0
        matches: list[SlotMatch] = []
        for found in self.pattern.finditer(text):
            start, end = found.span(group)
            if start < end:  # an empty match, or group 1 not taking part
                matches.append(SlotMatch(found[group], start, end, found[group]))
        return matches
