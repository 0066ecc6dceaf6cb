"""The agent page in a real browser (issue acceptance): ``voicebot serve`` with
``VOICEBOT_PBX=gx`` and ``voicebot fake-pbx`` as real processes on loopback. A yibao
call is transferred; the agent page opens from the link the CTI got in ``biz_data``
(no login), and a live line the fake PBX sends as the CTI does (GX manual §54)
changes its suggestions. Playwright waits for the change: no sleep, no timing
assertion. Every request of the page goes to the bot's own origin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright import sync_api

from tests.conftest import FLOWS_DIR
from tests.console.conftest import FAILED
from tests.console.test_browser import Watched
from tests.fakepbx import FakePBX
from tests.loopback import unused_port
from tests.test_serve import start, stop, wait_for, wait_healthy

TELNUM = "13800138000"
CALL_ID = "agent-page-1"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, fake_pbx_process: FakePBX) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("agent-page")
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    settings = {
        "VOICEBOT_PBX": "gx",
        "VOICEBOT_GX_URL": fake_pbx_process.base,
        "VOICEBOT_PUBLIC_URL": base,
        "VOICEBOT_RETRY_WINDOW_MS": "0",
    }
    process = start(workdir, FLOWS_DIR, port, settings=settings)
    try:
        wait_healthy(base, process, workdir)
        yield base
    finally:
        stop(process)  # with the page's event stream still open: it must stop cleanly
    assert process.returncode == 0, (workdir / "serve.log").read_text()[-3000:]


def transferred_link(bot: str, fake: FakePBX) -> str:
    """Transfer a yibao call; the agent page's link in the biz_data the fake CTI got."""
    with httpx.Client(base_url=bot, timeout=15) as http:
        for txt in ("ready2speak", "我要转人工"):
            answer = http.get("/cti/ai", params={"telnum": TELNUM, "txt": txt, "callid": CALL_ID})
            assert answer.status_code == 200, answer.text

    def transfer() -> dict[str, Any] | None:
        found = [r for r in fake.requests("gx") if r["query"].get("opt") == "CLICK_TO_TRANSFER"]
        return found[-1] if found else None

    record = wait_for(transfer, 60)
    assert isinstance(record, dict), fake.requests()
    assert record["status"] == 200, record
    link: str = record["biz_data"]["json"]["agent_url"]
    assert link.startswith(f"{bot}/agent/{CALL_ID}?k=")
    return link


def test_a_live_line_changes_the_agent_pages_suggestions(
    bot: str, fake_pbx: FakePBX, browser: sync_api.Browser, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    link = transferred_link(bot, fake_pbx)
    context = browser.new_context(locale="zh-CN")
    watched = Watched(context.new_page(), bot)
    page = watched.page
    try:
        page.goto(link)
        sync_api.expect(page.locator("#agent-live-state")).to_have_text("live")
        sync_api.expect(page.locator("#agent-conversation")).to_contain_text("我要转人工")
        first = page.locator("#agent-suggestions li").first
        sync_api.expect(first).not_to_have_attribute("data-id", "yidi-beian")

        sent = fake_pbx.http.post(
            "/control/agent-speech",
            json={
                "url": f"{bot}/cti/agent-speech",
                "caller": TELNUM,
                "callee": "801",
                "side": "caller",
                "txt": "你好 我去外地看病要先备案吗",
            },
        ).json()["sent"]
        assert [(s["status"], s["answer"]) for s in sent] == [(200, "ok")]

        sync_api.expect(first).to_have_attribute("data-id", "yidi-beian")
        sync_api.expect(page.locator("#agent-conversation .msg.customer")).to_contain_text("去外地看病")
        sync_api.expect(page.locator("#agent-query")).to_contain_text("备案")

        refused = context.new_page()
        response = refused.goto(f"{bot}/agent/{quote(CALL_ID)}?k=0.forged")
        assert response is not None
        assert response.status == 403
        sync_api.expect(refused.locator("#refused-reason")).to_contain_text("does not match this call")
        assert watched.foreign() == [], f"the agent page requested another host: {watched.foreign()}"
    finally:
        if request.node.stash.get(FAILED, False):
            shot = tmp_path / "agent-page.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failing page: {shot}")
        context.close()
