"""The AI speech callback, as the CTI drives it (protocols.md §1)."""

from __future__ import annotations

import asyncio
import io
import re
import wave
from urllib.parse import quote, urlsplit

import pytest
from quart.typing import TestClientProtocol as QuartClient

from bot.app import create_app
from bot.config import Settings
from bot.dialog.state import CallState
from bot.pbx.log import LogPBX
from bot.services import Services
from bot.store.sessions import MemorySessionStore
from bot.text.segmenter import Segmenter
from tests.conftest import CTI

AUDIO_URL = re.compile(r"^http://127.0.0.1/audio/[0-9a-f]{64}\.wav\?canbeinterrupted=(true|false)$")


def interruptible(url: str) -> bool:
    match = AUDIO_URL.match(url)
    assert match, f"not a bare audio URL: {url!r}"
    return match.group(1) == "true"


async def transcript(client: QuartClient, call_id: str) -> dict[str, object]:
    response = await client.get(f"/calls/{quote(call_id)}")
    assert response.status_code == 200
    return await response.get_json()  # type: ignore[no-any-return]


async def test_scripted_call_greets_transfers_and_records_every_turn(
    cti: CTI, client: QuartClient, pbx: LogPBX
) -> None:
    call = "fd6a66a6-52da-4bcd-ade3-902aecb2a996@192.168.1.82"
    greeting = await cti.say(call, "ready2speak")
    assert interruptible(greeting)

    audio = await client.get(urlsplit(greeting).path)
    assert audio.status_code == 200
    assert audio.headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(await audio.get_data(as_text=False))) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.getnframes() / 8000 > 1.0

    notice = await cti.say(call, "我要转人工")
    assert not interruptible(notice)
    assert pbx.requests == []  # not before the caller has heard the notice
    await pbx.wait_for(1)
    assert [(r.action, r.call_id, r.argument) for r in pbx.requests] == [("transfer", call, "8001")]

    response = await client.get(f"/cti/ai?telnum=13800138000&txt=hungup&callid={quote(call)}")
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == ""

    record = await transcript(client, call)
    assert record["outcome"] == "transferred"
    assert record["telnum"] == "138****8000"  # masked, unless an admin asks to see it
    assert record["flow"] == "yibao"
    turns = record["turns"]
    assert isinstance(turns, list)
    assert [t["event"] for t in turns] == ["ready2speak", "text", "pbx", "hungup"]
    assert turns[2]["text"] == "transfer 8001"
    assert turns[2]["pbx"][0]["action"] == "transfer"  # the PBX request, as the transcript keeps it
    assert turns[0]["audio_url"] == greeting
    assert "欢迎致电医保服务热线" in turns[0]["reply"]
    assert turns[1]["intent"] == "transfer_agent"
    assert turns[1]["confidence"] >= 0.5
    assert turns[1]["step"] == "transfer"
    assert "转接人工" in turns[1]["reply"]
    assert set(turns[0]) >= {
        "at",
        "event",
        "text",
        "playing",
        "intent",
        "confidence",
        "step",
        "reply",
        "audio_url",
        "continued",
        "ms",
    }


async def test_backchannel_during_playback_continues_and_leaves_state(cti: CTI, client: QuartClient) -> None:
    call = "15155578339432391"
    await cti.say(call, "ready2speak")
    assert await cti.say(call, "嗯", playing=True) == "continue"
    assert await cti.say(call, "对对，好的。", playing=True) == "continue"
    # State unchanged: the next silence is still the first re-prompt of the greeting step.
    reprompt = await cti.say(call, "ready2speak")
    turns = (await transcript(client, call))["turns"]
    assert isinstance(turns, list)
    assert [t["continued"] for t in turns] == [False, True, True, False]
    assert turns[1]["step"] == turns[3]["step"] == "greeting"
    assert "请问您还在吗" in turns[3]["reply"]
    assert interruptible(reprompt)


async def test_question_during_interruptible_prompt_interrupts(cti: CTI, client: QuartClient) -> None:
    call = "barge-in-1"
    greeting = await cti.say(call, "ready2speak")
    answer = await cti.say(call, "我想查一下报销进度", playing=True)
    assert answer not in ("continue", greeting)
    interruptible(answer)
    turns = (await transcript(client, call))["turns"]
    assert isinstance(turns, list)
    assert turns[1]["intent"] == "query_progress"
    assert not turns[1]["continued"]


async def test_speech_during_protected_prompt_is_ignored(cti: CTI) -> None:
    call = "protected-1"
    await cti.say(call, "ready2speak")
    notice = await cti.say(call, "转人工")
    assert not interruptible(notice)
    assert await cti.say(call, "喂你好我要查报销进度", playing=True) == "continue"


async def test_three_silences_reprompt_twice_then_hang_up(cti: CTI, client: QuartClient, pbx: LogPBX) -> None:
    call = "silent-1"
    await cti.say(call, "ready2speak")
    urls = [await cti.say(call, "ready2speak") for _ in range(3)]
    assert len(set(urls)) == 3
    record = await transcript(client, call)
    assert record["outcome"] == "hung_up_by_bot"
    assert "silence" in str(record["end_reason"])
    assert record["ended_at"]
    replies = [t["reply"] for t in record["turns"]]  # type: ignore[attr-defined]
    assert "请问您还在吗" in replies[1]
    assert "直接说出您的问题" in replies[2]
    assert "没有听到您的声音" in replies[3]
    assert not interruptible(urls[2])
    assert [r.action for r in await pbx.wait_for(1)] == ["hangup"]


async def test_no_match_asks_the_knowledge_base_then_offers_an_agent(cti: CTI, client: QuartClient) -> None:
    call = "nomatch-1"
    await cti.say(call, "ready2speak")
    await cti.say(call, "我想买一台电脑")
    turns = (await transcript(client, call))["turns"]
    assert isinstance(turns, list)
    assert turns[1]["intent"] is None
    assert turns[1]["step"] == "offer_transfer"  # the knowledge base had nothing either
    assert "没能理解您的问题。需要为您转接人工客服吗" in turns[1]["reply"]


async def test_goodbye_hangs_up(cti: CTI, client: QuartClient, pbx: LogPBX) -> None:
    call = "bye-1"
    await cti.say(call, "ready2speak")
    await cti.say(call, "没有别的事了，再见")
    record = await transcript(client, call)
    assert record["outcome"] == "hung_up_by_bot"
    assert [r.action for r in await pbx.wait_for(1)] == ["hangup"]


async def test_negated_transfer_is_not_a_transfer(cti: CTI, client: QuartClient, pbx: LogPBX) -> None:
    await cti.say("neg-1", "ready2speak")
    await cti.say("neg-1", "不需要转人工")
    assert pbx.requests == []
    record = await transcript(client, "neg-1")
    assert record["outcome"] == "in_progress"
    assert record["turns"][1]["intent"] != "transfer_agent"  # type: ignore[index]


async def test_unknown_call_with_text_starts_at_entry_and_answers(cti: CTI, client: QuartClient) -> None:
    answer = await cti.say("after-restart-1", "医保卡丢了")
    interruptible(answer)
    record = await transcript(client, "after-restart-1")
    turns = record["turns"]
    assert isinstance(turns, list)
    assert turns[0]["intent"] == "card_loss"
    assert "手机号码" in turns[0]["reply"]
    assert "欢迎致电" not in turns[0]["reply"]
    assert record["outcome"] == "in_progress"


async def test_hungup_of_unknown_call_is_recorded(cti: CTI, client: QuartClient) -> None:
    assert await cti.say("never-seen", "hungup") == ""
    assert (await transcript(client, "never-seen"))["outcome"] == "hung_up_by_caller"


async def test_flow_parameter_picks_the_flow(cti: CTI, client: QuartClient) -> None:
    await cti.say("flow-1", "ready2speak", flow="yibao")
    assert (await transcript(client, "flow-1"))["flow"] == "yibao"
    status, body = await cti.send("flow-2", "ready2speak", flow="nosuchflow")
    assert status == 404
    assert "nosuchflow" in body


async def test_gbk_encoded_text_is_understood(client: QuartClient, pbx: LogPBX) -> None:
    gbk = quote("我要转人工".encode("gbk"))
    await client.get("/cti/ai?telnum=1&txt=ready2speak&callid=gbk-1")
    response = await client.get(f"/cti/ai?telnum=1&txt={gbk}&callid=gbk-1")
    assert response.status_code == 200
    assert [r.action for r in await pbx.wait_for(1)] == ["transfer"]
    turns = (await transcript(client, "gbk-1"))["turns"]
    assert isinstance(turns, list)
    assert turns[1]["text"] == "我要转人工"
    assert turns[1]["encoding"] == "gbk"


async def test_post_form_is_accepted(client: QuartClient) -> None:
    response = await client.post(
        "/cti/ai",
        data=f"telnum=1&txt={quote('我要转人工')}&callid=post-1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert not interruptible(await response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("query", "status", "reason"),
    [
        ("telnum=1&txt=ready2speak", 400, "missing callid"),
        ("telnum=1&txt=ready2speak&callid=", 400, "missing callid"),
        ("telnum=1&callid=abc", 400, "missing txt"),
        ("telnum=1&txt=%FF%FF%FF&callid=abc", 400, "neither UTF-8 nor GBK"),
        ("telnum=1&txt=" + "a" * 10_000 + "&callid=abc", 413, "longer than"),
        ("telnum=1&txt=ready2speak&callid=" + "x" * 300, 400, "callid longer"),
        ("telnum=1&txt=hi&callid=abc&flow=../../etc", 404, "unknown flow"),
        ("", 400, "missing callid"),
        ("%%%&&&===", 400, "missing callid"),
    ],
    ids=[
        "no-callid",
        "empty-callid",
        "no-txt",
        "invalid-bytes",
        "10kB-txt",
        "long-callid",
        "bad-flow",
        "empty-query",
        "garbage-query",
    ],
)
async def test_invalid_callbacks_get_4xx_plain_text(
    client: QuartClient, query: str, status: int, reason: str
) -> None:
    response = await client.get(f"/cti/ai?{query}")
    assert response.status_code == status
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reason in await response.get_data(as_text=True)


async def test_fifty_concurrent_callbacks_of_one_call_are_serialized(
    cti: CTI, client: QuartClient, pbx: LogPBX
) -> None:
    call = "burst-1"
    bodies = await asyncio.gather(*(cti.say(call, "ready2speak") for _ in range(50)))
    turns = (await transcript(client, call))["turns"]
    assert isinstance(turns, list)
    assert len(turns) == 50
    # Greeting, two re-prompts, goodbye: exactly once each, in order, then replays.
    steps = [t["step"] for t in turns]
    assert steps[:4] == ["greeting", "greeting", "greeting", "silence_goodbye"]
    assert [r.action for r in await pbx.wait_for(1)] == ["hangup"]
    assert sorted(bodies) == sorted(t["audio_url"] for t in turns)
    assert all(t["reply"] == turns[3]["reply"] for t in turns[4:])


async def test_two_hundred_concurrent_calls_all_complete(cti: CTI, client: QuartClient) -> None:
    async def one_call(n: int) -> None:
        call = f"load-{n}"
        interruptible(await cti.say(call, "ready2speak"))
        interruptible(await cti.say(call, "我的医保卡丢了"))
        assert await cti.say(call, "hungup") == ""

    await asyncio.gather(*(one_call(n) for n in range(200)))
    listed = (await (await client.get("/calls?limit=1000")).get_json())["calls"]
    assert len(listed) == 200
    assert {c["outcome"] for c in listed} == {"hung_up_by_caller"}
    assert {c["turn_count"] for c in listed} == {3}


async def test_abandoned_calls_are_closed(services: Services, cti: CTI, client: QuartClient) -> None:
    await cti.say("abandoned-1", "ready2speak")
    svc = services
    assert svc.calls is not None
    assert await svc.calls.close_idle(3600) == 0
    assert await svc.calls.close_idle(0) == 1
    record = await transcript(client, "abandoned-1")
    assert record["outcome"] == "hung_up_by_caller"
    assert str(record["end_reason"]).startswith("abandoned")


async def test_a_forgotten_ended_call_stays_ended(
    services: Services, cti: CTI, client: QuartClient, pbx: LogPBX
) -> None:
    await cti.say("ended-1", "ready2speak")
    await cti.say("ended-1", "没有了，再见")
    assert await services.sessions.pop_idle(-1)  # as after a restart: memory is gone
    await cti.say("ended-1", "我要转人工")
    await cti.say("ended-1", "hungup")
    record = await transcript(client, "ended-1")
    assert record["outcome"] == "hung_up_by_bot"
    assert "transfer" not in [r.action for r in pbx.requests]  # never acts again
    assert services.calls is not None
    assert services.calls.followups.waiting("ended-1") is None


async def test_a_forgotten_ended_call_is_not_reported_again(services: Services, cti: CTI) -> None:
    """Its state comes back from the transcript without its variables: reporting it again
    would overwrite what was reported when it ended (a campaign number's slots)."""
    await cti.say("ended-2", "ready2speak")
    await cti.say("ended-2", "没有了，再见")
    assert services.calls is not None
    assert await services.sessions.pop_idle(-1)  # forgotten (a minute after its end, or a restart)
    reported: list[str] = []

    async def spy(state: CallState) -> None:
        reported.append(state.call_id)

    services.calls.endings.on_call_end = spy
    await cti.say("ended-2", "hungup")  # the CTI's, after the bot's own hang-up
    assert reported == []


async def test_an_abandoned_call_is_not_reopened(services: Services, cti: CTI, client: QuartClient) -> None:
    await cti.say("expired-1", "ready2speak")
    assert services.calls is not None
    await services.calls.close_idle(0)
    url = await cti.say("expired-1", "ready2speak")
    assert not interruptible(url)
    record = await transcript(client, "expired-1")
    assert record["outcome"] == "hung_up_by_caller"
    assert record["ended_at"]


async def test_barge_in_after_the_end_never_restarts_the_goodbye(cti: CTI) -> None:
    await cti.say("bye-barge", "ready2speak")
    await cti.say("bye-barge", "再见")
    assert await cti.say("bye-barge", "好的谢谢你", playing=True) == "continue"


async def test_a_reply_no_backend_can_say_plays_the_apology_and_goes_to_the_ctis_tts(
    services: Services, cti: CTI, client: QuartClient, settings: Settings, pbx: LogPBX
) -> None:
    await cti.say("fail-1", "ready2speak")
    (espeak,) = services.speech.backends
    espeak.binary = "/nonexistent/espeak-ng"  # type: ignore[attr-defined]  # espeak-ng is gone
    for wav in settings.audio_dir.glob("*.wav"):  # the next reply cannot be joined or made again
        wav.unlink()
    status, body = await cti.send("fail-1", "你们几点下班")
    assert status == 200
    assert not interruptible(body)  # the pre-rendered apology
    played = await pbx.wait_for(1)
    assert [r.action for r in played] == ["play"]
    assert "服务时间是工作日" in str(played[0].argument)  # the reply's own words, for the CTI to speak
    turns = (await transcript(client, "fail-1"))["turns"]
    assert isinstance(turns, list)
    assert turns[1]["audio_url"] == body
    assert str(turns[1]["tts"]).startswith("unavailable")
    assert turns[-1]["event"] == "pbx"


class SlowStore(MemorySessionStore):
    """A session store that takes its time to write, like a remote one on a slow network."""

    def __init__(self) -> None:
        super().__init__()
        self.slow = False
        self.storing = asyncio.Event()

    async def put(self, state: CallState) -> None:
        if self.slow:
            self.storing.set()
            await asyncio.sleep(0.2)
        await super().put(state)


async def test_a_turn_completes_when_the_cti_stops_waiting(
    settings: Settings, segmenter: Segmenter, pbx: LogPBX
) -> None:
    store = SlowStore()
    app = create_app(settings, pbx=pbx, store=store, segmenter=segmenter)
    async with app.test_app() as started:
        cti = CTI(started.test_client())
        await cti.say("cancel-1", "ready2speak")
        store.slow = True
        request = asyncio.create_task(cti.say("cancel-1", "我要转人工"))
        await store.storing.wait()
        request.cancel()  # the CTI's HTTP timeout
        with pytest.raises(asyncio.CancelledError):
            await request
        store.slow = False
        await pbx.wait_for(1)  # the transfer the interrupted turn announced still happens
        # The next callback of the call waits for the interrupted turn to finish.
        await cti.say("cancel-1", "hungup")
        record = await (await started.test_client().get("/calls/cancel-1")).get_json()
    assert [r.action for r in pbx.requests] == ["transfer"]
    assert record["outcome"] == "transferred"
    assert [t["event"] for t in record["turns"]] == ["ready2speak", "text", "pbx", "hungup"]


async def test_head_is_answered_without_a_turn(client: QuartClient) -> None:
    response = await client.head("/cti/ai?telnum=1&txt=ready2speak&callid=probe-1")
    assert response.status_code == 200
    assert (await client.get("/calls/probe-1")).status_code == 404


@pytest.mark.parametrize(
    ("method", "body", "status", "reason"),
    [
        ("PUT", b"", 405, "not allowed"),
        ("POST", b"txt=" + b"a" * 70_000, 413, "larger than"),
        ("POST", b"a" * 2_000_000, 413, ""),
    ],
    ids=["put", "post-over-64kB", "post-over-1MB"],
)
async def test_http_errors_on_the_callback_are_plain_text(
    client: QuartClient, method: str, body: bytes, status: int, reason: str
) -> None:
    send = client.put if method == "PUT" else client.post
    response = await send(
        "/cti/ai?callid=x", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == status
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reason in await response.get_data(as_text=True)


@pytest.mark.parametrize(
    "host", ["", "x:abc", "a b", "evil/path"], ids=["empty", "bad-port", "space", "slash"]
)
async def test_an_unusable_host_header_falls_back_to_the_socket_address(
    client: QuartClient, host: str
) -> None:
    response = await client.get("/cti/ai?txt=ready2speak&callid=host-1", headers={"Host": host})
    assert re.match(
        r"^http://[^/\s]+/audio/[0-9a-f]{64}\.wav\?canbeinterrupted=true$",
        await response.get_data(as_text=True),
    )


async def test_a_call_s_grade_and_variables_are_in_its_transcript(cti: CTI, client: QuartClient) -> None:
    await cti.say("graded-1", "ready2speak")
    await cti.say("graded-1", "医保卡丢了，手机号13812345678")
    await cti.say("graded-1", "对的")
    await cti.say("graded-1", "转人工")
    record = await transcript(client, "graded-1")
    assert record["outcome"] == "transferred"
    assert (record["grade"], record["score"], record["grade_reason"]) == ("A", 90, "转人工，需坐席跟进")
    assert record["variables"]["phone"] == "138****5678"  # type: ignore[index]
    revealed = await (await client.get("/calls/graded-1?reveal=1")).get_json()
    variables = revealed["variables"]
    assert isinstance(variables, dict)
    assert variables["phone"] == "13812345678"
    assert re.fullmatch(r"\d{8}5678", variables["reference"])
    listed = await (await client.get("/calls")).get_json()
    assert listed["calls"][0]["grade"] == "A"


async def test_a_call_in_progress_has_no_grade_yet(cti: CTI, client: QuartClient) -> None:
    await cti.say("graded-2", "ready2speak")
    record = await transcript(client, "graded-2")
    assert (record["outcome"], record["grade"], record["score"], record["variables"]) == (
        "in_progress",
        None,
        None,
        {},
    )
