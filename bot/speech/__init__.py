"""Speech output: text normalisation, synthesis backends, telephone audio and its cache.

The bot uses :class:`bot.speech.synthesizer.SpeechSynthesizer`; the other modules
are its parts::

    from bot.speech.synthesizer import SpeechSynthesizer

    synth = SpeechSynthesizer([HttpTTS(url), EspeakTTS(voice, rate)], AudioCache(audio_dir))
    clip = await synth.render("请问您是想咨询[转诊转院]还是[异地安置]?")
    clip = await synth.render_prompt(prompt)  # a flow prompt: its recording, else its text

Nothing is re-exported here, on purpose: importing ``bot.speech.recordings`` (the
flow loader does) or ``bot.speech.chinese_numbers`` (prompt templates do) must not
load numpy and soxr, which only :mod:`bot.speech.audio` needs.

The modules, from the top:

- ``synthesizer``: the entry point (render, render_prompt(s), join, silence, clip);
- ``rendering``: a normalised text through the backend chain, with its time budget;
- ``chain``: which backends are cooling down after a failure;
- ``prompt_recordings``: a flow prompt's recording, converted once and cached;
- ``joining``: several clips glued into one, and silence;
- ``clips``: :class:`~bot.speech.clips.AudioClip` and the store of clips by key
  (memory, disk, one production per key at a time);
- ``cache``: the content-addressed directory of WAVs; ``memo``: a small LRU;
- ``tts``: the backend interface; ``espeak``, ``http_tts``, ``hwd``: the backends;
  ``backends``: the chain built from the settings (``VOICEBOT_TTS``);
- ``normalize``, ``chinese_numbers``, ``pinyin``: text as it should be said;
- ``wav``: telephone WAVs with the stdlib; ``audio``: conversion with numpy and soxr;
- ``recordings``: recorded prompts' names, files and keys.
"""
