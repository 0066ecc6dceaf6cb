"""The bot and the PBX as real processes on loopback: ``voicebot serve`` with
``VOICEBOT_PBX=gx`` or ``hwd`` against ``voicebot fake-pbx`` (issue acceptance)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import time
import wave
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_HEADERS, FLOWS_DIR
from tests.fakepbx import FakePBX
from tests.loopback import LoopbackServer, unused_port
from tests.test_serve import start, stop, wait_for, wait_healthy

TELNUM = "13800138000"
# The tests play silences back to back, faster than a CTI's silence timeout sends them,
# which the bot would take for the CTI's retries of one callback.
QUICK_SILENCES = {"VOICEBOT_RETRY_WINDOW_MS": "0"}


class Bot:
    """A running ``voicebot serve`` and a CTI's view of it."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=15, headers=ADMIN_HEADERS)

    def say(self, call_id: str, txt: str, *, flow: str | None = None) -> tuple[str, float]:
        """The callback's answer and when it came (monotonic, comparable across processes)."""
        params = {"telnum": TELNUM, "txt": txt, "callid": call_id, **({"flow": flow} if flow else {})}
        response = self.http.get("/cti/ai", params=params)
        assert response.status_code == 200, response.text
        return response.text, time.monotonic()

    def seconds(self, url: str) -> float:
        audio = self.http.get(url)
        assert audio.status_code == 200
        with wave.open(io.BytesIO(audio.content)) as wav:
            return float(wav.getnframes() / wav.getframerate())

    def call(self, call_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.http.get(f"/calls/{call_id}").json()
        return found

    def ended(self, call_id: str, outcome: str) -> dict[str, Any]:
        """The call's record once it has ended so (a generous bound)."""

        def reached() -> dict[str, Any] | None:
            call = self.call(call_id)
            return call if call["outcome"] == outcome else None

        call = wait_for(reached, 30)
        assert isinstance(call, dict), self.call(call_id)
        return call


@pytest.fixture(scope="module")
def fake(fake_pbx_process: FakePBX) -> FakePBX:
    """The module's fake PBX; each test resets what it needs."""
    return fake_pbx_process


@contextlib.contextmanager
def bot_serving(workdir: Path, settings: Mapping[str, str]) -> Iterator[Bot]:
    """A ``voicebot serve`` for the block, stopped after it; it must exit cleanly."""
    process, bot = serve(workdir, settings)
    try:
        yield bot
    finally:
        bot.http.close()
        stop(process)
    assert process.returncode == 0


def serve(workdir: Path, settings: Mapping[str, str]) -> tuple[subprocess.Popen[bytes], Bot]:
    port = unused_port()
    process = start(workdir, FLOWS_DIR, port, settings=settings)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, workdir)
    except BaseException:
        stop(process)
        raise
    return process, Bot(base)


def hwd_settings(fake: FakePBX) -> dict[str, str]:
    return {
        "VOICEBOT_HWD_URL": fake.hwd_url,
        "VOICEBOT_HWD_CLIENT_ID": "voicebot",
        "VOICEBOT_HWD_CLIENT_SECRET": "secret",
        "VOICEBOT_HWD_USERNAME": "api",
        "VOICEBOT_HWD_PASSWORD": "api",
    }


@pytest.fixture(scope="module")
def rasa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A slow knowledge webhook (a remote Rasa), in a thread of its own."""
    server = LoopbackServer.in_thread()
    try:
        yield server.base_url
    finally:
        server.stop_thread()


@pytest.fixture(scope="module")
def gx_bot(tmp_path_factory: pytest.TempPathFactory, fake: FakePBX, rasa: str) -> Iterator[Bot]:
    settings = {
        "VOICEBOT_PBX": "gx",
        "VOICEBOT_GX_URL": fake.base,
        "VOICEBOT_KB_URL": f"{rasa}/rasa/1500",
        "VOICEBOT_KB_TIMEOUT_MS": "8000",
        "VOICEBOT_KB_FILLER_MS": "600",
        **QUICK_SILENCES,
    }
    with bot_serving(tmp_path_factory.mktemp("gx-bot"), settings) as bot:
        yield bot


@pytest.fixture(scope="module")
def hwd_bot(tmp_path_factory: pytest.TempPathFactory, fake: FakePBX) -> Iterator[Bot]:
    settings = {"VOICEBOT_PBX": "hwd", **hwd_settings(fake), **QUICK_SILENCES}
    with bot_serving(tmp_path_factory.mktemp("hwd-bot"), settings) as bot:
        yield bot


def requests_for(fake: FakePBX, vendor: str, ending: str) -> list[dict[str, Any]]:
    return [r for r in fake.requests(vendor) if r["path"].endswith(ending) or r["query"].get("opt") == ending]


def wait_requests(fake: FakePBX, vendor: str, ending: str) -> list[dict[str, Any]]:
    """The fake's requests of one kind, once there are some (a generous bound)."""
    found = wait_for(lambda: requests_for(fake, vendor, ending), 30)
    assert found, fake.requests()
    return requests_for(fake, vendor, ending)


def test_gx_transfer_carries_biz_data_after_the_notice(gx_bot: Bot, fake: FakePBX) -> None:
    fake.reset()
    gx_bot.say("gx-1", "ready2speak")
    notice, answered = gx_bot.say("gx-1", "我要转人工")
    assert notice.endswith("canbeinterrupted=false")
    heard = gx_bot.seconds(notice)
    (transfer,) = wait_requests(fake, "gx", "CLICK_TO_TRANSFER")
    assert transfer["status"] == 200
    assert transfer["query"]["target"] == "8001"
    assert transfer["query"]["extnum"] == TELNUM
    assert transfer["biz_data"]["json"]["callid"] == "gx-1"
    assert "我要转人工" in transfer["biz_data"]["json"]["summary"]
    assert transfer["monotonic"] - answered >= heard  # not before the caller heard the notice
    call = gx_bot.call("gx-1")
    assert call["outcome"] == "transferred"
    pbx_turn = next(t for t in call["turns"] if t["event"] == "pbx")
    assert pbx_turn["pbx"][0]["status"] == 200


def test_gx_silence_ends_with_the_hang_up_request(gx_bot: Bot, fake: FakePBX) -> None:
    fake.reset()
    for _ in range(4):
        gx_bot.say("gx-2", "ready2speak")
    (hangup,) = wait_requests(fake, "gx", "CLICK_TO_HUNGUP")
    assert hangup["query"] == {"caller": TELNUM, "callee": "1000", "opt": "CLICK_TO_HUNGUP"}
    assert gx_bot.call("gx-2")["outcome"] == "hung_up_by_bot"


def test_gx_outbound_hang_up_names_the_customer_as_the_callee(gx_bot: Bot, fake: FakePBX) -> None:
    """The survey is an outbound flow: the robot called the customer, who is §3's 被叫."""
    fake.reset()
    gx_bot.say("gx-out-1", "ready2speak", flow="survey")
    gx_bot.say("gx-out-1", "再见", flow="survey")
    (hangup,) = wait_requests(fake, "gx", "CLICK_TO_HUNGUP")
    assert hangup["query"] == {"caller": "1000", "callee": TELNUM, "opt": "CLICK_TO_HUNGUP"}
    assert gx_bot.call("gx-out-1")["direction"] == "outbound"


def test_gx_recording_is_linked_and_streamed_from_the_cti(gx_bot: Bot, fake: FakePBX) -> None:
    """§52.4: the transcript names the CTI's recording; /calls/<id>/recording streams it."""
    fake.reset()
    call_id = "fd6a66a6-52da@192.168.1.82"
    gx_bot.say(call_id, "ready2speak")
    gx_bot.say(call_id, "hungup")
    call = gx_bot.call(call_id)
    address = f"{fake.base}/Oms/FileDownServlet?robotcallid=fd6a66a6-52da%40192.168.1.82"
    assert call["recording_url"] == address
    recording = gx_bot.http.get(f"/calls/{call_id}/recording")
    assert recording.status_code == 200, recording.text
    assert recording.headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(recording.content)) as wav:
        assert (wav.getframerate(), wav.getnframes()) == (8000, 16000)
    (download,) = requests_for(fake, "gx", "/Oms/FileDownServlet")
    assert download["query"] == {"robotcallid": call_id}
    part = gx_bot.http.get(f"/calls/{call_id}/recording", headers={"Range": "bytes=0-99"})
    assert (part.status_code, part.content) == (206, recording.content[:100])
    fake.fail(action="recording_download", status=404)
    assert gx_bot.http.get(f"/calls/{call_id}/recording").status_code == 404
    fake.fail(action="recording_download", status=500)
    failed = gx_bot.http.get(f"/calls/{call_id}/recording")
    assert (failed.status_code, failed.json()["error"]["code"]) == (502, "cti_failed")
    assert httpx.get(f"{gx_bot.base}/calls/{call_id}/recording").status_code == 401


def test_gx_busy_agent_ends_transfer_failed_and_graded_for_that(gx_bot: Bot, fake: FakePBX) -> None:
    """The grade "A 转人工" was for a transfer that did not happen: graded again."""
    fake.reset()
    fake.fail(action="click_to_transfer", status=486)
    gx_bot.say("gx-4", "ready2speak")
    gx_bot.say("gx-4", "我要转人工")
    call = gx_bot.ended("gx-4", "transfer_failed")
    assert "486" in call["end_reason"]
    assert (call["grade"], call["score"], call["grade_reason"]) == ("A", 80, "转人工未接通，需回电")


def test_gx_late_knowledge_answer_arrives_as_play_voice(gx_bot: Bot, fake: FakePBX) -> None:
    fake.reset()
    gx_bot.say("gx-3", "ready2speak")
    filler, _ = gx_bot.say("gx-3", "异地就医怎么备案")  # the remote knowledge base takes 1.5 s
    (play,) = wait_requests(fake, "gx", "PLAY_VOICE")
    assert play["query"]["callid"] == "gx-3"
    answer = play["query"]["voiceurl"]
    assert answer.startswith(f"{gx_bot.base}/audio/")
    assert answer != filler
    assert gx_bot.seconds(answer) > 1
    late = gx_bot.call("gx-3")["turns"][1]
    assert (late["filler"], late["delivered"]) == (filler, "play")


def test_hwd_signs_in_once_refreshes_after_expiry_and_transfers(hwd_bot: Bot, fake: FakePBX) -> None:
    fake.reset()
    hwd_bot.say("hwd-1", "ready2speak")
    hwd_bot.say("hwd-1", "我要转人工")
    wait_requests(fake, "hwd", "/call/transfer")
    fake.expire_tokens()
    for _ in range(4):
        hwd_bot.say("hwd-2", "ready2speak")
    # The refused hang-up (401) and its retry after the token refresh (200): both, not
    # only the first to arrive.
    assert wait_for(lambda: len(requests_for(fake, "hwd", "/call/hangup")) >= 2, 30), fake.requests()
    records = fake.requests("hwd")
    grants = [r["json"]["grant_type"] for r in records if r["path"].endswith("/oauth/token")]
    assert grants in (["password", "refresh_token"], ["refresh_token"])  # signed in before the reset
    (transfer,) = requests_for(fake, "hwd", "/call/transfer")
    assert transfer["json"] == {"type": "blind", "dest": "8001", "extension": TELNUM}
    assert [r["status"] for r in requests_for(fake, "hwd", "/call/hangup")] == [401, 200]
    assert all(r["manual_headers"] for r in records if "/api/v1/" in r["path"])


def test_hwd_600006_is_a_transfer_error_and_the_caller_hears_why(hwd_bot: Bot, fake: FakePBX) -> None:
    fake.reset()
    fake.fail(action="transfer", code="600006")
    hwd_bot.say("hwd-3", "ready2speak")
    hwd_bot.say("hwd-3", "我要转人工")
    call = hwd_bot.ended("hwd-3", "transfer_failed")
    pbx_turn = next(t for t in call["turns"] if t["event"] == "pbx")
    assert "600006" in pbx_turn["error"]
    assert "转接异常" in pbx_turn["error"]
    assert "600006 转接异常" in call["end_reason"]
    # HWD cannot push audio: the next callback says why, then the bot hangs up.
    apology, _ = hwd_bot.say("hwd-3", "ready2speak")
    assert apology.endswith("canbeinterrupted=false")
    assert hwd_bot.seconds(apology) > 1
    wait_requests(fake, "hwd", "/call/hangup")


def chain_settings(fake: FakePBX, tts: str) -> dict[str, str]:
    return {
        "VOICEBOT_PBX": "gx",
        "VOICEBOT_GX_URL": fake.base,
        **hwd_settings(fake),
        "VOICEBOT_TTS": tts,
        "VOICEBOT_TTS_TIMEOUT_MS": "1500",
        "VOICEBOT_TTS_COOLDOWN_SECONDS": "0",
        "VOICEBOT_KB_FILLER_MS": "8000",  # the callback itself carries the answer
    }


@pytest.fixture(scope="module")
def chain_bot(tmp_path_factory: pytest.TempPathFactory, fake: FakePBX) -> Iterator[Bot]:
    fake.reset()  # the HWD TTS speaks the prompts at start-up
    process, bot = serve(tmp_path_factory.mktemp("chain-bot"), chain_settings(fake, "hwd,espeak"))
    try:
        yield bot
    finally:
        bot.http.close()
        stop(process)
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("failure", "question"),
    [({"status": 500}, "异地就医怎么备案"), ({"hang": 30}, "门诊慢特病怎么申请")],
    ids=["failing", "hanging"],
)
def test_a_failing_or_hanging_hwd_tts_falls_through_to_espeak(
    chain_bot: Bot, fake: FakePBX, failure: dict[str, Any], question: str
) -> None:
    fake.reset()
    call_id = f"chain-{next(iter(failure))}"
    chain_bot.say(call_id, "ready2speak")
    fake.fail(action="tts", times=0, **failure)
    answer, _ = chain_bot.say(call_id, question)
    fake.reset()
    assert chain_bot.seconds(answer) > 1
    turn = chain_bot.call(call_id)["turns"][1]
    assert turn["audio_url"] == answer
    assert turn["filler"] is None  # answered by the callback itself, within its time
    # The answer by espeak-ng; the follow-up question is still the HWD's, cached at start.
    assert turn["tts"].split("+")[0] == "espeak-ng"
    assert requests_for(fake, "hwd", "/tts/synthesize") == []  # reset: the failed asks were before
    assert requests_for(fake, "gx", "PLAY_VOICE") == []


def test_when_every_backend_fails_the_apology_plays_and_the_cti_speaks_the_text(
    tmp_path: Path, fake: FakePBX
) -> None:
    fake.reset()
    process, bot = serve(tmp_path, chain_settings(fake, "hwd"))
    try:
        bot.say("chain-all", "ready2speak")
        fake.fail(action="tts", status=500, times=0)
        answer, _ = bot.say("chain-all", "生育津贴怎么申领")
        (play,) = wait_requests(fake, "gx", "PLAY_VOICE")
        turn = bot.call("chain-all")["turns"][1]
    finally:
        fake.reset()
        bot.http.close()
        stop(process)
    assert answer.endswith("canbeinterrupted=false")
    assert turn["audio_url"] == answer
    assert turn["tts"].startswith("unavailable")
    assert play["query"]["callid"] == "chain-all"
    assert play["query"]["voiceurl"] == turn["reply"]  # the text, for the CTI's own TTS
    assert "生育津贴" in play["query"]["voiceurl"]
