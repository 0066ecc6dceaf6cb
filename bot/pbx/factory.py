"""The PBX client the settings ask for (``VOICEBOT_PBX``), and the HWD API client it
shares with the HWD TTS backend."""

from __future__ import annotations

from bot.config import Settings
from bot.errors import ConfigError
from bot.pbx.agents import CachedAgentStatus
from bot.pbx.base import PBX
from bot.pbx.gx import GXPBX
from bot.pbx.gx_status import GXAgentStatus
from bot.pbx.http import PBXHttp
from bot.pbx.hwd import HWDPBX
from bot.pbx.hwd_api import Credentials, HWDApi
from bot.pbx.hwd_status import HWDAgentStatus
from bot.pbx.log import LogPBX
from bot.pbx.recordings import RobotRecordings


def _http(settings: Settings, base_url: str, vendor: str, *, verify_tls: bool = True) -> PBXHttp:
    return PBXHttp(
        base_url,
        vendor=vendor,
        timeout_seconds=settings.pbx_timeout_ms / 1000,
        retries=settings.pbx_retries,
        verify_tls=verify_tls,
    )


def hwd_api(settings: Settings) -> HWDApi | None:
    """The HWD API client when ``VOICEBOT_HWD_URL`` is set, else None.

    Raises:
        ConfigError: the URL is set but a credential is missing.
    """
    if settings.hwd_url is None:
        return None
    values = {
        "VOICEBOT_HWD_CLIENT_ID": settings.hwd_client_id,
        "VOICEBOT_HWD_CLIENT_SECRET": settings.hwd_client_secret,
        "VOICEBOT_HWD_USERNAME": settings.hwd_username,
        "VOICEBOT_HWD_PASSWORD": settings.hwd_password,
    }
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ConfigError(f"VOICEBOT_HWD_URL is set but {', '.join(missing)} are not")
    assert settings.hwd_client_secret is not None
    assert settings.hwd_password is not None
    credentials = Credentials(
        client_id=str(settings.hwd_client_id),
        client_secret=settings.hwd_client_secret.get_secret_value(),
        username=str(settings.hwd_username),
        password=settings.hwd_password.get_secret_value(),
    )
    http = _http(settings, str(settings.hwd_url), "hwd", verify_tls=settings.hwd_verify_tls)
    return HWDApi(http, credentials)


def build_pbx(settings: Settings, *, hwd: HWDApi | None) -> PBX:
    """The configured PBX client.

    Raises:
        ConfigError: the chosen vendor's URL (or credentials) is missing.
    """
    if settings.pbx == "gx":
        if settings.gx_url is None:
            raise ConfigError("VOICEBOT_PBX=gx needs VOICEBOT_GX_URL (e.g. http://10.0.0.2:12121)")
        return GXPBX(
            _http(settings, str(settings.gx_url), "gx"),
            extnum=settings.gx_extnum,
            access_number=settings.gx_access_number,
            outbound_extnum=settings.gx_outbound_extnum,
            outbound_caller=settings.gx_outbound_caller,
            hangup=settings.gx_hangup,
            leader_extnum=settings.gx_leader_extnum,
            queue_priority=settings.gx_queue_priority,
        )
    if settings.pbx == "hwd":
        if hwd is None:
            raise ConfigError("VOICEBOT_PBX=hwd needs VOICEBOT_HWD_URL and its credentials")
        return HWDPBX(hwd, extension=settings.hwd_extension)
    return LogPBX()


def build_recordings(settings: Settings) -> RobotRecordings | None:
    """Where the CTI serves robot calls' recordings (GX §52.4): VOICEBOT_GX_RECORDING_URL,
    else the GX CTI's own address; None when the bot does not work with a GX CTI."""
    base = settings.gx_recording_url or (settings.gx_url if settings.pbx == "gx" else None)
    if base is None:
        return None
    return RobotRecordings(str(base), timeout_seconds=settings.recording_timeout_ms / 1000)


def build_agent_status(settings: Settings, *, hwd: HWDApi | None) -> CachedAgentStatus | None:
    """The agents' status of the configured PBX (``transfer:`` steps with ``busy:``), or
    None without one (``VOICEBOT_PBX=log``: someone can always answer).

    GX gets its own client: bounded by the status budget, never retried (a retry would
    outlast it), apart from the call-control pool.
    """
    timeout_seconds = settings.agent_status_timeout_ms / 1000
    query: GXAgentStatus | HWDAgentStatus
    if settings.pbx == "gx" and settings.gx_url is not None:
        http = PBXHttp(str(settings.gx_url), vendor="gx", timeout_seconds=timeout_seconds, retries=0)
        query = GXAgentStatus(http, max_queued=settings.gx_max_queued, today=settings.today)
    elif settings.pbx == "hwd" and hwd is not None:
        query = HWDAgentStatus(hwd)
    else:
        return None
    return CachedAgentStatus(
        query, cache_seconds=settings.agent_status_cache_ms / 1000, timeout_seconds=timeout_seconds
    )
