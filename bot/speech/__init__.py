"""Speech output: text normalisation, synthesis backends, telephone audio and its cache.

The bot uses :class:`SpeechSynthesizer`; the other modules are its parts::

    synth = SpeechSynthesizer([HttpTTS(url), EspeakTTS(voice, rate)], AudioCache(audio_dir))
    clip = await synth.render("请问您是想咨询[转诊转院]还是[异地安置]?")
    clip = await synth.render_prompt(prompt)  # a flow prompt: its recording, else its text

``bot.speech.backends`` builds the chain from the settings (``VOICEBOT_TTS``).
"""

from __future__ import annotations

from bot.speech.audio import (
    TELEPHONE_RATE,
    concat_wavs,
    to_telephone_wav,
    wav_duration_seconds,
)
from bot.speech.cache import AudioCache
from bot.speech.espeak import EspeakTTS
from bot.speech.http_tts import HttpTTS
from bot.speech.normalize import normalize_for_speech
from bot.speech.synthesizer import AudioClip, SpeechSynthesizer, SpokenPrompt
from bot.speech.tts import TTSBackend

__all__ = [
    "TELEPHONE_RATE",
    "AudioCache",
    "AudioClip",
    "EspeakTTS",
    "HttpTTS",
    "SpeechSynthesizer",
    "SpokenPrompt",
    "TTSBackend",
    "concat_wavs",
    "normalize_for_speech",
    "to_telephone_wav",
    "wav_duration_seconds",
]
