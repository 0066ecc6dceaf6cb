"""``/cti/agent-speech``: the CTI's live transcript lines (GX manual §54), read as the CTI
sends them (URL-encoded UTF-8, GBK, a form body), refused with a reason when a field is
missing, matched to the robot call handed over to that number within the window, and
stored as ``agent_speech`` turns."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from pydantic import SecretStr
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.pbx.log import LogPBX
from bot.services import Services
from bot.text.segmenter import Segmenter
from tests.conftest import CTI

TELNUM = "13800138000"
AGENT = "801"


async def push(client: QuartClient, query: str, **kwargs: Any) -> tuple[int, str]:
    response = await client.get(f"/cti/agent-speech?{query}", **kwargs)
    return response.status_code, await response.get_data(as_text=True)


def line(
    txt: str, *, side: str = "caller", caller: str = TELNUM, callee: str = AGENT, callid: str = "c-1"
) -> str:
    """A §54 push's query as the CTI writes it: Java's URLEncoder, UTF-8."""
    return (
        f"caller={caller}&callee={callee}&callid={quote(callid)}&caller-callid={quote('caller-' + callid)}"
        f"&side={side}&txt={quote_plus(txt)}"
    )


async def transferred(cti: CTI, pbx: LogPBX, call_id: str, telnum: str = TELNUM) -> None:
    """A robot call on yibao that the PBX has taken to an agent."""
    await cti.say(call_id, "ready2speak", telnum=telnum)
    await cti.say(call_id, "我要转人工", telnum=telnum)
    await pbx.wait_for(len(pbx.requests) + 1)


async def turns(client: QuartClient, call_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/calls/{quote(call_id)}")
    found: list[dict[str, Any]] = (await response.get_json())["turns"]
    return [t for t in found if t["event"] == "agent_speech"]


async def test_a_line_of_a_transferred_call_joins_its_transcript(
    client: QuartClient, cti: CTI, pbx: LogPBX
) -> None:
    await transferred(cti, pbx, "as-1")
    assert await push(client, line("你好 我想问一下异地就医怎么备案")) == (200, "ok")
    assert await push(client, line("您是要办理异地就医备案是吧", side="callee")) == (200, "ok")
    stored = await turns(client, "as-1")
    assert [(t["side"], t["speaker"], t["text"]) for t in stored] == [
        ("caller", "customer", "你好 我想问一下异地就医怎么备案"),  # Java's "+" is a space
        ("callee", "agent", "您是要办理异地就医备案是吧"),
    ]
    assert stored[0]["encoding"] == "utf-8"


async def test_gbk_and_a_form_body_are_read(client: QuartClient, cti: CTI, pbx: LogPBX) -> None:
    await transferred(cti, pbx, "as-gbk")
    gbk = quote("喂 医保卡丢了".encode("gbk"))
    assert await push(client, f"caller={TELNUM}&callee={AGENT}&side=caller&txt={gbk}") == (200, "ok")
    form = f"caller={TELNUM}&callee={AGENT}&side=callee&txt={quote('请说一下身份证号')}"
    response = await client.post(
        "/cti/agent-speech", data=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (response.status_code, await response.get_data(as_text=True)) == (200, "ok")
    stored = await turns(client, "as-gbk")
    assert [(t["text"], t["encoding"]) for t in stored] == [
        ("喂 医保卡丢了", "gbk"),
        ("请说一下身份证号", "utf-8"),
    ]


async def test_control_characters_become_spaces_and_a_long_line_is_cut(
    client: QuartClient, cti: CTI, pbx: LogPBX, services: Services
) -> None:
    await transferred(cti, pbx, "as-cut")
    longest = services.settings.max_text_chars
    assert await push(client, line("医保\x00卡")) == (200, "ok")
    assert await push(client, line("长" * (longest + 10))) == (200, "ok")
    assert [t["text"] for t in await turns(client, "as-cut")] == ["医保 卡", "长" * longest]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (f"caller={TELNUM}&callee={AGENT}&side=caller", "txt is required"),
        (f"caller={TELNUM}&callee={AGENT}&side=caller&txt=", "txt is required"),
        (f"caller={TELNUM}&callee={AGENT}&txt=hi", "side must be caller or callee"),
        (f"caller={TELNUM}&callee={AGENT}&side=agent&txt=hi", "side must be caller or callee"),
        ("side=caller&txt=hi", "caller and callee are required"),
        (f"caller=138%0A00138000&callee={AGENT}&side=caller&txt=hi", "control characters"),
        (f"caller={TELNUM}&callee={AGENT}&side=caller&txt=%FF%FE%FD", "neither UTF-8 nor GBK"),
    ],
    ids=["no-txt", "empty-txt", "no-side", "bad-side", "no-numbers", "control-character", "bad-bytes"],
)
async def test_bad_input_is_400_with_the_reason(client: QuartClient, query: str, reason: str) -> None:
    status, body = await push(client, query)
    assert status == 400
    assert reason in body


async def test_a_line_of_no_handed_over_call_is_answered_unmatched_and_dropped(
    client: QuartClient, cti: CTI, pbx: LogPBX
) -> None:
    await cti.say("as-live", "ready2speak")  # in progress with the robot: not handed over
    assert await push(client, line("异地就医怎么备案")) == (200, "unmatched")
    assert await turns(client, "as-live") == []


async def test_matching_takes_the_number_either_side_and_the_latest_handover_in_the_window(
    client: QuartClient, cti: CTI, pbx: LogPBX, services: Services
) -> None:
    assert services.agent_screen is not None
    handovers = services.agent_screen.handovers
    window_seconds = services.settings.agent_speech_window_ms / 1000
    await transferred(cti, pbx, "as-old")
    await transferred(cti, pbx, "as-new")
    await handovers.register("as-old", TELNUM, time.time() - 5)  # an earlier one of the same number
    # An outbound robot call: the customer is the callee of the agent's call, and the
    # numbers are written with a country prefix.
    assert await push(client, line("喂", caller=AGENT, callee=f"+86{TELNUM}", side="callee", callid="x")) == (
        200,
        "ok",
    )
    assert [t["speaker"] for t in await turns(client, "as-new")] == ["customer"]
    assert await turns(client, "as-old") == []
    await transferred(cti, pbx, "as-stale", telnum="13900139000")
    stale = "13700137000"
    await handovers.register("as-stale", stale, time.time() - window_seconds - 1)
    assert await push(client, line("喂", caller=stale, callid="y")) == (200, "unmatched")


async def test_later_lines_follow_the_cti_call_id_once_matched(
    client: QuartClient, cti: CTI, pbx: LogPBX
) -> None:
    await transferred(cti, pbx, "as-id")
    assert await push(client, line("第一句", callid="agent-leg-1")) == (200, "ok")
    # The same agent call, whatever numbers it names now (an agent's consultation).
    assert await push(client, line("第二句", caller="802", callee="803", callid="agent-leg-1")) == (200, "ok")
    assert [t["text"] for t in await turns(client, "as-id")] == ["第一句", "第二句"]


@pytest.fixture
def masked_app(settings: Settings, segmenter: Segmenter) -> Quart:
    masked = settings.model_copy(update={"transcript_mask": True, "cti_token": SecretStr("cti-secret")})
    return create_app(masked, pbx=LogPBX(), segmenter=segmenter)


async def test_lines_are_masked_as_transcripts_are_and_need_the_cti_token(masked_app: Quart) -> None:
    async with masked_app.test_app() as started:
        client = started.test_client()
        svc: Services = masked_app.extensions["voicebot"]
        pbx = svc.pbx
        assert isinstance(pbx, LogPBX)
        cti = CTI(client)
        token = "&token=cti-secret"
        await client.get(f"/cti/ai?telnum={TELNUM}&txt=ready2speak&callid=as-m{token}")
        await client.get(f"/cti/ai?telnum={TELNUM}&txt={quote('我要转人工')}&callid=as-m{token}")
        await pbx.wait_for(1)
        assert (await push(client, line("我的手机是13912345678")))[0] == 403
        assert await push(client, line("我的手机是13912345678") + token) == (200, "ok")
        (stored,) = await turns(client, "as-m")
        assert stored["text"] == "我的手机是139****5678"
        del cti
