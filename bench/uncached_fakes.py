"""The speech vendors' loopback fakes for ``bench/uncached.py``, each with the latency
assumed of its vendor, served from a thread of the benchmark's process; and the
``VOICEBOT_*`` settings that point a ``voicebot serve`` at each.

The fakes are those of the tests (``tests/speech/vendors/fake_*.py``: the vendors' own
protocols, signatures and tokens checked); the local voice (sherpa) is the tests' model
fixture, whose lexicon is widened here to every character the benchmark says, so that
it says each one for as long as a voice would.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tests.speech.vendors.fake_aliyun import FakeAliyun
from tests.speech.vendors.fake_azure import FakeAzure
from tests.speech.vendors.fake_baidu import FakeBaidu
from tests.speech.vendors.fake_iflytek import FakeIflytek
from tests.speech.vendors.fake_tencent import FakeTencent
from tests.speech.vendors.fake_volcengine import FakeVolcengine
from tests.speech.vendors.latency import MANDARIN_SECONDS_PER_CHAR, Latency
from tests.speech.vendors.serving import serve_asgi

IFLYTEK = ("5f0c1a2b", "key0fake1e2d3c4b5a6978685a4b3c2d1", "secret9fake8e7d6c5b4a3928171615141")
BAIDU = ("Fk4eApiKey0a1b2c3d4e5f6g", "Fk4eSecretKey9z8y7x6w5v4u3t2s1r0")


@dataclass(frozen=True)
class Assumed:
    """A vendor's latency as assumed here, and why."""

    latency: Latency
    why: str


# No vendor publishes its latency as a figure: these are assumptions for a server in
# mainland China calling the vendor's public endpoint, non-streaming, with a kept-alive
# connection. Structure (a first-byte time, then time growing with the text): Azure's
# "Lower speech synthesis latency" page (first byte vs finish latency), Aliyun's RESTful
# page ("合成耗时受文本和模型影响", streaming recommended for that reason).
VENDOR_LATENCY: dict[str, Assumed] = {
    "aliyun": Assumed(Latency(200, 8), "short-text RESTful in cn-shanghai: whole answer at the end"),
    "tencent": Assumed(Latency(300, 10), "TextToVoice: base64 audio in a JSON answer, whole at the end"),
    "iflytek": Assumed(Latency(250, 6), "WebSocket: a signed handshake per text, frames as made"),
    "baidu": Assumed(Latency(300, 10), "text2audio: the whole audio in one answer"),
    "azure": Assumed(Latency(300, 8), "REST from mainland China to chinaeast2, SSML in, WAV out"),
    "volcengine": Assumed(Latency(200, 8), "HTTP non-streaming: base64 audio in a JSON answer"),
}


def scaled(factor: float) -> dict[str, Assumed]:
    """The assumed latencies times ``factor`` (a slower or faster day of the vendors)."""
    return {
        name: Assumed(Latency(a.latency.first_byte_ms * factor, a.latency.per_char_ms * factor), a.why)
        for name, a in VENDOR_LATENCY.items()
    }


class VendorFakes:
    """Every vendor's fake on a loopback port, served by an event loop in a thread.

    Args:
        assumed: Each vendor's latency.
        sherpa_dir: Where the sherpa model fixture is written.
        texts: What the benchmark will say (the sherpa fixture learns their characters).
    """

    def __init__(self, assumed: dict[str, Assumed], sherpa_dir: Path, texts: Iterable[str]) -> None:
        self._assumed = assumed
        self._sherpa_dir = sherpa_dir
        self._texts = list(texts)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="vendor-fakes", daemon=True)
        self._stack = AsyncExitStack()
        self._settings: dict[str, dict[str, str]] = {}

    def __enter__(self) -> VendorFakes:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=60)
        write_sherpa_model(self._sherpa_dir, self._texts)
        self._settings["sherpa"] = {
            "VOICEBOT_TTS_SHERPA_MODEL_DIR": str(self._sherpa_dir),
            "VOICEBOT_TTS_SHERPA_THREADS": "1",
        }
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stack.aclose(), self._loop).result(timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def settings(self, backend: str) -> dict[str, str]:
        """``VOICEBOT_TTS=<backend>,espeak`` and the backend's settings against its fake."""
        if backend == "espeak":
            return {"VOICEBOT_TTS": "espeak"}
        return {"VOICEBOT_TTS": f"{backend},espeak", **self._settings[backend]}

    async def _start(self) -> None:
        def latency(name: str) -> Latency:
            return self._assumed[name].latency

        aliyun = FakeAliyun(latency=latency("aliyun"))
        base = await self._stack.enter_async_context(serve_asgi(aliyun.app))
        self._settings["aliyun"] = {
            "VOICEBOT_TTS_ALIYUN_ACCESS_KEY_ID": aliyun.access_key_id,
            "VOICEBOT_TTS_ALIYUN_ACCESS_KEY_SECRET": aliyun.access_key_secret,
            "VOICEBOT_TTS_ALIYUN_APPKEY": aliyun.appkey,
            "VOICEBOT_TTS_ALIYUN_VOICE": "aixia",
            "VOICEBOT_TTS_ALIYUN_URL": f"{base}/stream/v1/tts",
            "VOICEBOT_TTS_ALIYUN_TOKEN_URL": f"{base}/",
        }
        tencent = FakeTencent(latency=latency("tencent"))
        base = await self._stack.enter_async_context(serve_asgi(tencent.app))
        self._settings["tencent"] = {
            "VOICEBOT_TTS_TENCENT_SECRET_ID": tencent.secret_id,
            "VOICEBOT_TTS_TENCENT_SECRET_KEY": tencent.secret_key,
            "VOICEBOT_TTS_TENCENT_VOICE_TYPE": "101008",
            "VOICEBOT_TTS_TENCENT_URL": f"{base}/",
        }
        iflytek = FakeIflytek(*IFLYTEK, latency=latency("iflytek"))
        url = await self._stack.enter_async_context(iflytek.serve())
        self._settings["iflytek"] = {
            "VOICEBOT_TTS_IFLYTEK_APP_ID": IFLYTEK[0],
            "VOICEBOT_TTS_IFLYTEK_API_KEY": IFLYTEK[1],
            "VOICEBOT_TTS_IFLYTEK_API_SECRET": IFLYTEK[2],
            "VOICEBOT_TTS_IFLYTEK_URL": url,
        }
        baidu = FakeBaidu(*BAIDU, latency=latency("baidu"))
        base = await self._stack.enter_async_context(serve_asgi(baidu.app))
        self._settings["baidu"] = {
            "VOICEBOT_TTS_BAIDU_API_KEY": BAIDU[0],
            "VOICEBOT_TTS_BAIDU_SECRET_KEY": BAIDU[1],
            "VOICEBOT_TTS_BAIDU_URL": f"{base}/text2audio",
            "VOICEBOT_TTS_BAIDU_TOKEN_URL": f"{base}/oauth/2.0/token",
        }
        azure = FakeAzure(latency=latency("azure"))
        base = await self._stack.enter_async_context(azure.serve())
        self._settings["azure"] = {
            "VOICEBOT_TTS_AZURE_KEY": azure.key,
            "VOICEBOT_TTS_AZURE_REGION": "chinaeast2",
            "VOICEBOT_TTS_AZURE_URL": f"{base}/cognitiveservices/v1",
            "VOICEBOT_TTS_AZURE_TOKEN_URL": f"{base}/sts/v1.0/issueToken",
        }
        volcengine = FakeVolcengine(latency=latency("volcengine"))
        base = await self._stack.enter_async_context(volcengine.serve())
        self._settings["volcengine"] = {
            "VOICEBOT_TTS_VOLCENGINE_APPID": volcengine.appid,
            "VOICEBOT_TTS_VOLCENGINE_TOKEN": volcengine.token,
            "VOICEBOT_TTS_VOLCENGINE_URL": f"{base}/api/v1/tts",
        }


def write_sherpa_model(directory: Path, texts: Iterable[str]) -> None:
    """The tests' VITS-shaped fixture, each character of ``texts`` in its lexicon as two
    tokens, and as many samples per token as a voice takes for half a character."""
    from bot.speech.normalize import normalize_for_speech  # noqa: PLC0415  # the bench's texts only
    from tests.speech.vendors.sherpa_fixture import LEXICON, SAMPLE_RATE, write_vits_model  # noqa: PLC0415

    samples_per_token = round(SAMPLE_RATE * MANDARIN_SECONDS_PER_CHAR / 2)
    write_vits_model(directory, samples_per_token=samples_per_token)
    characters = {c for text in texts for c in normalize_for_speech(text) if "\u4e00" <= c <= "\u9fff"}
    extra = sorted(characters - LEXICON.keys())
    with (directory / "lexicon.txt").open("a", encoding="utf-8") as lexicon:
        lexicon.writelines(f"{c} n in2\n" for c in extra)
