"""The console in a real browser: Playwright driving Debian's chromium (headless) against a
real ``voicebot serve`` on loopback, with users made by ``voicebot users add``.

Every request any page makes is watched: none may go to another origin. A failing
test leaves a screenshot (its path is printed) in the test's temporary directory.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api

from tests.console.conftest import FAILED
from tests.test_serve import VOICEBOT, serving

ADMIN, ADMIN_PASSWORD = "supervisor", "correct horse battery"
TIMEOUT_MS = 30_000  # a bound for slow machines, never a timing assertion


def add_user(data_dir: Path, name: str, role: str, password: str) -> None:
    subprocess.run(
        [VOICEBOT, "users", "add", name, "--role", role],
        input=f"{password}\n".encode(),
        env={"VOICEBOT_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("console")
    add_user(workdir / "var", ADMIN, "admin", ADMIN_PASSWORD)
    with serving(workdir) as base:
        yield base


class Watched:
    """A page whose every request is recorded, to check that none leaves the server."""

    def __init__(self, page: sync_api.Page, base: str) -> None:
        self.page = page
        self.base = base
        self.requested: list[str] = []
        page.on("request", lambda request: self.requested.append(request.url))
        page.set_default_timeout(TIMEOUT_MS)

    def foreign(self) -> list[str]:
        return [u for u in self.requested if not (u.startswith(f"{self.base}/") or u.startswith("data:"))]


@pytest.fixture
def watched(
    browser: sync_api.Browser, server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Watched]:
    context = browser.new_context(base_url=server, locale="zh-CN")
    page = Watched(context.new_page(), server)
    try:
        yield page
        if request.node.stash.get(FAILED, False):
            shot = tmp_path / f"{request.node.name}.png"
            page.page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failing page: {shot}")
        assert page.requested, "the page requested nothing"
        assert page.foreign() == [], f"a console page requested another host: {page.foreign()}"
    finally:
        context.close()


def log_in(
    page: sync_api.Page, name: str = ADMIN, password: str = ADMIN_PASSWORD, start: str = "/console"
) -> None:
    page.goto(start)
    page.wait_for_url(re.compile(r"/console/login"))
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#login")


def test_logging_in_leads_to_the_page_asked_for(watched: Watched) -> None:
    page = watched.page
    log_in(page, password="wrong password")
    assert "Wrong name or password" in page.inner_text("#login-error")
    log_in(page, start="/console/dashboard")
    page.wait_for_url(re.compile(r"/console/dashboard$"))
    sync_api.expect(page.locator("#tile-calls .value")).to_have_text(re.compile(r"^\d+$"))
    assert page.inner_text(".who .user") == ADMIN


def test_a_test_call_on_yibao_is_transferred_and_shows_under_calls(watched: Watched, server: str) -> None:
    page = watched.page
    wavs: list[str] = []

    def audio_response(response: sync_api.Response) -> None:
        if "/audio/" in response.url and response.headers.get("content-type") == "audio/wav":
            wavs.append(response.url)

    page.on("response", audio_response)
    log_in(page, start="/console/try")
    page.wait_for_url(re.compile(r"/console/try$"))
    page.select_option("#flow", "yibao")
    page.click("#call")
    greeting = page.locator(".msg.bot.reply").first
    sync_api.expect(greeting).to_contain_text("欢迎致电医保服务热线")
    sync_api.expect(page.locator("#state-step b")).to_have_text("greeting")
    # The greeting's WAV loads in the player (metadata read: it is a playable WAV).
    page.wait_for_function(
        "() => { const p = document.getElementById('player');"
        " return p.src.includes('/audio/') && p.readyState >= 1 && p.duration > 0; }"
    )
    assert any(url.startswith(f"{server}/audio/") for url in wavs)

    page.fill("#text", "我要转人工")
    page.click("#send")
    sync_api.expect(page.locator(".msg.bot.reply").nth(1)).to_contain_text("转接人工")
    sync_api.expect(page.locator(".intent").last).to_have_text("transfer_agent")
    sync_api.expect(page.locator(".msg.action")).to_contain_text("transfer to 8001")
    sync_api.expect(page.locator("#state-outcome b")).to_have_text("transferred")
    # The transfer itself, after the announcement: recorded, never sent to a PBX.
    sync_api.expect(page.locator(".msg.pbx.recorded")).to_contain_text("transfer 8001")
    call_id = page.get_attribute("#open-call", "href")
    assert call_id is not None
    call_id = call_id.rsplit("/", 1)[-1]

    page.click("#nav-calls")
    page.wait_for_url(re.compile(r"/console/calls$"))
    row = page.locator(f'tr[data-callid="{call_id}"]')
    sync_api.expect(row).to_contain_text("test")
    sync_api.expect(row).to_contain_text("transferred")
    sync_api.expect(row).to_contain_text("138****0000")  # masked
    row.locator("a.call-link").click()
    page.wait_for_url(re.compile(rf"/console/calls/{call_id}$"))
    turns = page.locator("#turns")
    sync_api.expect(turns.locator(".msg.caller")).to_have_text("我要转人工")
    sync_api.expect(turns.locator(".msg.bot").first).to_contain_text("欢迎致电医保服务热线")
    sync_api.expect(turns.locator(".msg.pbx")).to_contain_text("recorded only")
    sync_api.expect(turns.locator(".meta").nth(1)).to_contain_text("transfer_agent")
    assert turns.locator("audio").count() >= 2


def test_the_yibao_diagram_and_its_check(watched: Watched) -> None:
    page = watched.page
    log_in(page, start="/console/flows")
    page.wait_for_url(re.compile(r"/console/flows$"))
    sync_api.expect(page.locator('tr[data-flow="yibao"] .check')).to_have_text("OK")
    page.click('tr[data-flow="yibao"] a')
    page.wait_for_url(re.compile(r"/console/flows/yibao$"))
    page.wait_for_function(
        "() => { const d = document.getElementById('diagram');"
        " return d && d.complete && d.naturalWidth > 0; }"
    )
    sync_api.expect(page.locator("#check-ok")).to_be_visible()


def test_searching_the_knowledge_base(watched: Watched) -> None:
    page = watched.page
    log_in(page, start="/console/knowledge")
    page.wait_for_url(re.compile(r"/console/knowledge$"))
    page.fill("#q", "异地就医怎么备案")
    page.click("#search-button")
    sync_api.expect(page.locator("#reply-text")).to_contain_text("请问您是想咨询")
    first = page.locator("#results tbody tr").first
    sync_api.expect(first).to_contain_text("异地")
    score = float(first.locator("td.score").inner_text().split()[0])
    assert 0 < score <= 1
    sync_api.expect(first.locator("button.edit")).to_be_visible()  # an admin may edit


def test_an_admin_creates_a_campaign_from_a_file_and_sees_it_listed(watched: Watched, tmp_path: Path) -> None:
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("telnum,name\n13900000001,张三\nabc,李四\n", encoding="utf-8")
    page = watched.page
    log_in(page, start="/console/campaigns")
    page.wait_for_url(re.compile(r"/console/campaigns$"))
    page.fill('#new-campaign input[name="name"]', "browser-campaign")
    page.select_option('#new-campaign select[name="flow"]', "survey")
    page.set_input_files('#new-campaign input[name="numbers"]', str(numbers))
    page.click('#new-campaign button[type="submit"]')
    problems = page.locator("#create-problems")
    sync_api.expect(problems).to_contain_text("browser-campaign numbers:3: 'abc' is not a phone number")
    numbers.write_text("telnum,name\n13900000001,张三\n13900000002,李四\n", encoding="utf-8")
    page.set_input_files('#new-campaign input[name="numbers"]', str(numbers))
    page.click('#new-campaign button[type="submit"]')
    row = page.locator('tr[data-campaign="browser-campaign"]')
    sync_api.expect(row).to_contain_text("stopped")
    sync_api.expect(row.locator("td").nth(4)).to_have_text("2")  # waiting
    row.locator("button", has_text="Start").click()  # this server has no GX CTI
    sync_api.expect(page.locator("#toast")).to_contain_text("campaigns run on a GX CTI")
