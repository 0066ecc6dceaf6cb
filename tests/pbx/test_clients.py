"""The GX CTI and HWD PBX clients against ``voicebot fake-pbx`` (a real process)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from bot.errors import PBXRejectedError, PBXUnavailableError
from bot.pbx.base import CallRef, Exchange, TransferTarget
from bot.pbx.gx import GXPBX
from bot.pbx.http import PBXHttp
from bot.pbx.hwd import HWDPBX
from bot.pbx.hwd_api import Credentials, HWDApi
from bot.pbx.log import KEPT_REQUESTS, LogPBX
from bot.speech.hwd import HWDTTS
from tests.fakepbx import FakePBX, run_fake_pbx
from tests.loopback import unused_port
from tests.test_serve import stop

CALL = CallRef("fd6a66a6-52da-4bcd-ade3-902aecb2a996@192.168.1.82", "13800138000")
GOOD = Credentials("voicebot", "secret", "api", "api")


def gx(base: str, **options: str) -> GXPBX:
    return GXPBX(PBXHttp(base, vendor="gx", timeout_seconds=2, retries=2), **options)  # type: ignore[arg-type]


def hwd_api(fake: FakePBX, credentials: Credentials = GOOD) -> HWDApi:
    return HWDApi(PBXHttp(fake.hwd_url, vendor="hwd", timeout_seconds=2, retries=2), credentials)


async def test_gx_play_voice_pushes_a_url_or_text(fake_pbx: FakePBX) -> None:
    pbx, journal = gx(fake_pbx.base), list[Exchange]()
    await pbx.play(CALL, "http://10.0.0.5:8080/audio/a.wav", journal=journal)
    await pbx.play(CALL, "请稍等", journal=journal)
    await pbx.aclose()
    queries = [r["query"] for r in fake_pbx.requests("gx")]
    assert queries == [
        {"callid": CALL.call_id, "voiceurl": "http://10.0.0.5:8080/audio/a.wav", "opt": "PLAY_VOICE"},
        {"callid": CALL.call_id, "voiceurl": "请稍等", "opt": "PLAY_VOICE"},
    ]
    assert [(e.action, e.status) for e in journal] == [("play", 200), ("play", 200)]


async def test_gx_transfer_carries_biz_data_for_the_agents_screen(fake_pbx: FakePBX) -> None:
    pbx = gx(fake_pbx.base)
    data = {
        "callid": CALL.call_id,
        "summary": "来电13800138000；最后说：我要转人工",
        "slots": {"phone": "138"},
    }
    await pbx.transfer(CALL, TransferTarget.parse("8001"), biz_data=data)
    await pbx.transfer(CALL, TransferTarget.parse("ivr:3"), biz_data=data)
    await pbx.aclose()
    agent, ivr = (r["query"] for r in fake_pbx.requests("gx"))
    assert (agent["opt"], agent["extnum"], agent["target"]) == ("CLICK_TO_TRANSFER", CALL.telnum, "8001")
    assert json.loads(unquote(agent["biz_data"])) == data  # the CTI forwards it still encoded
    assert (ivr["opt"], ivr["caller"], ivr["callee"], ivr["ivrid"]) == (
        "TALKING_CALLER_TO_IVR",
        CALL.telnum,
        "1000",  # the number the call came in on
        "3",
    )


async def test_gx_hang_up_modes(fake_pbx: FakePBX) -> None:
    click = gx(fake_pbx.base, access_number="12345")
    force = gx(fake_pbx.base, hangup="force", leader_extnum="803", extnum="8{telnum}")
    none = gx(fake_pbx.base, hangup="none")
    for pbx in (click, force, none):
        await pbx.hangup(CALL)
        await pbx.aclose()
    queries = [r["query"] for r in fake_pbx.requests("gx")]
    assert queries == [
        {"caller": CALL.telnum, "callee": "12345", "opt": "CLICK_TO_HUNGUP"},
        {"leaderExtnum": "803", "wokerExtnum": f"8{CALL.telnum}", "opt": "FORCE_HUNGUP"},
    ]


async def test_gx_refusals_are_typed_with_the_manuals_meaning(fake_pbx: FakePBX) -> None:
    pbx = gx(fake_pbx.base)
    fake_pbx.fail(action="click_to_transfer", status=486)
    with pytest.raises(PBXRejectedError, match="busy") as busy:
        await pbx.transfer(CALL, TransferTarget.parse("8001"))
    assert busy.value.code == "486"
    # A 500 may have transferred: never repeated. A hang-up is repeated safely.
    fake_pbx.fail(action="click_to_transfer", status=500, times=0)
    with pytest.raises(PBXUnavailableError):
        await pbx.transfer(CALL, TransferTarget.parse("8001"))
    fake_pbx.fail(action="click_to_hungup", status=500, times=2)
    journal: list[Exchange] = []
    await pbx.hangup(CALL, journal=journal)
    await pbx.aclose()
    assert [e.status for e in journal] == [500, 500, 200]
    opts = [r["query"]["opt"] for r in fake_pbx.requests("gx")]
    assert opts == [
        "CLICK_TO_TRANSFER",
        "CLICK_TO_TRANSFER",
        "CLICK_TO_HUNGUP",
        "CLICK_TO_HUNGUP",
        "CLICK_TO_HUNGUP",
    ]


async def test_an_unreachable_pbx_is_unavailable_and_the_journal_says_so() -> None:
    pbx, journal = gx(f"http://127.0.0.1:{unused_port()}"), list[Exchange]()
    with pytest.raises(PBXUnavailableError, match="no answer"):
        await pbx.play(CALL, "请稍等", journal=journal)
    await pbx.aclose()
    assert len(journal) == 3  # never reached the PBX: retried even for a play
    assert all(e.status is None and e.error for e in journal)


async def test_hwd_signs_in_once_sends_the_manuals_headers_and_masks_secrets(fake_pbx: FakePBX) -> None:
    api = hwd_api(fake_pbx)
    pbx, journal = HWDPBX(api), list[Exchange]()
    await pbx.transfer(CALL, TransferTarget.parse("8001"), journal=journal)
    await pbx.transfer(CALL, TransferTarget.parse("queue:200"), journal=journal)
    await pbx.transfer(CALL, TransferTarget.parse("ivr:aa_1001315"), journal=journal)
    await pbx.hangup(CALL, journal=journal)
    await api.aclose()
    records = fake_pbx.requests("hwd")
    assert [r["path"].rsplit("/", 1)[-1] for r in records] == [
        "token",
        "transfer",
        "transfer",
        "transfer",
        "hangup",
    ]
    assert all(r["manual_headers"] for r in records[1:])
    assert [r["json"] for r in records[1:]] == [
        {"type": "blind", "dest": "8001", "extension": CALL.telnum},
        {"type": "app", "dest": "ext-queues,200,1", "extension": CALL.telnum},
        {"type": "app", "dest": "aa_1001315,s,1", "extension": CALL.telnum},
        {"extension": CALL.telnum},
    ]
    assert api.tokens_fetched == 1
    token = journal[0]
    assert token.action == "token"
    assert token.request is not None
    assert token.request["password"] == "***"
    assert token.request["client_secret"] == "***"
    assert token.request["username"] == "***"
    assert "api" not in str(token.answer)


async def test_hwd_handles_a_token_the_pbx_dropped(fake_pbx: FakePBX) -> None:
    api = hwd_api(fake_pbx)
    pbx = HWDPBX(api)
    await pbx.hangup(CALL)
    fake_pbx.expire_tokens()
    await pbx.hangup(CALL)
    await api.aclose()
    records = fake_pbx.requests("hwd")
    grants = [r["json"]["grant_type"] for r in records if r["path"].endswith("/oauth/token")]
    assert grants == ["password", "refresh_token"]
    assert [r["status"] for r in records if r["path"].endswith("/hangup")] == [200, 401, 200]
    assert api.tokens_fetched == 2


async def test_hwd_error_codes_carry_the_vendors_words(fake_pbx: FakePBX) -> None:
    api = hwd_api(fake_pbx)
    fake_pbx.fail(action="transfer", code="600006")
    with pytest.raises(PBXRejectedError) as error:
        await HWDPBX(api).transfer(CALL, TransferTarget.parse("8001"))
    await api.aclose()
    assert (error.value.code, error.value.vendor_message) == ("600006", "转接异常")
    assert "600006 转接异常" in str(error.value)


async def test_hwd_refused_credentials_name_the_settings(fake_pbx: FakePBX) -> None:
    api = hwd_api(fake_pbx, Credentials("voicebot", "wrong", "api", "api"))
    with pytest.raises(PBXUnavailableError, match="VOICEBOT_HWD_CLIENT_ID"):
        await HWDPBX(api).hangup(CALL)
    await api.aclose()


async def test_hwd_tts_answers_a_wav(fake_pbx: FakePBX) -> None:
    api = hwd_api(fake_pbx)
    audio = await HWDTTS(api).synthesize("您好，欢迎致电。")
    await api.aclose()
    assert audio[:4] == b"RIFF"
    assert audio[8:12] == b"WAVE"
    (record,) = [r for r in fake_pbx.requests("hwd") if r["path"].endswith("/synthesize")]
    assert record["json"] == {"text": "您好，欢迎致电。"}


async def test_hwd_refreshes_before_the_token_runs_out(tmp_path: Path) -> None:
    process, base = run_fake_pbx(tmp_path, "--token-ttl", "1")
    fake = FakePBX(base)
    try:
        api = hwd_api(fake)
        await HWDPBX(api).hangup(CALL)
        await asyncio.sleep(0.85)  # within the last fifth of the token's life, or past it
        await HWDPBX(api).hangup(CALL)
        await api.aclose()
        records = fake.requests("hwd")
    finally:
        fake.http.close()
        stop(process)
    grants = [r["json"]["grant_type"] for r in records if r["path"].endswith("/oauth/token")]
    assert grants == ["password", "refresh_token"]
    assert [r["status"] for r in records if r["path"].endswith("/hangup")] == [200, 200]  # no 401 needed


async def test_gx_outbound_calls_name_the_customer_as_the_callee(fake_pbx: FakePBX) -> None:
    """§3 and §12 name both ends (caller 主叫, callee 被叫): on a robot's outbound call the
    customer is the callee, the robot's number the caller; §10's extnum (被叫分机号码) is
    the customer's number by default either way."""
    outbound = CallRef(CALL.call_id, CALL.telnum, direction="outbound")
    pbx = gx(fake_pbx.base, access_number="1000", outbound_caller="3003", outbound_extnum="9{telnum}")
    await pbx.transfer(outbound, TransferTarget.parse("ivr:3"))
    await pbx.transfer(outbound, TransferTarget.parse("8001"))
    await pbx.hangup(outbound)
    await pbx.hangup(CALL)  # inbound, by the same client
    await pbx.aclose()
    ivr, agent, hangup, inbound = (r["query"] for r in fake_pbx.requests("gx"))
    assert (ivr["caller"], ivr["callee"]) == ("3003", CALL.telnum)
    assert agent["extnum"] == f"9{CALL.telnum}"
    assert hangup == {"caller": "3003", "callee": CALL.telnum, "opt": "CLICK_TO_HUNGUP"}
    assert inbound == {"caller": CALL.telnum, "callee": "1000", "opt": "CLICK_TO_HUNGUP"}


async def test_gx_outbound_caller_defaults_to_the_access_number(fake_pbx: FakePBX) -> None:
    pbx = gx(fake_pbx.base, access_number="12345")
    await pbx.hangup(CallRef(CALL.call_id, CALL.telnum, direction="outbound"))
    await pbx.aclose()
    [hangup] = (r["query"] for r in fake_pbx.requests("gx"))
    assert (hangup["caller"], hangup["callee"]) == ("12345", CALL.telnum)


async def test_the_log_pbx_keeps_only_the_latest_requests() -> None:
    """It serves when no PBX is configured, for as long as the process runs."""
    pbx = LogPBX()
    for number in range(KEPT_REQUESTS + 5):
        await pbx.hangup(CallRef(f"log-{number}", "13800138000"))
    assert len(pbx.requests) == KEPT_REQUESTS
    assert (pbx.requests[0].call_id, pbx.requests[-1].call_id) == ("log-5", f"log-{KEPT_REQUESTS + 4}")
