"""Robot calls' recordings on the GX CTI (GX manual §52.4, 机器人录音下载接口).

The CTI records every robot call and serves it at
``<cti>/Oms/FileDownServlet?robotcallid=<callid>``, ``callid`` being the id its §52
callbacks carried. ``url`` builds that address for transcripts and the outcome push;
``fetch`` opens it for ``GET /calls/<id>/recording``, which streams it to people who
cannot reach the CTI themselves. A recording exists once the call has ended; the CTI
answers 404 before that (or when its recording is off).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from werkzeug.datastructures import Headers

from bot.errors import PBXRejectedError, PBXUnavailableError

logger = logging.getLogger(__name__)

DOWNLOAD_PATH = "/Oms/FileDownServlet"
# What an answer keeps of the CTI's headers (a player needs them to seek).
PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "Last-Modified", "ETag")
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Download:
    """The CTI's answer to a recording's download, its body still to be read."""

    status: int  # 200, or 206 for a range
    headers: dict[str, str]
    body: AsyncIterator[bytes]


class RobotRecordings:
    """Where the CTI keeps each robot call's recording, and its download.

    Args:
        base: The CTI's address (``VOICEBOT_GX_RECORDING_URL``, else ``VOICEBOT_GX_URL``).
        timeout_seconds: Connecting and waiting for each chunk, not the whole download.
    """

    def __init__(self, base: str, *, timeout_seconds: float) -> None:
        self.base = base.rstrip("/")
        self._client = httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False)

    def url(self, call_id: str) -> str:
        """The recording's address on the CTI (the call id URL-encoded, ``@`` as ``%40``)."""
        return f"{self.base}{DOWNLOAD_PATH}?robotcallid={quote(call_id, safe='')}"

    async def fetch(self, call_id: str, headers: Mapping[str, str] | Headers) -> Download:
        """Open the recording, passing on a player's ``Range``; the caller reads the body
        to its end (the connection is released then, or when the reader stops).

        Raises:
            PBXRejectedError: the CTI has no recording for the call (its 404) or refuses.
            PBXUnavailableError: the CTI cannot be reached or fails (5xx).
        """
        asked = {name: headers[name] for name in ("Range", "If-Range") if name in headers}
        request = self._client.build_request("GET", self.url(call_id), headers=asked)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise PBXUnavailableError(
                f"the CTI's recording download failed: {type(exc).__name__}", call_id=call_id
            ) from exc
        if response.status_code not in (200, 206):
            await response.aclose()
            error = PBXUnavailableError if response.status_code >= 500 else PBXRejectedError
            raise error(
                f"the CTI answered {response.status_code} for the recording (§52.4)",
                call_id=call_id,
                code=str(response.status_code),
            )
        kept = {name: response.headers[name] for name in PASSED_HEADERS if name in response.headers}
        return Download(response.status_code, kept, _chunks(response))

    async def aclose(self) -> None:
        await self._client.aclose()


async def _chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes(CHUNK_BYTES):
            yield chunk
    except httpx.HTTPError as exc:  # the CTI stopped mid-way: the player sees a short file
        logger.warning("recording download cut short: %s", type(exc).__name__)
    finally:
        await response.aclose()
