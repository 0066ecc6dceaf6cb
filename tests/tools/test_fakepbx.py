"""The fake PBX in-process: both vendors' wire formats as the manuals give them,
failures on demand, token expiry and the recording (docs/tools.md)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import wave
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from quart.typing import TestClientProtocol as Client

from bot.tools.fakepbx import create_fake_pbx_app
from bot.tools.fakepbx_hwd import ERROR_MESSAGES
from bot.tools.fakepbx_state import Credentials

HWD = "/dscom-api/public"
PASSWORD_GRANT = {
    "grant_type": "password",
    "client_id": "voicebot",
    "client_secret": "secret",
    "username": "api",
    "password": "api",
}
MANUAL_HEADERS = {"Accept-Language": "zh-CN", "Accept": "application/json"}


@pytest.fixture
async def pbx() -> AsyncIterator[Client]:
    app = create_fake_pbx_app()
    async with app.test_app() as started:
        yield started.test_client()


async def token_pair(pbx: Client) -> dict[str, Any]:
    response = await pbx.post(f"{HWD}/oauth/token", json=PASSWORD_GRANT)
    assert response.status_code == 200
    return await response.get_json()  # type: ignore[no-any-return]


async def api(pbx: Client, path: str, body: dict[str, Any], token: str | None) -> tuple[int, dict[str, Any]]:
    headers = {**MANUAL_HEADERS, **({"Authorization": f"Bearer {token}"} if token else {})}
    response = await pbx.post(f"{HWD}/api/v1/{path}", json=body, headers=headers)
    return response.status_code, await response.get_json()


async def gx(pbx: Client, **params: str) -> tuple[int, str]:
    response = await pbx.get("/bridge/callctrl", query_string=params)
    return response.status_code, await response.get_data(as_text=True)


async def arm(pbx: Client, **failure: Any) -> dict[str, Any]:
    response = await pbx.post("/control/fail", json=failure)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return await response.get_json()  # type: ignore[no-any-return]


async def recorded(pbx: Client, query: str = "") -> list[dict[str, Any]]:
    response = await pbx.get(f"/requests{query}")
    assert response.status_code == 200
    return await response.get_json()  # type: ignore[no-any-return]


# HWD OAuth (§1.3, §1.4)


async def test_password_grant_answers_the_manuals_fields() -> None:
    app = create_fake_pbx_app(token_ttl_seconds=60)
    async with app.test_app() as started:
        pair = await token_pair(started.test_client())
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] == "60"  # a String, as §1.3 types it
    assert pair["access_token"]
    assert pair["refresh_token"]


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"client_secret": "wrong"}, 401, "client_secret"),
        ({"password": "wrong"}, 401, "password"),
        ({"username": ""}, 401, "missing username"),
        ({"grant_type": "client_credentials"}, 400, "grant_type"),
    ],
    ids=["wrong-secret", "wrong-password", "no-username", "other-grant"],
)
async def test_a_bad_grant_is_refused_in_the_envelope(
    pbx: Client, change: dict[str, str], status: int, words: str
) -> None:
    response = await pbx.post(f"{HWD}/oauth/token", json={**PASSWORD_GRANT, **change})
    body = await response.get_json()
    assert response.status_code == status
    assert body["code"] == str(status)
    assert words in body["msg"]


async def test_credentials_are_configurable() -> None:
    app = create_fake_pbx_app(credentials=Credentials("bot", "s3cret", "u", "p"))
    async with app.test_app() as started:
        client = started.test_client()
        assert (await client.post(f"{HWD}/oauth/token", json=PASSWORD_GRANT)).status_code == 401
        grant = {"grant_type": "password", "client_id": "bot", "client_secret": "s3cret", "username": "u"}
        response = await client.post(f"{HWD}/oauth/token", json={**grant, "password": "p"})
        assert response.status_code == 200


async def test_a_refresh_token_is_good_once(pbx: Client) -> None:
    pair = await token_pair(pbx)
    grant = {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    renewed = await pbx.post(f"{HWD}/oauth/token", json=grant)
    assert renewed.status_code == 200
    fresh = await renewed.get_json()
    assert fresh["access_token"] != pair["access_token"]
    assert (await api(pbx, "call/hangup", {"extension": "8001"}, fresh["access_token"]))[0] == 200
    again = await pbx.post(f"{HWD}/oauth/token", json=grant)
    assert again.status_code == 401


@pytest.mark.parametrize("token", [None, "not-a-token"], ids=["none", "unknown"])
async def test_the_api_needs_a_valid_bearer_token(pbx: Client, token: str | None) -> None:
    status, body = await api(pbx, "call/hangup", {"extension": "8001"}, token)
    assert status == 401
    assert body["code"] == "401"
    assert isinstance(body["msg"], str)


async def test_an_access_token_expires_after_the_ttl() -> None:
    app = create_fake_pbx_app(token_ttl_seconds=0.05)
    async with app.test_app() as started:
        client = started.test_client()
        pair = await token_pair(client)
        assert pair["expires_in"] == "0.05"
        await asyncio.sleep(0.1)  # past the TTL (the fake's clock is monotonic)
        status, body = await api(client, "call/hangup", {"extension": "8001"}, pair["access_token"])
        assert (status, body["code"]) == (401, "401")
        assert "expired" in body["msg"]
        grant = {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
        assert (await client.post(f"{HWD}/oauth/token", json=grant)).status_code == 200


async def test_tokens_expire_on_demand(pbx: Client) -> None:
    first, second = await token_pair(pbx), await token_pair(pbx)
    expired = await (await pbx.post("/control/expire-tokens")).get_json()
    assert expired["expired"] == 2
    assert (await api(pbx, "call/hangup", {"extension": "8001"}, first["access_token"]))[0] == 401
    grant = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    assert (await pbx.post(f"{HWD}/oauth/token", json=grant)).status_code == 200  # refresh still works
    await pbx.post("/control/expire-tokens", json={"refresh_tokens": True})
    grant = {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    assert (await pbx.post(f"{HWD}/oauth/token", json=grant)).status_code == 401


# HWD API (§2.1.2, §2.1.4, §3.1.1, §4)


async def test_tts_answers_a_real_wav_that_grows_with_the_text(pbx: Client) -> None:
    token = (await token_pair(pbx))["access_token"]
    durations = []
    for text in ("您好", "您好，欢迎致电医保服务热线"):
        status, body = await api(pbx, "tts/synthesize", {"text": text}, token)
        assert (status, body["code"], body["msg"], body["total"]) == (200, "200", "成功", 0)
        assert (body["data"]["format"], body["data"]["vendor"]) == ("wav", "jTTS")
        with wave.open(io.BytesIO(base64.b64decode(body["data"]["audio"]))) as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
            durations.append(wav.getnframes() / wav.getframerate())
    assert durations[0] < durations[1]


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("call/transfer", {"type": "blind", "extension": "8001", "dest": "8005"}, "200"),
        ("call/transfer", {"type": "attended", "extension": "8001", "dest": "8005"}, "200"),
        ("call/transfer", {"type": "app", "extension": "8001", "dest": "ext-queues,200,1"}, "200"),
        ("call/transfer", {"type": "app", "extension": "8001", "dest": "aa_1001315,s,1"}, "200"),
        ("call/transfer", {"type": "warm", "extension": "8001", "dest": "8005"}, "600005"),
        ("call/transfer", {"type": "blind", "dest": "8005"}, "600005"),
        ("call/transfer", {"type": "blind", "extension": "8001", "dest": ""}, "600005"),
        ("call/transfer", {"type": "blind", "extension": 8001, "dest": "8005"}, "600005"),
        ("call/transfer", {"type": "app", "extension": "8001", "dest": "200"}, "600005"),
        ("call/hangup", {"extension": "13800138000"}, "200"),
        ("call/hangup", {}, "600000"),
        ("call/dial", {"extension": "8001", "dest": "8002"}, "200"),
        ("call/dial", {"extension": "8001"}, "600000"),
        ("tts/synthesize", {"text": " "}, "400"),
    ],
    ids=[
        "blind",
        "attended",
        "app-queue",
        "app-ivr",
        "unknown-type",
        "no-extension",
        "empty-dest",
        "number-not-string",
        "app-dest-not-context",
        "hangup",
        "hangup-no-extension",
        "dial",
        "dial-no-dest",
        "tts-blank",
    ],
)
async def test_parameters_are_validated_with_the_manuals_codes(
    pbx: Client, path: str, body: dict[str, Any], code: str
) -> None:
    token = (await token_pair(pbx))["access_token"]
    status, answer = await api(pbx, path, body, token)
    assert status == 200  # the PBX answers errors in the envelope
    assert answer["code"] == code
    assert answer["msg"] == ERROR_MESSAGES.get(code, {"200": "成功", "400": "Bad Request"}.get(code))


async def test_an_unknown_api_path_is_a_404_envelope(pbx: Client) -> None:
    token = (await token_pair(pbx))["access_token"]
    status, body = await api(pbx, "call/teleport", {}, token)
    assert (status, body["code"]) == (404, "404")


def test_the_error_table_is_the_manuals_whole_table() -> None:
    assert len(ERROR_MESSAGES) == 33
    assert ERROR_MESSAGES["600006"] == "转接异常"
    assert ERROR_MESSAGES["610006"] == "修改排队优先级异常"
    assert ERROR_MESSAGES["610007"] == "座席签入参数有误"


# Failures on demand


async def test_an_envelope_code_on_demand_then_normal_again(pbx: Client) -> None:
    token = (await token_pair(pbx))["access_token"]
    armed = await arm(pbx, action="transfer", code="600006")
    assert armed["armed"] == [
        {"action": "transfer", "status": None, "code": "600006", "hang": 0.0, "times": 1, "used": 0}
    ]
    transfer = {"type": "blind", "extension": "8001", "dest": "8005"}
    status, body = await api(pbx, "call/transfer", transfer, token)
    assert (status, body["code"], body["msg"]) == (200, "600006", "转接异常")
    assert (await api(pbx, "call/transfer", transfer, token))[1]["code"] == "200"


async def test_a_failure_lasts_its_times_and_zero_lasts_until_reset(pbx: Client) -> None:
    token = (await token_pair(pbx))["access_token"]
    await arm(pbx, action="hangup", status=500, times=2)
    answers = [await api(pbx, "call/hangup", {"extension": "8001"}, token) for _ in range(3)]
    assert [(status, body["code"]) for status, body in answers] == [(500, "500"), (500, "500"), (200, "200")]
    await arm(pbx, action="tts", code="600001", times=0)
    for _ in range(3):
        assert (await api(pbx, "tts/synthesize", {"text": "你好"}, token))[1]["code"] == "600001"
    reset = await (await pbx.post("/control/reset")).get_json()
    assert reset["disarmed"] is True
    assert (await api(pbx, "tts/synthesize", {"text": "你好"}, token))[1]["code"] == "200"
    assert (await (await pbx.get("/control/fail")).get_json())["armed"] == []


async def test_a_token_failure_on_demand(pbx: Client) -> None:
    await arm(pbx, action="token", status=503)
    response = await pbx.post(f"{HWD}/oauth/token", json=PASSWORD_GRANT)
    assert response.status_code == 503
    assert (await response.get_json())["code"] == "503"
    assert (await pbx.post(f"{HWD}/oauth/token", json=PASSWORD_GRANT)).status_code == 200


async def test_a_hang_delays_then_answers_as_asked(pbx: Client) -> None:
    await arm(pbx, action="click_to_transfer", hang=0.05, status=480)
    assert await gx(pbx, opt="CLICK_TO_TRANSFER", extnum="801", target="802") == (480, "目标分机不在线")
    await arm(pbx, action="play_voice", hang=0.05)
    assert (await gx(pbx, opt="PLAY_VOICE", callid="c1", voiceurl="请稍等"))[0] == 200
    failures = [r["failure"] for r in await recorded(pbx, "?vendor=gx")]
    assert [f["hang"] for f in failures] == [0.05, 0.05]


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        ({"action": "teleport", "status": 500}, "action must be one of"),
        ({"action": "transfer"}, "give status"),
        ({"action": "transfer", "status": 500, "code": "600006"}, "not both"),
        ({"action": "transfer", "status": 200}, "status must be"),
        ({"action": "click_to_transfer", "code": "600006"}, "GX"),
        ({"action": "transfer", "code": "abc"}, "code must be"),
        ({"action": "transfer", "code": "600006", "times": -1}, "times"),
        ({"action": "transfer", "hang": -1}, "hang"),
        ({"action": "transfer", "code": "600006", "when": "now"}, "unknown fields"),
    ],
    ids=["action", "nothing", "both", "ok-status", "code-for-gx", "bad-code", "times", "hang", "field"],
)
async def test_a_bad_failure_is_refused_with_a_reason(
    pbx: Client, failure: dict[str, Any], words: str
) -> None:
    response = await pbx.post("/control/fail", json=failure)
    assert response.status_code == 400
    assert words in (await response.get_json())["error"]


# GX CTI call control (§3, §10, §12, §26, §52.5)


@pytest.mark.parametrize(
    ("params", "status", "body"),
    [
        ({"opt": "PLAY_VOICE", "callid": "a@1.2.3.4", "voiceurl": "http://x/a.wav"}, 200, "ok"),
        ({"opt": "CLICK_TO_TRANSFER", "extnum": "801", "target": "802"}, 200, "转话成功"),
        ({"opt": "TALKING_CALLER_TO_IVR", "caller": "138", "callee": "802", "ivrid": "3"}, 200, "转话成功"),
        ({"opt": "CLICK_TO_HUNGUP", "caller": "801", "callee": "138"}, 200, "ok"),
        ({"opt": "FORCE_HUNGUP", "leaderExtnum": "803", "wokerExtnum": "801"}, 200, "操作成功"),
        ({"opt": "CLICK_TO_TRANSFER", "extnum": "801"}, 400, "参数错误: missing target"),
        ({"opt": "PLAY_VOICE", "callid": "c1", "voiceurl": " "}, 400, "参数错误: missing voiceurl"),
        (
            {
                "opt": "TALKING_CALLER_TO_IVR",
                "caller": "1",
                "callee": "2",
                "ivrid": "3",
                "queue_priority": "x",
            },
            400,
            "参数错误: queue_priority must be a whole number, not 'x'",
        ),
        ({"opt": "MAKE_COFFEE"}, 400, "参数错误: unknown opt 'MAKE_COFFEE'"),
        ({"extnum": "801", "target": "802"}, 400, "参数错误: unknown opt None"),
    ],
    ids=[
        "play-voice",
        "transfer",
        "to-ivr",
        "hang-up",
        "force-hang-up",
        "no-target",
        "blank-voiceurl",
        "bad-priority",
        "unknown-opt",
        "no-opt",
    ],
)
async def test_callctrl_answers_status_and_short_text(
    pbx: Client, params: dict[str, str], status: int, body: str
) -> None:
    answer = await gx(pbx, **params)
    assert answer[0] == status
    assert answer[1].startswith(body)


async def test_callctrl_accepts_a_post_form(pbx: Client) -> None:
    form = {"opt": "CLICK_TO_TRANSFER", "extnum": "801", "target": "802", "biz_data": quote('{"a":1}')}
    response = await pbx.post("/bridge/callctrl", form=form)
    assert (response.status_code, await response.get_data(as_text=True)) == (200, "转话成功")
    (record,) = await recorded(pbx)
    assert record["form"]["target"] == "802"
    assert record["biz_data"]["json"] == {"a": 1}


def biz(length: int) -> str:
    """URL-encoded JSON of exactly ``length`` characters."""
    encoded = quote(json.dumps({"note": ""}), safe="")
    return quote(json.dumps({"note": "x" * (length - len(encoded))}), safe="")


@pytest.mark.parametrize(
    ("biz_data", "status", "words"),
    [
        (biz(1500), 200, "转话成功"),
        (biz(1501), 400, "1501 characters long, the limit is 1500"),
        (
            quote(json.dumps({"客户": "张三", "诉求": "报销进度"}, ensure_ascii=False), safe=""),
            200,
            "转话成功",
        ),
        ('{"a": 1}', 400, "not URL-encoded"),
        (quote("not json", safe=""), 400, "not JSON"),
        ("%E4%B8", 400, "not JSON"),
    ],
    ids=["1500", "1501", "chinese", "raw-json", "not-json", "broken-utf8"],
)
async def test_biz_data_is_url_encoded_json_of_at_most_1500_characters(
    pbx: Client, biz_data: str, status: int, words: str
) -> None:
    answer = await gx(pbx, opt="CLICK_TO_TRANSFER", extnum="801", target="802", biz_data=biz_data)
    assert answer[0] == status
    assert words in answer[1]


async def test_biz_data_is_recorded_exactly_as_sent(pbx: Client) -> None:
    value = quote(json.dumps({"客户": "张三"}, ensure_ascii=False), safe="")
    query = f"opt=TALKING_CALLER_TO_IVR&caller=1&callee=2&ivrid=3&biz_data={quote(value)}"
    await pbx.get(f"/bridge/callctrl?{query}")
    (record,) = await recorded(pbx)
    assert record["biz_data"] == {
        "raw": quote(value),
        "value": value,
        "chars": len(value),
        "json": {"客户": "张三"},
    }


async def test_a_gx_status_on_demand_answers_the_manuals_words(pbx: Client) -> None:
    await arm(pbx, action="click_to_transfer", status=486)
    assert await gx(pbx, opt="CLICK_TO_TRANSFER", extnum="801", target="802") == (486, "目标分机忙")
    await arm(pbx, action="force_hungup", status=403)
    forced = await gx(pbx, opt="FORCE_HUNGUP", leaderExtnum="803", wokerExtnum="801")
    assert forced == (403, "主管分机权限不足")
    await arm(pbx, action="play_voice", status=500)
    assert await gx(pbx, opt="PLAY_VOICE", callid="c1", voiceurl="u") == (500, "系统错误")


# The recording


async def test_every_request_is_recorded_with_secrets_masked(pbx: Client) -> None:
    pair = await token_pair(pbx)
    await api(pbx, "call/hangup", {"extension": "8001"}, pair["access_token"])
    await pbx.post(f"{HWD}/api/v1/call/hangup", json={"extension": "8001"})  # no token, no headers
    await pbx.post(f"{HWD}/oauth/token", json={"grant_type": "refresh_token", "refresh_token": "r"})
    await gx(pbx, opt="CLICK_TO_HUNGUP", caller="801", callee="138")
    await arm(pbx, action="dial", code="600001")

    records = await recorded(pbx)
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert [r["vendor"] for r in records] == ["hwd", "hwd", "hwd", "hwd", "gx", "control"]
    oauth, hangup, anonymous, refresh, hungup, control = records
    assert oauth["json"] == {**PASSWORD_GRANT, "client_secret": "***", "password": "***"}
    assert oauth["response"]["access_token"] == oauth["response"]["refresh_token"] == "***"
    assert pair["access_token"] not in json.dumps(records)
    assert (hangup["token_sent"], hangup["token_valid"], hangup["manual_headers"]) == (True, True, True)
    assert hangup["headers"]["Accept-Language"] == "zh-CN"
    assert (hangup["status"], hangup["response"]["code"]) == (200, "200")
    assert anonymous["token_sent"] is anonymous["token_valid"] is anonymous["manual_headers"] is False
    assert anonymous["status"] == 401
    assert refresh["json"]["refresh_token"] == "***"
    assert (hungup["method"], hungup["path"], hungup["query"]["caller"]) == ("GET", "/bridge/callctrl", "801")
    assert (hungup["status"], hungup["response"], hungup["action"]) == (200, "ok", "click_to_hungup")
    assert control["json"] == {"action": "dial", "code": "600001"}
    assert all(r["at"].endswith("+00:00") and r["monotonic"] > 0 and r["ms"] >= 0 for r in records)


async def test_the_recording_is_filtered_and_cleared(pbx: Client) -> None:
    token = (await token_pair(pbx))["access_token"]
    await api(pbx, "tts/synthesize", {"text": "你好"}, token)
    await gx(pbx, opt="PLAY_VOICE", callid="c1", voiceurl="u")
    assert [r["seq"] for r in await recorded(pbx, "?since=1")] == [2, 3]
    (tts,) = await recorded(pbx, "?since=1&vendor=hwd")
    assert tts["response"]["data"]["audio"].endswith("base64 characters>")
    assert [r["vendor"] for r in await recorded(pbx, "?vendor=gx")] == ["gx"]
    assert (await pbx.get("/requests?since=x")).status_code == 400
    assert (await pbx.get("/requests?vendor=avaya")).status_code == 400
    cleared = await (await pbx.delete("/requests")).get_json()
    assert cleared == {"cleared": 3}
    assert await recorded(pbx) == []
    await gx(pbx, opt="PLAY_VOICE", callid="c1", voiceurl="u")
    assert [r["seq"] for r in await recorded(pbx)] == [4]  # numbers go on
