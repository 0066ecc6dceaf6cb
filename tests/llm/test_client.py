"""The model's client and its guard against the fake server: the protocol as a server
receives it, streaming, and the bounds (slots, the minute's budget, the cooldown)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.errors import LLMError
from bot.llm.guard import FAILURES_BEFORE_COOLDOWN, GuardedModel
from bot.llm.model import ChatRequest
from bot.llm.openai_chat import OpenAIChat
from tests.llm.fake_openai import KEY, MODEL, FakeOpenAI, schema_of
from tests.loopback import unused_port

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}


def request(*, schema: dict[str, Any] | None = SCHEMA, timeout_seconds: float = 5.0) -> ChatRequest:
    return ChatRequest(
        use="intent",
        messages=({"role": "system", "content": "系统"}, {"role": "user", "content": "你好"}),
        schema=schema,
        max_tokens=16,
        timeout_seconds=timeout_seconds,
    )


@pytest.fixture
async def chat(llm_url: str) -> AsyncIterator[OpenAIChat]:
    client = OpenAIChat(url=llm_url, model=MODEL, key=KEY)
    yield client
    await client.aclose()


async def test_a_schema_goes_as_a_strict_json_schema_response_format(
    chat: OpenAIChat, fake: FakeOpenAI
) -> None:
    fake.answer = lambda body: '{"a": "b"}'
    answer = await chat.chat(request())
    assert answer.text == '{"a": "b"}'
    assert (answer.prompt_tokens, answer.completion_tokens) == (100, 10)
    (body,) = fake.requests
    assert schema_of(body) == SCHEMA
    assert body["response_format"]["json_schema"]["name"] == "intent"
    assert (body["max_tokens"], body["temperature"], body.get("stream")) == (16, 0, None)


async def test_without_schemas_a_json_object_is_asked_for(llm_url: str, fake: FakeOpenAI) -> None:
    client = OpenAIChat(url=llm_url, model=MODEL, key=KEY, json_schema=False)
    try:
        await client.chat(request())
    finally:
        await client.aclose()
    assert fake.requests[0]["response_format"] == {"type": "json_object"}


async def test_a_streamed_answer_tells_its_pieces(chat: OpenAIChat, fake: FakeOpenAI) -> None:
    fake.answer, fake.piece_chars = (lambda body: "一二三四五六七"), 3
    pieces: list[str] = []
    answer = await chat.chat(request(schema=None), on_text=pieces.append)
    assert pieces == ["一二三", "四五六", "七"]
    assert answer.text == "一二三四五六七"
    assert answer.completion_tokens == 7
    assert fake.requests[0]["stream"] is True


@pytest.mark.parametrize(
    ("client", "expected"),
    [({"model": "no-such-model"}, "HTTP 404"), ({"key": "wrong"}, "HTTP 401")],
    ids=["model", "key"],
)
async def test_a_refused_request_is_an_error(llm_url: str, client: dict[str, str], expected: str) -> None:
    chat = OpenAIChat(url=llm_url, model=client.get("model", MODEL), key=client.get("key", KEY))
    try:
        with pytest.raises(LLMError, match=expected) as raised:
            await chat.chat(request())
    finally:
        await chat.aclose()
    assert raised.value.result == "error"


@pytest.mark.parametrize(
    "raw", [b"not json", b'{"object": "chat.completion"}', b'{"choices": []}', b"[1, 2]"], ids=str
)
async def test_an_answer_off_the_protocol_is_an_error(chat: OpenAIChat, fake: FakeOpenAI, raw: bytes) -> None:
    fake.raw = raw
    with pytest.raises(LLMError) as raised:
        await chat.chat(request())
    assert raised.value.result == "error"


async def test_a_server_that_is_down_is_an_error() -> None:
    chat = OpenAIChat(url=f"http://127.0.0.1:{unused_port()}/v1", model=MODEL)
    try:
        with pytest.raises(LLMError, match="APIConnectionError") as raised:
            await chat.chat(request())
    finally:
        await chat.aclose()
    assert raised.value.result == "error"


async def test_a_late_answer_is_a_timeout(chat: OpenAIChat, fake: FakeOpenAI) -> None:
    fake.hold = asyncio.Event()
    with pytest.raises(LLMError, match="no answer within 100 ms") as raised:
        await chat.chat(request(timeout_seconds=0.1))
    assert raised.value.result == "timeout"


async def test_the_guard_cools_down_after_failures_in_a_row_then_tries_again(
    chat: OpenAIChat, fake: FakeOpenAI
) -> None:
    guarded = GuardedModel(chat, concurrency=4, per_minute=0, cooldown_seconds=600)
    fake.status = 500
    for _ in range(FAILURES_BEFORE_COOLDOWN - 1):
        with pytest.raises(LLMError):
            await guarded.chat(request())
    fake.status = 200
    assert (await guarded.chat(request())).text  # an answer ends the run of failures
    fake.status = 500
    for _ in range(FAILURES_BEFORE_COOLDOWN):
        with pytest.raises(LLMError):
            await guarded.chat(request())
    assert not guarded.available
    fake.status = 200
    with pytest.raises(LLMError, match="cooling down") as raised:
        await guarded.chat(request())
    assert raised.value.result == "skipped"
    assert len(fake.requests) == 2 * FAILURES_BEFORE_COOLDOWN
    guarded._down_until = 0.0  # the cooldown is over
    assert (await guarded.chat(request())).text


async def test_the_guard_sends_no_more_than_the_minutes_budget(chat: OpenAIChat, fake: FakeOpenAI) -> None:
    guarded = GuardedModel(chat, concurrency=4, per_minute=2, cooldown_seconds=0)
    await guarded.chat(request())
    await guarded.chat(request())
    with pytest.raises(LLMError, match="2 requests this minute") as raised:
        await guarded.chat(request())
    assert raised.value.result == "skipped"
    assert len(fake.requests) == 2


async def test_a_request_that_finds_no_free_slot_in_time_is_not_sent(
    chat: OpenAIChat, fake: FakeOpenAI
) -> None:
    guarded = GuardedModel(chat, concurrency=2, per_minute=0, cooldown_seconds=600)
    fake.hold = asyncio.Event()
    summary = ChatRequest(use="summary", messages=request().messages, timeout_seconds=5)
    first = asyncio.create_task(guarded.chat(summary))
    await fake.received.wait()
    with pytest.raises(LLMError, match="no free slot in time") as raised:
        # Summaries hold half of the slots at most: the one is taken.
        await guarded.chat(ChatRequest(use="summary", messages=summary.messages, timeout_seconds=0.1))
    assert raised.value.result == "skipped"
    assert len(fake.requests) == 1
    assert guarded.available  # the model is not at fault: no cooldown
    fake.hold.set()
    assert (await first).text
    assert (await guarded.chat(request())).text


def test_the_openai_package_is_imported_only_with_a_model() -> None:
    code = "import sys, bot.app, bot.authoring.flowtest; print('openai' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"  # its 0.4 s of imports are paid only by who uses it
