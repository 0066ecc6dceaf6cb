"""Recorded answers of the language model, so that ``voicebot chat`` and ``voicebot flows
test`` run the same way every time (``--cassette FILE``).

A cassette is a YAML list of answers, each under the key of its request (its use, chat
and schema: ``ChatRequest.key``), with the caller's words beside it for people:

    - key: 3f9c2a…
      use: intent
      asked: 那就这么着吧
      answer: '{"intent": "affirm"}'

Replaying, a request that is not in the cassette gets no answer (the call goes on as
without a model); recording (``--record``, with ``VOICEBOT_LLM_URL``), the model is
asked and its answer added. Answers may be edited by hand: a test of what happens when
the model says something odd is a cassette that says it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError, LLMError
from bot.llm.model import ChatAnswer, ChatRequest, LanguageModel, OnText

logger = logging.getLogger(__name__)

ASKED_CHARS = 120
HEADER = (
    "# Recorded answers of the language model (voicebot chat/flows test --cassette).\n"
    "# Each answer is found by the key of its request; edit the answers freely.\n"
)


class Cassette:
    """Answers from ``path``; with ``model``, answers it lacks are asked and recorded.

    Raises:
        ConfigError: the file exists but is not a cassette.
    """

    def __init__(self, path: Path, model: LanguageModel | None = None) -> None:
        self.path = path
        self.name = f"cassette {path.name}" if model is None else model.name
        self._model = model
        self._entries: dict[str, dict[str, Any]] = {}
        self.missing = 0  # requests replaying found no answer for
        self.unrecorded = 0  # requests recording got no answer for (the server failed)
        self._changed = False
        if path.exists():
            self._entries = _read(path)

    @property
    def available(self) -> bool:
        return True  # a missing answer is counted when asked

    async def chat(self, request: ChatRequest, *, on_text: OnText | None = None) -> ChatAnswer:
        entry = self._entries.get(request.key)
        if entry is not None:
            text = str(entry["answer"])
            if on_text is not None:
                on_text(text)
            return ChatAnswer(text)
        if self._model is None:
            self.missing += 1
            raise LLMError(
                f"no answer in {self.path} for this {request.use} request — record it with --record "
                "and VOICEBOT_LLM_URL",
                result="skipped",
            )
        try:
            answer = await self._model.chat(request, on_text=on_text)
        except LLMError:
            self.unrecorded += 1
            raise
        asked = request.about[:ASKED_CHARS]
        self._entries[request.key] = {
            "key": request.key,
            "use": request.use,
            "asked": asked,
            "answer": answer.text,
        }
        self._changed = True
        return answer

    async def aclose(self) -> None:
        if self._changed:
            text = yaml.safe_dump(list(self._entries.values()), allow_unicode=True, sort_keys=False)
            self.path.write_text(HEADER + text, encoding="utf-8")
            logger.info("%d answers of the language model recorded in %s", len(self._entries), self.path)
        if self._model is not None:
            await self._model.aclose()


def _read(path: Path) -> dict[str, dict[str, Any]]:
    """A cassette's answers by key.

    Raises:
        ConfigError: the file is not a cassette (located).
    """
    fix = "a cassette is a YAML list of entries with a key and an answer (docs/llm.md)"
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not a cassette ({exc}) — {fix}") from exc
    if not isinstance(loaded, list):
        raise ConfigError(f"{path}: not a cassette: not a list — {fix}")
    entries: dict[str, dict[str, Any]] = {}
    for number, entry in enumerate(loaded, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("answer"), str) or not entry.get("key"):
            raise ConfigError(f"{path}: entry {number} is not a cassette's answer: {entry!r:.80} — {fix}")
        entries[str(entry["key"])] = dict(entry)
    return entries
