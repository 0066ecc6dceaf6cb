"""The robot calls handed to an agent, by the customer's number: what a live line of the
CTI is matched to (docs/pbx.md, "Live transcripts and the agent page").

A transfer the PBX accepted is registered with the call's number and time. A live line
(GX §54) names the numbers of the agent's call (``caller``, ``callee``) and the CTI's
own call ids, never the robot's (§52) ``callid``; it belongs to the robot call whose
number is one of them and that was handed over within the window before it (the most
recent such call). Once matched, the line's CTI call ids are bound to the robot call,
so the rest of that conversation follows it by id even past the window.

``MemoryHandovers`` serves one process; ``RedisHandovers`` every instance that shares
``VOICEBOT_REDIS_URL``, so a push reaching another instance than the one that
transferred still finds the call. Entries expire with the window.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol, cast

from bot.store.call_records import number_key

if TYPE_CHECKING:
    from redis.asyncio import Redis

PREFIX = "voicebot:handover"
MIN_KEY_DIGITS = 3  # a key shorter than this ("", "0") names no customer


class Handovers(Protocol):
    async def register(self, call_id: str, telnum: str, at: float) -> None:
        """The robot call ``call_id`` with the customer ``telnum`` was handed over at ``at``."""
        ...

    async def match(self, numbers: tuple[str, ...], cti_ids: tuple[str, ...], at: float) -> str | None:
        """The robot call a live line at ``at`` belongs to: by one of ``cti_ids`` bound
        before, else by one of ``numbers`` handed over within the window; None."""
        ...

    async def bind(self, cti_ids: tuple[str, ...], call_id: str) -> None:
        """Later lines naming one of ``cti_ids`` belong to ``call_id``."""
        ...


def keys_of(numbers: tuple[str, ...]) -> list[str]:
    return [key for key in dict.fromkeys(number_key(n) for n in numbers) if len(key) >= MIN_KEY_DIGITS]


class MemoryHandovers:
    """Handovers in this process (one instance, lost at restart)."""

    def __init__(self, window_seconds: float) -> None:
        self._window = window_seconds
        self._by_number: dict[str, list[tuple[float, str]]] = {}
        self._by_id: dict[str, tuple[float, str]] = {}

    async def register(self, call_id: str, telnum: str, at: float) -> None:
        for key in keys_of((telnum,)):
            self._by_number.setdefault(key, []).append((at, call_id))
        self._forget(at)

    async def match(self, numbers: tuple[str, ...], cti_ids: tuple[str, ...], at: float) -> str | None:
        for cti_id in cti_ids:
            if cti_id in self._by_id:
                return self._by_id[cti_id][1]
        found = [
            (when, call_id)
            for key in keys_of(numbers)
            for when, call_id in self._by_number.get(key, [])
            if at - self._window <= when <= at + 1
        ]
        return max(found)[1] if found else None

    async def bind(self, cti_ids: tuple[str, ...], call_id: str) -> None:
        now = time.time()
        for cti_id in cti_ids:
            self._by_id[cti_id] = (now, call_id)

    def _forget(self, now: float) -> None:
        """Drop what is past the window (the conversation's ids after a day)."""
        for key in [k for k, v in self._by_number.items() if v[-1][0] < now - self._window]:
            del self._by_number[key]
        for cti_id in [i for i, (when, _) in self._by_id.items() if when < now - max(self._window, 86400)]:
            del self._by_id[cti_id]


class RedisHandovers:
    """Handovers in Redis: a sorted set per number (score: the transfer's time), and a
    key per bound CTI call id, each expiring."""

    def __init__(self, redis: Redis, window_seconds: float) -> None:
        self._redis = redis
        self._window = window_seconds

    async def register(self, call_id: str, telnum: str, at: float) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys_of((telnum,)):
                name = f"{PREFIX}:number:{key}"
                pipe.zadd(name, {call_id: at})
                pipe.zremrangebyscore(name, "-inf", at - self._window)
                pipe.expire(name, max(1, int(self._window) + 60))
            await pipe.execute()

    async def match(self, numbers: tuple[str, ...], cti_ids: tuple[str, ...], at: float) -> str | None:
        for cti_id in cti_ids:
            bound = await self._redis.get(f"{PREFIX}:id:{cti_id}")
            if bound is not None:
                return bound.decode() if isinstance(bound, bytes) else str(bound)
        best: tuple[float, str] | None = None
        for key in keys_of(numbers):
            found = await self._redis.zrevrangebyscore(
                f"{PREFIX}:number:{key}", at + 1, at - self._window, start=0, num=1, withscores=True
            )
            for member, score in cast(list[tuple[bytes, float]], found):
                call_id = member.decode() if isinstance(member, bytes) else str(member)
                if best is None or score > best[0]:
                    best = (float(score), call_id)
        return best[1] if best else None

    async def bind(self, cti_ids: tuple[str, ...], call_id: str) -> None:
        lifetime = max(int(self._window), 86400)
        for cti_id in cti_ids:
            await self._redis.set(f"{PREFIX}:id:{cti_id}", call_id, ex=lifetime)
