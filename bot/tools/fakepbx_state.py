"""What the fake PBX remembers: the requests it served, the failures armed for its
next answers, and the OAuth tokens it issued (docs/tools.md)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from quart import current_app, g

from bot.tools.fakepbx_agents import Roster

if TYPE_CHECKING:
    from bot.tools.fakepbx_batch import BatchCalls

GX_ACTIONS: tuple[str, ...] = (
    "play_voice",
    "click_to_transfer",
    "talking_caller_to_ivr",
    "click_to_hungup",
    "force_hungup",
    "recording_download",
)
HWD_ACTIONS: tuple[str, ...] = ("token", "tts", "transfer", "hangup", "dial")
# The agents' status queries (GX §23 and §40; HWD §2.2.3 and §2.3.2) fail on demand too.
GX_ACTIONS += ("extnum_monitor", "queue_info")
# The batch calls (GX §46–§51) and the blacklist (§38), bot/tools/fakepbx_batch.py.
GX_ACTIONS += (
    "batch_tasks",
    "batch_import",
    "batch_start",
    "batch_stop",
    "batch_monitor",
    "batch_results",
    "black_list_add",
)
HWD_ACTIONS += ("agent_status", "queue_status")
MAX_RECORDS = 10_000  # a fake left running for days keeps the newest ones
SECRET_FIELDS = frozenset({"password", "client_secret", "refresh_token", "access_token"})
MASK = "***"

TokenCheck = Literal["valid", "expired", "unknown"]


@dataclass(frozen=True)
class Credentials:
    """What the password grant accepts (the PBX's "API 接口授权" page and an API user)."""

    client_id: str = "voicebot"
    client_secret: str = "secret"
    username: str = "api"
    password: str = "api"


@dataclass
class Failure:
    """How the next request(s) of one action are answered instead of normally.

    ``status``: an HTTP status (GX and HWD); ``code``: an HWD envelope code answered
    with HTTP 200; ``hang_seconds``: wait this long first (then answer as asked, or
    normally). ``times`` requests are affected; 0 means until reset.
    """

    action: str
    status: int | None = None
    code: str | None = None
    hang_seconds: float = 0.0
    times: int = 1
    used: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "status": self.status,
            "code": self.code,
            "hang": self.hang_seconds,
            "times": self.times,
            "used": self.used,
        }


class Failures:
    """Failures armed per action; a new one for an action replaces the old one."""

    def __init__(self) -> None:
        self._armed: dict[str, Failure] = {}

    def arm(self, failure: Failure) -> None:
        self._armed[failure.action] = failure

    def take(self, action: str) -> Failure | None:
        """The failure for this request of ``action``, counted as used."""
        failure = self._armed.get(action)
        if failure is None:
            return None
        failure.used += 1
        if failure.times and failure.used >= failure.times:
            del self._armed[action]
        return failure

    def armed(self) -> list[dict[str, Any]]:
        return [failure.as_json() for failure in self._armed.values()]

    def clear(self) -> None:
        self._armed.clear()


class Tokens:
    """Access tokens valid for ``ttl_seconds`` (monotonic clock) and refresh tokens
    that are valid until used once (each refresh hands out a new one)."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self._access: dict[str, float] = {}  # token -> monotonic expiry
        self._refresh: set[str] = set()

    def issue(self) -> tuple[str, str]:
        """A new (access token, refresh token) pair."""
        access, refresh = secrets.token_hex(32), "def50200" + secrets.token_hex(64)
        self._access[access] = time.monotonic() + self.ttl_seconds
        self._refresh.add(refresh)
        return access, refresh

    def check(self, access: str) -> TokenCheck:
        expiry = self._access.get(access)
        if expiry is None:
            return "unknown"
        return "valid" if time.monotonic() < expiry else "expired"

    def refreshable(self, refresh: str) -> bool:
        return refresh in self._refresh

    def redeem(self, refresh: str) -> tuple[str, str] | None:
        """A new pair for a refresh token, which is used up; None when it is not valid."""
        if refresh not in self._refresh:
            return None
        self._refresh.discard(refresh)
        return self.issue()

    def expire_all(self, *, refresh_tokens: bool = False) -> int:
        """Make every access token (and refresh token, if asked) invalid now; how many
        access tokens were still valid."""
        now = time.monotonic()
        alive = sum(expiry > now for expiry in self._access.values())
        self._access = dict.fromkeys(self._access, now)
        if refresh_tokens:
            self._refresh.clear()
        return alive


class Recorder:
    """Every request the fake served, newest last, numbered from 1."""

    def __init__(self, limit: int = MAX_RECORDS) -> None:
        self._records: deque[dict[str, Any]] = deque(maxlen=limit)
        self._seq = 0

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        """Number ``record`` and keep it; it can still be completed afterwards."""
        self._seq += 1
        record["seq"] = self._seq
        self._records.append(record)
        return record

    def select(self, *, since: int = 0, vendor: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self._records if r["seq"] > since and vendor in (None, r["vendor"])]

    def clear(self) -> int:
        count = len(self._records)
        self._records.clear()
        return count


def _batch_calls() -> BatchCalls:
    from bot.tools.fakepbx_batch import BatchCalls  # noqa: PLC0415 (it imports this module)

    return BatchCalls()


@dataclass
class FakePBXState:
    """Everything the fake PBX's handlers share, held on the app."""

    credentials: Credentials
    tokens: Tokens
    failures: Failures = field(default_factory=Failures)
    recorder: Recorder = field(default_factory=Recorder)
    call_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))  # dial's uniqueid
    agents: Roster = field(default_factory=Roster)  # the agents' status queries answer from it
    batch: BatchCalls = field(default_factory=_batch_calls)  # GX batch calls, blacklist
    # Set when the process is asked to stop: armed hangs end early, so that stopping
    # never waits for them.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def hang(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the server is stopping."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), seconds)


def mask_secrets(value: Any) -> Any:
    """A copy of a JSON value with passwords, client secrets and tokens masked."""
    if isinstance(value, dict):
        return {k: MASK if k in SECRET_FIELDS and v else mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    return value


def known_action(action: str) -> bool:
    return action in GX_ACTIONS or action in HWD_ACTIONS


def action_list(actions: Iterable[str] = GX_ACTIONS + HWD_ACTIONS) -> str:
    return ", ".join(actions)


EXTENSION_KEY = "voicebot.fake_pbx"


def fake_state() -> FakePBXState:
    """The state of the fake PBX app serving the current request."""
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


async def armed_failure(action: str) -> Failure | None:
    """The failure armed for this request of ``action``, noted in its record and after
    its hang; None: answer normally."""
    state = fake_state()
    failure = state.failures.take(action)
    if failure is not None:
        note(failure=failure.as_json())
        await state.hang(failure.hang_seconds)
    return failure


def note(**fields: Any) -> None:
    """Add ``fields`` to the current request's record (requests that are not recorded
    have none)."""
    record: dict[str, Any] | None = getattr(g, "fake_pbx_record", None)
    if record is not None:
        record.update(fields)
