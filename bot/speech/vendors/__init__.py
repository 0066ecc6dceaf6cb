"""Cloud and local speech backends of their own, one module each (docs/speech.md).

Each module has ``build(settings) -> TTSBackend`` (``bot.speech.backends`` imports it
only when ``VOICEBOT_TTS`` lists it) and reads its own ``VOICEBOT_TTS_<NAME>_*``
settings. What they share (texts cut to a vendor's limit, access tokens kept fresh,
raw PCM as a WAV) is :mod:`bot.speech.vendors.common`.
"""
