"""The console over HTTP: who gets in, what a viewer and an admin may do, CSRF, masking,
and test calls (recorded only, marked, never pushed)."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient as QuartTestClient

from bot.app import create_app
from bot.config import Settings
from bot.console.access import MAX_FAILURES
from bot.console.users import UsersFile, users_path
from bot.dialog.state import CallState, Due
from bot.pbx.log import LogPBX
from bot.services import Services
from tests.conftest import FLOWS_DIR, SAMPLE_KB_DIR

PASSWORD = "a long enough password"
NUMBER, MASKED = "13912345678", "139****5678"


@pytest.fixture
def settings(tmp_path: Path, retry_window_ms: int) -> Settings:
    settings = Settings(
        data_dir=tmp_path / "var",
        flows_dir=FLOWS_DIR,
        kb_dir=shutil.copytree(SAMPLE_KB_DIR, tmp_path / "kb"),  # the admin's edits go here
        retry_window_ms=retry_window_ms,
        action_margin_ms=0,
    )
    users = UsersFile(users_path(settings))
    users.add("boss", "admin", PASSWORD)
    users.add("watcher", "viewer", PASSWORD)
    return settings


class Browser:
    """A person's browser: the session cookie, and the CSRF token its pages carry."""

    def __init__(self, app: Quart) -> None:
        self.client = QuartTestClient(app)  # no admin token: only what the login gives
        self.csrf = ""

    async def log_in(self, name: str, password: str = PASSWORD) -> Any:
        page = await self.client.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', await page.get_data(as_text=True))
        assert token is not None
        response = await self.client.post(
            "/console/login", form={"name": name, "password": password, "csrf": token[1]}
        )
        if response.status_code == 303:
            page = await self.client.get("/console/try")
            found = re.search(r'name="csrf-token" content="([^"]+)"', await page.get_data(as_text=True))
            assert found is not None
            self.csrf = found[1]
        return response

    async def post(self, path: str, body: Any = None, *, csrf: bool = True) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return await self.client.post(path, json=body, headers=headers)

    async def get_json(self, path: str, **kwargs: Any) -> Any:
        response = await self.client.get(path, **kwargs)
        assert response.status_code == 200, await response.get_data(as_text=True)
        return await response.get_json()


@pytest.fixture
async def boss(app: Any, quart_app: Quart) -> Browser:
    browser = Browser(quart_app)
    assert (await browser.log_in("boss")).status_code == 303
    return browser


@pytest.fixture
async def watcher(app: Any, quart_app: Quart) -> Browser:
    browser = Browser(quart_app)
    assert (await browser.log_in("watcher")).status_code == 303
    return browser


async def place_call(browser: Browser, telnum: str = NUMBER) -> dict[str, Any]:
    response = await browser.post("/console/api/try", {"flow": "yibao", "telnum": telnum})
    assert response.status_code == 200, await response.get_data(as_text=True)
    return await response.get_json()  # type: ignore[no-any-return]


async def turns_until(browser: Browser, call_id: str, event: str) -> dict[str, Any]:
    """The call once a turn of ``event`` is in it (a transfer follows its announcement)."""
    for _ in range(300):
        response = await browser.client.get(f"/console/api/calls/{call_id}")
        call = await response.get_json() if response.status_code == 200 else {"turns": []}
        if any(t["event"] == event for t in call["turns"]):
            return call
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {event} turn in call {call_id}")


# --- who gets in ----------------------------------------------------------------------


async def test_without_a_login_pages_redirect_and_the_api_refuses(app: Any, quart_app: Quart) -> None:
    client = QuartTestClient(quart_app)
    for path in ("/console", "/console/calls", "/console/try", "/console/dashboard"):
        response = await client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/console/login?next=/console")
    assert (await client.get("/console/api/calls")).status_code == 401
    assert (await client.post("/console/api/try", json={"flow": "yibao"})).status_code == 401
    login = await client.get("/console/login")
    assert login.status_code == 200
    assert "no-store" in login.headers["Cache-Control"]
    assert "default-src 'self'" in login.headers["Content-Security-Policy"]


async def test_a_login_needs_the_forms_token_and_the_right_password(app: Any, quart_app: Quart) -> None:
    browser = Browser(quart_app)
    refused = await browser.client.post("/console/login", form={"name": "boss", "password": PASSWORD})
    assert refused.status_code == 403  # no token from the login form
    assert (await browser.log_in("boss", "not the password")).status_code == 401
    assert (await browser.log_in("nobody")).status_code == 401
    assert (await browser.client.get("/console/api/calls")).status_code == 401
    response = await browser.log_in("boss")
    assert response.status_code == 303
    assert response.headers["Location"] == "/console"
    assert (await browser.client.get("/console/calls")).status_code == 200


async def test_failed_logins_are_throttled_per_name_and_address(app: Any, quart_app: Quart) -> None:
    browser = Browser(quart_app)
    for _ in range(MAX_FAILURES):
        assert (await browser.log_in("boss", "wrong password")).status_code == 401
    throttled = await browser.log_in("boss")  # even the right password, for a while
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    # The same address guessing at another name is throttled too.
    assert (await Browser(quart_app).log_in("watcher")).status_code == 429


async def test_a_removed_user_is_logged_out_at_the_next_request(watcher: Browser, settings: Settings) -> None:
    assert (await watcher.client.get("/console/api/calls")).status_code == 200
    UsersFile(users_path(settings)).remove("watcher")
    assert (await watcher.client.get("/console/api/calls")).status_code == 401
    assert (await watcher.client.get("/console/calls")).status_code == 302


async def test_logging_out_needs_the_csrf_token(boss: Browser) -> None:
    assert (await boss.post("/console/logout", csrf=False)).status_code == 403
    assert (await boss.post("/console/logout")).status_code == 200
    assert (await boss.client.get("/console/api/calls")).status_code == 401


# --- what each role may do ------------------------------------------------------------


async def test_changes_without_the_csrf_token_are_refused(boss: Browser) -> None:
    assert (await boss.post("/console/api/try", {"flow": "yibao"}, csrf=False)).status_code == 403
    call = await place_call(boss)
    assert (await boss.post(f"/console/api/calls/{call['callid']}/reveal", csrf=False)).status_code == 403
    put = await boss.client.put("/kb/entries/yibaoka-guashi", json={"title": "x", "answer": "y"})
    assert put.status_code == 403


async def test_a_viewer_sees_masked_numbers_and_may_not_reveal_or_edit(watcher: Browser) -> None:
    call = await place_call(watcher)
    await watcher.post(f"/console/api/try/{call['callid']}", {"event": "say", "text": f"我的手机号{NUMBER}"})
    listed = await watcher.get_json("/console/api/calls")
    assert listed["calls"][0]["telnum"] == MASKED
    shown = await watcher.get_json(f"/console/api/calls/{call['callid']}")
    assert NUMBER not in str(shown)
    assert any(MASKED in (t.get("text") or "") for t in shown["turns"])
    assert (await watcher.post(f"/console/api/calls/{call['callid']}/reveal")).status_code == 403
    entry = await watcher.get_json("/kb/entries/yibaoka-guashi")  # a viewer reads
    put = await watcher.client.put(
        "/kb/entries/yibaoka-guashi", json=entry, headers={"X-CSRF-Token": watcher.csrf}
    )
    assert put.status_code == 403


async def test_an_admin_reveals_a_calls_numbers_and_the_reveal_is_logged(
    boss: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    call = await place_call(boss)
    with caplog.at_level(logging.INFO):
        response = await boss.post(f"/console/api/calls/{call['callid']}/reveal")
    assert response.status_code == 200
    assert (await response.get_json())["telnum"] == NUMBER
    reveals = [r for r in caplog.records if "revealed" in r.getMessage()]
    assert len(reveals) == 1
    assert call["callid"] in reveals[0].getMessage()
    assert "boss" in reveals[0].getMessage()
    assert "5678" not in reveals[0].getMessage()


async def test_an_admin_edits_a_knowledge_entry(boss: Browser) -> None:
    entry = await boss.get_json("/kb/entries/yibaoka-guashi")
    entry["answer"] = "医保卡丢了请先挂失，再到银行网点补办。"
    put = await boss.client.put("/kb/entries/yibaoka-guashi", json=entry, headers={"X-CSRF-Token": boss.csrf})
    assert put.status_code == 200, await put.get_data(as_text=True)
    found = await boss.get_json("/console/api/kb/search", query_string={"q": "医保卡丢了怎么办"})
    assert found["results"][0]["answer"] == entry["answer"]


# --- test calls -------------------------------------------------------------------------


async def test_a_test_call_is_transferred_on_record_only(
    boss: Browser, pbx: LogPBX, services: Services
) -> None:
    call = await place_call(boss)
    assert call["step"] == "greeting"
    assert call["audio_url"].startswith("/audio/")
    wav = await boss.client.get(call["audio_url"])
    assert wav.status_code == 200
    assert (await wav.get_data())[:4] == b"RIFF"
    said = await boss.post(f"/console/api/try/{call['callid']}", {"event": "say", "text": "我要转人工"})
    answer = await said.get_json()
    assert answer["turn"]["intent"] == "transfer_agent"
    assert answer["action"] == {"action": "transfer", "target": "8001"}
    transcript = await turns_until(boss, call["callid"], "pbx")
    (pbx_turn,) = [t for t in transcript["turns"] if t["event"] == "pbx"]
    assert pbx_turn["text"] == "transfer 8001"
    assert "recorded only" in pbx_turn["pbx"][0]["answer"]
    assert transcript["test"] is True
    assert pbx.requests == []  # the real PBX never heard of it
    metrics = await (await boss.client.get("/metrics")).get_data(as_text=True)
    assert re.search(r'^voicebot_calls_started_total\{kind="test"\} [1-9]', metrics, re.MULTILINE)
    call_id = call["callid"]
    state = await services.sessions.get(call_id) or await services.transcripts.ended_call(call_id)
    assert state is not None
    assert state.test


async def test_a_test_calls_announced_action_taken_over_later_is_recorded_only(
    boss: Browser, pbx: LogPBX, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = await place_call(boss)
    state = await services.sessions.get(call["callid"])
    assert state is not None
    state.due = Due("hangup", None, time.time())  # announced by an instance that stopped
    await services.sessions.put(state)
    left: list[CallState] = [state]

    async def orphaned_dues() -> list[CallState]:  # as the store finds them after a restart
        found = left.copy()
        left.clear()
        return found

    monkeypatch.setattr(services.sessions, "orphaned_dues", orphaned_dues)
    transcript = await turns_until(boss, call["callid"], "pbx")
    assert [t["text"] for t in transcript["turns"] if t["event"] == "pbx"] == ["hangup"]
    assert pbx.requests == []


async def test_the_buttons_are_the_ctis_callbacks(boss: Browser) -> None:
    call = await place_call(boss)
    path = f"/console/api/try/{call['callid']}"
    silence = await (await boss.post(path, {"event": "silence"})).get_json()
    assert silence["turn"]["event"] == "ready2speak"
    barge = await (await boss.post(path, {"event": "barge", "text": "嗯"})).get_json()
    assert barge["keep_playing"] is True  # a backchannel over the prompt lets it play on
    hung = await (await boss.post(path, {"event": "hangup"})).get_json()
    assert hung["ended"] is True
    assert hung["outcome"] == "hung_up_by_caller"
    bad = await boss.post(path, {"event": "dance"})
    assert bad.status_code == 400
    assert (await boss.post(path, {"event": "say", "text": ""})).status_code == 400
    assert (await boss.post("/console/api/try/not-a-test-call", {"event": "silence"})).status_code == 404
    assert (await boss.post("/console/api/try", {"flow": "nope"})).status_code == 404
    assert (await boss.post("/console/api/try", {"flow": "yibao", "telnum": "12ab"})).status_code == 400


async def test_a_cti_call_cannot_be_driven_from_the_console(boss: Browser, cti: Any) -> None:
    await cti.say("cti-call-1", "ready2speak")
    response = await boss.post("/console/api/try/cti-call-1", {"event": "say", "text": "我要转人工"})
    assert response.status_code == 404


async def test_test_calls_are_filtered_and_left_out_of_the_dashboard(boss: Browser, cti: Any) -> None:
    await place_call(boss)
    await cti.say("cti-call-2", "ready2speak")
    tests = await boss.get_json("/console/api/calls", query_string={"kind": "test"})
    ctis = await boss.get_json("/console/api/calls", query_string={"kind": "cti"})
    assert [c["test"] for c in tests["calls"]] == [True]
    assert [c["callid"] for c in ctis["calls"]] == ["cti-call-2"]
    figures = await boss.get_json("/console/api/dashboard")
    assert figures["calls"] == 1
    assert figures["test_calls_left_out"] == 1
    assert sum(h["calls"] for h in figures["per_hour"]) == 1
    both = await boss.get_json("/console/api/dashboard", query_string={"test": "1"})
    assert both["calls"] == 2


# --- flows and knowledge ------------------------------------------------------------------


async def test_flows_check_diagram_and_the_knowledge_search(watcher: Browser) -> None:
    check = await watcher.get_json("/console/api/flows/check")
    assert check["errors"] == 0
    svg = await watcher.client.get("/console/api/flows/yibao/graph.svg")
    assert svg.status_code == 200
    assert b"<svg" in await svg.get_data()
    assert (await watcher.client.get("/console/api/flows/nope/graph.svg")).status_code == 404
    found = await watcher.get_json("/console/api/kb/search", query_string={"q": "异地就医怎么备案"})
    assert found["reply"]["type"] == 1  # a clarification: three kinds of 异地就医
    assert len(found["reply"]["choices"]) == 3
    assert found["results"][0]["score"] > 0
    assert (await watcher.client.get("/console/api/kb/search")).status_code == 400
    for path in ("/console/flows", "/console/flows/yibao", "/console/knowledge", "/console/dashboard"):
        page = await watcher.client.get(path)
        assert page.status_code == 200, path
        assert "charset=utf-8" in page.headers["Content-Type"]
    assert (await watcher.client.get("/console/flows/nope")).status_code == 404


@pytest.fixture
def slow_settings(tmp_path: Path) -> Settings:
    """Wait words after 50 ms."""
    settings = Settings(data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, retry_window_ms=0, kb_filler_ms=50)
    UsersFile(users_path(settings)).add("boss", "admin", PASSWORD)
    return settings


async def test_a_late_answer_of_a_test_call_is_pushed_on_record_only(
    slow_settings: Settings, segmenter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pbx = LogPBX()
    app = create_app(slow_settings, pbx=pbx, segmenter=segmenter)
    async with app.test_app():
        conversation = app.extensions["voicebot"].calls.conversation
        greet = conversation.silence

        async def slow_greeting(state: CallState) -> Any:  # a slow business API, say
            await asyncio.sleep(0.5)
            return await greet(state)

        monkeypatch.setattr(conversation, "silence", slow_greeting)
        boss = Browser(app)
        assert (await boss.log_in("boss")).status_code == 303
        call = await place_call(boss)
        assert call["late"] is True  # the wait words
        assert call["turn"] is None
        transcript = await turns_until(boss, call["callid"], "ready2speak")
        (greeting,) = [t for t in transcript["turns"] if t["event"] == "ready2speak"]
        assert greeting["delivered"] == "play"
        assert "欢迎致电" in greeting["reply"]
        assert "recorded only" in greeting["pbx"][0]["answer"]
        assert pbx.requests == []
