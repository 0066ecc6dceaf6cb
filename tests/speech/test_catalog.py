"""Audio across instances: two synthesizers with their own cache directories share a
Redis catalog of recipes, and each serves the other's audio URLs (real espeak-ng)."""

from __future__ import annotations

import math
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as redis_asyncio
from quart import Quart

from bot.app import create_app
from bot.config import Settings
from bot.errors import TTSError
from bot.language.flow import Prompt
from bot.services import EXTENSION_KEY, Services
from bot.speech.cache import AudioCache
from bot.speech.catalog import (
    AudioCatalogError,
    JoinPart,
    JoinRecipe,
    Recipe,
    RecordingRecipe,
    RedisAudioCatalog,
    SilenceRecipe,
    SpeechRecipe,
    recipe_from_json,
    recipe_to_json,
)
from bot.speech.espeak import EspeakTTS
from bot.speech.synthesizer import MissingAudioError, SpeechSynthesizer
from bot.speech.tts import IdentityValue
from bot.text.segmenter import Segmenter
from tests.conftest import FLOWS_DIR

from .conftest import CountingBackend

SENTENCE = "请问您是想咨询转诊转院还是异地安置？"
PHONE_TEXT = "您的手机号是13912345678，对吗？"
UNKNOWN_KEY = "0" * 64


class CountingCatalog:
    """Passes every call to a real catalog and counts them."""

    def __init__(self, inner: RedisAudioCatalog) -> None:
        self.inner = inner
        self.remembered: list[str] = []
        self.asked: list[str] = []

    async def remember(self, key: str, recipe: Recipe) -> None:
        self.remembered.append(key)
        await self.inner.remember(key, recipe)

    async def recipe(self, key: str) -> Recipe | None:
        self.asked.append(key)
        return await self.inner.recipe(key)


class BrokenBackend:
    """Looks like espeak-ng (same name and identity, so the same keys) but cannot speak."""

    def __init__(self, twin: EspeakTTS) -> None:
        self.name = twin.name
        self._identity = twin.identity()

    def identity(self) -> dict[str, IdentityValue]:
        return self._identity

    async def synthesize(self, text: str) -> bytes:
        raise TTSError("the vendor is down", backend=self.name)


def write_tone(path: Path, seconds: float = 0.4) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16000)
        writer.writeframes(
            b"".join(
                int(8000 * math.sin(2 * math.pi * 440 * n / 16000)).to_bytes(2, "little", signed=True)
                for n in range(int(16000 * seconds))
            )
        )


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis_asyncio.Redis]:
    client = redis_asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def catalog(redis_client: redis_asyncio.Redis) -> CountingCatalog:
    return CountingCatalog(RedisAudioCatalog(redis_client))


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    write_tone(tmp_path / "flows" / "recordings" / "welcome.wav")
    return tmp_path / "flows"


@pytest.fixture
def instance_a(
    tmp_path: Path, espeak: EspeakTTS, catalog: CountingCatalog, flows_dir: Path
) -> SpeechSynthesizer:
    return SpeechSynthesizer(
        CountingBackend(espeak), AudioCache(tmp_path / "a"), catalog=catalog, recordings_dir=flows_dir
    )


@pytest.fixture
def backend_b(espeak: EspeakTTS) -> CountingBackend:
    return CountingBackend(espeak)


@pytest.fixture
def instance_b(
    tmp_path: Path, backend_b: CountingBackend, catalog: CountingCatalog, flows_dir: Path
) -> SpeechSynthesizer:
    return SpeechSynthesizer(backend_b, AudioCache(tmp_path / "b"), catalog=catalog, recordings_dir=flows_dir)


async def test_b_serves_every_kind_of_clip_a_made(
    instance_a: SpeechSynthesizer, instance_b: SpeechSynthesizer, backend_b: CountingBackend
) -> None:
    spoken = await instance_a.render(SENTENCE)
    silence = await instance_a.silence(400)
    recording = await instance_a.render_prompt(Prompt(text="您好", audio="recordings/welcome.wav"))
    joined = await instance_a.join([recording, spoken])

    made_by_a = (joined, spoken, silence, recording)
    assert not any(instance_b.cache.exists(made.key) for made in made_by_a)

    for made in made_by_a:  # the join first: its parts are made with it
        served = await instance_b.clip(made.key)
        assert served is not None, made.backend
        assert served.key == made.key
        assert served.duration_seconds == pytest.approx(made.duration_seconds, abs=0.001)
        assert served.path.read_bytes() == made.path.read_bytes()
        assert served.path.parent == instance_b.cache.directory
    assert backend_b.calls == 1  # the sentence, once: as a part of the join, then found


async def test_an_unknown_or_malformed_key_is_none(instance_b: SpeechSynthesizer) -> None:
    assert await instance_b.clip(UNKNOWN_KEY) is None
    assert await instance_b.clip("../etc/passwd") is None
    with pytest.raises(MissingAudioError, match="no recipe"):
        await instance_b.serve(UNKNOWN_KEY)


async def test_a_known_key_does_not_touch_redis(
    instance_a: SpeechSynthesizer, catalog: CountingCatalog
) -> None:
    first = await instance_a.render(SENTENCE)
    greeting = await instance_a.render("您好")
    joined = await instance_a.join([greeting, first])
    written = list(catalog.remembered)
    assert sorted(written) == sorted({first.key, greeting.key, joined.key})

    for _ in range(3):
        assert (
            await instance_a.join([await instance_a.render("您好"), await instance_a.render(SENTENCE)])
            == joined
        )
        assert await instance_a.clip(joined.key) == joined

    assert catalog.remembered == written
    assert catalog.asked == []


async def test_the_join_recipe_carries_its_parts(
    instance_a: SpeechSynthesizer, catalog: CountingCatalog, redis_client: redis_asyncio.Redis
) -> None:
    spoken = await instance_a.render(SENTENCE)
    silence = await instance_a.silence()
    joined = await instance_a.join([spoken, silence], gap_ms=0)
    await redis_client.delete(f"voicebot:audio:{spoken.key}")  # the part's own recipe expired

    recipe = await catalog.inner.recipe(joined.key)

    assert isinstance(recipe, JoinRecipe)
    assert recipe.gap_ms == 0
    assert [p.key for p in recipe.parts] == [spoken.key, silence.key]
    assert recipe.parts[1].recipe == SilenceRecipe(300)
    part = recipe.parts[0].recipe
    assert isinstance(part, SpeechRecipe)
    assert part.backend == "espeak-ng"
    assert dict(part.identity) == EspeakTTS().identity()


async def test_a_voice_b_does_not_have_is_missing_with_the_reason(
    tmp_path: Path, instance_a: SpeechSynthesizer, catalog: CountingCatalog
) -> None:
    clip = await instance_a.render(SENTENCE)
    other_voice = SpeechSynthesizer(EspeakTTS(voice="yue"), AudioCache(tmp_path / "c"), catalog=catalog)

    with pytest.raises(MissingAudioError, match="backend that this instance does not have"):
        await other_voice.serve(clip.key)


async def test_a_backend_down_on_b_is_speech_unavailable(
    tmp_path: Path, espeak: EspeakTTS, instance_a: SpeechSynthesizer, catalog: CountingCatalog
) -> None:
    clip = await instance_a.render(SENTENCE)
    broken = SpeechSynthesizer(BrokenBackend(espeak), AudioCache(tmp_path / "c"), catalog=catalog)

    with pytest.raises(TTSError, match="the vendor is down") as raised:
        await broken.serve(clip.key)
    assert type(raised.value).__name__ == "SpeechUnavailableError"
    assert await broken.clip(clip.key) is None


async def test_redis_down_does_not_hold_up_the_answer(tmp_path: Path, espeak: EspeakTTS) -> None:
    dead = redis_asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    synth = SpeechSynthesizer(espeak, AudioCache(tmp_path / "a"), catalog=RedisAudioCatalog(dead))
    try:
        clip = await synth.render(SENTENCE)
        assert await synth.clip(clip.key) == clip  # this instance still serves it
        with pytest.raises(AudioCatalogError):
            await synth.serve(UNKNOWN_KEY)
    finally:
        await dead.aclose()


@pytest.mark.parametrize(
    "recipe",
    [
        SpeechRecipe(PHONE_TEXT, "espeak-ng", {"voice": "cmn", "rate_wpm": 175}),
        RecordingRecipe("recordings/welcome.wav"),
        SilenceRecipe(300),
        JoinRecipe((JoinPart("a" * 64, SilenceRecipe(10)), JoinPart("b" * 64)), 150),
    ],
    ids=["speech", "recording", "silence", "join"],
)
def test_recipes_round_trip_through_json(recipe: Recipe) -> None:
    assert recipe_from_json(recipe_to_json(recipe)) == recipe
    assert recipe_from_json(recipe_to_json(recipe).encode()) == recipe


@pytest.mark.parametrize(
    "data",
    [
        '{"v":1,"kind":"join","gap_ms":0,"parts":[{"key":"../x"}]}',
        '{"v":9,"kind":"silence","ms":1}',
        "[",
        "{}",
    ],
    ids=["bad-part-key", "other-version", "not-json", "no-kind"],
)
def test_a_malformed_recipe_is_refused(data: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        recipe_from_json(data)


# --- through the app's /audio route --------------------------------------------------


@pytest.fixture
def app(tmp_path: Path, segmenter: Segmenter) -> Quart:
    settings = Settings(data_dir=tmp_path / "var", flows_dir=FLOWS_DIR)
    return create_app(settings, segmenter=segmenter)


async def test_the_audio_route_serves_what_another_instance_made(
    app: Quart, tmp_path: Path, espeak: EspeakTTS, instance_a: SpeechSynthesizer, catalog: CountingCatalog
) -> None:
    svc: Services = app.extensions[EXTENSION_KEY]
    svc.speech = SpeechSynthesizer(espeak, AudioCache(tmp_path / "b"), catalog=catalog)
    joined = await instance_a.join([await instance_a.render("您好"), await instance_a.render(SENTENCE)])
    client = app.test_client()

    served = await client.get(f"/audio/{joined.key}.wav")
    unknown = await client.get(f"/audio/{UNKNOWN_KEY}.wav")

    assert served.status_code == 200
    assert await served.get_data() == joined.path.read_bytes()
    assert unknown.status_code == 404
    assert "no recipe" in (await unknown.get_data(as_text=True))

    svc.speech = SpeechSynthesizer(BrokenBackend(espeak), AudioCache(tmp_path / "c"), catalog=catalog)
    down = await client.get(f"/audio/{joined.key}.wav")
    assert down.status_code == 503
    assert "the vendor is down" in (await down.get_data(as_text=True))
