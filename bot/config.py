"""Typed settings, read once at start from ``VOICEBOT_*`` environment variables.

Every field here is documented in ``docs/configuration.md``; a test fails when one is not.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError
from bot.pbx.base import TransferTarget
from bot.text.fillers import SPOKEN_FILLERS

# Syntheses at once by default: a backend that runs here (espeak-ng, sherpa-onnx) uses
# this machine's cores; a service mostly waits on the network (docs/performance.md,
# "The uncached path").
LOCAL_TTS_BACKENDS = frozenset({"espeak", "sherpa"})
LOCAL_TTS_SLOTS = 2
REMOTE_TTS_SLOTS = 8
# Said to a new call beyond VOICEBOT_MAX_LIVE_CALLS, before the hang-up (or transfer).
DEFAULT_BUSY_TEXT = "您好，现在来电的人比较多，请您稍后再拨，再见。"
DEFAULT_BACKCHANNELS = (
    "嗯",
    "恩",
    "啊",
    "哦",
    "噢",
    "喔",
    "呃",
    "额",
    "唉",
    "诶",
    "欸",
    "哎",
    "对",
    "对对",
    "对的",
    "是",
    "是的",
    "是啊",
    "好",
    "好的",
    "好嘞",
    "行",
    "可以",
    "嗯嗯",
    "嗯哼",
    "知道了",
    "明白",
    "明白了",
    "了解",
    "喂",
    "在",
    "在的",
    "您说",
    "你说",
)
_HOST_PATTERN = re.compile(
    r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)
DEFAULT_FILLERS = SPOKEN_FILLERS  # the one filler list, shared with intents and knowledge


def _split_words(value: object) -> object:
    """Accept ``a,b,c`` (or ``a，b，c``) in the environment as well as a real list."""
    if isinstance(value, str):
        return [w.strip() for w in value.replace("，", ",").split(",") if w.strip()]
    return value


def number_template(value: str) -> str:
    """``value`` if it is a number template (a fixed number, ``{telnum}`` or ``{callid}``)."""
    try:
        value.format(telnum="1", callid="1")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"{value!r} is not a number template: use a fixed number, {{telnum}} or {{callid}}"
        ) from exc
    return value


class AccessSettings(BaseSettings):
    """Who may reach the service and where it may send requests (docs/security.md): the
    part of :class:`Settings` that bot/web/auth.py and the allowlists read."""

    model_config = SettingsConfigDict(env_prefix="VOICEBOT_", extra="ignore", frozen=True)

    kb_admin_token: SecretStr | None = Field(
        None, description="Deprecated alias of VOICEBOT_ADMIN_TOKEN, still read when that is unset."
    )
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token of programs reading calls and editing knowledge (/calls, /kb admin); "
        "required to serve on a non-loopback address.",
    )
    cti_token: SecretStr | None = Field(
        None, description="Shared token the CTI puts on its callback URLs (?token=…); unset: not asked."
    )
    metrics_token: SecretStr | None = Field(
        None, description="Bearer token Prometheus sends to scrape GET /metrics; unset: /metrics is open."
    )
    cti_allow: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = Field(
        (), description="Networks the CTI may call /cti/* from (a,b: 10.0.0.0/8,192.168.1.5); empty: any."
    )
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = Field(
        (), description="Reverse proxies whose X-Forwarded-For names the client for VOICEBOT_CTI_ALLOW."
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs console login cookies; the same on every instance; unset: a key generated in "
        "the data directory.",
    )
    console_users: Path | None = Field(
        None, description="The console's users file (voicebot users); unset: <data dir>/console_users.json."
    )
    outgoing_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Hosts flow http: steps may call (a,b; *.example.com; host:port); the hosts of the "
        "URL settings are always allowed; empty: not enforced.",
    )

    _split_networks = field_validator("cti_allow", "trusted_proxies", "outgoing_hosts", mode="before")(
        classmethod(lambda cls, v: _split_words(v))
    )

    @field_validator("outgoing_hosts")
    @classmethod
    def _host_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            if not _HOST_PATTERN.fullmatch(pattern):
                raise ValueError(f"{pattern!r} is not a host name, *.domain or host:port")
        return tuple(p.lower() for p in value)

    @property
    def admin_secret(self) -> str | None:
        """The admin bearer token: VOICEBOT_ADMIN_TOKEN, else its deprecated alias."""
        token = self.admin_token or self.kb_admin_token
        return token.get_secret_value() if token else None


class AgentStatusSettings(BaseSettings):
    """Whether anyone can answer a ``transfer:`` with ``busy:`` (docs/pbx.md, "Agents'
    availability"): the part of :class:`Settings` that bot.pbx.agents reads."""

    model_config = SettingsConfigDict(env_prefix="VOICEBOT_", extra="ignore", frozen=True)

    agent_status_timeout_ms: int = Field(
        400,
        ge=50,
        le=5000,
        description="Longest wait for the agents' status before a transfer with busy:; later counts as free.",
    )
    agent_status_cache_ms: int = Field(
        2000, ge=0, le=60000, description="A transfer target's agent status is used again for this long."
    )
    gx_max_queued: int | None = Field(
        None,
        ge=1,
        description="Callers waiting for a transfer target (GX §40) that make it busy; unset: not asked.",
    )


class CallCenterSettings(BaseSettings):
    """The GX CTI's call control, recordings and batch calls, and what the call center
    around the bot connects to (docs/pbx.md, docs/campaigns.md): the part of
    :class:`Settings` that bot/pbx, bot/campaigns and the agent's screen read."""

    model_config = SettingsConfigDict(env_prefix="VOICEBOT_", extra="ignore", frozen=True)

    gx_url: AnyHttpUrl | None = Field(
        None, description="GX CTI call-control base, e.g. http://10.0.0.2:12121."
    )
    gx_extnum: str = Field(
        "{telnum}", description="The number standing for the robot's leg in GX call control (a template)."
    )
    gx_access_number: str = Field(
        "1000", pattern=r"^[0-9]+$", description="The number robot calls come in on (GX callee, §41)."
    )
    gx_outbound_extnum: str = Field(
        "{telnum}",
        description="The number standing for an outbound robot call in GX call control (a template, §10).",
    )
    gx_outbound_caller: str | None = Field(
        None,
        pattern=r"^[0-9]+$",
        description="The robot's number (主叫) on outbound calls (GX §3, §12); default the access number.",
    )
    gx_hangup: Literal["click", "force", "none"] = Field(
        "click", description="How a robot call is hung up on GX: CLICK_TO_HUNGUP, FORCE_HUNGUP or no request."
    )
    gx_leader_extnum: str | None = Field(
        None, description="Supervisor extension for VOICEBOT_GX_HANGUP=force."
    )
    gx_queue_priority: int | None = Field(
        None, ge=0, description="queue_priority sent with transfers to an IVR menu (GX §12)."
    )
    gx_recording_url: AnyHttpUrl | None = Field(
        None,
        description="Where the CTI serves robot calls' recordings (GX §52.4); default VOICEBOT_GX_URL.",
    )
    campaign_tick_seconds: float = Field(
        15.0, ge=0.2, le=3600, description="How often the campaign scheduler looks at running campaigns."
    )
    campaign_blacklist: bool = Field(
        False, description="Also put do-not-call numbers on the GX CTI's blacklist (§38)."
    )
    recording_timeout_ms: int = Field(
        10000, ge=100, le=120000, description="Longest wait for the CTI's recording download to go on."
    )
    call_record_join_slack_ms: int = Field(
        30000, ge=0, le=3_600_000, description="A CTI call record (GX §31) joins by number within this."
    )
    agent_speech_window_ms: int = Field(
        3_600_000,
        ge=1000,
        le=86_400_000,
        description="A live line (GX §54) joins the robot call handed over to its number within this "
        "before it.",
    )
    agent_link_seconds: int = Field(
        14_400, ge=60, le=604_800, description="How long the agent page's signed link in biz_data opens it."
    )
    agent_frame_ancestors: str = Field(
        "*",
        description="Who may frame the agent page (CSP frame-ancestors): '*', 'self' or origins, "
        "space-separated.",
    )

    @field_validator("gx_extnum", "gx_outbound_extnum")
    @classmethod
    def _gx_number_template(cls, value: str) -> str:
        return number_template(value)


class SpeechVendorSettings(BaseSettings):
    """The speech vendors' settings (docs/speech.md): one block per backend of
    ``bot/speech/vendors``, named ``tts_<backend>_*``. A setting whose name ends in
    ``_url`` is a vendor endpoint and goes on the outgoing-host allowlist."""

    model_config = SettingsConfigDict(env_prefix="VOICEBOT_", extra="ignore", frozen=True)

    audio_format: Literal["pcm16", "mulaw", "alaw"] = Field(
        "pcm16",
        description="The served WAV: 8 kHz mono 16-bit PCM (pcm16), or 8 kHz G.711 mu-law or A-law "
        "(half the size).",
    )

    # --- aliyun ---
    tts_aliyun_access_key_id: SecretStr | None = Field(
        None, description="Alibaba Cloud AccessKey ID that signs the aliyun backend's CreateToken request."
    )
    tts_aliyun_access_key_secret: SecretStr | None = Field(
        None, description="Alibaba Cloud AccessKey secret of the aliyun backend (HMAC-SHA1 signing key)."
    )
    tts_aliyun_appkey: SecretStr | None = Field(
        None, description="Appkey of the Intelligent Speech Interaction project the aliyun backend uses."
    )
    tts_aliyun_voice: str = Field(
        "xiaoyun", pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="Aliyun voice (xiaoyun, aixia, siyue…)."
    )
    tts_aliyun_volume: int = Field(50, ge=0, le=100, description="Aliyun volume, 0 to 100.")
    tts_aliyun_speech_rate: int = Field(
        0, ge=-500, le=500, description="Aliyun speech rate, -500 (slowest) to 500 (fastest)."
    )
    tts_aliyun_pitch_rate: int = Field(0, ge=-500, le=500, description="Aliyun pitch, -500 to 500.")
    tts_aliyun_sample_rate: int = Field(8000, description="Sample rate asked of Aliyun, Hz: 8000 or 16000.")
    tts_aliyun_region: str = Field(
        "cn-shanghai", pattern=r"^[a-z0-9-]+$", description="RegionId of the aliyun CreateToken request."
    )
    tts_aliyun_url: str = Field(
        "https://nls-gateway-cn-shanghai.aliyuncs.com/stream/v1/tts",
        pattern=r"^https?://[^/\s?#]+(/[^\s?#]*)?$",
        description="Aliyun short-text synthesis (RESTful) endpoint.",
    )
    tts_aliyun_token_url: str = Field(
        "https://nls-meta.cn-shanghai.aliyuncs.com/",
        pattern=r"^https?://[^/\s?#]+(/[^\s?#]*)?$",
        description="Aliyun CreateToken (POP API) endpoint.",
    )

    @field_validator("tts_aliyun_sample_rate")
    @classmethod
    def _aliyun_sample_rate(cls, value: int) -> int:
        if value not in (8000, 16000):
            raise ValueError("Aliyun's short-text synthesis offers 8000 or 16000 Hz")
        return value

    # --- tencent ---
    tts_tencent_secret_id: SecretStr | None = Field(
        None, description="Tencent Cloud SecretId of the tencent backend (TC3-HMAC-SHA256 signing)."
    )
    tts_tencent_secret_key: SecretStr | None = Field(
        None, description="Tencent Cloud SecretKey of the tencent backend."
    )
    tts_tencent_voice_type: int = Field(
        101003, ge=0, description="Tencent VoiceType (101003: 智美, a customer-service female voice)."
    )
    tts_tencent_speed: float = Field(
        0, ge=-2, le=6, description="Tencent speed, -2 (0.6x) to 6 (2.5x); 0 is 1.0x."
    )
    tts_tencent_volume: float = Field(0, ge=-10, le=10, description="Tencent volume, -10 to 10; 0 is normal.")
    tts_tencent_sample_rate: int = Field(
        8000, description="Sample rate asked of Tencent, Hz: 8000, 16000 or 24000 (some voices only)."
    )
    tts_tencent_region: str = Field(
        "ap-guangzhou", pattern=r"^([a-z0-9-]+)?$", description="X-TC-Region of requests (empty: none sent)."
    )
    tts_tencent_url: str = Field(
        "https://tts.tencentcloudapi.com/",
        pattern=r"^https?://[^/\s?#]+(/[^\s?#]*)?$",
        description="Tencent Cloud TTS API 3.0 endpoint (TextToVoice).",
    )

    @field_validator("tts_tencent_sample_rate")
    @classmethod
    def _tencent_sample_rate(cls, value: int) -> int:
        if value not in (8000, 16000, 24000):
            raise ValueError("Tencent's TextToVoice offers 8000, 16000 or 24000 Hz")
        return value

    # --- iflytek ---
    tts_iflytek_app_id: str | None = Field(
        None, min_length=1, description="iFlytek (讯飞开放平台) APPID of the iflytek backend."
    )
    tts_iflytek_api_key: SecretStr | None = Field(None, description="iFlytek APIKey of the iflytek backend.")
    tts_iflytek_api_secret: SecretStr | None = Field(
        None, description="iFlytek APISecret: signs each connection of the iflytek backend (HMAC-SHA256)."
    )
    tts_iflytek_voice: str = Field(
        "xiaoyan", pattern=r"^[A-Za-z0-9_]+$", description="iFlytek voice (vcn): xiaoyan, aisjiuxu, aisxping…"
    )
    tts_iflytek_speed: int = Field(50, ge=0, le=100, description="iFlytek speed, 0 to 100 (50: normal).")
    tts_iflytek_volume: int = Field(50, ge=0, le=100, description="iFlytek volume, 0 to 100 (50: normal).")
    tts_iflytek_pitch: int = Field(50, ge=0, le=100, description="iFlytek pitch, 0 to 100 (50: normal).")
    tts_iflytek_sample_rate: int = Field(
        8000, ge=8000, le=16000, multiple_of=8000, description="Sample rate asked of iFlytek: 8000 or 16000."
    )
    tts_iflytek_url: str = Field(
        "wss://tts-api.xfyun.cn/v2/tts", description="iFlytek's streaming TTS WebSocket endpoint."
    )

    # --- baidu ---
    tts_baidu_api_key: SecretStr | None = Field(
        None, description="Baidu AI (百度智能云) API Key of the baidu backend: fetches its access tokens."
    )
    tts_baidu_secret_key: SecretStr | None = Field(None, description="Baidu Secret Key of the baidu backend.")
    tts_baidu_voice: int = Field(
        0, ge=0, description="Baidu voice (per): 0 度小美, 1 度小宇, 3 度逍遥, 4 度丫丫, 5003, 5118, 106…"
    )
    tts_baidu_speed: int = Field(5, ge=0, le=15, description="Baidu speed (spd), 0 to 15 (5: normal).")
    tts_baidu_pitch: int = Field(5, ge=0, le=15, description="Baidu pitch (pit), 0 to 15 (5: normal).")
    tts_baidu_volume: int = Field(
        5, ge=0, le=15, description="Baidu volume (vol), 0 to 15 (basic voices 0 to 9; 5: normal)."
    )
    tts_baidu_sample_rate: int = Field(
        8000, ge=8000, le=16000, multiple_of=8000, description="Sample rate asked of Baidu: 8000 or 16000 Hz."
    )
    tts_baidu_cuid: str = Field(
        "voicebot", min_length=1, max_length=60, description="Baidu cuid: this installation's id (UV count)."
    )
    tts_baidu_url: str = Field("https://tsn.baidu.com/text2audio", description="Baidu's text2audio endpoint.")
    tts_baidu_token_url: str = Field(
        "https://aip.baidubce.com/oauth/2.0/token", description="Baidu's OAuth token endpoint."
    )

    # --- azure ---
    tts_azure_key: SecretStr | None = Field(
        None, description="Azure Speech resource key: fetches the azure backend's access tokens."
    )
    tts_azure_region: str | None = Field(
        None,
        pattern=r"^[a-z0-9]+$",
        description="Azure region of the Speech resource (eastasia; chinaeast2: Azure operated by 21Vianet).",
    )
    tts_azure_auth: Literal["token", "key"] = Field(
        "token", description="How azure requests are authorized: a 10-minute bearer token, or the key itself."
    )
    tts_azure_voice: str = Field(
        "zh-CN-XiaoxiaoNeural", pattern=r"^[A-Za-z0-9:_-]+$", description="Azure voice name (SSML <voice>)."
    )
    tts_azure_rate: float = Field(1.0, ge=0.5, le=2.0, description="Azure speaking rate, 0.5 to 2 times.")
    tts_azure_volume: int = Field(100, ge=0, le=100, description="Azure volume, 0 (silent) to 100 (loudest).")
    tts_azure_sample_rate: int = Field(
        8000, description="Sample rate asked of Azure, Hz: 8000, 16000, 22050, 24000, 44100 or 48000."
    )
    tts_azure_url: str | None = Field(
        default_factory=lambda data: SpeechVendorSettings.azure_url(
            data, "tts.speech", "/cognitiveservices/v1"
        ),
        pattern=r"^https?://[^/?#\s]+(/\S*)?$",
        description="Azure text to speech endpoint; default: the region's.",
    )
    tts_azure_token_url: str | None = Field(
        default_factory=lambda data: SpeechVendorSettings.azure_url(
            data, "api.cognitive", "/sts/v1.0/issueToken"
        ),
        pattern=r"^https?://[^/?#\s]+(/\S*)?$",
        description="Azure issueToken endpoint; default: the region's.",
    )

    @field_validator("tts_azure_sample_rate")
    @classmethod
    def _azure_sample_rate(cls, value: int) -> int:
        if value not in (8000, 16000, 22050, 24000, 44100, 48000):
            raise ValueError("Azure offers 8000, 16000, 22050, 24000, 44100 or 48000 Hz")
        return value

    @staticmethod
    def azure_url(data: dict[str, object], service: str, path: str) -> str | None:
        """The endpoint of an Azure service in the region ``data`` names (``azure.cn`` in the
        regions of Azure operated by 21Vianet: chinaeast2, chinanorth2…), or None."""
        region = data.get("tts_azure_region")
        if not isinstance(region, str):
            return None
        domain = "azure.cn" if region.startswith("china") else "microsoft.com"
        return f"https://{region}.{service}.{domain}{path}"

    # --- volcengine ---
    tts_volcengine_appid: str | None = Field(
        None, pattern=r"^\S+$", description="APP ID of the Volcengine speech application (app.appid)."
    )
    tts_volcengine_token: SecretStr | None = Field(
        None, description="Access token of the Volcengine speech application (Authorization: Bearer;…)."
    )
    tts_volcengine_cluster: str = Field(
        "volcano_tts", pattern=r"^\S+$", description="Volcengine cluster of the voice (app.cluster)."
    )
    tts_volcengine_voice: str = Field(
        "BV001_streaming", pattern=r"^[A-Za-z0-9_.-]+$", description="Volcengine voice (voice_type)."
    )
    tts_volcengine_speed: float = Field(1.0, ge=0.2, le=3.0, description="Volcengine speed_ratio, 0.2 to 3.")
    tts_volcengine_volume: float = Field(1.0, ge=0.1, le=3.0, description="Volcengine volume_ratio, 0.1-3.")
    tts_volcengine_pitch: float = Field(1.0, ge=0.1, le=3.0, description="Volcengine pitch_ratio, 0.1 to 3.")
    tts_volcengine_sample_rate: int = Field(
        8000, description="Sample rate asked of Volcengine, Hz: 8000, 16000 or 24000."
    )
    tts_volcengine_url: str = Field(
        "https://openspeech.bytedance.com/api/v1/tts",
        pattern=r"^https?://[^/?#\s]+(/\S*)?$",
        description="Volcengine HTTP (non-streaming) speech synthesis endpoint.",
    )

    @field_validator("tts_volcengine_sample_rate")
    @classmethod
    def _volcengine_sample_rate(cls, value: int) -> int:
        if value not in (8000, 16000, 24000):
            raise ValueError("Volcengine offers 8000, 16000 or 24000 Hz")
        return value

    # --- sherpa ---
    tts_sherpa_model_dir: Path | None = Field(
        None, description="Directory of an unpacked sherpa-onnx Mandarin model (VITS, Matcha or Kokoro)."
    )
    tts_sherpa_model_file: str | None = Field(
        None,
        pattern=r"^[^/\\]+\.onnx$",
        description="The model's .onnx file in that directory, when it holds several (model.int8.onnx).",
    )
    tts_sherpa_speaker_id: int = Field(0, ge=0, description="Speaker of a multi-speaker sherpa-onnx model.")
    tts_sherpa_speed: float = Field(1.0, ge=0.5, le=2.0, description="sherpa-onnx speaking speed, 0.5-2.")
    tts_sherpa_threads: int = Field(2, ge=1, le=16, description="CPU threads sherpa-onnx runs a model on.")


EventLoop = Literal["uvloop", "asyncio"]  # what `voicebot serve` may run on (bot/server.py)


class ServingSettings(BaseSettings):
    """How ``voicebot serve`` runs: its event loop and its log (docs/logging.md): the part
    of :class:`Settings` that the command reads before the app exists."""

    model_config = SettingsConfigDict(env_prefix="VOICEBOT_", extra="ignore", frozen=True)

    event_loop: EventLoop = Field(
        "uvloop",
        description="The event loop `voicebot serve` runs on: uvloop (the faster), or Python's own asyncio.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Python logging level."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as text, or as one JSON object each (docs/logging.md)."
    )

    _upper_level = field_validator("log_level", mode="before")(
        classmethod(lambda cls, v: v.upper() if isinstance(v, str) else v)
    )


class LLMSettings(BaseSettings):
    """The call center's own language model behind an OpenAI-compatible server (vLLM,
    Ollama, LMDeploy, Xinference), optional (docs/llm.md): the part of :class:`Settings`
    that bot.llm reads. Unset ``llm_url``: no model, everything works as without one."""

    model_config = SettingsConfigDict(env_prefix="VOICEBOT_", extra="ignore", frozen=True)

    llm_url: AnyHttpUrl | None = Field(
        None,
        description="Base URL of an OpenAI-compatible chat-completions server (http://10.0.0.9:8000/v1); "
        "unset: no language model.",
    )
    llm_model: str = Field("", description="The model's name as the server serves it (Qwen2.5-7B-Instruct).")
    llm_key: SecretStr | None = Field(None, description="Bearer key the server wants, if any; never logged.")
    llm_intent_timeout_ms: int = Field(
        500, ge=50, le=10000, description="Longest wait for the model to choose an intent; later is none."
    )
    llm_answer_timeout_ms: int = Field(
        3000, ge=100, le=30000, description="Longest wait for a grounded answer (the filler covers it)."
    )
    llm_summary_timeout_ms: int = Field(
        10000,
        ge=100,
        le=60000,
        description="Longest wait for a call's summary at its end (in the background).",
    )
    llm_concurrency: int = Field(
        8,
        ge=1,
        le=256,
        description="Requests to the model at once, per process; summaries hold half at most.",
    )
    llm_max_per_call: int = Field(
        10,
        ge=0,
        le=1000,
        description="Intent and answer requests one call may make; then it goes on without.",
    )
    llm_max_per_minute: int = Field(
        600, ge=0, description="Requests one process may make a minute, summaries included; 0: no cap."
    )
    llm_cooldown_seconds: float = Field(
        30,
        ge=0,
        le=3600,
        description="After three failures or timeouts in a row, the model is not asked this long.",
    )
    llm_json_schema: bool = Field(
        True,
        description="Send the answer's JSON schema (response_format json_schema, guided decoding); false: "
        "ask for a JSON object only, for servers without it.",
    )
    llm_stream: bool = Field(True, description="Stream grounded answers, sentence by sentence, to speech.")
    llm_summaries: bool = Field(
        True, description="Summarize each call with the model, at its end and at a transfer."
    )

    @model_validator(mode="after")
    def _model_named(self) -> LLMSettings:
        if self.llm_url is not None and not self.llm_model.strip():
            raise ValueError(
                "VOICEBOT_LLM_URL is set but VOICEBOT_LLM_MODEL is empty — set it to the name the "
                "server serves the model under (GET <url>/models lists them)"
            )
        return self


class Settings(
    AccessSettings,
    AgentStatusSettings,
    CallCenterSettings,
    LLMSettings,
    SpeechVendorSettings,
    ServingSettings,
):
    """All settings of the service. Environment: ``VOICEBOT_<FIELD NAME IN CAPITALS>``."""

    model_config = SettingsConfigDict(env_prefix="VOICEBOT_", extra="ignore", frozen=True)

    data_dir: Path = Field(Path("var"), description="All local state: database, audio cache.")
    public_url: AnyHttpUrl | None = Field(
        None, description="Base of the audio URLs handed to the CTI; default: the request's host."
    )
    flows_dir: Path = Field(Path("flows"), description="Directory of the YAML flow files.")
    default_flow: str = Field("yibao", description="Flow used when the callback URL has no ?flow=.")
    tts_voice: str = Field("cmn-latn-pinyin", description="espeak-ng voice name.")
    tts_rate_wpm: int = Field(250, ge=80, le=450, description="espeak-ng speaking rate, words per minute.")
    tts_concurrency: int | None = Field(
        None, ge=1, le=64, description="Syntheses run at once; unset: 2 if espeak or sherpa is first, else 8."
    )
    tts: Annotated[tuple[str, ...], NoDecode] = Field(
        ("espeak",),
        description="Speech backends in order of preference: espeak, http, hwd, aliyun, tencent, iflytek, "
        "baidu, azure, volcengine, sherpa.",
    )
    tts_timeout_ms: int = Field(
        2500, ge=100, le=60000, description="Longest one backend may take for a text; then the next."
    )
    tts_cooldown_seconds: float = Field(
        30, ge=0, le=3600, description="A backend that failed is skipped this long (its cache is still used)."
    )
    tts_http_url: str | None = Field(
        None, description="URL of the HTTP speech backend; a GET puts {text} and {voice} in its query."
    )
    tts_http_method: Literal["POST", "GET"] = Field("POST", description="Method of the HTTP speech backend.")
    tts_http_body: str = Field(
        '{"text": "{text}", "voice": "{voice}"}',
        description="JSON body template of a POST to the HTTP speech backend, with {text} and {voice}.",
    )
    tts_http_headers: Annotated[dict[str, SecretStr], NoDecode] = Field(
        default_factory=dict, description="Headers sent to the HTTP speech backend (a JSON object)."
    )
    tts_http_voice: str = Field("", description="Voice the HTTP speech backend is asked for ({voice}).")
    tts_http_audio: str = Field(
        "body",
        pattern=r"^(body|json:[^.\s]+(\.[^.\s]+)*)$",
        description="Where the HTTP speech backend's WAV is: body, or json:<dotted.path> to base64 text.",
    )
    session_ttl_seconds: int = Field(
        3600, ge=60, description="A call with no callback for this long is closed as abandoned."
    )
    max_text_chars: int = Field(
        500, ge=10, le=5000, description="Longest recognized text accepted; longer is answered 413."
    )
    backchannels: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_BACKCHANNELS, description="Utterances that never interrupt a prompt (barge-in)."
    )
    fillers: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_FILLERS, description="Filler words stripped before judging a backchannel."
    )
    nlu_threshold: float = Field(
        0.5, gt=0, lt=1, description="Default intent confidence below which a turn is a no-match."
    )
    nlu_opinion_later: bool = Field(
        False,
        description="Train the intents' second opinions in the background a second after serving "
        "begins (voicebot serve sets it); until then, turns are understood without them.",
    )
    timezone: str = Field(
        "Asia/Shanghai", description="Time zone of the call center: the call's date for 明天, 下周三."
    )
    route_default: str = Field(
        "1000",
        pattern=r"^[0-9]{1,20}$",
        description="Extension or group /cti/route answers when routing.yaml sets no default.",
    )
    kb_dir: Path = Field(Path("knowledge/data"), description="Directory of the knowledge base's data files.")
    kb_seed_dir: Path | None = Field(
        None, description="Data files copied into kb_dir at start when it has none (a container's volume)."
    )
    kb_url: AnyHttpUrl | None = Field(
        None,
        description="Knowledge webhook the bot asks (…/webhooks/rest/webhook); default: this process's.",
    )
    kb_timeout_ms: int = Field(
        1500, ge=100, le=30000, description="Longest wait for a knowledge answer; later is an error."
    )
    kb_filler_ms: int = Field(
        600, ge=0, le=30000, description="A knowledge answer later than this gets a filler first (请稍等…)."
    )
    transcript_days: float = Field(
        180, ge=0, description="Ended calls' transcripts are kept this many days; 0 keeps them for good."
    )
    kb_history_days: float = Field(
        90, ge=0, description="How long what a customer asked is kept, in days; 0 keeps nothing."
    )
    kb_context_minutes: float = Field(
        30, gt=0, description="How long a knowledge conversation's context lasts after its last message."
    )
    watch_flows: bool = Field(
        True, description="Reload a flow file when it changes (new calls get the new version)."
    )
    pbx: Literal["log", "gx", "hwd"] = Field(
        "log", description="Call control: log (record only), gx (GX CTI) or hwd (HWD PBX)."
    )
    pbx_timeout_ms: int = Field(3000, ge=100, le=60000, description="Longest wait for one PBX request.")
    pbx_retries: int = Field(
        2, ge=0, le=5, description="Further attempts of a PBX request, where a retry is safe."
    )
    action_margin_ms: int = Field(
        800,
        ge=0,
        le=10000,
        description="After a prompt's audio, wait this long before the transfer or hang-up it announces.",
    )
    max_live_calls: int = Field(
        0, ge=0, description="Calls in progress beyond which a new call hears the busy words; 0: no cap."
    )
    busy_text: str = Field(
        DEFAULT_BUSY_TEXT, min_length=1, description="What a call beyond VOICEBOT_MAX_LIVE_CALLS hears."
    )
    busy_transfer: str | None = Field(
        None, description="Where a call beyond the cap is transferred after the busy words; unset: hung up."
    )
    redis_url: SecretStr | None = Field(
        None,
        description="redis://host:6379/0: live calls, audio keys and flow versions shared by every "
        "instance (any number of `voicebot serve` processes and --workers); unset: SQLite in the data "
        "directory, one process.",
    )
    redis_max_connections: int = Field(
        1000, ge=10, le=10000, description="Connections to Redis one process may open at once."
    )
    database_url: SecretStr | None = Field(
        None,
        description="postgresql://user:password@host/db: transcripts, outcomes' outbox and knowledge "
        "history in PostgreSQL, migrated at start; unset: SQLite files in the data directory.",
    )
    followup_late_ms: int = Field(
        10000,
        ge=0,
        le=600000,
        description="A transfer or hang-up found after a restart this long past its time is recorded as "
        "failed instead of carried out.",
    )
    audio_cache_mb: int = Field(
        1024,
        ge=0,
        description="Rendered (not recorded) prompts kept in the audio cache, in MB; the least recently "
        "used go first; 0: no limit.",
    )
    retry_window_ms: int = Field(
        1500,
        ge=0,
        le=10000,
        description="The same callback again this soon after its answer is a retry: same answer, no turn.",
    )
    hwd_url: AnyHttpUrl | None = Field(None, description="HWD PBX API base ending in /dscom-api/public.")
    hwd_client_id: str | None = Field(None, description="HWD API client id (API 接口授权).")
    hwd_client_secret: SecretStr | None = Field(None, description="HWD API client secret.")
    hwd_username: str | None = Field(None, description="HWD API user name.")
    hwd_password: SecretStr | None = Field(None, description="HWD API user's password.")
    hwd_extension: str = Field(
        "{telnum}", description="The extension or number HWD transfers and hangs up for a call (a template)."
    )
    hwd_verify_tls: bool = Field(True, description="Check the HWD PBX's HTTPS certificate.")
    outcome_url: AnyHttpUrl | None = Field(
        None, description="Where a summary of every ended call is POSTed; unset turns the push off."
    )
    outcome_timeout_ms: int = Field(
        5000, ge=100, le=60000, description="Longest wait for the outcome receiver's answer; then a retry."
    )
    outcome_max_backoff_seconds: float = Field(
        300, ge=1, le=86400, description="Longest wait between two attempts of one outcome push."
    )
    outcome_secret: SecretStr | None = Field(
        None, description="Signs each outcome push: X-Voicebot-Signature: t=<unix time>,v1=<HMAC-SHA256>."
    )
    outcome_headers: Annotated[dict[str, SecretStr], NoDecode] = Field(
        default_factory=dict,
        description="Headers sent with each outcome push (a JSON object), e.g. Authorization.",
    )
    transcript_mask: bool = Field(
        False, description="Store transcripts with phone and ID numbers masked (caller, texts, variables)."
    )
    outcome_keep_days: float = Field(
        7, ge=0, description="How long delivered outcome pushes stay in the outbox, in days."
    )
    _split_lists = field_validator("backchannels", "fillers", mode="before")(
        classmethod(lambda cls, v: _split_words(v))
    )

    @field_validator("tts", mode="before")
    @classmethod
    def _backend_names(cls, value: object) -> object:
        names = _split_words(value)
        return [str(n).strip().lower() for n in names] if isinstance(names, list | tuple) else names

    @field_validator("busy_transfer")
    @classmethod
    def _busy_transfer(cls, value: str | None) -> str | None:
        if value:
            TransferTarget.parse(value)  # a ValueError names what is wrong with it
        return value or None

    @field_validator("agent_frame_ancestors")
    @classmethod
    def _frame_ancestors(cls, value: str) -> str:
        """CSP sources, space-separated; ``self``/``none`` may be written unquoted. A
        ``;`` or ``,`` would add directives of its own to the page's policy."""
        sources = [{"self": "'self'", "none": "'none'"}.get(s.lower(), s) for s in value.split()]
        if not sources or any(not s.isprintable() or any(c in s for c in ';,"') for s in sources):
            raise ValueError("give '*', 'self', 'none' or origins (https://crm.example.com), space-separated")
        return " ".join(sources)

    @field_validator("tts_http_method", mode="before")
    @classmethod
    def _upper_method(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("tts_http_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        scheme_ok = value is None or value.startswith(("http://", "https://"))
        if value is not None and (not scheme_ok or not urlsplit(value).hostname):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @field_validator("tts_http_body")
    @classmethod
    def _json_body(cls, value: str) -> str:
        try:
            json.loads(value)
        except ValueError as exc:
            raise ValueError(f'not JSON ({exc}); write e.g. {{"text": "{{text}}"}}') from exc
        return value

    @field_validator("tts_http_headers", "outcome_headers", mode="before")
    @classmethod
    def _json_headers(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value) if value.strip() else {}
        except ValueError as exc:
            raise ValueError(f'not a JSON object ({exc}); write e.g. {{"X-Api-Key": "…"}}') from exc

    @field_validator("hwd_extension")
    @classmethod
    def _number_template(cls, value: str) -> str:
        return number_template(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from exc
        return value

    def today(self) -> dt.date:
        """Today's date in the call center's time zone."""
        return dt.datetime.now(zoneinfo.ZoneInfo(self.timezone)).date()

    @property
    def tts_slots(self) -> int:
        """``VOICEBOT_TTS_CONCURRENCY``, else by the first backend: a local one is bound by
        the cores; a service mostly waits on the network (set its concurrency quota)."""
        if self.tts_concurrency is not None:
            return self.tts_concurrency
        return LOCAL_TTS_SLOTS if self.tts[0] in LOCAL_TTS_BACKENDS else REMOTE_TTS_SLOTS

    @property
    def database_path(self) -> Path:
        return self.data_dir / "voicebot.sqlite3"

    @property
    def sessions_path(self) -> Path:
        return self.data_dir / "sessions.sqlite3"

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite3"

    @property
    def campaigns_path(self) -> Path:
        return self.data_dir / "campaigns.sqlite3"

    @property
    def kb_history_path(self) -> Path:
        return self.data_dir / "knowledge.sqlite3"

    @property
    def audio_dir(self) -> Path:
        return self.data_dir / "audio"


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, with ``overrides`` on top.

    Raises:
        ConfigError: naming every setting that is missing or invalid.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = [
            f"VOICEBOT_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        ]
        raise ConfigError("invalid settings:\n" + "\n".join(lines)) from exc
