"""A flow's voice: the chain it leads (its backend first, then VOICEBOT_TTS's in order),
another voice of a backend built from the settings, and cooldowns shared by every chain.
The vendor is the loopback server's speech API; espeak-ng is real."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import ConfigError
from bot.speech.cache import AudioCache
from bot.speech.espeak import EspeakTTS
from bot.speech.http_tts import HttpTTS
from bot.speech.synthesizer import SpeechSynthesizer
from bot.speech.tts import TTSBackend
from bot.speech.voices import ChosenVoice, VoiceChains, VoiceChoice, voice_builder, voice_setting, voice_value
from tests.loopback import LoopbackServer

from .conftest import CountingBackend, HttpFactory

GREETING = "您好，这里是语音测试热线。"
OTHER = "请问还有什么可以帮您？"


def http_settings(tmp_path: Path, vendor: LoopbackServer) -> Settings:
    """VOICEBOT_TTS=espeak,http, the HTTP backend at the loopback vendor, voice xiaoyun."""
    url = f"{vendor.base_url}/tts/wav"
    return Settings(data_dir=tmp_path, tts=("espeak", "http"), tts_http_url=url, tts_http_voice="xiaoyun")


def test_the_default_chain_is_ready_and_a_voice_waits_to_be_asked_for(http_tts: HttpFactory) -> None:
    espeak, http, hwd_like = EspeakTTS(), http_tts(), http_tts("/tts/json")
    chains = VoiceChains([espeak, http, hwd_like], names=["espeak", "http", "hwd"])

    assert chains.ready(None) == (espeak, http, hwd_like)
    assert chains.ready(ChosenVoice("hwd")) is None  # not built yet


async def test_the_chain_of_a_voice_is_its_backend_then_the_default(http_tts: HttpFactory) -> None:
    espeak, http, json_http = EspeakTTS(), http_tts(), http_tts("/tts/json")
    chains = VoiceChains([espeak, http, json_http], names=["espeak", "http", "hwd"])

    assert await chains.chain(ChosenVoice("hwd")) == (json_http, espeak, http)
    assert await chains.chain(ChosenVoice("espeak")) == (espeak, http, json_http)
    assert chains.ready(ChosenVoice("hwd")) == (json_http, espeak, http)


async def test_a_voice_of_a_backend_not_here_speaks_with_the_default_chain(
    caplog: pytest.LogCaptureFixture,
) -> None:
    espeak = EspeakTTS()
    chains = VoiceChains(espeak)

    with caplog.at_level(logging.WARNING, logger="bot.speech.voices"):
        assert await chains.chain(ChosenVoice("aliyun")) == (espeak,)
        assert await chains.chain(ChosenVoice("aliyun")) == (espeak,)

    [warning] = [r.getMessage() for r in caplog.records]
    assert "aliyun is not among the speech backends here (espeak)" in warning


async def test_the_flow_voice_speaks_first_and_the_default_chain_is_unchanged(
    http_tts: HttpFactory, backend: CountingBackend, cache: AudioCache, vendor: LoopbackServer
) -> None:
    synth = SpeechSynthesizer(VoiceChains([backend, http_tts()], names=["espeak", "http"]), cache)

    voiced = await synth.render(GREETING, voice=ChosenVoice("http"))
    plain = await synth.render(OTHER)
    again = await synth.render(GREETING, voice=ChosenVoice("http"))

    assert (voiced.backend, plain.backend, again) == ("http", "espeak-ng", voiced)
    assert (vendor.hits["/tts/wav"], backend.calls) == (1, 1)
    assert json.loads(vendor.received["/tts/wav"].body)["text"] == GREETING


async def test_a_failing_voice_falls_back_down_the_chain(
    http_tts: HttpFactory, backend: CountingBackend, cache: AudioCache, vendor: LoopbackServer
) -> None:
    vendor.tts_status = 503
    synth = SpeechSynthesizer(VoiceChains([backend, http_tts()], names=["espeak", "http"]), cache)

    clip = await synth.render(GREETING, voice=ChosenVoice("http"))

    assert clip.backend == "espeak-ng"
    assert (vendor.hits["/tts/wav"], backend.calls) == (1, 1)


async def test_a_backend_cools_down_in_every_chain_it_is_in(
    http_tts: HttpFactory, backend: CountingBackend, cache: AudioCache, vendor: LoopbackServer
) -> None:
    # The failing vendor leads the flow's chain and is the default chain's first too.
    failing, working = http_tts("/missing"), http_tts()
    chains = VoiceChains([failing, working, backend], names=["aliyun", "http", "espeak"])
    synth = SpeechSynthesizer(chains, cache, cooldown_seconds=3600)

    first = await synth.render(GREETING, voice=ChosenVoice("aliyun"))
    second = await synth.render(OTHER)

    assert (first.backend, second.backend) == ("http", "http")
    assert vendor.hits["/missing"] == 1  # the default chain skipped it: it is cooling down
    assert backend.calls == 0


async def test_another_voice_of_a_backend_is_built_from_the_settings_and_closed(
    tmp_path: Path, backend: CountingBackend, cache: AudioCache, vendor: LoopbackServer
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        tts=("espeak", "http"),
        tts_http_url=f"{vendor.base_url}/tts/wav",
        tts_http_voice="xiaoyun",
    )
    configured = voice_builder(settings)(ChosenVoice("http"))
    chains = VoiceChains([backend, configured], names=["espeak", "http"], build=voice_builder(settings))
    synth = SpeechSynthesizer(chains, cache)

    clip = await synth.render(GREETING, voice=ChosenVoice("http", "xiaoyan"))
    [variant] = chains.variants
    await synth.aclose()

    assert clip.backend == "http"
    assert json.loads(vendor.received["/tts/wav"].body)["voice"] == "xiaoyan"
    assert variant is not configured
    assert variant.identity()["voice"] == "xiaoyan"
    assert clip.key == cache.key_for(GREETING, variant) != cache.key_for(GREETING, configured)
    assert isinstance(variant, HttpTTS)
    assert variant._client.is_closed  # the variant's connections, closed with the synthesizer
    await configured.aclose()  # type: ignore[attr-defined]


async def test_the_voice_a_backend_is_configured_with_is_that_backend(
    tmp_path: Path, backend: CountingBackend, vendor: LoopbackServer
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        tts=("espeak", "http"),
        tts_http_url=f"{vendor.base_url}/tts/wav",
        tts_http_voice="xiaoyun",
    )
    configured = voice_builder(settings)(ChosenVoice("http"))
    chains = VoiceChains([backend, configured], names=["espeak", "http"], build=voice_builder(settings))

    chain = await chains.chain(ChosenVoice("http", "xiaoyun"))
    await chains.aclose()
    await configured.aclose()  # type: ignore[attr-defined]

    assert chain == (configured, backend)
    assert chains.variants == ()


async def test_an_espeak_voice_that_does_not_exist_is_a_warning_at_its_check(
    tmp_path: Path, backend: CountingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    chains = VoiceChains([backend], names=["espeak"], build=voice_builder(Settings(data_dir=tmp_path)))

    with caplog.at_level(logging.WARNING, logger="bot.speech.voices"):
        await chains.chain(ChosenVoice("espeak", "no-such-voice"))

    assert any("has no voice 'no-such-voice'" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("backend", "setting"),
    [
        ("espeak", "tts_voice"),
        ("http", "tts_http_voice"),
        ("aliyun", "tts_aliyun_voice"),
        ("tencent", "tts_tencent_voice_type"),
        ("sherpa", "tts_sherpa_speaker_id"),
        ("hwd", None),
    ],
    ids=str,
)
def test_each_backend_names_its_voice_setting(backend: str, setting: str | None) -> None:
    assert voice_setting(backend) == setting


def test_a_voice_name_is_read_as_its_setting_reads_it() -> None:
    assert voice_value("tencent", "101001") == 101001
    with pytest.raises(ValueError, match="'zhimei' is not a voice of tencent"):
        voice_value("tencent", "zhimei")
    with pytest.raises(ValueError, match="the hwd speech backend has no voice to choose"):
        voice_value("hwd", "x")


def test_building_a_voice_the_backend_refuses_is_a_config_error(tmp_path: Path) -> None:
    build = voice_builder(Settings(data_dir=tmp_path))
    with pytest.raises(ConfigError, match="'ai xia' is not a voice of aliyun"):
        build(ChosenVoice("aliyun", "ai xia"))


async def test_a_voice_that_cannot_be_built_is_said_by_the_default_chain(
    backend: CountingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(voice: VoiceChoice) -> TTSBackend:
        raise ConfigError(f"no {voice.name} here")

    chains = VoiceChains([backend], names=["espeak"], build=refuse)

    with caplog.at_level(logging.ERROR, logger="bot.speech.voices"):
        assert await chains.chain(ChosenVoice("espeak", "cmn")) == (backend,)

    [error] = [r.getMessage() for r in caplog.records]
    assert error == "the voice espeak (voice cmn) cannot be built (no cmn here): VOICEBOT_TTS's chain speaks"
