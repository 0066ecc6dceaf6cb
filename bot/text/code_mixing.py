"""English words Chinese callers mix into their Mandarin, and the Mandarin word each stands for.

Callers who work in offices, and young ones, say 我在 meeting, 帮我转个 human agent, 我的
claim 什么 status, OK 的 or bye: the same request in words no example of a flow has. The
intent classifier reads each as its Mandarin word (``rewrite``), in examples and in what
the caller says alike, before the text is normalized (which drops the spaces between
English words, and so their boundaries).

A word is rewritten only as a whole word: 'no' is not rewritten inside 'know', nor 'ok'
inside 'book'. Longer phrases win over the words in them ('no thanks' before 'no'). The
list holds the words of call-center speech: answers, greetings, asking for a person,
being busy, and the common nouns of a service call (card, claim, status, refund, office
hours); it is not a dictionary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["ENGLISH_WORDS", "rewrite"]

ENGLISH_WORDS: Mapping[str, tuple[str, ...]] = {
    # answers
    "好的": ("ok", "okay", "o k", "okey", "fine", "alright", "all right", "sure", "cool"),
    "是的": ("yes", "yeah", "yep", "yup", "right", "correct", "exactly"),
    "不是": ("no", "nope", "nah"),
    "不用了谢谢": ("no thanks", "no thank you", "no, thanks", "no, thank you"),
    "没问题": ("no problem", "no worries"),
    "你说吧": ("go ahead", "go on"),
    "谢谢": ("thanks", "thank you", "thx", "thank u"),
    "不好意思": ("sorry", "excuse me"),
    "你好": ("hello", "hi", "hey"),
    "再见": ("bye", "bye bye", "byebye", "goodbye", "good bye", "see you", "see ya"),
    # a person
    "人工": ("human", "human agent", "agent", "live agent", "real person", "operator", "staff"),
    "客服": ("customer service", "service desk", "hotline", "call center", "help desk"),
    "经理": ("manager", "supervisor", "boss"),
    # busy, later
    "忙": ("busy",),
    "开会": ("meeting", "in a meeting", "conference call"),
    "开车": ("driving",),
    "晚点": ("later", "later on"),
    "打电话": ("call", "call me", "phone me", "ring me"),
    "回电话": ("call back", "call me back", "callback"),
    "有空": ("available",),
    "现在": ("now", "right now"),
    # a service call's nouns
    "卡": ("card",),
    "丢了": ("lost", "missing"),
    "挂失": ("report the loss", "report lost", "report loss"),
    "报": ("report",),
    "补办": ("replace", "replacement", "reissue"),
    "报销": ("claim", "reimbursement", "reimburse"),
    "进度": ("status", "progress", "update"),
    "退款": ("refund",),
    "上班时间": ("office hours", "office hour", "opening hours", "business hours", "working hours"),
    "几点": ("what time",),
    "什么时候": ("when",),
    "开门": ("open", "opening"),
    "下班": ("closed",),
    "周末": ("weekend", "weekends"),
    "投诉": ("complain", "complaint"),
    "帮我": ("help me", "please help"),
    "问题": ("problem", "issue", "question"),
}


def _compile(words: Mapping[str, tuple[str, ...]]) -> tuple[re.Pattern[str], dict[str, str]]:
    mandarin = {english: chinese for chinese, variants in words.items() for english in variants}
    # Whole words only: no Latin letter right before or after; spaces inside a phrase
    # may be one or more, or none (byebye).
    alternatives = sorted(mandarin, key=len, reverse=True)
    pattern = "|".join(r"\s*".join(map(re.escape, english.split())) for english in alternatives)
    return re.compile(rf"(?<![a-z])(?:{pattern})(?![a-z])", re.IGNORECASE), {
        _key(english): chinese for english, chinese in mandarin.items()
    }


def _key(english: str) -> str:
    return re.sub(r"[\s,]+", "", english.lower())


_ENGLISH, _MANDARIN = _compile(ENGLISH_WORDS)
_LATIN_LETTER = re.compile("[A-Za-z]")


def rewrite(text: str) -> str:
    """``text`` with the English words of ``ENGLISH_WORDS`` replaced by their Mandarin
    word (帮我转个 human agent -> 帮我转个人工); text without Latin letters is returned
    as it is, at no cost."""
    if _LATIN_LETTER.search(text) is None:
        return text
    return _ENGLISH.sub(lambda match: _MANDARIN[_key(match.group(0))], text)
