"""The caller speaks first: a call whose first event is text, not ``ready2speak``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import DEFAULT_BACKCHANNELS, DEFAULT_FILLERS
from bot.dialog.backchannel import BackchannelDetector
from bot.dialog.business import BusinessAPI
from bot.dialog.conversation import Conversation
from bot.dialog.engine import Dialog
from bot.dialog.registry import FlowRegistry
from bot.dialog.state import CallState
from bot.language.flow import Flow
from bot.language.loader import load_flows
from bot.text.greetings import only_greets
from bot.text.segmenter import Segmenter
from tests.dialog.flows import SAMPLES_DIR, TODAY, StaticFlows

ENDINGS = {
    "agent": {"say": {"text": "正在转接。", "interruptible": False}, "transfer": "8001"},
    "bye": {"say": "再见。", "hangup": True},
}
LADDERS = {
    "silence": {"prompts": ["还在吗？"], "then": "bye"},
    "no_match": {"prompts": ["没听清。"], "then": "agent"},
}


def flow(steps: dict[str, object], **extra: object) -> Flow:
    intents = {"agent": {"examples": ["转人工"]}, "hours": {"examples": ["几点下班"]}}
    return Flow.model_validate(
        {"intents": intents, "defaults": LADDERS, **extra, "steps": {**steps, **ENDINGS}}
    )


MENU = flow(
    {
        "hello": {"set": {"opened": "text"}, "say": "您好，这里是医保热线。", "goto": "menu"},
        "menu": {"say": "请问有什么可以帮您？", "ask": {"agent": "agent"}},
        "hours": {"say": "九点到五点。", "return": True},
    },
    **{"global": {"hours": "hours"}},
)
ASK_ID = flow(
    {
        "get_id": {
            "collect": {
                "slot": "id_card",
                "prompt": "请说身份证号码。",
                "confirm": "身份证号码是{{id_card}}，对吗？",
                "then": "bye",
            }
        },
    },
    slots={"id_card": {"type": "id_card"}},
    **{"global": {"agent": "agent"}},
)
KB = flow(
    {"ask_kb": {"knowledge": {"then": "bye", "on_error": "bye"}}},
    **{"global": {"agent": "agent"}},
)
OWN_WORDS = flow(
    {"menu": {"say": "请问有什么可以帮您？", "ask": {"agent": "agent"}}},
    defaults={**LADDERS, "caller_first": "您好，这里是医保热线。"},
)
HANGS_UP = flow({"closed": {"say": "今天休息，再见。", "hangup": True}})


@pytest.fixture
async def dialog() -> AsyncIterator[Dialog]:
    business = BusinessAPI()
    flows = {"menu": MENU, "ask_id": ASK_ID, "kb": KB, "own_words": OWN_WORDS, "hangs_up": HANGS_UP}
    yield Dialog(StaticFlows(flows), business=business, today=lambda: TODAY)
    await business.aclose()


def call(flow_name: str) -> CallState:
    return CallState(call_id="c", telnum="1", flow=flow_name, flow_version="v")


# --- the engine ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent", "only"),
    [
        ("喂", None, True),
        ("喂，你好", "agent", True),  # whatever the intent model makes of a greeting
        ("明天会下雨吗", None, False),
        ("几点了", "unknown-to-the-flow", False),
    ],
    ids=["greeting", "greeting read as an intent", "not understood", "an intent the step does not take"],
)
async def test_words_the_start_does_not_take_get_the_greeting_of_ready2speak(
    dialog: Dialog, text: str, intent: str | None, only: bool
) -> None:
    silent, spoken = call("menu"), call("menu")
    greeting = await dialog.silence(silent)
    reply = await dialog.answer(spoken, text, intent, only_greets=only)
    assert reply == greeting
    assert reply.text == "您好，这里是医保热线。请问有什么可以帮您？"
    assert (spoken.step, spoken.greeted, spoken.no_match_count, spoken.outcome) == (
        "menu",
        True,
        0,
        "in_progress",
    )
    assert spoken.variables == {"opened": None}  # the greeting's walk sees no words, as for ready2speak
    assert spoken.last_text == text
    assert spoken.intents == (() if only or intent is None else (intent,))


async def test_an_intent_of_the_start_step_is_answered_after_a_short_hello(dialog: Dialog) -> None:
    state = call("menu")
    reply = await dialog.answer(state, "我要转人工", "agent")
    assert reply.text == "您好，正在转接。"
    assert (reply.action, reply.target, reply.interruptible) == ("transfer", "8001", False)
    assert (state.outcome, state.intents) == ("transferred", ("agent",))


async def test_a_global_intent_is_answered_and_returns_to_the_start_step(dialog: Dialog) -> None:
    state = call("menu")
    reply = await dialog.answer(state, "你们几点下班", "hours")
    assert reply.text == "您好，九点到五点。请问有什么可以帮您？"
    assert state.step == "menu"


async def test_a_value_for_a_collect_start_step_fills_it(dialog: Dialog) -> None:
    state = call("ask_id")
    reply = await dialog.answer(state, "我的身份证是11010519491231002X", None)
    assert reply.text == "您好，身份证号码是幺幺零幺零五，幺九四九幺二三幺，零零二叉，对吗？"
    assert state.pending == ("id_card", "11010519491231002X")


async def test_no_value_at_a_collect_start_step_gets_its_question(dialog: Dialog) -> None:
    state = call("ask_id")
    reply = await dialog.answer(state, "喂，哪位啊", None)
    assert reply.text == "请说身份证号码。"
    assert (state.step, state.no_match_count) == ("get_id", 0)  # not a failed attempt


async def test_a_knowledge_start_step_greets_rather_than_search_the_first_words(dialog: Dialog) -> None:
    state = call("kb")
    reply = await dialog.answer(state, "异地就医怎么备案", None)  # no knowledge service: on_error if asked
    assert (reply.text, state.step, state.ended) == ("请问您想咨询什么问题？", "ask_kb", False)
    agent = await dialog.answer(call("kb"), "转人工", "agent")
    assert agent.text == "您好，正在转接。"


async def test_the_flow_sets_the_words_before_the_answer(dialog: Dialog) -> None:
    reply = await dialog.answer(call("own_words"), "转人工", "agent")
    assert reply.text == "您好，这里是医保热线。正在转接。"


async def test_a_start_that_ends_the_call_says_its_words(dialog: Dialog) -> None:
    state = call("hangs_up")
    reply = await dialog.answer(state, "转人工", "agent")
    assert (reply.text, reply.action, state.outcome) == ("今天休息，再见。", "hangup", "hung_up_by_bot")


async def test_after_the_greeting_words_are_answered_as_usual(dialog: Dialog) -> None:
    state = call("menu")
    await dialog.greet(state)
    assert (await dialog.answer(state, "转人工", "agent")).text == "正在转接。"


# --- greetings ---------------------------------------------------------------------------------

IS_BACKCHANNEL = BackchannelDetector(DEFAULT_BACKCHANNELS, DEFAULT_FILLERS)


@pytest.mark.parametrize(
    "text",
    [
        "喂",
        "喂？喂？",
        "你好",
        "喂，您好",
        "您好，哪位？",
        "你是谁啊",
        "喂，是哪里",
        "Hello",
        "嗯",
        "在的，你说",
        "",
    ],
)
def test_only_greets(text: str) -> None:
    assert only_greets(text, IS_BACKCHANNEL)


@pytest.mark.parametrize("text", ["你好，我要转人工", "喂，我想查报销进度", "你好你们几点下班", "我是张三"])
def test_words_with_a_request_do_not_only_greet(text: str) -> None:
    assert not only_greets(text, IS_BACKCHANNEL)


# --- the sample flows, through the conversation (intent recognition included) -------------------


@pytest.fixture(scope="module")
def registry(segmenter: Segmenter) -> FlowRegistry:
    flows = FlowRegistry(segmenter=segmenter, default_threshold=0.5)
    flows.install(load_flows(SAMPLES_DIR).values())
    return flows


@pytest.fixture
async def conversation(registry: FlowRegistry) -> AsyncIterator[Conversation]:
    business = BusinessAPI()
    dialog = Dialog(registry, business=business, today=lambda: TODAY)
    yield Conversation(registry, dialog, IS_BACKCHANNEL)
    await business.aclose()


def sample(name: str, registry: FlowRegistry) -> CallState:
    flow = registry.get(name)
    return CallState(call_id="c", telnum="13800000000", flow=flow.name, flow_version=flow.version)


@pytest.mark.parametrize("text", ["喂？", "喂，你好", "你好，哪位？", "嗯"])
async def test_survey_a_callee_who_answers_hello_hears_the_intro(
    conversation: Conversation, registry: FlowRegistry, text: str
) -> None:
    state = sample("survey", registry)
    heard = await conversation.hear(state, text, playing=True)  # nothing plays yet: heard, not ignored
    assert heard.reply is not None
    assert heard.reply.text.startswith("您好，这里是医保服务中心。想对您最近办理的业务做个简短回访")
    assert (state.step, state.turns, state.last_reply) == ("intro", 1, heard.reply)


async def test_survey_a_callee_who_is_busy_is_told_who_calls(
    conversation: Conversation, registry: FlowRegistry
) -> None:
    state = sample("survey", registry)
    heard = await conversation.hear(state, "喂，我在开车")
    assert heard.intent == "busy"
    assert heard.reply is not None
    assert heard.reply.text.startswith("您好，这里是医保服务中心。好的，不打扰您。请问哪天方便再联系您？")
    assert state.step == "ask_callback_date"


async def test_yibao_a_first_hello_gets_the_greeting(
    conversation: Conversation, registry: FlowRegistry
) -> None:
    state = sample("yibao", registry)
    heard = await conversation.hear(state, "你好")
    assert heard.reply is not None
    assert heard.reply.text.startswith("您好，欢迎致电医保服务热线。")
    assert (state.step, state.intents) == ("greeting", ())


async def test_yibao_a_first_request_for_an_agent_is_answered(
    conversation: Conversation, registry: FlowRegistry
) -> None:
    state = sample("yibao", registry)
    heard = await conversation.hear(state, "我要转人工")
    assert heard.reply is not None
    assert heard.reply.text == "您好，好的，正在为您转接人工客服，请稍候。"
    assert (heard.reply.action, state.outcome) == ("transfer", "transferred")


async def test_yibao_a_first_request_with_an_id_number_fills_the_slot(
    conversation: Conversation, registry: FlowRegistry
) -> None:
    state = sample("yibao", registry)
    heard = await conversation.hear(state, "我想查一下报销进度，身份证号是11010519491231002X")
    assert heard.reply is not None
    assert heard.reply.text.startswith("您好，您说的身份证号码是幺幺零幺零五")
    assert (state.step, state.pending) == ("query_progress", ("id_card", "11010519491231002X"))


async def test_yibao_first_words_it_does_not_understand_get_the_greeting(
    conversation: Conversation, registry: FlowRegistry
) -> None:
    state = sample("yibao", registry)
    heard = await conversation.hear(state, "今天天气怎么样")  # no match there goes to the knowledge base
    assert heard.reply is not None
    assert heard.reply.text.startswith("您好，欢迎致电医保服务热线。")
    assert (state.step, state.ended) == ("greeting", False)
