"""The intent fallback: when no intent reaches the threshold, the model chooses among the
intents the waiting step accepts, or none.

The request offers exactly those intents and ``none``, as an ``enum`` of the answer's
JSON schema (guided decoding where the server has it); an answer that is not one of
them, or not JSON, counts as none. The model sees the bot's last words, so that 行吧
after "要不要转人工？" can be a yes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.llm.asking import Rejected, ask
from bot.llm.json_answer import json_object
from bot.llm.model import ChatRequest, LanguageModel

NONE = "none"
MAX_EXAMPLES = 4

SYSTEM = (
    "你是电话客服机器人的意图判断助手。来电人的话由语音识别转写，可能有同音错字、口语、方言。"
    "根据机器人刚说的话和来电人的回答，从给出的意图中选出来电人的意思；"
    f"都不符合、听不出来或者答非所问时选 {NONE}。"
    '只输出一个 JSON 对象，例如 {"intent": "' + NONE + '"}，不要输出其他文字。'
)


@dataclass(frozen=True)
class Offered:
    """An intent the waiting step accepts, as the model is told it."""

    name: str
    meaning: str
    examples: tuple[str, ...] = ()


def intent_schema(names: Sequence[str]) -> dict[str, Any]:
    """The answer's JSON schema: one of ``names`` or none."""
    return {
        "type": "object",
        "properties": {"intent": {"type": "string", "enum": [*names, NONE]}},
        "required": ["intent"],
        "additionalProperties": False,
    }


def intent_request(
    text: str, offered: Sequence[Offered], *, bot_said: str | None, timeout_seconds: float
) -> ChatRequest:
    lines = []
    for intent in offered:
        examples = "；".join(intent.examples[:MAX_EXAMPLES])
        lines.append(f"- {intent.name}：{intent.meaning}" + (f"（例如：{examples}）" if examples else ""))
    lines.append(f"- {NONE}：以上都不是")
    user = (
        "可选意图：\n"
        + "\n".join(lines)
        + f"\n\n机器人刚才说：{bot_said or '（无）'}\n来电人说：{text}\n\n来电人的意图是哪一个？"
    )
    return ChatRequest(
        use="intent",
        messages=({"role": "system", "content": SYSTEM}, {"role": "user", "content": user}),
        schema=intent_schema([o.name for o in offered]),
        max_tokens=32,
        timeout_seconds=timeout_seconds,
        about=text,
    )


def read_intent(names: Sequence[str]) -> Callable[[str], str | None]:
    """The contract of an intent answer: one of ``names``, or None for none."""
    allowed = set(names)

    def read(answer: str) -> str | None:
        intent = json_object(answer).get("intent")
        if intent == NONE:
            return None
        if not isinstance(intent, str) or intent not in allowed:
            raise Rejected(f"intent {intent!r} was not offered")
        return intent

    return read


class IntentFallback:
    """Asks ``model`` which of a step's intents the caller meant."""

    def __init__(self, model: LanguageModel, *, timeout_seconds: float) -> None:
        self._model = model
        self._timeout_seconds = timeout_seconds

    async def choose(self, text: str, offered: Sequence[Offered], *, bot_said: str | None) -> str | None:
        """The intent of ``offered`` the caller meant by ``text``, or None (none, or no
        usable answer)."""
        if not offered or not text.strip():
            return None
        request = intent_request(text, offered, bot_said=bot_said, timeout_seconds=self._timeout_seconds)
        return await ask(self._model, request, read_intent([o.name for o in offered]))
