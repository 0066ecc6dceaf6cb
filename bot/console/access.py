"""Who is using the console: logging in and out, the throttle on guessing, and the checks
every page and console API call makes.

The principal is ``bot.web.auth``'s (the session cookie, the admin token, the
``X-CSRF-Token`` check of every change, and a session's user still in the users file with
the same role, :func:`role_of`, so ``voicebot users remove`` ends a session at its next
request). Pages redirect to the login page; the console's JSON API answers 401/403.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import quote

from quart import current_app, redirect, request

from bot.console.flows import FlowPictures
from bot.console.users import Role, UsersFile
from bot.errors import AccessRefused
from bot.web.auth import verified_principal

P = ParamSpec("P")
R = TypeVar("R")
EXTENSION_KEY = "voicebot.console"
LOGIN_PATH = "/console/login"

MAX_FAILURES = 5  # failed logins per name, and per address, within the window
FAILURE_WINDOW_SECONDS = 300.0


class LoginThrottle:
    """Refuses logins for a name or from an address after ``max_failures`` failed ones
    within ``window_seconds``: slow enough to stop guessing, gone after a coffee."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_seconds: float = FAILURE_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def wait_seconds(self, *keys: str) -> float:
        """0 when a login for these keys may be tried now, else how long until it may."""
        now, wait = self._clock(), 0.0
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self._max:
                wait = max(wait, times[0] + self._window - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = self._clock()
        for key in keys:
            self._recent(key, now).append(now)
        if len(self._failures) > 10_000:  # a spray of names: forget the stale ones
            for key in [k for k, t in self._failures.items() if not t or t[-1] < now - self._window]:
                del self._failures[key]

    def succeeded(self, name_key: str) -> None:
        self._failures.pop(name_key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] < now - self._window:
            times.popleft()
        return times


class ConsoleAccess:
    """The console's state on the app: its users file, login throttle, flow pictures."""

    def __init__(self, users: UsersFile) -> None:
        self.users = users
        self.throttle = LoginThrottle()
        self.pictures = FlowPictures()
        self.test_run = asyncio.Lock()  # flow tests: one child process at a time


def console_access() -> ConsoleAccess:
    return cast(ConsoleAccess, current_app.extensions[EXTENSION_KEY])


def page(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[Any]]:
    """A console page: anyone logged in; otherwise a redirect to the login page."""

    @functools.wraps(view)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> Any:
        if await verified_principal() is None:
            return redirect(f"{LOGIN_PATH}?next={quote(request.full_path.rstrip('?'), safe='/')}")
        return await view(*args, **kwargs)

    return guarded


def api(role: Role = "viewer") -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """A console API endpoint: 401 without a principal, 403 below ``role``."""

    def decorate(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(view)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            found = await verified_principal()
            if found is None:
                raise AccessRefused(401, "unauthenticated", "log in to the console first")
            if role == "admin" and not found.is_admin:
                raise AccessRefused(403, "role", f"{found.name} is a viewer: this needs an admin")
            return await view(*args, **kwargs)

        return guarded

    return decorate


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a console path of this site, never another site."""
    if target and target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"


async def role_of(name: str) -> str | None:
    """A console user's role as the users file says now, or None when there is none:
    what ``bot.web.auth`` asks of a session before the APIs it guards."""
    user = await asyncio.to_thread(console_access().users.get, name)
    return user.role if user is not None else None
