"""`voicebot serve` as a real process on loopback, driven over HTTP like a CTI."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import ADMIN_HEADERS, FLOWS_DIR
from tests.loopback import unused_port

if TYPE_CHECKING:  # tests.fakepbx imports this module's helpers
    from tests.fakepbx import FakePBX

VOICEBOT = str(Path(sys.executable).with_name("voicebot"))


def start(
    tmp_path: Path, flows_dir: Path, port: int, *, settings: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`voicebot serve`, its output in ``tmp_path/serve.log`` (a pipe nobody reads could fill);
    ``settings`` are further ``VOICEBOT_*`` variables."""
    env = {
        **os.environ,
        "VOICEBOT_DATA_DIR": str(tmp_path / "var"),
        "VOICEBOT_FLOWS_DIR": str(flows_dir),
        **(settings or {}),
    }
    with (tmp_path / "serve.log").open("wb") as log:
        return subprocess.Popen(
            [VOICEBOT, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def serving(workdir: Path) -> Iterator[str]:
    """A ``voicebot serve`` of the sample flows, healthy, for the block; its base URL.
    It must stop cleanly (exit status 0)."""
    port = unused_port()
    process = start(workdir, FLOWS_DIR, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, workdir)
        yield base
    finally:
        stop(process)
    assert process.returncode == 0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("serve")) as base:
        yield base


def test_a_call_over_real_http(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10, headers=ADMIN_HEADERS) as http:
        greeting = http.get(
            "/cti/ai", params={"telnum": "13800138000", "txt": "ready2speak", "callid": "real-1"}
        )
        assert greeting.status_code == 200
        assert greeting.headers["content-type"] == "text/plain; charset=utf-8"
        assert greeting.text.startswith(f"{server}/audio/")
        assert greeting.text.endswith(".wav?canbeinterrupted=true")

        audio = http.get(greeting.text)
        with wave.open(io.BytesIO(audio.content)) as wav:
            assert (wav.getframerate(), wav.getnchannels()) == (8000, 1)
        assert int(audio.headers["content-length"]) == len(audio.content)

        notice = http.get(
            "/cti/ai", params={"telnum": "13800138000", "txt": "我要转人工", "callid": "real-1"}
        )
        assert notice.text.endswith("canbeinterrupted=false")
        call = http.get("/calls/real-1").json()
        assert call["outcome"] == "transferred"
        assert [t["event"] for t in call["turns"]] == ["ready2speak", "text"]
        health = http.get("/healthz").json()
        assert health["status"] == "ok"
        assert health["prompts_rendered"] >= 10


@pytest.mark.parametrize("event_loop", ["uvloop", "asyncio"])
def test_the_event_loop_is_chosen_by_the_setting(tmp_path: Path, event_loop: str) -> None:
    """uvloop by default; VOICEBOT_EVENT_LOOP=asyncio for Python's own. A call is answered
    on either, and the process stops cleanly."""
    port = unused_port()
    settings = {} if event_loop == "uvloop" else {"VOICEBOT_EVENT_LOOP": event_loop}
    process = start(tmp_path, FLOWS_DIR, port, settings=settings)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, tmp_path)
        params = {"telnum": "13800138000", "txt": "ready2speak", "callid": f"loop-{event_loop}"}
        greeting = httpx.get(f"{base}/cti/ai", params=params, timeout=10)
        assert greeting.status_code == 200
        assert greeting.text.startswith(f"{base}/audio/")
    finally:
        stop(process)
    assert process.returncode == 0
    log = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert f"event loop {event_loop}" in log


@pytest.mark.parametrize(
    "txt",
    ["a" * 10_000, "转" * 3_400],
    ids=["10kB-ascii", "10kB-chinese"],
)
def test_ten_kilobyte_text_is_refused_with_a_reason(server: str, txt: str) -> None:
    response = httpx.get(f"{server}/cti/ai?telnum=1&callid=big&txt={quote(txt)}", timeout=10)
    assert 400 <= response.status_code < 500
    assert "longer than" in response.text


def test_audio_range_and_head(server: str) -> None:
    url = httpx.get(f"{server}/cti/ai", params={"txt": "ready2speak", "callid": "range-1"}).text
    head = httpx.head(url)
    assert head.status_code == 200
    size = int(head.headers["content-length"])
    part = httpx.get(url, headers={"Range": "bytes=0-43"})
    assert part.status_code == 206
    assert part.content[:4] == b"RIFF"
    assert len(part.content) == 44
    assert part.headers["content-range"] == f"bytes 0-43/{size}"


def test_head_of_health(server: str) -> None:
    head = httpx.head(f"{server}/healthz", timeout=10)
    assert head.status_code == 200
    assert head.headers["content-type"] == "application/json"
    assert head.content == b""


def test_sigterm_carries_out_the_transfer_a_call_waits_for(tmp_path: Path, fake_pbx: FakePBX) -> None:
    """Stopping runs the app's shutdown (after_serving), which hands waiting calls over now."""
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    settings = {
        "VOICEBOT_PBX": "gx",
        "VOICEBOT_GX_URL": fake_pbx.base,
        "VOICEBOT_ACTION_MARGIN_MS": "10000",  # the transfer's own time is long after the stop
    }
    process = start(tmp_path, FLOWS_DIR, port, settings=settings)
    try:
        wait_healthy(base, process, tmp_path)
        with httpx.Client(base_url=base, params={"telnum": "13800138000", "callid": "stop-1"}) as http:
            http.get("/cti/ai", params={"txt": "ready2speak"})
            notice = http.get("/cti/ai", params={"txt": "转人工"})
        assert notice.text.endswith("canbeinterrupted=false")
        assert not transfers(fake_pbx)
    finally:
        stop(process)
    assert process.returncode == 0
    (transfer,) = transfers(fake_pbx)
    assert transfer["query"]["extnum"] == "13800138000"


def transfers(fake_pbx: FakePBX) -> list[dict[str, Any]]:
    return [r for r in fake_pbx.requests("gx") if r["query"].get("opt") == "CLICK_TO_TRANSFER"]


def test_invalid_flow_refuses_to_start(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    broken = flows / "yibao.yaml"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("goto: menu", "goto: menuu", 1), encoding="utf-8"
    )
    status, output = start_refused(tmp_path, flows, unused_port())
    assert status == 1
    assert f"{broken}:" in output
    assert "unknown step 'menuu'" in output


def start_refused(workdir: Path, flows: Path, port: int) -> tuple[int | None, str]:
    """Start ``voicebot serve``, which is expected to give up; its exit status and output."""
    process = start(workdir, flows, port)
    try:
        process.wait(timeout=60)
    finally:
        stop(process)
    return process.returncode, (workdir / "serve.log").read_text(encoding="utf-8", errors="replace")


def test_http10_without_host_gets_a_usable_url(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /cti/ai?txt=ready2speak&callid=http10 HTTP/1.0\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")
    assert body.decode().startswith(f"{server}/audio/")


def test_more_keep_alive_connections_than_granians_default_are_all_served(server: str) -> None:
    """A CTI (or a proxy) may hold many keep-alive connections; each is answered, not
    only the first 128 (Granian's default backlog, which was also its limit)."""
    host, port = server.removeprefix("http://").split(":")
    sockets = [socket.create_connection((host, int(port)), timeout=5) for _ in range(200)]
    try:
        for sock in sockets:  # every connection open, none closed
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n" % host.encode())
        for number, sock in enumerate(sockets):
            assert sock.recv(65536).startswith(b"HTTP/1.1 200"), f"connection {number} got no answer"
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.parametrize(
    ("env", "status", "message"),
    [
        # Checked while the rest opens, the backend's own reason is still the one given.
        (
            {"VOICEBOT_TTS_VOICE": "nosuchvoice"},
            1,
            "could not start: no speech backend works (VOICEBOT_TTS):\n"
            "espeak-ng: espeak-ng has no voice 'nosuchvoice'",
        ),
        ({"VOICEBOT_LOG_LEVEL": "verbose"}, 2, "VOICEBOT_LOG_LEVEL"),
        ({"VOICEBOT_DATA_DIR": "/proc/no-such-dir/var"}, 2, "VOICEBOT_DATA_DIR"),
        ({"VOICEBOT_DEFAULT_FLOW": "nosuch"}, 2, "VOICEBOT_DEFAULT_FLOW"),
    ],
    ids=["unknown-voice", "bad-log-level", "unusable-data-dir", "unknown-default-flow"],
)
def test_bad_settings_stop_the_start_with_a_reason(
    tmp_path: Path, env: dict[str, str], status: int, message: str
) -> None:
    full_env = {
        **os.environ,
        "VOICEBOT_DATA_DIR": str(tmp_path / "var"),
        "VOICEBOT_FLOWS_DIR": str(FLOWS_DIR),
        **env,
    }
    done = subprocess.run(
        [VOICEBOT, "serve", "--port", str(unused_port())],
        env=full_env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == status
    stderr = done.stderr.decode()
    assert message in stderr[stderr.rindex("voicebot: ") :]  # the last word is ours, and says why
    if status == 2:  # a bad setting is one clear message, not a traceback
        assert "Traceback" not in stderr


def test_a_taken_port_stops_the_start_with_a_reason(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, output = start_refused(tmp_path, FLOWS_DIR, port)
    assert status == 1
    assert f"voicebot: could not start: serving on 127.0.0.1:{port}: Address already in use" in output


def test_a_flow_edit_reaches_new_calls_and_a_broken_one_does_not(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    path = flows / "yibao.yaml"
    original = path.read_text(encoding="utf-8")
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    # The second ready2speak of a call comes sooner than a CTI's silence timeout would
    # send it; within the retry window it would be taken for the CTI's retry.
    process = start(tmp_path, flows, port, settings={"VOICEBOT_RETRY_WINDOW_MS": "0"})
    try:
        wait_healthy(base, process, tmp_path)
        with httpx.Client(base_url=base, timeout=10, headers=ADMIN_HEADERS) as http:
            old_version = http.get("/healthz").json()["flows"]["yibao"]
            http.get("/cti/ai", params={"txt": "ready2speak", "callid": "before-edit"})

            edited = original.replace("欢迎致电医保服务热线", "欢迎致电新版医保热线")
            path.write_text(edited.replace("您好，请问您还在吗？", "喂，您还在听吗？"), encoding="utf-8")
            new_version = wait_for(lambda: http.get("/healthz").json()["flows"]["yibao"] != old_version)
            assert new_version
            http.get("/cti/ai", params={"txt": "ready2speak", "callid": "after-edit"})
            assert "新版医保热线" in http.get("/calls/after-edit").json()["turns"][0]["reply"]
            # The call in progress finishes on the version it started with.
            http.get("/cti/ai", params={"txt": "ready2speak", "callid": "before-edit"})
            before = http.get("/calls/before-edit").json()
            assert "请问您还在吗" in before["turns"][1]["reply"]  # the old version's re-prompt
            assert before["flow_version"] == old_version

            live = http.get("/healthz").json()["flows"]["yibao"]
            path.write_text(original.replace("goto: menu", "goto: nowhere", 1), encoding="utf-8")
            assert wait_for(lambda: http.get("/healthz").json()["flow_errors"].get("yibao"))
            health = http.get("/healthz").json()
            assert health["status"] == "ok"
            assert health["flows"]["yibao"] == live
            assert "unknown step 'nowhere'" in health["flow_errors"]["yibao"][0]
            greeting = http.get("/cti/ai", params={"txt": "ready2speak", "callid": "after-broken-edit"})
            assert greeting.status_code == 200
            assert "新版医保热线" in http.get("/calls/after-broken-edit").json()["turns"][0]["reply"]

            # An edited lookup table reloads the flows that read it.
            path.write_text(edited, encoding="utf-8")
            assert wait_for(lambda: not http.get("/healthz").json()["flow_errors"].get("yibao"))
            live = http.get("/healthz").json()["flows"]["yibao"]
            table = flows / "data" / "claims.csv"
            table.write_text(
                table.read_text(encoding="utf-8").replace("正在审核", "补充材料中"), encoding="utf-8"
            )
            assert wait_for(lambda: http.get("/healthz").json()["flows"]["yibao"] != live)
            for txt in ("ready2speak", "查一下身份证320102199001011232的报销进度", "对"):
                http.get("/cti/ai", params={"txt": txt, "callid": "after-table-edit"})
            turns = http.get("/calls/after-table-edit").json()["turns"]
            assert "补充材料中" in turns[-1]["reply"]
    finally:
        stop(process)


def wait_healthy(
    base: str,
    process: subprocess.Popen[bytes],
    workdir: Path,
    *,
    path: str = "/healthz",
    log: str = "serve.log",
) -> None:
    """Wait until ``base + path`` answers 200; the process dying fails with its log."""

    def healthy() -> bool:
        assert process.poll() is None, (workdir / log).read_text()
        try:
            return httpx.get(f"{base}{path}", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    assert wait_for(healthy), f"{process.args!r} did not answer {path} with 200"


def wait_for(condition: Callable[[], object], seconds: float = 60) -> object:
    """Poll ``condition`` until it is truthy; a generous bound, not a timing assertion."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    return None


def test_a_chunked_webhook_body_over_the_limit_is_refused(server: str) -> None:
    """Without a Content-Length the 16 KiB limit holds on what is read."""
    host, port = server.removeprefix("http://").split(":")
    body = b'{"sender": "s", "message": "' + b"a" * 20_000 + b'"}'
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10_000], body[10_000:]))
    request = (
        b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
    assert b"larger than 16384 bytes" in reply


@pytest.mark.parametrize(
    "host", ["a" * 64 + ".example", "a..b:8080", "x" * 300], ids=["long-label", "empty-label", "long"]
)
def test_a_host_header_the_framework_cannot_parse_is_a_400(server: str, host: str) -> None:
    for path in ("/cti/ai?txt=ready2speak&callid=host-1", "/healthz"):
        response = httpx.get(f"{server}{path}", headers={"Host": host}, timeout=10)
        assert response.status_code == 400, response.text
        assert "Host header" in response.text
