"""Who may reach what (bot/web/auth.py): the CTI's token and networks, the admin token,
console sessions with their roles and CSRF token, the refusals counted; audio URLs that
a forged Host cannot redirect; the binding rule; the outgoing-host allowlist; transcripts
masked at rest."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from quart import Quart
from quart.testing import QuartClient as QuartTestClient

from bot.app import create_app
from bot.cli import main
from bot.config import Settings
from bot.console.users import UsersFile
from bot.errors import ConfigError, FlowValidationError
from bot.language.loader import load_flow
from bot.language.outgoing import HostAllowlist
from bot.pbx.log import LogPBX
from bot.text.segmenter import Segmenter
from bot.web.auth import CSRF_HEADER, check_binding
from knowledge.app import create_kb_app
from tests.conftest import ADMIN_TOKEN, FLOWS_DIR, ROOT

CTI_TOKEN = "cti-shared-token"
GREETING = "/cti/ai?callid=acc-1&telnum=13800138000&txt=ready2speak"
NEW_ENTRY = {
    "id": "ce-shi",
    "title": "测试条目",
    "kind": "faq",
    "questions": ["测试问题怎么办"],
    "answer": "测试回答。",
}


def build(tmp_path: Path, segmenter: Segmenter, **settings: Any) -> Quart:
    kb_dir = tmp_path / "kb"  # a copy: a test may add entries
    shutil.copytree(ROOT / "knowledge" / "data", kb_dir, ignore=shutil.ignore_patterns(".*"))
    configured = Settings(
        data_dir=tmp_path / "var", flows_dir=FLOWS_DIR, kb_dir=kb_dir, retry_window_ms=0, **settings
    )
    return create_app(configured, pbx=LogPBX(), segmenter=segmenter)


def add_user(tmp_path: Path, name: str, role: str) -> None:
    """A console user, as `voicebot users add` makes one."""
    UsersFile(tmp_path / "var" / "console_users.json").add(name, role, "a long enough password")


async def logged_in(client: QuartTestClient, tmp_path: Path, name: str, role: str, csrf: str = "c") -> None:
    """``client`` holds the session cookie of console user ``name``, made a ``role``."""
    add_user(tmp_path, name, role)
    async with client.session_transaction() as session:
        session.update(user=name, role=role, csrf=csrf)


def refused(body: str, reason: str) -> float:
    """The count of refusals for ``reason`` in a /metrics body."""
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "voicebot_refused_requests_total" and sample.labels.get("reason") == reason:
                return sample.value
    return 0.0


async def test_with_a_cti_token_the_cti_must_send_it(tmp_path: Path, segmenter: Segmenter) -> None:
    app = build(tmp_path, segmenter, cti_token=CTI_TOKEN)
    async with app.test_app():
        client = QuartTestClient(app)
        before = refused(await (await client.get("/metrics")).get_data(as_text=True), "cti_token")
        for query in ("", "&token=wrong", "&token=" + CTI_TOKEN[:-1]):
            response = await client.get(GREETING + query)
            assert response.status_code == 403
            assert response.content_type.startswith("text/plain")
            assert "VOICEBOT_CTI_TOKEN" in await response.get_data(as_text=True)
        after = refused(await (await client.get("/metrics")).get_data(as_text=True), "cti_token")
        assert after - before == 3
        answered = await client.get(GREETING + "&token=" + CTI_TOKEN)
        assert answered.status_code == 200
        assert "/audio/" in await answered.get_data(as_text=True)
        # Other hooks of the CTI are guarded alike; the API is not the CTI's.
        assert (await client.get("/cti/route?callid=x&telnum=1")).status_code == 403
        assert (await client.get("/healthz")).status_code == 200


async def test_the_cti_s_networks_behind_trusted_proxies_only(tmp_path: Path, segmenter: Segmenter) -> None:
    app = build(tmp_path, segmenter, cti_allow="10.0.0.0/8", trusted_proxies="127.0.0.1")
    async with app.test_app():
        client = QuartTestClient(app)

        async def status(peer: str, forwarded: str | None = None) -> int:
            headers = {"X-Forwarded-For": forwarded} if forwarded else {}
            scope = {"client": (peer, 40000)}
            return (await client.get(GREETING, headers=headers, scope_base=scope)).status_code

        assert await status("10.9.9.9") == 200
        assert await status("192.168.0.9") == 403
        assert await status("192.168.0.9", "10.1.2.3") == 403  # not a trusted proxy: its header is ignored
        assert await status("127.0.0.1") == 403  # the proxy itself is not the CTI
        assert await status("127.0.0.1", "10.1.2.3") == 200
        # The client is the last address the proxy added; what the client sent is not trusted.
        assert await status("127.0.0.1", "10.1.2.3, 192.168.0.9") == 403
        assert await status("127.0.0.1", "junk") == 403
        assert await status("::ffff:10.1.1.1") == 200  # IPv4 on an IPv6 socket
        assert (await client.get(GREETING)).status_code == 403  # no peer address at all


async def test_callers_data_needs_a_principal(tmp_path: Path, segmenter: Segmenter) -> None:
    app = build(tmp_path, segmenter)
    async with app.test_app():
        client = QuartTestClient(app)
        for path in ("/calls", "/calls/acc-1", "/kb/entries", "/kb/export", "/kb/customers/u1/history"):
            response = await client.get(path)
            assert response.status_code == 401, path
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert (await response.get_json())["error"]["code"] == "unauthenticated"
        wrong = await client.get("/calls", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        token = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert (await client.get("/calls", headers=token)).status_code == 200
        # Open: the CTI's endpoints, knowledge answers, health.
        assert (await client.get(GREETING)).status_code == 200
        assert (await client.get("/kb/search?q=" + quote("医保卡"))).status_code == 200
        assert (await client.get("/healthz")).status_code == 200


async def test_a_viewer_reads_an_admin_changes_and_both_need_the_csrf_token(
    tmp_path: Path, segmenter: Segmenter
) -> None:
    app = build(tmp_path, segmenter)
    async with app.test_app():
        client = QuartTestClient(app)
        await client.get(GREETING)
        await logged_in(client, tmp_path, "lin", "viewer", "csrf-1")
        calls = await client.get("/calls")
        assert calls.status_code == 200
        listed = (await calls.get_json())["calls"]
        assert listed[0]["telnum"] == "138****8000"
        assert (await client.get("/calls/acc-1?reveal=1")).status_code == 403  # viewers see masks
        post = await client.post("/kb/entries", json=NEW_ENTRY, headers={CSRF_HEADER: "csrf-1"})
        assert post.status_code == 403
        assert (await post.get_json())["error"]["code"] == "role"

        await logged_in(client, tmp_path, "wang", "admin", "csrf-2")
        missing = await client.post("/kb/entries", json=NEW_ENTRY)
        assert missing.status_code == 403
        assert (await missing.get_json())["error"]["code"] == "csrf"
        stale = await client.post("/kb/entries", json=NEW_ENTRY, headers={CSRF_HEADER: "csrf-1"})
        assert stale.status_code == 403
        created = await client.post("/kb/entries", json=NEW_ENTRY, headers={CSRF_HEADER: "csrf-2"})
        assert created.status_code == 201


async def test_a_removed_user_s_session_opens_nothing_and_other_apps_take_no_session(
    tmp_path: Path, segmenter: Segmenter
) -> None:
    app = build(tmp_path, segmenter)
    async with app.test_app():
        client = QuartTestClient(app)
        await logged_in(client, tmp_path, "lin", "viewer")
        assert (await client.get("/calls")).status_code == 200
        UsersFile(tmp_path / "var" / "console_users.json").remove("lin")
        assert (await client.get("/calls")).status_code == 401
        add_user(tmp_path, "lin", "viewer")
        assert (await client.get("/calls")).status_code == 401  # that session was ended
        add_user(tmp_path, "chen", "viewer")
        async with client.session_transaction() as session:
            session.update(user="chen", role="admin", csrf="c")  # a role the file does not give
        assert (await client.get("/calls")).status_code == 401

    # `voicebot kb serve` has no console: a cookie signed with the same key opens nothing.
    kb_settings = Settings(data_dir=tmp_path / "var", kb_dir=tmp_path / "kb")
    kb_app = create_kb_app(kb_settings, segmenter=segmenter)
    async with kb_app.test_app():
        kb_client = QuartTestClient(kb_app)
        async with kb_client.session_transaction() as session:
            session.update(user="chen", role="viewer", csrf="c")
        assert (await kb_client.get("/kb/entries")).status_code == 401


async def test_a_reveal_is_for_admins_and_is_logged_without_the_number(
    tmp_path: Path, segmenter: Segmenter, caplog: pytest.LogCaptureFixture
) -> None:
    app = build(tmp_path, segmenter)
    async with app.test_app():
        client = QuartTestClient(app)
        await client.get(GREETING)
        await logged_in(client, tmp_path, "wang", "admin")
        revealed = await (await client.get("/calls/acc-1?reveal=1")).get_json()
    assert revealed["telnum"] == "13800138000"
    audit = [r for r in caplog.records if r.name == "voicebot.audit"]
    assert [r.getMessage() for r in audit] == ["numbers revealed: call acc-1 to wang (session)"]


async def test_audio_urls_never_come_from_the_host_header(tmp_path: Path, segmenter: Segmenter) -> None:
    app = build(tmp_path, segmenter)
    async with app.test_app():
        client = QuartTestClient(app)
        answer = await client.get(GREETING, headers={"Host": "attacker.example:8080"})
        url = await answer.get_data(as_text=True)
    assert url.startswith("http://127.0.0.1/audio/"), url


def test_serving_beyond_loopback_needs_the_admin_token_and_the_public_url(tmp_path: Path) -> None:
    bare = Settings(data_dir=tmp_path, admin_token=None, kb_admin_token=None)
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        check_binding(host, bare)
    with pytest.raises(ConfigError, match="VOICEBOT_ADMIN_TOKEN and VOICEBOT_PUBLIC_URL"):
        check_binding("0.0.0.0", bare)
    with pytest.raises(ConfigError, match="needs VOICEBOT_PUBLIC_URL"):
        check_binding("10.0.0.5", Settings(data_dir=tmp_path, admin_token="t"))
    check_binding("10.0.0.5", Settings(data_dir=tmp_path, admin_token="t", public_url="http://bot:8080"))
    check_binding("10.0.0.5", Settings(data_dir=tmp_path, admin_token="t"), serves_audio=False)

    result = CliRunner().invoke(
        main,
        ["serve", "--host", "0.0.0.0"],
        env={"VOICEBOT_ADMIN_TOKEN": None, "VOICEBOT_DATA_DIR": str(tmp_path), "VOICEBOT_PUBLIC_URL": None},
    )
    assert result.exit_code == 2
    assert "VOICEBOT_ADMIN_TOKEN" in result.output


FLOW_CALLING = """\
steps:
  fetch:
    http:
      url: {url}
      on_error: bye
    goto: bye
  bye:
    say: 再见。
    hangup: true
"""


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://crm.example.com/orders/{{order_id}}", True),
        ("https://api.crm.example.com:8443/x", True),  # *.crm.example.com
        ("http://10.0.0.5:8080/x", True),
        ("http://10.0.0.5:9090/x", False),  # another port than the one named
        ("https://evil.example/x", False),
        ("https://crm.example.com.evil.example/x", False),
        ("https://{{host}}/x", False),  # the host from a variable: cannot be checked
    ],
)
def test_flows_call_only_allowed_hosts(tmp_path: Path, url: str, allowed: bool) -> None:
    path = tmp_path / "crm.yaml"
    path.write_text(FLOW_CALLING.format(url=url), encoding="utf-8")
    allowlist = HostAllowlist(["crm.example.com", "*.crm.example.com", "10.0.0.5:8080"])
    if allowed:
        load_flow(path, allowlist=allowlist)
        return
    with pytest.raises(FlowValidationError) as caught:
        load_flow(path, allowlist=allowlist)
    (problem,) = caught.value.problems
    assert (problem.flow_file, problem.line) == (str(path), 4)  # at the url: line
    assert "VOICEBOT_OUTGOING_HOSTS" in str(problem)
    load_flow(path)  # not enforced without the setting, as before it


def test_the_service_s_own_urls_are_always_allowed(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, outgoing_hosts="crm.example.com", outcome_url="http://10.1.1.1:9000/o"
    )
    allowlist = HostAllowlist.of(settings)
    assert allowlist.allows("http://10.1.1.1:9000/other")
    assert not allowlist.allows("http://10.1.1.1:9001/other")
    assert HostAllowlist(()).allows("http://anything.example/")  # unset: not enforced


async def test_transcripts_masked_at_rest(tmp_path: Path, segmenter: Segmenter) -> None:
    app = build(tmp_path, segmenter, transcript_mask=True)
    async with app.test_app():
        client = QuartTestClient(app)
        await client.get(GREETING)
        await client.get(
            "/cti/ai?callid=acc-1&telnum=13800138000&txt=%E6%88%91%E7%9A%84%E6%89%8B%E6%9C%BA%E5%8F%B713912345678"
        )
        token = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        stored = await (await client.get("/calls/acc-1?reveal=1", headers=token)).get_json()
    assert stored["telnum"] == "138****8000"  # even revealed: it was never stored whole
    assert stored["turns"][1]["text"] == "我的手机号139****5678"
