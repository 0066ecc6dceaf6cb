"""``/audio/<key>.wav``: the synthesized prompts the CTI downloads and plays."""

from __future__ import annotations

from quart import Blueprint, Response, abort, send_file

from bot.services import services

blueprint = Blueprint("audio", __name__)


@blueprint.route("/audio/<key>.wav", methods=["GET", "HEAD"])
async def audio(key: str) -> Response:
    clip = await services().speech.clip(key)
    if clip is None:
        abort(404, description=f"no audio {key}.wav")
    # conditional=True answers Range requests (206) and If-None-Match / If-Modified-Since.
    try:
        response = await send_file(clip.path, mimetype="audio/wav", conditional=True, cache_timeout=86400)
    except FileNotFoundError:  # deleted from the cache directory while we ran
        abort(404, description=f"no audio {key}.wav")
    response.headers["Accept-Ranges"] = "bytes"
    return response
