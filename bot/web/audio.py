"""``/audio/<key>.wav``: the synthesized prompts the CTI downloads and plays.

Any instance serves any URL any instance handed out: a clip not on this instance's
disk is made from its recipe (:meth:`bot.speech.synthesizer.SpeechSynthesizer.serve`).
An unknown key, or a recipe this instance cannot follow, is a 404 with the reason; a
speech backend or the shared catalog down is a 503.
"""

from __future__ import annotations

from quart import Blueprint, Response, abort, send_file

from bot.errors import SpeechUnavailableError, VoicebotError
from bot.services import services
from bot.speech.catalog import AudioCatalogError
from bot.speech.clips import AudioClip
from bot.speech.synthesizer import MissingAudioError, SpeechSynthesizer
from bot.web.openapi import Text, documented
from bot.web.schemas import AudioQuery

blueprint = Blueprint("audio", __name__)


@blueprint.route("/audio/<key>.wav", methods=["GET", "HEAD"])
@documented(
    "A synthesized prompt, for the CTI to play",
    tag="audio",
    description="8 kHz mono WAV: 16-bit PCM, or G.711 μ-law or A-law (VOICEBOT_AUDIO_FORMAT). "
    "Byte ranges (Range: bytes=…) are answered 206, conditional "
    "requests 304. Any instance serves any URL any instance handed out.",
    query=AudioQuery,
    texts={
        200: Text("The WAV file.", content_types=("audio/wav",)),
        206: Text("The requested bytes of the WAV file.", content_types=("audio/wav",)),
        304: Text("Not modified (If-None-Match / If-Modified-Since).", content_types=()),
    },
    errors=(404, 416, 503),
)
async def audio(key: str) -> Response:
    speech = services().speech
    clip = await _clip(speech, key)
    try:
        return await _send(clip)
    except FileNotFoundError:  # deleted from the cache directory while we ran: made again
        speech.forget(key)
    clip = await _clip(speech, key)
    try:
        return await _send(clip)
    except FileNotFoundError:
        abort(404, description=f"no audio {key[:80]}.wav: it was deleted while being served")


async def _clip(speech: SpeechSynthesizer, key: str) -> AudioClip:
    try:
        return await speech.serve(key)
    except MissingAudioError as exc:
        abort(404, description=f"no audio {key[:80]}.wav: {exc}")
    except (SpeechUnavailableError, AudioCatalogError) as exc:
        abort(503, description=f"audio {key[:80]}.wav cannot be made now: {exc}")
    except VoicebotError as exc:  # e.g. the clip made again cannot be stored
        abort(404, description=f"audio {key[:80]}.wav cannot be made here: {exc}")


async def _send(clip: AudioClip) -> Response:
    # conditional=True answers Range requests (206) and If-None-Match / If-Modified-Since.
    try:
        response = await send_file(clip.path, mimetype="audio/wav", conditional=True, cache_timeout=86400)
    except AssertionError:
        # Quart's range handling asserts on some valid ranges (a suffix such as
        # bytes=-1): the whole file is answered instead, which a server may always do
        # (RFC 9110 §14.2).
        response = await send_file(clip.path, mimetype="audio/wav", conditional=False, cache_timeout=86400)
    response.headers["Accept-Ranges"] = "bytes"
    return response
