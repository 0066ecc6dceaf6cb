"""Chat completions from an OpenAI-compatible server (vLLM, Ollama, LMDeploy, Xinference),
through the official ``openai`` package, imported only when a model is configured (it
costs about 0.4 s of start-up).

Requests are never retried: a second try would not fit the caller's patience, and the
guard's cooldown spares a failing server. The answer's JSON schema goes as
``response_format: {"type": "json_schema", …}``, which vLLM, LMDeploy, Ollama and
Xinference turn into guided decoding; ``json_schema=False`` asks for a JSON object only,
for a server without it.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from bot.errors import LLMError
from bot.llm.model import ChatAnswer, ChatRequest, OnText

if TYPE_CHECKING:
    from openai import AsyncOpenAI


class OpenAIChat:
    """One model on one server.

    Args:
        url: The server's base URL, ``…/v1``.
        model: The model's name as the server serves it.
        key: The bearer key, if the server wants one.
        json_schema: Send each use's JSON schema; else ask for a JSON object.
        stream: Stream answers whose caller listens to their pieces.
    """

    def __init__(
        self, *, url: str, model: str, key: str | None = None, json_schema: bool = True, stream: bool = True
    ) -> None:
        from openai import AsyncOpenAI  # noqa: PLC0415  (only when a model is configured)

        self.name = model
        self._json_schema = json_schema
        self._stream = stream
        # A key is always sent: the package insists on one; servers without keys ignore it.
        self._client: AsyncOpenAI = AsyncOpenAI(
            base_url=url.rstrip("/"), api_key=key or "none", max_retries=0, timeout=60.0
        )

    @property
    def available(self) -> bool:
        return True  # the guard around it knows better

    async def aclose(self) -> None:
        await self._client.close()

    async def chat(self, request: ChatRequest, *, on_text: OnText | None = None) -> ChatAnswer:
        import openai  # noqa: PLC0415

        arguments: dict[str, Any] = {
            "model": self.name,
            "messages": [dict(m) for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": 0,
        }
        if request.schema is not None:
            arguments["response_format"] = (
                {
                    "type": "json_schema",
                    "json_schema": {"name": request.use, "schema": dict(request.schema), "strict": True},
                }
                if self._json_schema
                else {"type": "json_object"}
            )
        began = time.perf_counter()
        try:
            async with asyncio.timeout(request.timeout_seconds):
                if on_text is not None and self._stream:
                    answer = await self._streamed(arguments, on_text)
                else:
                    answer = await self._whole(arguments)
                    if on_text is not None:
                        on_text(answer.text)
        except TimeoutError as exc:
            ms = round(request.timeout_seconds * 1000)
            raise LLMError(f"{self.name}: no answer within {ms} ms", result="timeout") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"{self.name}: HTTP {exc.status_code}: {_short(exc.message)}") from exc
        except openai.OpenAIError as exc:
            raise LLMError(f"{self.name}: {type(exc).__name__}: {_short(str(exc))}") from exc
        except LLMError:
            raise
        except Exception as exc:  # an answer the package could not read (not the protocol's)
            raise LLMError(f"{self.name}: an answer outside the protocol: {type(exc).__name__}") from exc
        return ChatAnswer(
            answer.text, time.perf_counter() - began, answer.prompt_tokens, answer.completion_tokens
        )

    async def _whole(self, arguments: dict[str, Any]) -> ChatAnswer:
        completion = await self._client.chat.completions.create(**arguments)
        if not completion.choices:
            raise LLMError(f"{self.name}: an answer without choices")
        usage = completion.usage
        return ChatAnswer(
            completion.choices[0].message.content or "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    async def _streamed(self, arguments: dict[str, Any], on_text: OnText) -> ChatAnswer:
        pieces: list[str] = []
        prompt_tokens = completion_tokens = 0
        stream = await self._client.chat.completions.create(
            **arguments, stream=True, stream_options={"include_usage": True}
        )
        async with stream:
            async for chunk in stream:
                if chunk.usage is not None:
                    prompt_tokens, completion_tokens = (
                        chunk.usage.prompt_tokens,
                        chunk.usage.completion_tokens,
                    )
                for choice in chunk.choices:
                    if choice.delta.content:
                        pieces.append(choice.delta.content)
                        on_text(choice.delta.content)
        return ChatAnswer("".join(pieces), 0.0, prompt_tokens, completion_tokens)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
