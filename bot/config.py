"""Typed settings, read once at start from ``VOICEBOT_*`` environment variables.

Every field here is documented in ``docs/configuration.md``; a test fails when one is not.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError

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
DEFAULT_FILLERS = (
    "嗯",
    "恩",
    "啊",
    "呃",
    "额",
    "哦",
    "噢",
    "喔",
    "唉",
    "诶",
    "欸",
    "哎",
    "呀",
    "吧",
    "呢",
    "哈",
)


def _split_words(value: object) -> object:
    """Accept ``a,b,c`` (or ``a，b，c``) in the environment as well as a real list."""
    if isinstance(value, str):
        return [w.strip() for w in value.replace("，", ",").split(",") if w.strip()]
    return value


class Settings(BaseSettings):
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
    tts_concurrency: int = Field(2, ge=1, le=32, description="Syntheses run at once.")
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
    timezone: str = Field(
        "Asia/Shanghai", description="Time zone of the call center: the call's date for 明天, 下周三."
    )
    kb_dir: Path = Field(Path("knowledge/data"), description="Directory of the knowledge base's data files.")
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
    kb_admin_token: SecretStr | None = Field(
        None, description="Bearer token of the knowledge admin API; unset turns the admin API off."
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
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Python logging level."
    )

    _upper_level = field_validator("log_level", mode="before")(
        classmethod(lambda cls, v: v.upper() if isinstance(v, str) else v)
    )
    _split_lists = field_validator("backchannels", "fillers", mode="before")(
        classmethod(lambda cls, v: _split_words(v))
    )

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
    def database_path(self) -> Path:
        return self.data_dir / "voicebot.sqlite3"

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
