"""Grounded answers: when the knowledge base finds related entries but none it can answer
with, the model words a short, speakable answer from those entries only, citing them.

The answer's first line names the entries it rests on (``依据：yidi-anzhi``, or
``依据：无`` when they do not answer the question); the rest is what the caller hears.
It is dropped, and the caller hears what they would have without a model, when it
cites nothing, cites an entry not offered, is not speakable (a list, Markdown, too
long), or names a fact absent from its cited entries (``bot.llm.grounding``).

Streamed, each sentence is handed on as soon as it is complete and its facts are in the
cited entries, so that speech can be made while the model still writes; nothing is said
before the whole answer passed the check.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.llm.asking import Rejected, ask
from bot.llm.grounding import Grounds, Source
from bot.llm.model import ChatRequest, LanguageModel

logger = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 160
CITE_LINE = re.compile(r"^\s*(?:依据|引用|来源)\s*[:：]\s*(.*)$")
_NOTHING = frozenset({"无", "没有", "none", ""})
# Markdown, a template's braces, a list's bullets or numbers (1. 2、 3) — not 1.5万).
_MARKUP = re.compile(r"[*#`|>\[\]{}]|^\s*(?:[-•·]|\d+[、)）]|\d+\.(?!\d))", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")

SYSTEM = (
    "你是电话热线的客服，用电话里说的话回答来电人的问题。只能使用下面资料里的内容，"
    "不能补充资料里没有的数字、金额、日期、电话号码或办法。回答要简短口语化，一到三句话，"
    "不要列表、不要编号、不要 Markdown，数字按读出来的说法写。"
    "第一行写“依据：”加上所用资料的编号，多个用逗号隔开，第二行起写回答。"
    "资料回答不了这个问题时，只输出一行：依据：无"
)


@dataclass(frozen=True)
class Grounded:
    """An answer that passed the check: its sentences, and the entries it cites."""

    sentences: tuple[str, ...]
    cited: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.sentences)


def answer_request(question: str, sources: Sequence[Source], *, timeout_seconds: float) -> ChatRequest:
    material = "\n\n".join(f"【{s.id}】{s.title}\n{s.answer}" for s in sources)
    user = f"资料：\n{material}\n\n来电人问：{question}"
    return ChatRequest(
        use="answer",
        messages=({"role": "system", "content": SYSTEM}, {"role": "user", "content": user}),
        max_tokens=200,
        timeout_seconds=timeout_seconds,
        about=question,
    )


def sentences_of(text: str) -> list[str]:
    """``text`` cut after each 。！？；, blanks joined away."""
    flat = "".join(text.split())
    return [s for s in _SENTENCE_END.split(flat) if s]


class _Reader:
    """The contract of a grounded answer, and the sentences of a streamed one as they come."""

    def __init__(
        self, sources: Sequence[Source], today: dt.date, on_sentence: Callable[[str], None] | None
    ) -> None:
        self._sources = {s.id: s for s in sources}
        self._today = today
        self._on_sentence = on_sentence
        self._streamed = ""
        self._grounds: Grounds | None = None  # of the streamed answer's cited entries
        self._handed = 0

    def cited(self, line: str) -> list[Source] | None:
        """The entries a first line cites; None for 依据：无.

        Raises:
            Rejected: it is no 依据 line, or cites an entry not offered.
        """
        found = CITE_LINE.match(line)
        if found is None:
            raise Rejected(f"its first line cites nothing: {line[:40]!r}")
        ids = [i for i in re.split(r"[,，、;；\s]+", found.group(1).strip("。.")) if i]
        if not ids or all(i.lower() in _NOTHING for i in ids):
            return None
        unknown = [i for i in ids if i not in self._sources]
        if unknown:
            raise Rejected(f"it cites {unknown[0]!r}, which was not offered")
        return [self._sources[i] for i in dict.fromkeys(ids)]

    def piece(self, text: str) -> None:
        """A streamed piece: each sentence completed and grounded so far is handed on. A
        sentence that is not, or any trouble here, ends the handing (never the answer:
        the whole is checked at its end)."""
        if self._on_sentence is None:
            return
        self._streamed += text
        try:
            self._hand_on()
        except Exception:  # the speech made early is an optimisation, never a failure
            logger.exception("a grounded answer's sentences could not be handed on as they came")
            self._on_sentence = None

    def _hand_on(self) -> None:
        assert self._on_sentence is not None
        first, newline, rest = self._streamed.lstrip().partition("\n")
        if not newline:
            return
        if self._grounds is None:
            try:
                cited = self.cited(first) or []
            except Rejected:
                self._on_sentence = None  # the whole answer will be rejected
                return
            self._grounds = Grounds(cited, self._sources.values(), self._today)
        complete = sentences_of(rest)
        if rest and rest.rstrip()[-1:] not in "。！？；!?;":
            complete = complete[:-1]  # the last is still being written
        for sentence in complete[self._handed :]:
            if _MARKUP.search(sentence) or self._grounds.missing(sentence):
                self._on_sentence = None  # the whole answer will be rejected
                return
            self._on_sentence(sentence)
        self._handed = max(self._handed, len(complete))

    def __call__(self, text: str) -> Grounded | None:
        first, _, rest = text.strip().partition("\n")
        cited = self.cited(first)
        if cited is None:
            return None  # the entries do not answer it: today's "not found"
        said = "".join(rest.split())
        if not said:
            raise Rejected("it cites entries but says nothing")
        if _MARKUP.search(rest):
            raise Rejected("it is not speakable: a list or Markdown")
        if len(said) > MAX_ANSWER_CHARS:
            raise Rejected(f"it is too long to say: {len(said)} characters (at most {MAX_ANSWER_CHARS})")
        grounds = self._grounds or Grounds(cited, self._sources.values(), self._today)
        missing = grounds.missing(said)
        if missing is not None:
            raise Rejected(missing)
        return Grounded(tuple(sentences_of(said)), tuple(s.id for s in cited))


class GroundedAnswers:
    """Asks ``model`` for answers grounded in the entries offered."""

    def __init__(self, model: LanguageModel, *, timeout_seconds: float) -> None:
        self._model = model
        self._timeout_seconds = timeout_seconds

    async def answer(
        self,
        question: str,
        sources: Sequence[Source],
        *,
        today: dt.date,
        on_sentence: Callable[[str], None] | None = None,
    ) -> Grounded | None:
        """An answer to ``question`` from ``sources`` that passed the check, or None.

        Args:
            question: The caller's words.
            sources: The related entries the knowledge base found.
            today: The call's date (relative dates in the answer and entries).
            on_sentence: Told each sentence of a streamed answer as soon as it is
                complete and grounded, to make its speech early. The whole answer
                may still fail the check: then none of it is said (the speech made
                early only sits in the audio cache).
        """
        if not sources or not question.strip():
            return None
        read = _Reader(sources, today, on_sentence)
        request = answer_request(question, sources, timeout_seconds=self._timeout_seconds)
        return await ask(self._model, request, read, on_text=read.piece if on_sentence else None)
