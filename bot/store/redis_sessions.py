"""Live calls in Redis (``VOICEBOT_REDIS_URL``), shared by any number of processes.

A load balancer may send each callback of a call to a different instance, so every
turn reads the call's state from Redis and writes it back before it is answered.

Keys (prefix ``voicebot:``):

=====================  =======  ==================================================
``call:<id>``          hash     ``state`` (the JSON of ``bot.store.codec``) and
                                ``due`` (when its announced action is due, or "")
``fence:<id>``         string   the call's fencing token, incremented by each lock
``lock:<id>``          string   the call's lock (redis-py's ``Lock``)
``calls``              zset     every call held, scored by its last update
``live``               set      the calls in progress
``due``                zset     the calls with a transfer or hang-up due, by when
=====================  =======  ==================================================

**Serializing a call across instances.** ``lock(call_id)`` takes a local lock (the
process's own callbacks of the call queue there, not on Redis), then the Redis lock,
which expires after ``lock_timeout_seconds`` unless its holder keeps renewing it: a
crashed holder blocks the call for at most that long. Taking it increments the
call's fencing token; a ``put`` carries the holder's token, and the write is refused
(atomically, in a Lua script) when a later holder has taken the lock since, so a
holder that stalled past its lock's expiry cannot overwrite a newer state.

**Due actions.** An announced transfer or hang-up is in the ``due`` zset until it is
claimed (``ZREM`` returns 1 for exactly one taker): by the instance that announced
it, when its time comes, or by another one once it is overdue (its announcer
stopped). A caller's hang-up stores the state without a due, which removes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from bot import metrics
from bot.dialog.state import CallState
from bot.errors import StorageError
from bot.store import codec
from bot.store.sessions import _CallLock, _Held

logger = logging.getLogger(__name__)

PREFIX = "voicebot:"
CALLS, LIVE, DUE = f"{PREFIX}calls", f"{PREFIX}live", f"{PREFIX}due"
LOCK_TIMEOUT_SECONDS = 5.0
LOCK_WAIT_SECONDS = 8.0  # a callback waits this long for its call's lock, then is refused
LOCK_POLL_SECONDS = 0.005
DUE_GRACE_SECONDS = 2.0  # a due action this late is taken over from its (stopped) announcer
SWEEP_BATCH = 500

# KEYS: call, fence, calls, live, due. ARGV: call id, state, token (0: unfenced),
# updated_at, live (1/0), due time ("" for none), key TTL in ms.
_PUT = """
local fence = tonumber(redis.call('GET', KEYS[2]) or '0')
local token = tonumber(ARGV[3])
if token > 0 and fence > token then return 0 end
local old_due = redis.call('HGET', KEYS[1], 'due') or ''
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'due', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
if ARGV[5] == '1' then redis.call('SADD', KEYS[4], ARGV[1]) else redis.call('SREM', KEYS[4], ARGV[1]) end
if ARGV[6] == '' then redis.call('ZREM', KEYS[5], ARGV[1])
elseif ARGV[6] ~= old_due then redis.call('ZADD', KEYS[5], ARGV[6], ARGV[1]) end
return 1
"""


def _call_key(call_id: str) -> str:
    return f"{PREFIX}call:{call_id}"


def _fence_key(call_id: str) -> str:
    return f"{PREFIX}fence:{call_id}"


class RedisSessionStore:
    """Sessions in Redis; see the module's docstring.

    Args:
        client: An open ``redis.asyncio.Redis`` (closed by its owner).
        ttl_seconds: Keys of a call expire this long after its last write (the idle
            sweep removes calls long before; this only bounds what a lost sweep leaves).
        lock_timeout_seconds: A lock not renewed expires after this.
        lock_wait_seconds: How long a callback waits for its call's lock.
    """

    shared = True

    def __init__(
        self,
        client: Redis,
        *,
        ttl_seconds: float = 86400.0,
        lock_timeout_seconds: float = LOCK_TIMEOUT_SECONDS,
        lock_wait_seconds: float = LOCK_WAIT_SECONDS,
    ) -> None:
        self._client = client
        self._ttl_ms = int(ttl_seconds * 1000)
        self.lock_timeout_seconds = lock_timeout_seconds
        self.lock_wait_seconds = lock_wait_seconds
        self._put_script = client.register_script(_PUT)
        self._locks: dict[str, _Held] = {}
        self._held: dict[str, _Holding] = {}  # the calls whose Redis lock this process holds
        self._renewer: asyncio.Task[None] | None = None
        self._closing = False
        self._write_error: str | None = None
        self.stale_writes = 0  # puts refused because a later holder took the call's lock

    async def open(self) -> None:
        """Raises: StorageError: Redis does not answer."""
        try:
            await self._client.ping()
        except RedisError as exc:
            raise StorageError(f"VOICEBOT_REDIS_URL: Redis does not answer: {exc}") from exc
        self._renewer = asyncio.create_task(self._renew_forever())

    async def close(self) -> None:
        self._closing = True  # a cancellation redis-py turns into an error still ends the renewer
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None

    @property
    def write_error(self) -> str | None:
        return self._write_error

    def lock(self, call_id: str) -> _RedisCallLock:
        return _RedisCallLock(self, call_id)

    async def get(self, call_id: str) -> CallState | None:
        holding = self._held.get(call_id)
        if holding is not None and holding.state is not _UNREAD:
            return holding.state  # type: ignore[return-value]
        raw = await self._call(self._client.hget(_call_key(call_id), "state"))
        state = _decode(call_id, raw)
        if holding is not None:
            holding.state = state
        return state

    async def put(self, state: CallState) -> None:
        """Raises: StorageError: Redis cannot be written."""
        state.updated_at = time.time()
        holding = self._held.get(state.call_id)
        due = repr(state.due.at) if state.due is not None else ""
        args: list[str | int | float] = [
            state.call_id,
            codec.dumps(state),
            holding.token if holding else 0,
            state.updated_at,
            0 if state.ended else 1,
            due,
            self._ttl_ms,
        ]
        keys = [_call_key(state.call_id), _fence_key(state.call_id), CALLS, LIVE, DUE]
        try:
            stored = await self._put_script(keys=keys, args=args)
        except RedisError as exc:
            metrics.count_storage_error("sessions")
            self._write_error = f"{type(exc).__name__}: {exc}"
            logger.error("call %s: its state cannot be stored in Redis: %s", state.call_id, exc)
            raise StorageError(f"Redis cannot store call states: {exc}") from exc
        self._write_error = None
        if not stored:
            self.stale_writes += 1
            logger.error(
                "call %s: a stale write was refused (this process's lock expired and another "
                "instance took the call)",
                state.call_id,
            )
            return
        if holding is not None:
            holding.state = state

    async def pop_idle(
        self, idle_seconds: float, *, ended_idle_seconds: float | None = None
    ) -> list[CallState]:
        cutoff = time.time() - idle_seconds
        ids = await self._call(self._client.zrangebyscore(CALLS, "-inf", cutoff, start=0, num=SWEEP_BATCH))
        popped = []
        for raw_id in ids:
            call_id = raw_id.decode()
            if call_id in self._locks:
                continue  # a callback of it is under way here
            lock = self._redis_lock(call_id)
            if not await self._call(lock.acquire(blocking=False)):
                continue  # under way on another instance
            try:
                state = _decode(call_id, await self._call(self._client.hget(_call_key(call_id), "state")))
                if state is not None and state.updated_at >= cutoff:
                    continue  # a callback came meanwhile
                async with self._client.pipeline(transaction=True) as pipe:
                    pipe.delete(_call_key(call_id), _fence_key(call_id))
                    pipe.zrem(CALLS, call_id)
                    pipe.srem(LIVE, call_id)
                    pipe.zrem(DUE, call_id)
                    await self._call(pipe.execute())
                if state is not None:
                    popped.append(state)
            finally:
                with contextlib.suppress(LockError, RedisError):
                    await lock.release()
        return popped

    async def count(self) -> int:
        return int(await self._call(self._client.zcard(CALLS)))

    async def count_live(self) -> int:
        return int(await self._call(self._client.scard(LIVE)))

    async def orphaned_dues(self) -> list[CallState]:
        overdue = time.time() - DUE_GRACE_SECONDS
        ids = await self._call(self._client.zrangebyscore(DUE, "-inf", overdue, start=0, num=SWEEP_BATCH))
        states = []
        for raw_id in ids:
            call_id = raw_id.decode()
            state = _decode(call_id, await self._call(self._client.hget(_call_key(call_id), "state")))
            if state is not None and state.due is not None:
                states.append(state)
            elif state is None:
                await self._call(self._client.zrem(DUE, call_id))  # its call expired
        return states

    async def claim_due(self, call_id: str) -> bool:
        return bool(await self._call(self._client.zrem(DUE, call_id)))

    def _redis_lock(self, call_id: str) -> Lock:
        return self._client.lock(
            f"{PREFIX}lock:{call_id}",
            timeout=self.lock_timeout_seconds,
            sleep=LOCK_POLL_SECONDS,
            blocking_timeout=self.lock_wait_seconds,
            thread_local=False,
        )

    async def _renew_forever(self) -> None:
        """Keep the locks this process holds from expiring while their turns run."""
        while not self._closing:
            await asyncio.sleep(self.lock_timeout_seconds / 3)
            for call_id, holding in list(self._held.items()):
                try:
                    await holding.lock.reacquire()
                except (LockError, RedisError) as exc:
                    if self._closing:
                        return
                    logger.warning("call %s: its lock could not be renewed: %s", call_id, exc)

    @staticmethod
    async def _call(awaitable: Any) -> Any:
        try:
            return await awaitable
        except RedisError as exc:
            metrics.count_storage_error("sessions")
            raise StorageError(f"Redis: {type(exc).__name__}: {exc}") from exc


_UNREAD = object()


class _Holding:
    """A Redis lock this process holds, its fencing token, and the call's state read under it."""

    __slots__ = ("lock", "state", "token")

    def __init__(self, lock: Lock, token: int) -> None:
        self.lock, self.token = lock, token
        self.state: object = _UNREAD


class _RedisCallLock:
    """The local lock, then the Redis lock with a new fencing token; the call's state is
    read in the same round trip as the token."""

    __slots__ = ("_call_id", "_local", "_store")

    def __init__(self, store: RedisSessionStore, call_id: str) -> None:
        self._store, self._call_id = store, call_id
        self._local = _CallLock(store._locks, call_id)

    async def __aenter__(self) -> None:
        await self._local.__aenter__()
        try:
            await self._acquire()
        except BaseException:
            await self._local.__aexit__(None, None, None)
            raise

    async def _acquire(self) -> None:
        store, call_id = self._store, self._call_id
        lock = store._redis_lock(call_id)
        if not await store._call(lock.acquire()):
            raise StorageError(
                f"call {call_id}: another instance held its lock for {store.lock_wait_seconds:.0f} s"
            )
        try:
            async with store._client.pipeline(transaction=False) as pipe:
                pipe.incr(_fence_key(call_id))
                pipe.pexpire(_fence_key(call_id), store._ttl_ms)
                pipe.hget(_call_key(call_id), "state")
                token, _, raw = await store._call(pipe.execute())
        except BaseException:
            with contextlib.suppress(LockError, RedisError):
                await lock.release()
            raise
        holding = _Holding(lock, int(token))
        holding.state = _decode(call_id, raw)
        store._held[call_id] = holding

    async def __aexit__(self, *exc_info: object) -> None:
        holding = self._store._held.pop(self._call_id, None)
        try:
            if holding is not None:
                await holding.lock.release()
        except LockError:
            logger.warning("call %s: its lock had expired before the turn ended", self._call_id)
        except RedisError as exc:
            logger.warning("call %s: its lock could not be released (it expires): %s", self._call_id, exc)
        finally:
            await self._local.__aexit__(None, None, None)


def _decode(call_id: str, raw: bytes | None) -> CallState | None:
    if raw is None:
        return None
    try:
        return codec.loads(raw)
    except codec.StateDecodeError as exc:
        logger.error("call %s: its stored state is unreadable, treated as unknown: %s", call_id, exc)
        return None
