"""What a served WAV file holds, for ``voicebot simulate``: its header, read from its
RIFF chunks by :func:`bot.speech.wav.read_wav_info` (any format tag: PCM, float, μ-law,
A-law…, which the standard ``wave`` module cannot read), and whether it is the file a
CTI set up for one format expects.

GX's own voice files are "wav 音质: u-Law, 8000Hz, 64kbps, mono" (GX CTI manual §5);
``VOICEBOT_AUDIO_FORMAT`` chooses between that, A-law and 16-bit PCM.
"""

from __future__ import annotations

from bot.speech.wav import (
    SERVED_WAVS,
    TELEPHONE_CHANNELS,
    TELEPHONE_RATE,
    AudioFormat,
    WavInfo,
    read_wav_info,
)

__all__ = ["WavInfo", "read_wav_info", "served_format_problem"]

_NAMES: dict[AudioFormat, str] = {
    "pcm16": "PCM 8000 Hz mono 16-bit",
    "mulaw": "μ-law 8000 Hz mono 8-bit",
    "alaw": "A-law 8000 Hz mono 8-bit",
}


def served_format_problem(info: WavInfo, audio_format: AudioFormat) -> str | None:
    """What keeps ``info`` from being the ``audio_format`` file, or None when it is one.

    Args:
        info: A downloaded WAV's header.
        audio_format: The format the CTI is set up for (``pcm16``, ``mulaw``, ``alaw``).

    Returns:
        e.g. ``the audio is WAV PCM 8000 Hz mono 16-bit, 1.20 s; a CTI set up for mulaw
        expects μ-law 8000 Hz mono 8-bit``, or None.
    """
    tag, bits = SERVED_WAVS[audio_format]
    byte_rate = TELEPHONE_RATE * TELEPHONE_CHANNELS * bits // 8  # μ-law: 64 kbps (§5)
    found = (info.format_tag, info.sample_rate, info.channels, info.bits_per_sample, info.byte_rate)
    if found == (tag, TELEPHONE_RATE, TELEPHONE_CHANNELS, bits, byte_rate):
        return None
    return f"the audio is {info}; a CTI set up for {audio_format} expects {_NAMES[audio_format]}"
