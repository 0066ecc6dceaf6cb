"""Our knowledge base under rasa-sdk: the ``KnowledgeBase`` methods, rasa-sdk's own
``ActionExecutor`` running ``action_query_knowledge_base``, and the real action server.

Data: the sample knowledge base (knowledge/data), whose first topics are 异地就医备案,
转诊转院, 异地安置, 异地急诊 and 医保卡挂失补办.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
import rasa_sdk
from rasa_sdk.executor import ActionExecutor

from bot.errors import ConfigError
from knowledge.actions import ActionQueryVoicebotKnowledgeBase, attribute_text
from knowledge.rasa import TOPIC, TOPIC_ATTRIBUTES, VoicebotKnowledgeBase
from tests.loopback import unused_port

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "knowledge" / "data"
ACTION = "action_query_knowledge_base"
FIRST_FIVE = ["异地就医备案", "转诊转院", "异地安置", "异地急诊", "医保卡挂失补办"]
SERVER_START_SECONDS = 60


@pytest.fixture(scope="module")
def kb() -> VoicebotKnowledgeBase:
    return VoicebotKnowledgeBase.from_directory(DATA_DIR)


def answer_of(kb: VoicebotKnowledgeBase, entry_id: str) -> str:
    return kb.base.get(entry_id).answer


def titles(objects: list[dict[str, Any]]) -> list[str]:
    return [str(topic["title"]) for topic in objects]


# --- (a) VoicebotKnowledgeBase --------------------------------------------------------


async def test_describes_the_one_object_type(kb: VoicebotKnowledgeBase) -> None:
    assert kb.get_object_types() == [TOPIC]
    assert await kb.get_attributes_of_object(TOPIC) == [*TOPIC_ATTRIBUTES, "query"]
    assert await kb.get_attributes_of_object("restaurant") == []
    assert await kb.get_key_attribute_of_object(TOPIC) == "id"
    represent = await kb.get_representation_function_of_object(TOPIC)
    assert represent({"id": "yidi-anzhi", "title": "异地安置"}) == "异地安置"


async def test_every_entry_is_a_topic_of_plain_data(kb: VoicebotKnowledgeBase) -> None:
    topics = await kb.get_objects(TOPIC, [], limit=1000)

    assert len(topics) == len(kb.base.entries) == 73  # 67 topics and 6 outside ones
    assert all(set(topic) == set(TOPIC_ATTRIBUTES) for topic in topics)
    assert json.loads(json.dumps(topics)) == topics  # lists, not tuples: slots and JSON take them


async def test_lists_topics_in_data_order_up_to_the_limit(kb: VoicebotKnowledgeBase) -> None:
    assert titles(await kb.get_objects(TOPIC, [])) == FIRST_FIVE  # rasa-sdk's default limit: 5
    assert titles(await kb.get_objects(TOPIC, [], limit=2)) == FIRST_FIVE[:2]
    assert await kb.get_objects(TOPIC, [], limit=0) == []
    assert await kb.get_objects("restaurant", []) == []


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("title", "异地安置", ["异地安置"]),
        ("id", "YIDI-ANZHI", ["异地安置"]),  # case-insensitive
        ("keywords", "转院", ["转诊转院"]),  # one item of a list attribute
        ("kind", "FAQ", ["医保待遇等待期", "甲类乙类药品区别"]),
        ("title", "异地", []),  # exact, not a part
        ("colour", "red", []),  # no topic has that attribute
    ],
)
async def test_filters_by_exact_attribute_values(
    kb: VoicebotKnowledgeBase, name: str, value: str, expected: list[str]
) -> None:
    assert titles(await kb.get_objects(TOPIC, [{"name": name, "value": value}], limit=2)) == expected


async def test_filters_combine(kb: VoicebotKnowledgeBase) -> None:
    filters = [{"name": "kind", "value": "faq"}, {"name": "title", "value": "异地安置"}]

    assert await kb.get_objects(TOPIC, filters) == []


@pytest.mark.parametrize("name", ["query", "question"])
async def test_a_query_ranks_topics_by_search_best_first(kb: VoicebotKnowledgeBase, name: str) -> None:
    found = await kb.get_objects(TOPIC, [{"name": name, "value": "医保卡丢了怎么办"}], limit=3)

    expected = [hit.entry.title for hit in kb.base.search("医保卡丢了怎么办", 3)]
    assert titles(found) == expected
    assert found[0]["id"] == "yibaoka-guashi"


async def test_a_query_and_filters_combine(kb: VoicebotKnowledgeBase) -> None:
    attributes = [{"name": "query", "value": "医保卡丢了怎么办"}, {"name": "kind", "value": "faq"}]

    found = await kb.get_objects(TOPIC, attributes)

    assert found
    assert all(topic["kind"] == "faq" for topic in found)
    assert "医保卡挂失补办" not in titles(found)


async def test_a_query_matching_nothing_lists_nothing(kb: VoicebotKnowledgeBase) -> None:
    assert await kb.get_objects(TOPIC, [{"name": "query", "value": "今天天气怎么样"}]) == []


@pytest.mark.parametrize(
    "identifier",
    ["yidi-anzhi", "YIDI-ANZHI", "异地安置", " 异地安置 ", "退休后去外地住"],
    ids=["id", "id-case", "title", "title-spaces", "search"],
)
async def test_get_object_by_id_title_or_clear_search_hit(kb: VoicebotKnowledgeBase, identifier: str) -> None:
    topic = await kb.get_object(TOPIC, identifier)

    assert topic is not None
    assert topic["id"] == "yidi-anzhi"
    assert topic["answer"] == answer_of(kb, "yidi-anzhi")


@pytest.mark.parametrize(
    "identifier",
    ["异地", "第一个", "今天天气怎么样", ""],
    ids=["several-equally-good", "weak-hits", "no-hit", "empty"],
)
async def test_get_object_is_none_without_a_clear_topic(kb: VoicebotKnowledgeBase, identifier: str) -> None:
    assert await kb.get_object(TOPIC, identifier) is None


async def test_get_object_of_an_unknown_type_is_none(kb: VoicebotKnowledgeBase) -> None:
    assert await kb.get_object("restaurant", "yidi-anzhi") is None


@pytest.mark.parametrize(
    ("mention", "expected"),
    [("1", "a"), ("3", "c"), ("第二个", "b"), ("第三", "c"), ("第3个", "c"), ("LAST", "c"), ("最后", "c")],
)
def test_ordinal_mentions(kb: VoicebotKnowledgeBase, mention: str, expected: str) -> None:
    assert kb.ordinal_mention_mapping[mention](["a", "b", "c"]) == expected


def test_an_ordinal_past_the_list_is_none(kb: VoicebotKnowledgeBase) -> None:
    assert kb.ordinal_mention_mapping["第四个"](["a", "b", "c"]) is None
    assert kb.ordinal_mention_mapping["ANY"](["a", "b", "c"]) in {"a", "b", "c"}


def test_titles_name_children(kb: VoicebotKnowledgeBase) -> None:
    assert kb.titles(["zhuanzhen-zhuanyuan", "yidi-anzhi", "gone"]) == ["转诊转院", "异地安置", "gone"]


# --- (b) rasa-sdk's ActionExecutor ------------------------------------------------------

SLOTS = (
    "object_type",
    "mention",
    "attribute",
    "topic",
    "query",
    "knowledge_base_listed_objects",
    "knowledge_base_last_object",
    "knowledge_base_last_object_type",
)
DOMAIN: dict[str, Any] = {
    "intents": [{"query_knowledge_base": {"use_entities": True}}],
    "entities": ["object_type", "mention", "attribute", "topic"],
    "slots": {name: {"type": "any", "mappings": [{"type": "custom"}]} for name in SLOTS},
    "responses": {"utter_ask_rephrase": [{"text": "抱歉，请您换个说法再说一遍。"}]},
    "actions": [ACTION],
    "forms": {},
}


def action_call(text: str, entities: dict[str, str], slots: dict[str, Any]) -> dict[str, Any]:
    """What Rasa posts after NLU extracted ``entities`` from ``text`` and filled ``slots``."""
    slot_values: dict[str, Any] = dict.fromkeys(SLOTS)
    slot_values.update(slots)
    slot_values.update(entities)  # Rasa fills a slot from the entity of the same name
    latest_message = {
        "text": text,
        "intent": {"name": "query_knowledge_base", "confidence": 0.98},
        "entities": [{"entity": name, "value": value} for name, value in entities.items()],
    }
    return {
        "next_action": ACTION,
        "sender_id": "caller-1",
        "version": rasa_sdk.__version__,
        "domain": DOMAIN,
        "tracker": {
            "sender_id": "caller-1",
            "slots": slot_values,
            "latest_message": latest_message,
            "events": [{"event": "user", "text": text, "parse_data": latest_message}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def slots_after(call: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots once Rasa applied the action's ``SlotSet`` events."""
    slots = dict(call["tracker"]["slots"])
    slots.update({event["name"]: event["value"] for event in events if event["event"] == "slot"})
    return slots


@pytest.fixture
def executor(monkeypatch: pytest.MonkeyPatch) -> ActionExecutor:
    monkeypatch.setenv("VOICEBOT_KB_DIR", str(DATA_DIR))
    executor = ActionExecutor()
    executor.register_package("knowledge.actions")
    return executor


async def run(executor: ActionExecutor, call: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The texts (or response names) the action dispatched, and the events it returned."""
    result = await executor.run(call)
    assert result is not None
    said = [message["text"] or message["response"] for message in result.responses]
    return said, result.events


def test_the_package_registers_our_action(executor: ActionExecutor) -> None:
    assert [action.name for action in executor.list_actions()] == [ACTION]


async def test_lists_topics(executor: ActionExecutor) -> None:
    call = action_call("有哪些业务", {"object_type": TOPIC}, {})

    said, events = await run(executor, call)

    assert said == ["为您找到以下内容：", *(f"{i}：{title}" for i, title in enumerate(FIRST_FIVE, 1))]
    slots = slots_after(call, events)
    ids = ["yidi-beian", "zhuanzhen-zhuanyuan", "yidi-anzhi", "yidi-jizhen", "yibaoka-guashi"]
    assert slots["knowledge_base_listed_objects"] == ids
    assert slots["knowledge_base_last_object_type"] == TOPIC
    assert slots["knowledge_base_last_object"] is None  # several listed: none is "it" yet
    assert slots["object_type"] is None


async def test_lists_topics_for_a_question_and_resets_the_query(executor: ActionExecutor) -> None:
    call = action_call("医保卡丢了怎么办", {"object_type": TOPIC}, {"query": "医保卡丢了怎么办"})

    said, events = await run(executor, call)

    assert said[:2] == ["为您找到以下内容：", "1：医保卡挂失补办"]
    assert slots_after(call, events)["query"] is None


async def test_answers_the_topic_named(executor: ActionExecutor, kb: VoicebotKnowledgeBase) -> None:
    call = action_call("异地安置要怎么办", {"topic": "异地安置", "attribute": "answer"}, {})

    said, events = await run(executor, call)

    assert said == [answer_of(kb, "yidi-anzhi")]
    slots = slots_after(call, events)
    assert slots["knowledge_base_last_object"] == "yidi-anzhi"
    assert slots["knowledge_base_last_object_type"] == TOPIC
    assert slots["attribute"] is None


@pytest.mark.parametrize("mention", ["3", "第三个"])
async def test_answers_a_topic_picked_by_position_after_a_listing(
    executor: ActionExecutor, kb: VoicebotKnowledgeBase, mention: str
) -> None:
    listing = action_call("有哪些业务", {"object_type": TOPIC}, {})
    _, events = await run(executor, listing)
    slots = slots_after(listing, events)

    picked = action_call(f"{mention}怎么办理", {"mention": mention, "attribute": "answer"}, slots)

    said, _ = await run(executor, picked)

    assert said == [answer_of(kb, "yidi-anzhi")]


async def test_it_means_the_last_topic(executor: ActionExecutor) -> None:
    first = action_call("转诊转院怎么办", {"topic": "转诊转院", "attribute": "answer"}, {})
    _, events = await run(executor, first)
    slots = slots_after(first, events)

    follow_up = action_call("它有哪些关键词", {"mention": "它", "attribute": "keywords"}, slots)

    said, _ = await run(executor, follow_up)

    assert said == ["转诊转院的关键词：转诊、转院、转诊单"]


async def test_names_children_by_title(executor: ActionExecutor) -> None:
    call = action_call("异地就医备案分哪几种", {"topic": "异地就医备案", "attribute": "children"}, {})

    said, _ = await run(executor, call)

    assert said == ["异地就医备案的细分内容：转诊转院、异地安置、异地急诊"]


async def test_asks_to_rephrase_an_unknown_topic(executor: ActionExecutor) -> None:
    call = action_call("火星移民怎么办", {"topic": "火星移民", "attribute": "answer"}, {})

    said, events = await run(executor, call)

    assert said == ["utter_ask_rephrase"]
    assert events == [{"event": "slot", "timestamp": None, "name": "mention", "value": None}]


async def test_a_missing_directory_is_a_config_error(
    executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VOICEBOT_KB_DIR", str(tmp_path / "missing"))

    with pytest.raises(ConfigError, match="VOICEBOT_KB_DIR"):
        await executor.run(action_call("有哪些业务", {"object_type": TOPIC}, {}))


def test_importing_the_actions_module_loads_no_knowledge_code() -> None:
    script = "import sys, knowledge.actions; print(sorted({'knowledge.rasa', 'jieba'} & set(sys.modules)))"

    imported = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert imported.stdout.strip() == "[]"


def test_a_new_action_has_loaded_nothing_and_pickles() -> None:
    action = ActionQueryVoicebotKnowledgeBase()  # as the server creates it, then pickles it into its worker

    restored = pickle.loads(pickle.dumps(action))

    assert restored.name() == ACTION
    with pytest.raises(RuntimeError):
        _ = restored.knowledge_base


def test_attribute_texts() -> None:
    assert attribute_text("异地安置", "answer", "可以办理。") == "可以办理。"
    assert attribute_text("异地安置", "kind", "knowledge") == "异地安置的类型：knowledge"
    assert attribute_text("异地安置", "children", []) == "抱歉，异地安置没有细分内容的信息。"


# --- (c) the real action server ---------------------------------------------------------


@pytest.fixture
def action_server(tmp_path: Path) -> Iterator[str]:
    """``python -m rasa_sdk --actions knowledge.actions`` on 127.0.0.1; its base URL.

    Sanic runs its workers as child processes: the server gets its own process group,
    is stopped with SIGTERM (Sanic then stops its workers), and whatever is left of
    the group is killed.
    """
    port = unused_port()
    env = {**os.environ, "SANIC_HOST": "127.0.0.1", "VOICEBOT_KB_DIR": str(DATA_DIR)}  # default host: 0.0.0.0
    command = [sys.executable, "-m", "rasa_sdk", "--actions", "knowledge.actions", "--port", str(port)]
    log_path = tmp_path / "action-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(process, url, log_path)
        yield url
    finally:
        _stop(process)


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the action server exited ({process.returncode}):\n{log_path.read_text('utf-8')}")
        with suppress(httpx.TransportError):
            if httpx.get(f"{url}/health", timeout=1).json() == {"status": "ok"}:
                return
        time.sleep(0.2)
    pytest.fail(f"the action server did not answer /health in time:\n{log_path.read_text('utf-8')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    with suppress(ProcessLookupError):  # a worker outliving the main process, or the main one
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=15)


async def test_the_action_server_answers_from_our_data(action_server: str, kb: VoicebotKnowledgeBase) -> None:
    call = action_call("异地安置要怎么办", {"topic": "异地安置", "attribute": "answer"}, {})

    async with httpx.AsyncClient(base_url=action_server, timeout=60) as client:
        actions = await client.get("/actions")
        answered = await client.post("/webhook", json=call)

    assert actions.json() == [{"name": ACTION}]
    assert answered.status_code == 200
    result = answered.json()
    assert [message["text"] for message in result["responses"]] == [answer_of(kb, "yidi-anzhi")]
    assert slots_after(call, result["events"])["knowledge_base_last_object"] == "yidi-anzhi"
