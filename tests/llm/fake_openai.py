"""An OpenAI-compatible chat-completions server on loopback (a Quart app for
:func:`tests.speech.vendors.serving.serve_asgi`), as vLLM, Ollama or LMDeploy serve one.

Written from the protocol's reference (POST /v1/chat/completions; the request's
``model``, ``messages``, ``max_tokens``, ``response_format``, ``stream`` and
``stream_options``; the ``chat.completion`` answer, or ``chat.completion.chunk`` events
in Server-Sent Events ending with ``data: [DONE]``; errors as ``{"error": {…}}``), not
from the client's code. It checks each request as a model server would: the bearer key,
the model's name, the messages' roles and texts, and a ``json_schema`` response format's
schema (a valid JSON Schema with a name). A request it refuses is answered 400, 401 or 404.

Tests choose what the model answers (``answer``: a function of the request), how late
(``delay_seconds``, or ``hold`` until an event is set), as a stream of pieces of
``piece_chars`` each, an HTTP error (``status``), or a body off the protocol (``raw``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from quart import Quart, Response, jsonify, request

from tests.speech.vendors.serving import serve_asgi

MODEL = "qwen2.5-7b-instruct"
KEY = "sk-test-key"
ROLES = frozenset({"system", "user", "assistant"})


@dataclass
class FakeOpenAI:
    """The server's state: what it was asked, and how it answers."""

    answer: Callable[[dict[str, Any]], str] = lambda body: '{"intent": "none"}'
    delay_seconds: float = 0.0
    hold: asyncio.Event | None = None  # answers wait for it
    status: int = 200
    piece_chars: int = 4
    raw: bytes | None = None  # answered as is, 200 application/json: a server off the protocol
    received: asyncio.Event = field(default_factory=asyncio.Event)  # set by each request taken
    requests: list[dict[str, Any]] = field(default_factory=list)
    app: Quart = field(init=False)

    def __post_init__(self) -> None:
        self.app = Quart(__name__)
        self.app.add_url_rule("/v1/chat/completions", view_func=self._completions, methods=["POST"])
        self.app.add_url_rule("/v1/models", view_func=self._models, methods=["GET"])

    async def _models(self) -> Any:
        return jsonify({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "vllm"}]})

    async def _completions(self) -> Any:  # noqa: PLR0911  (a return per kind of answer)
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return _error(401, "invalid api key", "authentication_error")
        body = await request.get_json(force=True, silent=True)
        refused = _refusal(body)
        if refused is not None:
            return _error(*refused)
        self.requests.append(body)
        self.received.set()
        if body["model"] != MODEL:
            return _error(404, f"The model `{body['model']}` does not exist.", "NotFoundError")
        if self.hold is not None:
            await self.hold.wait()
        await asyncio.sleep(self.delay_seconds)
        if self.status != 200:
            return _error(self.status, "the server is overloaded", "server_error")
        if self.raw is not None:
            return Response(self.raw, status=200, mimetype="application/json")
        text = self.answer(body)
        usage = {"prompt_tokens": 100, "completion_tokens": len(text), "total_tokens": 100 + len(text)}
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return Response(
                self._events(text, usage if include_usage else None), mimetype="text/event-stream"
            )
        return jsonify(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": MODEL,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": usage,
            }
        )

    async def _events(self, text: str, usage: dict[str, int] | None) -> AsyncIterator[bytes]:
        def chunk(delta: dict[str, str], finish: str | None) -> bytes:
            event = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": MODEL,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()

        yield chunk({"role": "assistant", "content": ""}, None)
        for start in range(0, len(text), self.piece_chars):
            await asyncio.sleep(0)
            yield chunk({"content": text[start : start + self.piece_chars]}, None)
        yield chunk({}, "stop")
        if usage is not None:
            last = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": MODEL, "choices": []}
            yield f"data: {json.dumps({**last, 'usage': usage})}\n\n".encode()
        yield b"data: [DONE]\n\n"


def _refusal(body: Any) -> tuple[int, str, str] | None:  # noqa: PLR0911  (a return per refusal)
    """Why a server would refuse ``body`` (400), or None."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return 400, "model is required", "BadRequestError"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return 400, "messages must be a non-empty list", "BadRequestError"
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return 400, f"bad message: {message!r:.80}", "BadRequestError"
        if not isinstance(message.get("content"), str):
            return 400, "a message's content must be text", "BadRequestError"
    form = body.get("response_format")
    if form is None or form == {"type": "json_object"}:
        return None
    if not isinstance(form, dict) or form.get("type") != "json_schema":
        return 400, f"unknown response_format {form!r:.80}", "BadRequestError"
    schema = form.get("json_schema") or {}
    if not isinstance(schema.get("name"), str) or not isinstance(schema.get("schema"), dict):
        return 400, "json_schema needs a name and a schema", "BadRequestError"
    try:
        jsonschema.Draft202012Validator.check_schema(schema["schema"])
    except jsonschema.SchemaError as exc:
        return 400, f"invalid JSON schema: {exc.message}", "BadRequestError"
    return None


def _error(status: int, message: str, kind: str) -> Any:
    return jsonify({"error": {"message": message, "type": kind, "code": status}}), status


def schema_of(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema a request asked its answer to follow."""
    return body["response_format"]["json_schema"]["schema"]  # type: ignore[no-any-return]


def offered_intents(body: dict[str, Any]) -> list[str]:
    """The intents an intent request offers (its schema's enum)."""
    return schema_of(body)["properties"]["intent"]["enum"]  # type: ignore[no-any-return]


@contextlib.contextmanager
def served_in_thread(fake: FakeOpenAI) -> Iterator[str]:
    """Serve ``fake`` on an event loop of its own thread, for tests that drive real
    processes synchronously; yields its ``…/v1`` base URL, stopped when the block ends."""
    loop = asyncio.new_event_loop()
    base: list[str] = []
    ready, stop = threading.Event(), asyncio.Event()

    async def serve() -> None:
        async with serve_asgi(fake.app) as url:
            base.append(f"{url}/v1")
            ready.set()
            await stop.wait()

    thread = threading.Thread(
        target=loop.run_until_complete, args=(serve(),), name="fake-openai", daemon=True
    )
    thread.start()
    try:
        if not ready.wait(10):
            raise RuntimeError("the fake model server did not start")
        yield base[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
