"""The caller speaks first: a text callback as a call's first event (GX §52.3 sends
``ready2speak`` only when the caller stays silent; the callee of an outbound call says
"喂？")."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.pbx.log import LogPBX
from tests.conftest import CTI


async def record(client: QuartClient, call_id: str) -> dict[str, Any]:
    response = await client.get(f"/calls/{quote(call_id)}")
    assert response.status_code == 200
    return await response.get_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("flow", "first_words"), [("survey", "喂"), ("yibao", "你好"), ("survey", "喂？你好")], ids=str
)
async def test_a_greeting_first_gets_the_flows_greeting(
    cti: CTI, client: QuartClient, flow: str, first_words: str
) -> None:
    silent = await cti.say(f"{flow}-silent", "ready2speak", flow=flow)
    spoken = await cti.say(f"{flow}-{first_words}", first_words, flow=flow)
    assert spoken == silent  # the same greeting, the same audio
    call = await record(client, f"{flow}-{first_words}")
    assert call["flow"] == flow
    assert call["turns"][0]["text"] == first_words
    assert call["turns"][0]["reply"] == (await record(client, f"{flow}-silent"))["turns"][0]["reply"]


async def test_the_survey_callee_hears_who_calls(cti: CTI, client: QuartClient) -> None:
    await cti.say("s-1", "喂", flow="survey")
    (turn,) = (await record(client, "s-1"))["turns"]
    assert turn["step"] == "intro"
    assert "请问现在方便吗" in turn["reply"]


async def test_a_request_first_is_answered_after_a_short_greeting(
    cti: CTI, client: QuartClient, pbx: LogPBX
) -> None:
    notice = await cti.say("y-1", "我要转人工")
    assert notice.endswith("canbeinterrupted=false")
    (turn,) = (await record(client, "y-1"))["turns"]
    assert turn["intent"] == "transfer_agent"
    assert turn["reply"].startswith("您好，")  # the flow's caller_first words lead
    assert "转接" in turn["reply"]
    await pbx.wait_for(1)
    assert [r.action for r in pbx.requests] == ["transfer"]
